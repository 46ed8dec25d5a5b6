"""Held-out validation at a posterior (``partnersim validate --posterior RESULTS``).

Each held-out pattern (its file's ``role``; ``inputs.patterns.held_out_ids``) is checked at
``draws`` parameter sets drawn from a calibration's posterior (particles resampled by weight
with a fixed seed, ``inputs.posterior``) and once at the declared defaults. Every check runs
at the pattern file's master seed with its paired seeds, exactly as ``validate`` does, so the
draws and the defaults share their seeds: what differs between them is the parameters. A
draw's values replace the defaults beneath what the pattern's experiment sets itself (its
``params`` and conditions). All runs go through the shared runner in one call (one pool, a
results folder a rerun resumes, progress, Dask).

The result per pattern is the share of draws at which it holds, with a Wilson interval (the
draws are independent resamples of the posterior), beside its verdict at the defaults. A
calibration whose targets name a pattern being checked is refused: calibration never reads a
held-out pattern.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from partnersim.errors import InputError
from partnersim.inputs.patterns import HELD_OUT, held_out_ids, load_definition
from partnersim.inputs.posterior import Posterior, load_posterior
from partnersim.present.text import fmt
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.stats import CI_LEVEL
from partnersim.validation.cases import CaseRunner
from partnersim.validation.checks import run_jobs
from partnersim.validation.validate import pattern_ids, planned_seeds, prepare_output
from partnersim.validation.verdicts import PatternResult, parts_held

DEFAULT_DRAWS = 20
"""Posterior draws per pattern unless told otherwise (``--draws``)."""
DRAW_SEED = 20261206
"""Seed of the resampling of the posterior's particles (``--draw-seed``)."""
RUNS_FOLDER_BY_MODE = {"quick": "runs_quick", "full": "runs_full"}
"""Where, inside the output folder, the runs of quick and full checks are kept."""
KIND = "posterior validation"
"""The manifest's ``kind``."""


@dataclass(frozen=True)
class PosteriorCheck:
    """One pattern checked at the defaults and at every posterior draw.

    Attributes:
        pattern: id, e.g. "SF14".
        kind, role: the pattern file's.
        defaults: the result at the declared defaults (the file's master seed and seeds).
        draws: the result at each draw, in draw order (the same seeds).
    """

    pattern: str
    kind: str
    role: str
    defaults: PatternResult
    draws: tuple[PatternResult, ...]

    @property
    def held(self) -> int:
        """At how many draws the pattern holds."""
        return sum(r.holds for r in self.draws)

    @property
    def share(self) -> float:
        """Share of draws at which the pattern holds."""
        return self.held / len(self.draws)

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson interval (``CI_LEVEL``) of the share of draws at which it holds."""
        ci = binomtest(self.held, len(self.draws)).proportion_ci(confidence_level=CI_LEVEL,
                                                                 method="wilson")
        return float(ci.low), float(ci.high)


def check_patterns(posterior: Posterior, patterns: Sequence[str] | None) -> list[str]:
    """The patterns to check (default: every held-out one), refused if the calibration read
    any of them.

    Raises:
        InputError: an unknown pattern, no held-out pattern to check, or a pattern the
            calibration's targets name.
    """
    ids = pattern_ids(patterns) if patterns else held_out_ids()
    if not ids:
        raise InputError("no pattern file declares the role 'held-out'; name patterns with "
                         "--patterns", key="--patterns")
    targets = Path(posterior.folder) / "targets.csv"
    read: set[str] = set()
    if targets.is_file():
        table = pd.read_csv(targets)
        if "pattern" in table:
            read = {str(p) for p in table["pattern"].dropna() if str(p)}
    used = [p for p in ids if p in read]
    if used:
        raise InputError(f"the calibration's targets read {', '.join(used)}: a pattern a "
                         "calibration read is not held out from it", source=str(targets))
    return ids


def validate_posterior(posterior: Posterior | str | os.PathLike[str],
                       patterns: Sequence[str] | None = None, *, draws: int = DEFAULT_DRAWS,
                       quick: bool = False, seed: int = DRAW_SEED,
                       runs_dir: str | os.PathLike[str] | None = None,
                       options: RunOptions | None = None,
                       provenance: dict[str, Any] | None = None
                       ) -> tuple[list[PosteriorCheck], list[dict[str, float]]]:
    """Check patterns (default: the held-out ones) at the defaults and at ``draws``
    posterior draws.

    Args:
        posterior: a calibration folder (``partnersim calibrate``'s) or a loaded posterior.
        patterns: ids to check (default: every pattern whose file's role is held-out).
        draws: parameter sets drawn from the posterior, each checked with the pattern's
            paired seeds.
        quick: each file's ``n_seeds.quick`` instead of ``full``.
        seed: seeds the resampling of the particles.
        runs_dir: results folder of the runs (a rerun resumes it); None: a temporary one.
        options: how the runs execute (default ``RunOptions()``).
        provenance: extra manifest entries of the runs folder (e.g. the command line).

    Returns:
        ``(checks, values)``: one ``PosteriorCheck`` per pattern, and the draws' parameter
        values in draw order.

    Raises:
        InputError: a folder that is not a complete calibration, an unknown pattern, a
            pattern the calibration read, fewer than one draw, bad options.
    """
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise InputError(f"expected a positive number of draws, got {draws!r}", key="--draws")
    post = posterior if isinstance(posterior, Posterior) else load_posterior(posterior)
    ids = check_patterns(post, patterns)
    values = post.draws(draws, seed)
    seeds = planned_seeds(ids, quick)
    jobs: list[tuple[str, int | None, int | None]] = []
    bases: list[dict[str, float]] = []
    for pid in ids:
        for base in ({}, *values):  # the defaults first, then each draw
            jobs.append((pid, seeds[pid], None))
            bases.append(base)
    runner = CaseRunner(None if runs_dir is None else Path(runs_dir), options or RunOptions(),
                        {**(provenance or {}), "posterior": post.record(), "draw_seed": seed})
    results = iter(run_jobs(jobs, runner=runner, bases=bases))
    checks = []
    for pid in ids:
        defn = load_definition(pid)
        at_defaults = next(results)
        checks.append(PosteriorCheck(pid, defn.kind, defn.role, at_defaults,
                                     tuple(next(results) for _ in values)))
    return checks, values


SUMMARY_COLUMNS: tuple[str, ...] = (
    "pattern", "kind", "role", "title", "measured", "draws", "held", "share_held",
    "share_low", "share_high", "effect_median", "effect_q05", "effect_q95", "n_seeds",
    "defaults_effect", "defaults_ci_low", "defaults_ci_high", "defaults_holds")
"""The columns of ``posterior_patterns.csv``: per pattern, the share of draws at which it
holds with its Wilson interval, the effect's median and 5%-95% range over the draws, and the
result at the defaults (same seeds)."""


def summary_table(checks: Sequence[PosteriorCheck]) -> pd.DataFrame:
    """One row per pattern (``SUMMARY_COLUMNS``)."""
    rows = []
    for c in checks:
        effects = np.array([r.effect for r in c.draws])
        low, high = c.interval
        q05, q50, q95 = np.quantile(effects, [0.05, 0.5, 0.95])
        d = c.defaults
        rows.append({"pattern": c.pattern, "kind": c.kind, "role": c.role,
                     "title": load_definition(c.pattern).title, "measured": d.measured,
                     "draws": len(c.draws), "held": c.held, "share_held": c.share,
                     "share_low": low, "share_high": high, "effect_median": float(q50),
                     "effect_q05": float(q05), "effect_q95": float(q95),
                     "n_seeds": d.n_seeds, "defaults_effect": d.effect,
                     "defaults_ci_low": d.ci_low, "defaults_ci_high": d.ci_high,
                     "defaults_holds": d.holds})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def draws_table(checks: Sequence[PosteriorCheck], values: Sequence[dict[str, float]]
                ) -> pd.DataFrame:
    """One row per pattern and draw: the draw's parameter values, the check's result and its
    further figures (``detail_*``: per-condition means, parts' shares; draw -1: the
    defaults)."""
    names = list(values[0]) if values else []
    rows = []
    for c in checks:
        for k, r in [(-1, c.defaults), *enumerate(c.draws)]:
            params = values[k] if k >= 0 else {n: np.nan for n in names}
            rows.append({"pattern": c.pattern, "draw": k, **params, "effect": r.effect,
                         "ci_low": r.ci_low, "ci_high": r.ci_high,
                         "share_expected": r.share_expected, "n_seeds": r.n_seeds,
                         "parts_held": parts_held(r), "holds": r.holds,
                         **{f"detail_{k}": v for k, v in r.details.items()}})
    return pd.DataFrame(rows)


def markdown_table(checks: Sequence[PosteriorCheck]) -> str:
    """The summary as Markdown."""
    level = f"{CI_LEVEL:.0%}"
    lines = [f"| pattern | role | measured | held at draws [{level} Wilson] | effect over the "
             "draws: median [5%, 95%] | at the defaults: effect [CI], holds |",
             "|---|---|---|---|---|---|"]
    for _, r in summary_table(checks).iterrows():
        lines.append(
            f"| {r.pattern} {r.title} | {r.role} | {r.measured} | {r.held}/{r.draws} = "
            f"{r.share_held:.0%} [{r.share_low:.0%}, {r.share_high:.0%}] | "
            f"{fmt(r.effect_median)} [{fmt(r.effect_q05)}, {fmt(r.effect_q95)}] | "
            f"{fmt(r.defaults_effect)} [{fmt(r.defaults_ci_low)}, {fmt(r.defaults_ci_high)}], "
            f"{'yes' if r.defaults_holds else '**no**'} |")
    return "\n".join(lines) + "\n"


def write_results(checks: Sequence[PosteriorCheck], values: Sequence[dict[str, float]],
                  posterior: Posterior, out_dir: str | os.PathLike[str], *, quick: bool,
                  seed: int, command: str | None = None) -> dict[str, Path]:
    """Write ``posterior_patterns.csv`` and ``.parquet``, ``posterior_draws.csv`` and
    ``.parquet``, ``posterior_patterns.md`` and ``manifest.json`` into ``out_dir``."""
    out = prepare_output(out_dir)
    summary, per_draw = summary_table(checks), draws_table(checks, values)
    files: dict[str, Path] = {}
    for name, table in (("posterior_patterns", summary), ("posterior_draws", per_draw)):
        files[f"{name}_csv"] = out / f"{name}.csv"
        table.to_csv(files[f"{name}_csv"], index=False)
        files[f"{name}_parquet"] = storage.write_table(out, name, table)
    files["markdown"] = out / "posterior_patterns.md"
    files["markdown"].write_text(markdown_table(checks))
    storage.write_manifest(out, {
        "kind": KIND, "command": command, "created": storage.now_utc(),
        "posterior": posterior.record(), "draw_seed": seed, "draws": len(values),
        "quick": quick, "patterns": [c.pattern for c in checks],
        "held_out": [c.pattern for c in checks if c.role == HELD_OUT],
        "values": list(values), "environment": storage.environment_record(),
        "runs": RUNS_FOLDER_BY_MODE["quick" if quick else "full"],
        "files": {k: p.name for k, p in files.items()}})
    files["manifest"] = out / storage.MANIFEST
    return files


def summary_lines(checks: Sequence[PosteriorCheck]) -> list[str]:
    """One line per pattern for the terminal."""
    lines = []
    for c in checks:
        low, high = c.interval
        d = c.defaults
        lines.append(f"{c.pattern:<5} {c.role:<18} held at {c.held}/{len(c.draws)} draws "
                     f"({c.share:.0%}, {CI_LEVEL:.0%} interval {low:.0%}-{high:.0%}); at the "
                     f"defaults {'holds' if d.holds else 'DOES NOT HOLD'} (effect "
                     f"{d.effect:.3g} [{d.ci_low:.3g}, {d.ci_high:.3g}])")
    return lines

