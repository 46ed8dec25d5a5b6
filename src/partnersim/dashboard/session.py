"""A dashboard session's scenario and model: loading and saving scenario files, the model
each browser session runs, the live intervention buttons and the plain-language status.

Scenario files are read and written by ``partnersim.inputs.scenarios``; what is here is
what the dashboard adds: the scenario a session starts from, the file it saves (which
reproduces the run on screen as replicate 0), and a model that a button may act on
between two months while it plays. No Solara here: this module is imported by the
server before Solara's settings are fixed.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim.errors import InputError
from partnersim.inputs.scenarios import (
    Scenario,
    load_scenario,
    make_scenario,
    parse_scenario,
)
from partnersim.model.interventions import (
    BudgetCut,
    ChairLeaves,
    ChampionLeaves,
    Communication,
    GroundRules,
    PressureSurge,
    Resources,
    parse_interventions,
)
from partnersim.model.partnership import PartnershipModel
from partnersim.model.stages import effective_leadership
from partnersim.params import PARAMETERS, make_params
from partnersim.seeding import replicate_seeds

SCENARIO_ENV = "PARTNERSIM_DASHBOARD_SCENARIO"
"""Environment variable through which the server tells each session which scenario to open."""

# ----------------------------------------------------------------------------------
# scenarios: what the dashboard loads and saves


def default_scenario() -> Scenario:
    """The scenario a session starts from when no file is given: every default, one run."""
    return make_scenario(name="default",
                         question="What happens to this partnership over time?")


def read_scenario(path: Path | str, text: str | None = None) -> Scenario:
    """Read and validate a scenario file, or the text of an uploaded one.

    Raises:
        InputError: naming the file, the key and what was expected.
    """
    if text is None:
        return load_scenario(path)
    return parse_scenario(text, source=str(path), default_name=_safe_name(Path(path).stem))


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "scenario"
    return name[:60]


def saved_scenario(
    base: Scenario,
    values: dict[str, Any],
    seed: int,
    applied: Sequence[Any],
    month: int,
) -> Scenario:
    """The scenario that reproduces a dashboard run as its replicate 0.

    Args:
        base: the scenario the run was loaded from (its scheduled interventions,
            replicates and question are kept).
        values: the parameter values the running model was built with.
        seed: the master seed the running model was built with.
        applied: live interventions applied to the running model, with their months.
        month: the month the run has reached (recorded in the description).

    Live interventions go before scheduled ones of the same month, because a
    button pressed at month m acts before month m's scheduled interventions,
    which the model applies at the start of month m's step.
    """
    horizon = int(values.get("horizon_months", PARAMETERS["horizon_months"].default))
    order = [(iv.month, 0, i, iv) for i, iv in enumerate(applied)]
    # scheduled interventions past a shortened horizon never acted: a file cannot hold them
    order += [(iv.month, 1, i, iv) for i, iv in enumerate(base.interventions)
              if _fits_horizon(iv, horizon)]
    ivs = tuple(iv for *_, iv in sorted(order, key=lambda t: t[:3]))
    name = base.name if base.name.endswith("-dashboard") else f"{base.name[:60]}-dashboard"
    return make_scenario(
        name=name,
        question=base.question or "What happened in the workshop run?",
        description=(f"Saved from the partnersim dashboard at month {month}: the settings "
                     "of the run on screen and every intervention applied, with its month. "
                     "Replicate 0 reproduces the dashboard's run."),
        params=make_params(values),
        interventions=ivs,
        replicates=base.replicates,
        seed=seed,
        measures=base.measures,
    )


def _fits_horizon(iv: Any, horizon: int) -> bool:
    try:
        parse_interventions([iv.as_table()], horizon_months=horizon)
    except InputError:
        return False
    return True


def scenario_files(extra: Sequence[Path] = ()) -> list[Path]:
    """Scenario files the load menu offers: any given, then ``scenarios/*.toml`` here."""
    found = list(extra)
    folder = Path.cwd() / "scenarios"
    if folder.is_dir():
        found += sorted(folder.glob("*.toml"))
    seen: set[Path] = set()
    out = []
    for p in found:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            out.append(p)
    return out


# ----------------------------------------------------------------------------------
# the model, seen from the dashboard


def run_seed(master: int) -> int:
    """The seed of replicate 0 of a scenario with this master seed: what the dashboard shows,
    so that ``partnersim run`` on a saved file reproduces the dashboard's run as replicate 0."""
    return replicate_seeds(master, 1)[0]


def model_kwargs(values: dict[str, Any], seed: int, interventions: Sequence[Any]) -> dict[str, Any]:
    """Keyword arguments that build the model (what Mesa's Reset passes to the class)."""
    return {**values, "rng": run_seed(seed), "interventions": tuple(interventions)}


SNAPSHOT_BUDGET_BYTES = 128 * 2**20
"""About how much memory one session's replay snapshots may take (their arrays: about 0.7 MB
a month for the default 200 staff, 80 MB over 120 months); a bigger model keeps a snapshot
every few months instead of every month."""


class SessionModel(PartnershipModel):
    """``PartnershipModel`` with a lock and a history, for a model a room watches.

    The lock: a button pressed while the model plays in Mesa's worker thread acts between
    two months, never inside one, and a figure is never drawn from half-updated arrays.
    The history: a snapshot of the whole model (``snapshot``) at the start of every month
    (``history[m]`` has run ``m`` months, before anything pressed at month ``m``), to go
    back to and fork from. The rules are the parent's; nothing else differs.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.lock = threading.RLock()
        self.history: dict[int, SessionModel] = {}
        self.history_stride = 1
        super().__init__(**kwargs)
        first = snapshot(self)
        size = sum(a.nbytes for a in _model_arrays(first))
        self.history_stride = max(1, math.ceil(size * (self.horizon + 1) / SNAPSHOT_BUDGET_BYTES))
        self.history[0] = first

    stopped = False
    """True once the page showing this model has closed: the model steps no more."""

    def stop(self) -> None:
        """Stop for good (the page was closed): a play loop still running ends at its next
        month, which does nothing."""
        with self.lock:
            self.stopped = True
            self.running = False

    def step(self) -> None:
        """One month, holding the lock; then a snapshot of the new month (every
        ``history_stride`` months, and always at the end of the run). Nothing once stopped."""
        with self.lock:
            if self.stopped:
                self.running = False
                return
            super().step()
            month = int(self.month)
            stride = self.history_stride  # 0: keep none (a fork's runs)
            if stride and (month % stride == 0 or not self.running):
                self.history[month] = snapshot(self)

    def apply_intervention(self, intervention: Any) -> None:
        """Apply an intervention now, holding the lock."""
        with self.lock:
            super().apply_intervention(intervention)


def _model_arrays(model: Any) -> list[Any]:
    """The model's numpy arrays, found by walking its attributes (to size a snapshot)."""
    found: list[Any] = []
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            found.append(obj)
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v, depth + 1)
        elif isinstance(obj, (list, tuple)):
            for v in obj[:1000]:
                walk(v, depth + 1)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            for v in vars(obj).values():
                walk(v, depth + 1)

    walk(model, 0)
    return found


def snapshot(model: Any) -> Any:
    """An independent copy of a session's model, random streams included: stepping the copy
    gives, month for month, what stepping the model would have given. Its history is empty
    and it has its own lock. Taken holding the model's lock."""
    with model_lock(model):
        memo: dict[int, Any] = {}
        if getattr(model, "lock", None) is not None:
            memo[id(model.lock)] = threading.RLock()
        if getattr(model, "history", None) is not None:
            memo[id(model.history)] = {}
        return copy.deepcopy(model, memo)


def nearest_snapshot(model: Any, month: int) -> Any:
    """The snapshot kept for ``month``, or the latest one before it (a big model keeps one
    every few months)."""
    history = getattr(model, "history", {})
    kept = [m for m in history if m <= month]
    if not kept:
        raise KeyError(f"no snapshot at or before month {month}")
    return history[max(kept)]


def advance(run: Any) -> None:
    """One month of a snapshot's copy. Not through Mesa's ``step``: Mesa schedules the step
    as an event that refers to its generator weakly, and a deep copy does not carry that
    reference over to the copy (a copy of a copy would step nothing), so this does what
    Mesa's step does, for the copy itself: count the step, advance the time, run the rules."""
    run.steps += 1
    run.time += 1
    run._user_step()


def model_at(model: Any, replay: int | None) -> Any:
    """The model on screen, where a what-if starts: the live model, or, while replaying
    month ``replay``, the snapshot kept for it (or the nearest one before it)."""
    if replay is None or replay >= int(model.month):
        return model
    return nearest_snapshot(model, replay)


@dataclass(frozen=True)
class ForkResult:
    """Two continuations of one run from one month, with the same random streams.

    Attributes:
        month: the month the runs part (the intervention acts at its start).
        key: the intervention's key in ``LIVE_INTERVENTIONS``.
        label: its name, e.g. "Introduce ground rules".
        with_frame: monthly measures of the run with the intervention (the whole run).
        without_frame: the same without it.
        events_with: interventions of the run with it (the fork's own included).
        events_without: interventions of the run without it.
    """

    month: int
    key: str
    label: str
    with_frame: pd.DataFrame
    without_frame: pd.DataFrame
    events_with: tuple[tuple[int, str], ...]
    events_without: tuple[tuple[int, str], ...]

    @property
    def runs(self) -> tuple[str, str]:
        """The two runs' names in charts: ``with: …`` and ``without``."""
        return (f"with: {self.label.lower()}", "without")

    def difference(self, measures: Sequence[str]) -> pd.DataFrame:
        """With minus without, by month from the fork on, for each measure (long form)."""
        a = self.with_frame.set_index("month")
        b = self.without_frame.set_index("month")
        months = a.index.intersection(b.index)
        months = months[months >= self.month]
        rows = [pd.DataFrame({"month": months.to_numpy(int), "measure": m,
                              "difference": a.loc[months, m].to_numpy(float)
                              - b.loc[months, m].to_numpy(float)})
                for m in measures if m in a and m in b]
        if not rows:
            return pd.DataFrame({"month": pd.Series(dtype=int), "measure": pd.Series(dtype=str),
                                 "difference": pd.Series(dtype=float)})
        return pd.concat(rows, ignore_index=True)


class Fork:
    """Two runs going on from one month, one with a live intervention applied then and one
    without, with the same random streams; ``extend`` runs both further, ``result`` reads
    them. The dashboard shows the first months at once and runs the rest in the background.

    Attributes:
        month: the month the runs part.
        key: the intervention's key in ``LIVE_INTERVENTIONS``.
        label: its name.
        with_it: the model with it (a copy; the start is never touched).
        without: the model without it.
    """

    def __init__(self, start: Any, key: str):
        if key not in LIVE_INTERVENTIONS:
            raise InputError(f"unknown intervention {key!r}; expected one of "
                             f"{', '.join(LIVE_INTERVENTIONS)}", key="what-if")
        self.key = key
        self.label, factory = LIVE_INTERVENTIONS[key]
        self.with_it, self.without = snapshot(start), snapshot(start)
        self.month = int(self.with_it.month)
        for run in (self.with_it, self.without):
            run.history_stride = 0  # no snapshots of a fork's months
        try:
            self.with_it.apply_intervention(factory(self.with_it, self.month))
        except ValueError as exc:
            raise InputError(f"{self.label} is not possible at month {self.month} ({exc})",
                             key="what-if") from None

    @property
    def done(self) -> bool:
        """True when both runs have reached the end."""
        return not (self.with_it.running or self.without.running)

    def extend(self, months: int | None = None) -> None:
        """Run both ``months`` further (to the end when None)."""
        for run in (self.with_it, self.without):
            end = run.horizon if months is None else int(run.month) + months
            while run.running and int(run.month) < end:
                advance(run)

    def result(self) -> ForkResult:
        """The two runs so far."""
        return ForkResult(self.month, self.key, self.label, self.with_it.measures_frame(),
                          self.without.measures_frame(), tuple(self.with_it.events),
                          tuple(self.without.events))


def fork(start: Any, key: str, months: int | None = None) -> ForkResult:
    """What if: from ``start`` (a model or a snapshot, left untouched), one copy with the
    live intervention ``key`` applied now and one without, both run on with the same
    random streams to the end of the run (or ``months`` further).

    Raises:
        InputError: for an unknown intervention key, or one not possible at that month.
    """
    branches = Fork(start, key)
    branches.extend(months)
    return branches.result()


# Mesa's Reset rebuilds the model as type(model)(**kwargs) and checks the keywords
# against the signature: keep the parent's explicit one.
SessionModel.__init__.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    PartnershipModel.__init__)


def model_lock(model: Any) -> Any:
    """The model's lock (a no-op context for models without one)."""
    return getattr(model, "lock", None) or contextlib.nullcontext()


def build_model(values: dict[str, Any], seed: int, interventions: Sequence[Any]) -> Any:
    """A new model from parameter values, a master seed and scheduled interventions."""
    return SessionModel(**model_kwargs(values, seed, interventions))


LIVE_INTERVENTIONS: dict[str, tuple[str, Callable[[Any, int], Any]]] = {
    "chair_leaves": ("The chair leaves", lambda m, t: ChairLeaves(kind="chair_leaves", month=t)),
    "champion_leaves": ("A champion leaves",
                        lambda m, t: ChampionLeaves(kind="champion_leaves", month=t, count=1)),
    "ground_rules": ("Introduce ground rules",
                     lambda m, t: GroundRules(kind="ground_rules", month=t, ground_rules=1.0)),
    "two_way": ("Two-way communication",
                lambda m, t: Communication(kind="communication", month=t,
                                            communication_mode="two_way")),
    "budget_cut": ("Cut budget by half", lambda m, t: BudgetCut(kind="budget_cut", month=t,
                                                                share=0.5)),
    "budget_add": ("Add £10k a month budget", lambda m, t: Resources(
        kind="resources", month=t,
        capacity_budget=float(min(PARAMETERS["capacity_budget"].upper,
                                  m.levers["capacity_budget"] + 10.0)),
        budget_earmark=m.levers.get("budget_earmark", "none"))),
    "pressure_surge": ("Pressure surge",
                       lambda m, t: PressureSurge(kind="pressure_surge", month=t, extra=0.5)),
}
"""The live buttons: key -> (label, factory of the intervention at the current month)."""


def status_line(model: Any) -> str:
    """A plain-language sentence on where the partnership is, e.g.
    ``"Month 14: trust across agencies is rising (0.42)."``"""
    frame = model.measures_frame()
    month = int(model.month)
    if month == 0 or len(frame) < 2 or "trust_across" not in frame:
        return f"Month {month}: the partnership is forming. Press Step or ▶ to run it."
    across = frame["trust_across"].to_numpy(dtype=float)
    now, before = across[-1], across[max(0, len(across) - 4)]
    change = now - before
    trend = "rising" if change > 0.005 else "falling" if change < -0.005 else "holding steady"
    text = f"Month {month}: trust across agencies is {trend} ({now:.2f})"
    if "output" in frame and len(frame) >= 4:
        out = frame["output"].to_numpy(dtype=float)
        d = out[-1] - out[-4]
        scale = max(abs(out[-4]), 1e-9)
        if abs(d) / scale > 0.01:
            text += f"; service output is {'up' if d > 0 else 'down'} {abs(d) / scale:.0%}"
            text += " on three months ago"
    if not model.running:
        text += ". The run has ended"
    return text + "."


def lever_summary(model: Any) -> str:
    """The live levers a facilitator changes with the buttons, in one line.

    Leadership is shown as the model acts on it (``effective_leadership``): after
    the chair leaves it drops and recovers while a new chair settles in.
    """
    lv = model.levers
    in_effect = effective_leadership(model)
    if abs(in_effect - lv["leadership"]) < 0.005:
        parts = [f"leadership {in_effect:.2f}"]
    else:
        parts = [f"leadership {in_effect:.2f} of {lv['leadership']:.2f} "
                 "(a new chair is settling in)"]
    parts.append("joint chairs" if lv.get("joint_chair") else "one chair")
    if "ground_rules" in lv:
        parts.append(f"ground rules {lv['ground_rules']:.2f}")
    if "communication_mode" in lv:
        parts.append(f"communication {str(lv['communication_mode']).replace('_', '-')}")
    if "capacity_budget" in lv:
        parts.append(f"budget £{lv['capacity_budget']:.0f}k/month")
    if "service_pressure" in lv:
        parts.append(f"service pressure {lv['service_pressure']:.2f}")
    champions = int(np.count_nonzero(model.staff.champion))
    parts.append(f"{champions} champion{'s' if champions != 1 else ''}")
    return "Levers now: " + ", ".join(parts)


def cli_scenario() -> list[Path]:
    """The scenario file given to ``partnersim dashboard``, if any (as a one-item list)."""
    env = os.environ.get(SCENARIO_ENV)
    return [Path(env)] if env else []


def initial_scenario() -> Scenario:
    """The scenario a new session opens: the one given on the command line, else the default."""
    paths = cli_scenario()
    return read_scenario(paths[0]) if paths else default_scenario()
