"""The validation run (``partnersim validate``): checks chosen, run together, and their tables written.

``validate`` runs the cases of every chosen check, at each of ``MASTER_SEEDS`` master seeds,
in one call of the shared runner (one worker pool, one results folder that a rerun resumes,
a progress bar, Dask if asked for), then judges each pattern: it holds only if it holds at
every master seed. ``write_results`` writes ``patterns.csv``, ``patterns.md`` and
``details.json``: each pattern's kind (mechanism check or emergent pattern) and role (mechanism
check, calibration target or held-out), its effect with
its interval at the file's master seed, at how many master seeds it held, and the verdict.
docs/validation.md records the results.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from partnersim.errors import InputError, unknown
from partnersim.inputs.patterns import load_definition
from partnersim.present.text import fmt
from partnersim.run.options import RunOptions
from partnersim.validation.cases import CaseRunner
from partnersim.validation.checks import CHECKS, MASTER_SEEDS, run_patterns
from partnersim.validation.verdicts import PatternVerdict, parts_held

RUNS_FOLDER_BY_MODE = {"quick": "runs_quick", "full": "runs_full"}
"""Where, inside the output folder, the runs of ``--quick`` and full validations are kept."""


def pattern_ids(patterns: Sequence[str] | None) -> list[str]:
    """The chosen pattern ids (default: all, SF1 to SF14), checked.

    Raises:
        InputError: an unknown pattern id.
    """
    ids = list(patterns or CHECKS)
    for pid in ids:
        if pid not in CHECKS:
            raise unknown("pattern", pid, CHECKS, key="--patterns", show_name=True,
                          list_choices=True)
    return ids


def validate(patterns: Sequence[str] | None = None, *, quick: bool = False,
             runs_dir: str | os.PathLike[str] | None = None, options: RunOptions | None = None,
             provenance: dict[str, Any] | None = None,
             on_result: Callable[[PatternVerdict], None] | None = None,
             master_seeds: int = MASTER_SEEDS) -> list[PatternVerdict]:
    """Run pattern checks with their files' quick or full seed counts, each at
    ``master_seeds`` master seeds.

    Args:
        patterns: ids to run (default: all, SF1 to SF14).
        quick: use each file's ``n_seeds.quick`` (a CI-sized ensemble) instead of ``full``.
        runs_dir: results folder for the runs (resumed by a rerun of the same validation);
            None: a temporary folder.
        options: how the runs execute (default: ``RunOptions()``, a process pool on every
            usable core).
        provenance: extra manifest entries of the runs folder (e.g. the command line).
        on_result: called with each pattern's verdict, in pattern order, once every
            pattern is judged (the runs of all patterns go through one runner call).
        master_seeds: master seeds per pattern (``checks.master_seeds``: the file's first).

    Raises:
        InputError: an unknown pattern id, bad options, or a runs folder holding other work.
    """
    ids = pattern_ids(patterns)
    runner = CaseRunner(None if runs_dir is None else Path(runs_dir), options or RunOptions(),
                        dict(provenance or {}))
    verdicts = run_patterns(planned_seeds(ids, quick), count=master_seeds, runner=runner)
    if on_result is not None:
        for verdict in verdicts:
            on_result(verdict)
    return verdicts


def planned_seeds(ids: Sequence[str], quick: bool) -> dict[str, int]:
    """Paired seeds per master seed of each pattern: the file's quick or full count."""
    mode = "quick" if quick else "full"
    return {pid: load_definition(pid).n_seeds[mode] for pid in ids}


COLUMNS: tuple[str, ...] = ("pattern", "kind", "role", "title", "measured", "effect", "ci_low",
                            "ci_high", "share_expected", "n_seeds", "parts_held",
                            "master_seeds", "held_at", "holds")
"""The columns of ``patterns.csv``: the effect, its interval, share, seeds and other parts are
those at the file's master seed; ``held_at`` of ``master_seeds`` master seeds the pattern held
at; ``holds`` only if at all of them."""


def results_table(verdicts: Sequence[PatternVerdict]) -> pd.DataFrame:
    """One row per pattern (``COLUMNS``): id, kind, role, title, what was measured, effect with CI,
    share and other parts at the file's master seed, master seeds held at, verdict."""
    rows = []
    for v in verdicts:
        r = v.result
        defn = load_definition(v.pattern)
        rows.append({"pattern": v.pattern, "kind": v.kind, "role": defn.role,
                     "title": defn.title, "measured": r.measured,
                     "effect": r.effect, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "share_expected": r.share_expected, "n_seeds": r.n_seeds,
                     "parts_held": parts_held(r), "master_seeds": len(v.results),
                     "held_at": v.held_at, "holds": v.holds})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def markdown_table(verdicts: Sequence[PatternVerdict]) -> str:
    """The validation table as Markdown."""
    lines = ["| pattern | kind | role | measured | effect [95% CI] | share of seeds | seeds "
             "| other parts | held at master seeds | holds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for _, row in results_table(verdicts).iterrows():
        lines.append(
            f"| {row.pattern} {row.title} | {row.kind} | {row.role} | {row.measured} | "
            f"{fmt(row.effect)} "
            f"[{fmt(row.ci_low)}, {fmt(row.ci_high)}] | {row.share_expected:.0%} | "
            f"{row.n_seeds} | {row.parts_held} | {row.held_at}/{row.master_seeds} | "
            f"{'yes' if row.holds else '**no**'} |")
    return "\n".join(lines) + "\n"


def prepare_output(out_dir: str | os.PathLike[str]) -> Path:
    """Create the output folder (or check it is writable) before any run.

    Raises:
        InputError: the folder cannot be created or written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder ({exc.strerror})", source=str(out)) from None
    if not os.access(out, os.W_OK):
        raise InputError("the folder is not writable", source=str(out))
    return out


def refuse_other_table(out_dir: str | os.PathLike[str], patterns: Sequence[str] | None, *,
                       quick: bool, overwrite: bool, master_seeds: int = MASTER_SEEDS) -> None:
    """Refuse to replace a pattern table that another validation wrote (other patterns,
    ensemble sizes or numbers of master seeds; a table without the ``master_seeds`` column
    was judged at one), unless ``overwrite``: the committed record in ``results/validation``
    must not be replaced silently by a quick or partial run.

    Raises:
        InputError: naming the table, what it holds, ``--out`` and ``--overwrite``.
    """
    table = Path(out_dir) / "patterns.csv"
    if overwrite or not table.is_file():
        return
    planned = {pid: (n, master_seeds)
               for pid, n in planned_seeds(pattern_ids(patterns), quick).items()}
    try:
        held = pd.read_csv(table)
        counts = held["master_seeds"] if "master_seeds" in held else pd.Series(1, held.index)
        kept = dict(zip(held["pattern"], zip(held["n_seeds"].astype(int),
                                             counts.astype(int), strict=True), strict=True))
    except (OSError, ValueError, KeyError):
        kept = None
    if kept != planned:
        what = f"{len(kept)} pattern(s)" if kept else "a table it cannot read"
        raise InputError(f"holds the results of another validation ({what}); choose another "
                         f"--out for this one, or pass --overwrite to replace them",
                         source=str(table), key="--out")


def write_results(verdicts: Sequence[PatternVerdict], out_dir: str | os.PathLike[str]
                  ) -> dict[str, Path]:
    """Write ``patterns.csv``, ``patterns.md`` and ``details.json`` into ``out_dir``.

    ``details.json`` holds, for each pattern, its kind and verdict, the effect at the file's
    master seed, and every master seed's result with every sub-part's share and CI.
    """
    out = prepare_output(out_dir)
    files = {"csv": out / "patterns.csv", "markdown": out / "patterns.md",
             "details": out / "details.json"}
    results_table(verdicts).to_csv(files["csv"], index=False)
    files["markdown"].write_text(markdown_table(verdicts))
    files["details"].write_text(json.dumps(
        {v.pattern: {"kind": v.kind, "role": load_definition(v.pattern).role,
                     "holds": v.holds, "held_at": v.held_at,
                     "master_seeds": list(v.master_seeds),
                     "effect": v.result.effect, "ci": [v.result.ci_low, v.result.ci_high],
                     "by_master_seed": {str(m): {
                         "holds": r.holds, "effect": r.effect, "ci": [r.ci_low, r.ci_high],
                         "share_expected": r.share_expected, "n_seeds": r.n_seeds,
                         "details": dict(r.details)}
                         for m, r in zip(v.master_seeds, v.results, strict=True)}}
         for v in verdicts}, indent=2) + "\n")
    return files
