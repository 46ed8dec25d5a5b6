"""A workshop's debrief: the room's path beside the model's default policy and the best fixed
relationship-time share on the same seeds, each agency's choices over time and what they did
to trust; its figures, its self-contained HTML page and the results folder it is written to.

No Solara here: the debrief page (``workshop_page``) shows what ``make_debrief`` returns.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from partnersim.dashboard.workshop import AGENCY_NAMES
from partnersim.errors import InputError
from partnersim.model.state import AGENCY_CHOICES
from partnersim.outputs import label
from partnersim.params import SECTORS
from partnersim.run import storage
from partnersim.study.best_share import SHARES

if TYPE_CHECKING:
    from partnersim.dashboard.workshop import Workshop

DEBRIEF_MEASURES: tuple[str, ...] = ("trust_across", "output")
"""The curves the debrief compares (the room, the default policy, the best fixed share)."""

PATHS = ("the room", "default policy", "best fixed share")
PATH_STYLES = {"the room": ("#c0392b", "-"), "default policy": ("#1f5fa8", "--"),
               "best fixed share": ("#2e7d32", ":")}

CHOICE_WORDS = {"relationship_time": "time for relationships",
                "meeting_attendance": "people sent to the joint meeting",
                "widen_communication": "news shared with all staff",
                "task_backing": "backed joint tasks"}


@dataclass(frozen=True)
class Debrief:
    """What the room did, and what the model says about it.

    Attributes:
        months: months played.
        paths: monthly measures by path (``PATHS``): the room's, the default policy's
            (every agency at the scenario's levers) and the best fixed share's (every agency
            at ``best_share``), all on the room's seed with the room's events.
        best_share: the fixed relationship-time share (of ``study.best_share.SHARES``) with
            the highest service output relative to working alone over the months played.
        gains: that ratio (output / output alone) for each path.
        choices: each agency's choices in effect after each round (the ``rounds`` log).
        trust: per agency, trust its staff held at the start and at the end, and trust
            across agencies at the end in the room and under the default policy.
        figures: PNG images, by name (``paths``, ``choices``).
    """

    months: int
    paths: dict[str, pd.DataFrame]
    best_share: float
    gains: dict[str, float]
    choices: pd.DataFrame
    trust: pd.DataFrame
    figures: dict[str, bytes]
    events: tuple[tuple[int, str], ...]
    log: dict[str, pd.DataFrame]
    scenario: Any

    def sentences(self) -> list[str]:
        """The debrief in words, for the page and the HTML."""
        room, default = self.paths["the room"], self.paths["default policy"]
        if not len(room):
            return ["The room ended before any round was run."]
        t_room, t_def = float(room["trust_across"].iloc[-1]), float(default["trust_across"].iloc[-1])
        out = [f"After {self.months} months, trust across agencies is {t_room:.2f} in the "
               f"room's partnership and {t_def:.2f} under the model's default policy "
               f"({'higher' if t_room > t_def else 'lower' if t_room < t_def else 'the same'}).",
               f"Service output relative to working alone: {self.gains['the room']:.3f} "
               f"for the room, {self.gains['default policy']:.3f} under the default policy and "
               f"{self.gains['best fixed share']:.3f} at the best fixed share "
               f"({self.best_share:.0%} of time for relationships, for every agency)."]
        for _, row in self.trust.iterrows():
            out.append(f"{row['agency_name']}: trust held by its staff went from "
                       f"{row['trust_start']:.2f} in the first month to {row['trust_end']:.2f} "
                       f"({row['trust_end_default']:.2f} under the default policy).")
        return out


def _gain(frame: pd.DataFrame) -> float:
    alone = float(frame["output_alone"].sum())
    return float(frame["output"].sum()) / alone if alone > 0 else float("nan")


def make_debrief(workshop: Workshop) -> Debrief:
    """The debrief of a workshop as it stands (``Workshop.end`` calls it, holding its lock)."""
    room = workshop.model.measures_frame()
    months = len(room)
    default = workshop.replay_model().measures_frame()
    by_share = {share: workshop.replay_model(share).measures_frame() for share in SHARES}
    gains_by_share = {share: _gain(f) if len(f) else float("nan") for share, f in by_share.items()}
    best = max(SHARES, key=lambda s: (gains_by_share[s] if gains_by_share[s] == gains_by_share[s]
                                      else -1.0, -s))  # the lowest share on a tie
    paths = {"the room": room, "default policy": default, "best fixed share": by_share[best]}
    gains = {name: _gain(f) if len(f) else float("nan") for name, f in paths.items()}
    log = workshop.log_tables()
    rounds = log["rounds"]
    trust_rows = []
    for a, sector in enumerate(SECTORS):
        mine = rounds[rounds["agency"] == sector]
        first = mine[mine["round"] == 0]
        start = float(first["trust_held"].iloc[0]) if len(first) else float("nan")
        if start != start and len(room):  # month 0 has no measures yet: its first month
            start = float(room[f"trust_{sector}"].iloc[0])
        trust_rows.append({
            "agency": sector, "agency_name": AGENCY_NAMES[a],
            "participant": workshop.seats[a].name,
            "trust_start": start,
            "trust_end": float(room[f"trust_{sector}"].iloc[-1]) if len(room) else float("nan"),
            "trust_end_default": (float(default[f"trust_{sector}"].iloc[-1]) if len(default)
                                  else float("nan")),
        })
    trust = pd.DataFrame(trust_rows)
    events = tuple((m, lbl) for m, lbl in workshop.public_view()["events"])
    choices = rounds[rounds["round"] > 0].reset_index(drop=True)
    figures = {"paths": _paths_figure(paths, events, best),
               "choices": _choices_figure(choices)}
    return Debrief(months, paths, best, gains, choices, trust, figures, events, log,
                   workshop.scenario)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _paths_figure(paths: dict[str, pd.DataFrame], events: tuple[tuple[int, str], ...],
                  best: float) -> bytes:
    fig = Figure(figsize=(9, 6.5))
    axes = fig.subplots(len(DEBRIEF_MEASURES), 1, sharex=True)
    for ax, measure in zip(axes, DEBRIEF_MEASURES, strict=True):
        for name in PATHS:
            frame = paths[name]
            colour, style = PATH_STYLES[name]
            shown = name if name != "best fixed share" else f"best fixed share ({best:.0%})"
            ax.plot(frame["month"], frame[measure], style, color=colour, lw=2.5, label=shown)
        for month, text in events:
            ax.axvline(month, color="#888", lw=1)
            if measure == DEBRIEF_MEASURES[0]:
                ax.annotate(text, (month, 1.0), xycoords=("data", "axes fraction"),
                            fontsize=12, va="top", rotation=90, color="#555")
        ax.set_ylabel(label(measure), fontsize=14)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=12)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=13, loc="best")
    axes[-1].set_xlabel("month", fontsize=14)
    return _png(fig)


def _choices_figure(choices: pd.DataFrame) -> bytes:
    fig = Figure(figsize=(14, 3.6))
    axes = fig.subplots(1, len(AGENCY_CHOICES), sharex=True)
    for ax, name in zip(axes, AGENCY_CHOICES, strict=True):
        for a, sector in enumerate(SECTORS):
            mine = choices[choices["agency"] == sector]
            if len(mine):
                # a little apart, so agencies that chose the same stay visible
                ax.plot(mine["round"], mine[name] + 0.006 * (a - 2), "o-", lw=2,
                        drawstyle="steps-mid", label=AGENCY_NAMES[a])
        low, high = AGENCY_CHOICES[name][1:]
        ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
        ax.set_title(CHOICE_WORDS[name], fontsize=11)
        ax.set_xlabel("round", fontsize=12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=9, loc="best")
    return _png(fig)


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, float_format=lambda x: f"{x:.3f}",
                         border=0, classes="t")


def debrief_html(debrief: Debrief) -> str:
    """The debrief as one HTML page with everything inside it (images as data: URLs, no
    scripts, no outside requests). Participants' names are escaped."""
    def img(name: str, alt: str) -> str:
        data = base64.b64encode(debrief.figures[name]).decode()
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'

    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in debrief.sentences())
    choices = debrief.choices[["round", "month", "agency", "participant", "choice_source",
                               *AGENCY_CHOICES, "trust_held"]]
    title = html.escape(f"Workshop debrief: {debrief.scenario.name}")
    events = "".join(f"<li>month {m}: {html.escape(t)}</li>" for m, t in debrief.events) \
        or "<li>none</li>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>body{{font-family:sans-serif;font-size:18px;max-width:1200px;margin:24px auto;}}
table.t{{border-collapse:collapse;font-size:14px}} table.t td,table.t th{{padding:3px 8px;
border-bottom:1px solid #ddd;text-align:right}} img{{max-width:100%}}</style></head>
<body><h1>{title}</h1>
<p>{debrief.months} months played, {len(debrief.choices['round'].unique())} rounds; the
paths compared run on the same seed with the same events.</p>
<ul>{sentences}</ul>
<h2>The room's path, the default policy and the best fixed share</h2>{img("paths", "paths")}
<h2>Each agency's choices over time</h2>{img("choices", "choices")}
{_table_html(choices)}
<h2>What they did to trust</h2>{_table_html(debrief.trust)}
<h2>Events</h2><ul>{events}</ul>
</body></html>
"""


def _folder_name(scenario_name: str, when: datetime) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario_name).strip("-.")[:60] or "workshop"
    return f"workshop-{safe}-{when:%Y%m%d-%H%M%S}"


def new_results_folder(out_dir: str | Path, scenario_name: str) -> Path:
    """Create a new folder under ``out_dir`` for one session, named by the (facilitator's)
    scenario and the time.

    Raises:
        InputError: when the folder cannot be created.
    """
    when = datetime.now(UTC)
    root = Path(out_dir)
    folder = root / _folder_name(scenario_name, when)
    n = 1
    while folder.exists():
        n += 1
        folder = root / f"{_folder_name(scenario_name, when)}-{n}"
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise InputError(f"cannot create the results folder: {exc.strerror}",
                         source=str(folder), key="--out") from None
    return folder


def _write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> list[str]:
    files = []
    for name, frame in tables.items():
        storage.write_table(folder, name, frame)
        csv = folder / f"{name}.csv"
        frame.to_csv(csv.with_name(csv.name + ".tmp"), index=False)
        csv.with_name(csv.name + ".tmp").replace(csv)
        files += [f"{name}.parquet", f"{name}.csv"]
    return files


def _manifest(scenario: Any, command: str, months: int, rounds: int, files: list[str],
              complete: bool, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "workshop", "complete": complete, "written": storage.now_utc(),
        "command": command,
        "scenario": ({"name": scenario.name, **storage.input_record(scenario.source,
                                                                     scenario.text)}
                     if scenario.text else {"name": scenario.name}),
        "seed": scenario.seed, "months": months, "rounds": rounds, **extra,
        "files": files, "environment": _environment(),
    }


@functools.cache
def _environment() -> dict[str, Any]:
    """The environment record, once per process (it runs git and hashes the source: 40 ms)."""
    return storage.environment_record()


def write_log(workshop: Workshop, folder: Path, *, command: str = "") -> None:
    """Write the session log so far (after each round: a server stopped before the end keeps
    it), with a manifest marked incomplete until ``write_results`` adds the debrief."""
    with workshop.lock:
        tables = workshop.log_tables()
        months, rounds = int(workshop.model.month), len(workshop.history)
    files = _write_tables(folder, tables)
    storage.write_manifest(folder, _manifest(workshop.scenario, command, months, rounds, files,
                                             complete=False))


LOG_DELAY = 1.0
"""Seconds a log write waits after a round, so the pages redraw first."""


class LogWriter:
    """Writes a session's log after each round in a background thread (it takes about 0.1 s,
    which the round's redraw should not wait for), one write at a time, never an older log
    over a newer one; ``final`` waits for the writes in progress, then writes the results."""

    def __init__(self, workshop: Workshop, folder: Path, command: str = "") -> None:
        self.workshop, self.folder, self.command = workshop, folder, command
        self.lock = threading.Lock()
        self.written = -1  # the workshop's version last written
        self.threads: list[threading.Thread] = []

    def save(self) -> None:
        """Write the log as it is now, in the background."""
        w = self.workshop
        with w.lock:
            version = w.version
        thread = threading.Thread(target=self._write, args=(version,), daemon=True)
        self.threads.append(thread)
        thread.start()

    def _write(self, version: int) -> None:
        time.sleep(LOG_DELAY)  # after the round's redraw, which would otherwise share the GIL
        with self.lock:
            if version > self.written:
                write_log(self.workshop, self.folder, command=self.command)
                self.written = version

    def final(self, debrief: Debrief) -> Path:
        """The debrief and the complete results, after any log write in progress."""
        for thread in self.threads:
            thread.join()
        with self.lock:
            self.written = 2**62  # no log write after this
            return write_results(debrief, self.folder, command=self.command,
                                 folder=self.folder)


def write_results(debrief: Debrief, out_dir: str | Path, *, command: str = "",
                  folder: Path | None = None) -> Path:
    """Write the session log (Parquet and CSV), the comparisons' monthly measures, the
    debrief (HTML) and a complete manifest, to ``folder`` (the session's, if its log was
    written as it went) or a new folder under ``out_dir``; returns the folder.

    Raises:
        InputError: when the folder cannot be written.
    """
    folder = folder if folder is not None else new_results_folder(out_dir,
                                                                  debrief.scenario.name)
    tables = dict(debrief.log)
    for name, frame in debrief.paths.items():
        if name != "the room":
            tables[f"monthly_{name.replace(' ', '_')}"] = frame
    files = _write_tables(folder, tables)
    (folder / "debrief.html").write_text(debrief_html(debrief), encoding="utf-8")
    files.append("debrief.html")
    rounds = int(debrief.choices["round"].max()) if len(debrief.choices) else 0
    storage.write_manifest(folder, _manifest(
        debrief.scenario, command, debrief.months, rounds, files, complete=True,
        best_share=debrief.best_share, gains=debrief.gains))
    return folder
