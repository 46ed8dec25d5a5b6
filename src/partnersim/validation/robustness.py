"""Robustness: the pattern checks repeated across a Latin-hypercube sample of every assumption-
and literature-tagged parameter over its full declared range.

A point's values replace the declared defaults beneath each pattern's own experiment (its
``params`` and conditions, as a posterior draw does in ``validate --posterior``), so every
parameter a pattern does not set itself is sampled, and no pattern loses the contrast its
conditions make. The same study at a calibration's posterior instead of the declared ranges
is ``partnersim validate --posterior RESULTS --patterns ...``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from partnersim.inputs.patterns import load_definition
from partnersim.params import PARAMETERS
from partnersim.run.options import RunOptions
from partnersim.validation.cases import CaseRunner
from partnersim.validation.checks import run_jobs
from partnersim.validation.validate import pattern_ids
from partnersim.validation.verdicts import PatternResult

ROBUSTNESS_EXCLUDE: tuple[str, ...] = (
    "n_staff", "horizon_months", "trust_threshold", "staff_month_cost", "champion_cost",
    "ground_rules_cost", "vision_work_cost", "joint_chair_cost",
)
"""Parameters left at their defaults in the robustness sample: structure and horizon (set by
each experiment), the measure's threshold and prices (no dynamics)."""

ROBUSTNESS_TAGS: tuple[str, ...] = ("A", "L")
"""Provenance tags of the sampled parameters: assumptions and literature-informed values
(none is empirical, docs/calibration.md)."""

RUNS_FOLDER = "runs_robustness"
"""Where, inside the output folder, the runs of each point are kept (``point_000``, ...)."""


def robustness_sample(n_points: int, seed: int) -> tuple[list[str], np.ndarray]:
    """A Latin-hypercube sample of the numeric parameters tagged ``ROBUSTNESS_TAGS`` (not in
    ``ROBUSTNESS_EXCLUDE``), each over its full declared range. Returns the names and an
    ``n_points x k`` array (integers rounded)."""
    names = [n for n, spec in PARAMETERS.items()
             if spec.provenance in ROBUSTNESS_TAGS and spec.type in ("int", "float")
             and n not in ROBUSTNESS_EXCLUDE]
    u = qmc.LatinHypercube(d=len(names), seed=seed).random(n_points)
    values = np.empty_like(u)
    for k, name in enumerate(names):
        spec = PARAMETERS[name]
        values[:, k] = spec.lower + u[:, k] * (spec.upper - spec.lower)
        if spec.type == "int":
            values[:, k] = np.round(values[:, k])
    return names, values


def robustness(n_points: int = 16, *, seed: int = 20261127, patterns: Sequence[str] | None = None,
               runs_dir: str | os.PathLike[str] | None = None, options: RunOptions | None = None,
               progress: Callable[[int, str, PatternResult], None] | None = None,
               out_csv: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Run each pattern's quick check at every point of ``robustness_sample``.

    The checks of one point run in one call of the runner, into ``runs_dir/point_NNN``
    (None: temporary folders), so a stopped study resumes where it stopped.

    Returns a DataFrame with one row per point and pattern: the point, its parameter
    values, and the pattern's verdict, effect and direction share. With ``out_csv`` the
    table so far is rewritten after every point (a long run can be stopped early).

    Raises:
        InputError: an unknown pattern id, bad options, or a runs folder holding other work.
    """
    names, values = robustness_sample(n_points, seed)
    ids = pattern_ids(patterns)
    quick = {pid: load_definition(pid).n_seeds["quick"] for pid in ids}
    rows = []
    for i, row in enumerate(values):
        overrides = {n: (int(v) if PARAMETERS[n].type == "int" else float(v))
                     for n, v in zip(names, row, strict=True)}
        folder = None if runs_dir is None else Path(runs_dir) / f"point_{i:03d}"
        runner = CaseRunner(folder, options or RunOptions())
        results = run_jobs([(pid, quick[pid], None) for pid in ids], runner=runner,
                           bases=[overrides] * len(ids))
        for pid, r in zip(ids, results, strict=True):
            rows.append({"point": i, "pattern": pid, "holds": r.holds, "effect": r.effect,
                         "share_expected": r.share_expected, **overrides})
            if progress is not None:
                progress(i, pid, r)
        if out_csv is not None:
            pd.DataFrame(rows).to_csv(out_csv, index=False)
    return pd.DataFrame(rows)


def robustness_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Share of sampled parameter sets in which each pattern holds."""
    g = table.groupby("pattern", sort=False)["holds"]
    return pd.DataFrame({"pattern": g.size().index, "points": g.size().to_numpy(),
                         "share_holding": g.mean().to_numpy()})
