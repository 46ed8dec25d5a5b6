"""The validation run (``partnersim validate``): checks chosen, run together, and their tables written.

``validate`` runs the cases of every chosen check in one call of the shared runner (one
worker pool, one results folder that a rerun resumes, a progress bar, Dask if asked for),
then judges each pattern. ``write_results`` writes ``patterns.csv``, ``patterns.md`` and
``details.json``. docs/validation.md records the results.
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
from partnersim.validation.checks import CHECKS, run_checks
from partnersim.validation.verdicts import PatternResult, parts_held

RUNS_FOLDER_BY_MODE = {"quick": "runs_quick", "full": "runs_full"}
"""Where, inside the output folder, the runs of ``--quick`` and full validations are kept."""


def pattern_ids(patterns: Sequence[str] | None) -> list[str]:
    """The chosen pattern ids (default: all, SF1 to SF13), checked.

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
             on_result: Callable[[PatternResult], None] | None = None) -> list[PatternResult]:
    """Run pattern checks with their files' quick or full seed counts.

    Args:
        patterns: ids to run (default: all, SF1 to SF13).
        quick: use each file's ``n_seeds.quick`` (a CI-sized ensemble) instead of ``full``.
        runs_dir: results folder for the runs (resumed by a rerun of the same validation);
            None: a temporary folder.
        options: how the runs execute (default: ``RunOptions()``, a process pool on every
            usable core).
        provenance: extra manifest entries of the runs folder (e.g. the command line).
        on_result: called with each pattern's result, in pattern order, once every
            pattern is judged (the runs of all patterns go through one runner call).

    Raises:
        InputError: an unknown pattern id, bad options, or a runs folder holding other work.
    """
    ids = pattern_ids(patterns)
    mode = "quick" if quick else "full"
    runner = CaseRunner(None if runs_dir is None else Path(runs_dir), options or RunOptions(),
                        dict(provenance or {}))
    results = run_checks({pid: load_definition(pid).n_seeds[mode] for pid in ids}, runner=runner)
    if on_result is not None:
        for result in results:
            on_result(result)
    return results


def results_table(results: Sequence[PatternResult]) -> pd.DataFrame:
    """One row per pattern: id, title, what was measured, effect with CI, share, verdict."""
    rows = []
    for r in results:
        defn = load_definition(r.pattern)
        rows.append({"pattern": r.pattern, "title": defn.title, "measured": r.measured,
                     "effect": r.effect, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "share_expected": r.share_expected, "n_seeds": r.n_seeds,
                     "holds": r.holds,
                     "parts_held": parts_held(r)})
    return pd.DataFrame(rows)


def markdown_table(results: Sequence[PatternResult]) -> str:
    """The validation table as Markdown."""
    lines = ["| pattern | measured | effect [95% CI] | share of seeds | seeds | other parts "
             "| holds |", "|---|---|---|---|---|---|---|"]
    for _, row in results_table(results).iterrows():
        lines.append(
            f"| {row.pattern} {row.title} | {row.measured} | {fmt(row.effect)} "
            f"[{fmt(row.ci_low)}, {fmt(row.ci_high)}] | {row.share_expected:.0%} | "
            f"{row.n_seeds} | {row.parts_held} | {'yes' if row.holds else '**no**'} |")
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
                       quick: bool, overwrite: bool) -> None:
    """Refuse to replace a pattern table that another validation wrote (other patterns or
    ensemble sizes), unless ``overwrite``: the committed record in ``results/validation``
    must not be replaced silently by a quick or partial run.

    Raises:
        InputError: naming the table, what it holds and ``--overwrite``.
    """
    table = Path(out_dir) / "patterns.csv"
    if overwrite or not table.is_file():
        return
    mode = "quick" if quick else "full"
    planned = {pid: load_definition(pid).n_seeds[mode] for pid in pattern_ids(patterns)}
    try:
        held = pd.read_csv(table)
        kept = dict(zip(held["pattern"], held["n_seeds"].astype(int), strict=True))
    except (OSError, ValueError, KeyError):
        kept = None
    if kept != planned:
        what = f"{len(kept)} pattern(s)" if kept else "a table it cannot read"
        raise InputError(f"holds the results of another validation ({what}); pass --overwrite "
                         f"to replace them, or choose another --out", source=str(table),
                         key="--overwrite")


def write_results(results: Sequence[PatternResult], out_dir: str | os.PathLike[str]
                  ) -> dict[str, Path]:
    """Write ``patterns.csv``, ``patterns.md`` and ``details.json`` into ``out_dir``."""
    out = prepare_output(out_dir)
    files = {"csv": out / "patterns.csv", "markdown": out / "patterns.md",
             "details": out / "details.json"}
    results_table(results).to_csv(files["csv"], index=False)
    files["markdown"].write_text(markdown_table(results))
    files["details"].write_text(json.dumps(
        {r.pattern: {"holds": r.holds, "effect": r.effect, "ci": [r.ci_low, r.ci_high],
                     "share_expected": r.share_expected, "n_seeds": r.n_seeds,
                     "details": dict(r.details)} for r in results}, indent=2) + "\n")
    return files
