"""Comparing scenarios: seed-paired differences, bootstrap CIs, costs beside effects.

Every scenario in a comparison runs with the *same* replicate seeds (common
random numbers): the reference's master seed and replicate count are used for
all, whatever the other files say. Replicate *i* of every scenario therefore
meets the same draws wherever the scenarios do not differ, and the difference
``option_i - reference_i`` removes most of the between-run noise. A scenario
compared with itself gives differences of exactly zero.

Statistics (see docs/decisions.md):

- paired difference per headline measure: mean over paired seeds, with a
  bias-corrected and accelerated (BCa) bootstrap confidence interval over
  pairs (percentile interval where BCa is undefined), seeded so the report is
  reproducible;
- the share of paired seeds where the option is worse than the reference
  (the conditions where it fails) and the 5th and 95th percentiles of the
  paired differences;
- incremental cost (paired difference of total cost, GBP k) and cost per unit
  of outcome gained, defined only where the effect's CI excludes zero.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from partnersim import outputs
from partnersim.errors import InputError

N_BOOT = 4000
"""Bootstrap resamples per interval."""

CI_LEVEL = 0.95
"""Confidence level of every interval in a comparison."""

COST_MEASURE = "cost_total"
"""Total cost of a run in GBP k: ``cost_money_total + cost_time_total`` (staff time is
priced at ``staff_month_cost`` by the model)."""

EFFECT_EPS = 1e-9
"""Effects smaller than this (in absolute value) count as zero when dividing cost by effect."""

_LOWER_IS_BETTER_PREFIXES = ("cost_", "time_to_")


def better_direction(measure: str) -> int:
    """+1 if a larger value of ``measure`` is better, -1 if a smaller one is.

    Uses ``metrics.LOWER_IS_BETTER`` when the metrics module declares it, and
    otherwise treats costs (``cost_*``) and delays (``time_to_*``) as
    lower-is-better and everything else as higher-is-better.
    """
    try:
        from partnersim.model import measures as metrics

        lower = getattr(metrics, "LOWER_IS_BETTER", None)
    except ImportError:
        lower = None
    if lower is not None:
        return -1 if measure in lower else 1
    return -1 if measure.startswith(_LOWER_IS_BETTER_PREFIXES) else 1


# --------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    level: float = CI_LEVEL,
    method: str = "bca",
) -> tuple[float, float]:
    """Bootstrap confidence interval for the mean of ``values``.

    Args:
        values: Paired differences (one per seed); NaNs must be removed first.
        rng: The generator that draws resamples (pass a seeded one).
        n_boot: Number of resamples.
        level: Confidence level in (0, 1).
        method: ``"bca"`` (bias-corrected and accelerated; Efron 1987) or
            ``"percentile"``. BCa falls back to the percentile interval when
            its corrections are undefined (all resampled means equal, or the
            jackknife has no spread).

    Returns:
        ``(low, high)``; both equal the mean when all values are equal, and
        both are NaN when there are no values.

    References:
        Efron, B. (1987). Better bootstrap confidence intervals. JASA 82:171-185.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return (math.nan, math.nan)
    theta = float(x.mean())
    if n == 1 or np.all(x == x[0]):
        return (theta, theta)
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = x[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo_q, hi_q = alpha, 1.0 - alpha
    if method == "bca":
        below = np.mean(boot < theta) + 0.5 * np.mean(boot == theta)
        jack = (x.sum() - x) / (n - 1)
        dev = jack.mean() - jack
        denom = 6.0 * float(np.sum(dev**2)) ** 1.5
        if 0.0 < below < 1.0 and denom > 0.0:
            z0 = float(ndtri(below))
            a = float(np.sum(dev**3)) / denom
            z = ndtri(np.array([lo_q, hi_q]))
            adj = ndtr(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
            if np.all(np.isfinite(adj)):
                lo_q, hi_q = float(adj[0]), float(adj[1])
    elif method != "percentile":
        raise ValueError(f"unknown bootstrap method {method!r}")
    low, high = np.quantile(boot, [lo_q, hi_q])
    return (float(low), float(high))


def _rng_for(boot_seed: int, *keys: str) -> np.random.Generator:
    """A generator per (scenario, measure), independent of the order they are analysed in."""
    words = [int.from_bytes(hashlib.sha256(k.encode("utf-8")).digest()[:8], "little")
             for k in keys]
    return np.random.default_rng([boot_seed, *words])


# --------------------------------------------------------------------------- differences


DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "scenario", "reference", "measure", "direction", "n_pairs",
    "reference_mean", "scenario_mean", "difference", "ci_low", "ci_high",
    "share_worse", "share_better", "p05", "p95", "significant",
)
"""Columns of the table :func:`paired_differences` returns."""


def _paired(runs: pd.DataFrame, scenario: str, reference: str, measure: str) -> pd.DataFrame:
    """Option and reference values of ``measure`` aligned on the replicate seed."""
    ref = runs.loc[runs["scenario"] == reference, ["seed", measure]].set_index("seed")[measure]
    opt = runs.loc[runs["scenario"] == scenario, ["seed", measure]].set_index("seed")[measure]
    if ref.index.has_duplicates or opt.index.has_duplicates:
        raise ValueError("a seed appears twice within one scenario; cannot pair runs")
    both = pd.DataFrame({"reference": ref.astype(float), "option": opt.astype(float)}).dropna()
    return both


def paired_differences(
    runs: pd.DataFrame,
    measures: Iterable[str],
    *,
    reference: str,
    scenarios: Sequence[str] | None = None,
    boot_seed: int = 0,
    n_boot: int = N_BOOT,
    level: float = CI_LEVEL,
    method: str = "bca",
) -> pd.DataFrame:
    """Seed-paired differences (option minus reference) with bootstrap CIs.

    Args:
        runs: One row per run with columns ``scenario``, ``seed`` and the measures.
        measures: End-of-run measures to compare.
        reference: The scenario every other one is compared against.
        scenarios: Scenarios to compare (default: all but the reference, in
            order of appearance). The reference may be included: its
            differences are exactly zero.
        boot_seed: Seeds the bootstrap, so intervals are reproducible.
        n_boot: Bootstrap resamples.
        level: Confidence level.
        method: ``"bca"`` or ``"percentile"`` (see :func:`bootstrap_ci`).

    Returns:
        One row per (scenario, measure) with the columns in
        :data:`DIFFERENCE_COLUMNS`. Runs are paired by ``seed``; a pair with a
        missing value (e.g. a time to trust never reached) is left out, and
        ``n_pairs`` says how many pairs remain. ``share_worse`` is the share
        of pairs where the option is worse than the reference, taking the
        measure's direction into account; ``significant`` is true when the
        CI excludes zero.
    """
    if scenarios is None:
        scenarios = [s for s in pd.unique(runs["scenario"]) if s != reference]
    rows = []
    for scn in scenarios:
        for m in measures:
            both = _paired(runs, scn, reference, m)
            d = (both["option"] - both["reference"]).to_numpy()
            direction = better_direction(m)
            rng = _rng_for(boot_seed, scn, m)
            low, high = bootstrap_ci(d, rng=rng, n_boot=n_boot, level=level, method=method)
            n = int(d.size)
            rows.append({
                "scenario": scn,
                "reference": reference,
                "measure": m,
                "direction": "higher" if direction > 0 else "lower",
                "n_pairs": n,
                "reference_mean": float(both["reference"].mean()) if n else math.nan,
                "scenario_mean": float(both["option"].mean()) if n else math.nan,
                "difference": float(d.mean()) if n else math.nan,
                "ci_low": low,
                "ci_high": high,
                "share_worse": float(np.mean(direction * d < 0)) if n else math.nan,
                "share_better": float(np.mean(direction * d > 0)) if n else math.nan,
                "p05": float(np.quantile(d, 0.05)) if n else math.nan,
                "p95": float(np.quantile(d, 0.95)) if n else math.nan,
                "significant": bool(n and (low > 0 or high < 0)),
            })
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))


# --------------------------------------------------------------------------- costs


COST_COLUMNS: tuple[str, ...] = (
    "scenario", "outcome", "incremental_cost", "cost_ci_low", "cost_ci_high",
    "effect", "effect_ci_low", "effect_ci_high", "cost_per_unit", "verdict",
)
"""Columns of the table :func:`cost_effectiveness` returns."""


def cost_effectiveness(
    differences: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    cost_measure: str = COST_MEASURE,
    eps: float = EFFECT_EPS,
) -> pd.DataFrame:
    """Incremental cost beside effect, per option and outcome.

    Args:
        differences: The table from :func:`paired_differences`; it must hold
            rows for ``cost_measure`` and for each outcome.
        outcomes: Outcome measures to price.
        cost_measure: The total-cost measure (GBP k).
        eps: Effects smaller than this in absolute value count as zero.

    Returns:
        One row per (scenario, outcome). ``cost_per_unit`` is incremental
        cost divided by the effect, in GBP k per unit of outcome *gained*
        (the effect is signed so that a gain is positive, whatever the
        measure's direction). It is NaN, and ``verdict`` says why, unless the
        effect's CI excludes zero; an option that costs less and does better
        "dominates", one that costs more and does worse is "dominated".
    """
    rows = []
    cost = differences[differences["measure"] == cost_measure].set_index("scenario")
    for _, r in differences[differences["measure"].isin(outcomes)].iterrows():
        scn = r["scenario"]
        if scn not in cost.index:
            continue
        c = cost.loc[scn]
        sign = 1.0 if r["direction"] == "higher" else -1.0
        gain = sign * r["difference"] + 0.0  # + 0.0 turns -0.0 into 0.0
        lo, hi = sorted((sign * r["ci_low"] + 0.0, sign * r["ci_high"] + 0.0))
        dc = float(c["difference"])
        per_unit = math.nan
        if not np.isfinite(gain) or not np.isfinite(dc):
            verdict = "no data"
        elif abs(gain) <= eps and abs(dc) <= eps:
            verdict = "no difference"
        elif lo <= 0.0 <= hi or abs(gain) <= eps:
            verdict = "effect not distinguishable from zero"
        elif gain > 0 and dc <= 0:
            verdict = "dominates (better and no more costly)"
        elif gain < 0 and dc >= 0:
            verdict = "dominated (worse and no cheaper)"
        elif gain > 0:
            per_unit = dc / gain
            verdict = "costs more, gains more"
        else:
            per_unit = dc / gain
            verdict = "saves money, loses outcome (ratio: GBP k saved per unit lost)"
        rows.append({
            "scenario": scn, "outcome": r["measure"],
            "incremental_cost": dc,
            "cost_ci_low": float(c["ci_low"]), "cost_ci_high": float(c["ci_high"]),
            "effect": gain, "effect_ci_low": lo, "effect_ci_high": hi,
            "cost_per_unit": per_unit, "verdict": verdict,
        })
    return pd.DataFrame(rows, columns=list(COST_COLUMNS))


# --------------------------------------------------------------------------- failure conditions


def failure_conditions(
    runs: pd.DataFrame,
    outcome: str,
    *,
    reference: str,
    scenarios: Sequence[str] | None = None,
    features: Sequence[str] = (),
) -> pd.DataFrame:
    """Where an option fails: the paired seeds on which it does worse than the reference.

    Args:
        runs: One row per run (``scenario``, ``seed``, measures).
        outcome: The outcome that defines failure (worse than the reference
            on the same seed, given the measure's direction).
        reference: Reference scenario.
        scenarios: Options (default: all but the reference).
        features: Reference-run measures describing the partnership's own
            course (e.g. ``time_to_trust_months``, ``small_wins_total``); for
            each, the table gives its mean on the seeds where the option failed
            and where it did not, so an analyst sees under which conditions the
            option fails.

    Returns:
        One row per option: ``n_pairs``, ``n_failed``, ``share_failed``,
        ``worst_difference`` (the most unfavourable paired difference) and
        ``failed_seeds`` (comma-separated), plus ``<feature>_when_failed`` and
        ``<feature>_otherwise`` for each feature.
    """
    if scenarios is None:
        scenarios = [s for s in pd.unique(runs["scenario"]) if s != reference]
    direction = better_direction(outcome)
    ref = runs[runs["scenario"] == reference].set_index("seed")
    rows = []
    for scn in scenarios:
        both = _paired(runs, scn, reference, outcome)
        d = direction * (both["option"] - both["reference"])
        failed = d < 0
        row: dict[str, Any] = {
            "scenario": scn, "outcome": outcome, "n_pairs": int(d.size),
            "n_failed": int(failed.sum()),
            "share_failed": float(failed.mean()) if d.size else math.nan,
            "worst_difference": float(direction * d.min()) if d.size else math.nan,
            "failed_seeds": ",".join(str(s) for s in d.index[failed]),
        }
        for f in features:
            if f not in ref.columns:
                continue
            vals = ref.loc[d.index, f].astype(float)
            row[f"{f}_when_failed"] = float(vals[failed].mean()) if failed.any() else math.nan
            row[f"{f}_otherwise"] = float(vals[~failed].mean()) if (~failed).any() else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the comparison


@dataclass
class Comparison:
    """The result of :func:`compare`: tables in memory and where they were written.

    Attributes:
        reference: Name of the reference scenario (the first).
        scenarios: Scenario objects in the order given (reference first).
        seeds: The replicate seeds every scenario ran with.
        runs: One row per run (all scenarios), as in ``runs.parquet``.
        timeseries: One row per run and month, as in ``timeseries.parquet``.
        differences: :func:`paired_differences` for the headline measures and cost.
        costs: :func:`cost_effectiveness`.
        failures: :func:`failure_conditions` on the primary outcome.
        outcome: The primary outcome used for costs and failures.
        out_dir: The comparison's folder.
        files: Named output files (report_html, report_md, figures ...).
        command: The command line that reproduces it.
    """

    reference: str
    scenarios: list[Any]
    seeds: list[int]
    runs: pd.DataFrame
    timeseries: pd.DataFrame
    differences: pd.DataFrame
    costs: pd.DataFrame
    failures: pd.DataFrame
    outcome: str
    out_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    command: str = ""
    measures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyse(
    runs: pd.DataFrame,
    timeseries: pd.DataFrame,
    scenarios: Sequence[Any],
    *,
    measures: Sequence[str],
    outcome: str,
    seeds: Sequence[int],
    boot_seed: int,
    features: Sequence[str] = (),
    n_boot: int = N_BOOT,
    level: float = CI_LEVEL,
    method: str = "bca",
) -> Comparison:
    """All the statistics of a comparison from stored tables (no model runs).

    The first scenario is the reference; ``runs`` needs ``scenario``, ``seed``,
    the measures and :data:`COST_MEASURE`.
    """
    names = [s.name for s in scenarios]
    reference = names[0]
    options = names[1:] or [reference]
    wanted = list(dict.fromkeys([*measures, COST_MEASURE]))
    missing = [m for m in wanted + [outcome] if m not in runs.columns]
    if missing:
        raise InputError(f"measure(s) not in the run results: {', '.join(missing)}",
                         key="measures")
    diffs = paired_differences(runs, wanted, reference=reference, scenarios=options,
                               boot_seed=boot_seed, n_boot=n_boot, level=level,
                               method=method)
    outcomes = [m for m in measures if m != COST_MEASURE and not m.startswith("cost_")]
    costs = cost_effectiveness(diffs, outcomes)
    fails = failure_conditions(runs, outcome, reference=reference, scenarios=options,
                               features=[f for f in features if f in runs.columns])
    return Comparison(reference=reference, scenarios=list(scenarios), seeds=list(seeds),
                      runs=runs, timeseries=timeseries, differences=diffs, costs=costs,
                      failures=fails, outcome=outcome, measures=list(measures))


def summary_lines(cmp: Comparison, *, max_measures: int | None = None) -> list[str]:
    """A short plain-text table of the paired differences, for the terminal."""
    from partnersim.present.report import fmt as _fmt

    d = cmp.differences
    ms = list(dict.fromkeys(d["measure"]))
    if max_measures is not None:
        ms = ms[:max_measures]
    lines = [f"reference: {cmp.reference}; {len(cmp.seeds)} paired seeds; "
             f"{int(CI_LEVEL * 100)}% bootstrap CIs"]
    width = max(len(m) for m in ms) if ms else 10
    for scn in dict.fromkeys(d["scenario"]):
        lines.append(f"{scn} - {cmp.reference}:")
        for m in ms:
            r = d[(d["scenario"] == scn) & (d["measure"] == m)].iloc[0]
            flag = "*" if r["significant"] else " "
            lines.append(f"  {m:<{width}} {_fmt(r['difference']):>10} "
                         f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]{flag} "
                         f"worse in {r['share_worse']:.0%} of seeds")
    return lines


# --------------------------------------------------------------------------- running a comparison


FAILURE_FEATURES: tuple[str, ...] = (
    "first_task_success", "time_to_trust_months", "small_wins_total", "trust_across_year5",
)
"""Reference-run measures shown beside the seeds where an option fails."""


def default_compare_dir(names: Sequence[str]) -> Path:
    """``results/compare-<reference>-vs-<options>`` (shortened with a hash when long)."""
    from partnersim.study.replicates import RESULTS_ROOT

    stem = f"compare-{names[0]}-vs-" + "-".join(names[1:] or names[:1])
    if len(stem) > 80:
        digest = hashlib.sha256("\0".join(names).encode()).hexdigest()[:8]
        stem = f"compare-{names[0]}-vs-{len(names) - 1}-options-{digest}"
    return RESULTS_ROOT / stem


def compare(
    scenario_paths: Sequence[Any],
    out_dir: str | Path | None = None,
    *,
    replicates: int | None = None,
    overwrite: bool = False,
    executor: str = "process",
    workers: int | None = None,
    chunk_size: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    measures: Sequence[str] | None = None,
    outcome: str | None = None,
    n_boot: int = N_BOOT,
    method: str = "bca",
    model: Any = None,
    command: str | None = None,
) -> Comparison:
    """Run scenarios on shared seeds and compare each with the first (the reference).

    Common random numbers: every scenario runs with the reference's master seed
    and replicate count (``replicates`` overrides the count), whatever its own
    file says; replicate *i* has the same seed in every scenario. A scenario
    whose own seed or replicate count differs is noted in the report.

    The folder gets the runner's files (manifest, specs, shards), the single
    ``runs.parquet`` and ``timeseries.parquet`` (all scenarios, with a
    ``scenario`` column), ``differences.parquet``, ``costs.parquet``,
    ``failures.parquet``, ``figures/*.png``, ``report.html`` (self-contained)
    and ``report.md``.

    Args:
        scenario_paths: Scenario files (or :class:`~partnersim.inputs.scenarios.Scenario`
            objects); the first is the reference. Names must be distinct.
        out_dir: The comparison's folder (default ``results/compare-<names>``).
        replicates: Paired seeds per scenario (default: the reference's count).
        overwrite: Replace a folder that already holds results.
        executor: ``process`` (default), ``serial`` or ``dask``.
        workers: Worker processes for the process pool.
        chunk_size: Runs per task.
        scheduler: Dask scheduler address.
        progress: Show a progress bar on stderr.
        measures: End-of-run measures to compare (default ``metrics.HEADLINE``).
        outcome: Primary outcome for costs and failures (default: the first measure).
        n_boot: Bootstrap resamples.
        method: ``"bca"`` or ``"percentile"`` bootstrap intervals.
        model: Model reference for the runner (default: partnersim's model).
        command: The command line recorded in the report (default: the
            equivalent ``partnersim compare`` command).

    Returns:
        The :class:`Comparison`, with ``files`` naming the report and tables.

    Raises:
        InputError: a bad scenario file, fewer than one scenario, duplicate
            names, an unknown measure, a folder already holding results (without
            ``overwrite``) or an unwritable folder. Nothing is written then.
    """
    from partnersim.inputs.scenarios import Scenario, load_scenario
    from partnersim.present.report import write_report
    from partnersim.run import storage
    from partnersim.run.options import RunOptions
    from partnersim.run.runner import execute
    from partnersim.seeding import replicate_seeds
    from partnersim.study.replicates import (
        TIMESERIES_FILE,
        command_line,
        consolidate,
        headline_measures,
        refuse_complete,
        scenario_record,
        scenario_specs,
    )

    if not scenario_paths:
        raise InputError("give at least one scenario file", key="SCENARIO")
    scenarios = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenario_paths]
    names = [s.name for s in scenarios]
    relabelled = []
    seen: dict[str, int] = {}
    for i, s in enumerate(scenarios):
        seen[s.name] = seen.get(s.name, 0) + 1
        if seen[s.name] > 1:  # e.g. a scenario compared with itself: keep runs apart
            new_name = f"{s.name}_{seen[s.name]}"
            relabelled.append(f"{s.name} appears {seen[s.name]} times; "
                              f"run {i + 1} is labelled {new_name}.")
            scenarios[i] = _relabel(s, new_name)
    names = [s.name for s in scenarios]
    ref = scenarios[0]
    n = ref.with_replicates(replicates).replicates if replicates is not None else ref.replicates
    how = "--replicates" if replicates is not None else f"{ref.name}'s"
    notes = [f"Common random numbers: all scenarios ran with {ref.name}'s master seed "
             f"({ref.seed}) and {n} replicates ({how} count): replicate i has the same "
             f"seed in every scenario.", *relabelled]
    for s in scenarios[1:]:
        if s.seed != ref.seed or (replicates is None and s.replicates != ref.replicates):
            notes.append(f"{s.name}: its file asks for seed {s.seed} and {s.replicates} "
                         f"replicates; it ran with the reference's seeds instead.")
        if s.horizon_months != ref.horizon_months:
            notes.append(f"{s.name}: horizon {s.horizon_months} months differs from the "
                         f"reference's {ref.horizon_months}; end-of-run measures cover "
                         f"different periods.")
    measures = list(measures) if measures is not None else headline_measures()
    outcome = outcome or measures[0]
    if model is None:  # partnersim's model: check names before any run
        _check_summary_names([*measures, outcome])

    out = Path(out_dir) if out_dir is not None else default_compare_dir(names)
    refuse_complete(out, overwrite)
    seeds = replicate_seeds(ref.seed, n)
    specs = []
    for point, s in enumerate(scenarios):
        specs += scenario_specs(s, seeds, point=point, first_run_id=point * n)
    if command is None:
        command = command_line(
            "compare", [s.source or f"{s.name}.toml" for s in scenarios], out=out_dir,
            replicates=replicates)
    keep = _union_measures(scenarios)
    report = execute(
        specs, out, RunOptions(executor=executor, workers=workers, chunk_size=chunk_size,
                               scheduler=scheduler, overwrite=overwrite, progress=progress),
        model=model, measures=keep,
        provenance={"kind": "compare", "command_line": command, "reference": ref.name,
                    "scenarios": [scenario_record(s) for s in scenarios],
                    "replicate_seeds": seeds})
    if not report.complete:
        raise InputError(f"{report.total - report.resumed - report.computed} run(s) did not "
                         "finish; run the same command again to complete them",
                         source=str(out))
    runs, ts = consolidate(out)
    ok = runs[runs["status"] == "ok"]
    if report.failed:
        notes.append(f"{report.failed} run(s) failed and are left out of the pairs: "
                     + "; ".join(f"run {f['run_id']} (seed {f['seed']}): {f['error']}"
                                 for f in report.failures[:3]))
    cmp = analyse(ok, ts, scenarios, measures=measures, outcome=outcome, seeds=seeds,
                  boot_seed=ref.seed, features=FAILURE_FEATURES, n_boot=n_boot,
                  method=method)
    cmp.out_dir = out
    cmp.command = command
    cmp.notes = notes
    files: dict[str, Path] = {
        "manifest": out / storage.MANIFEST, "runs": out / "runs.parquet",
        "timeseries": out / TIMESERIES_FILE,
        "differences": storage.write_table(out, "differences", cmp.differences),
        "costs": storage.write_table(out, "costs", cmp.costs),
        "failures": storage.write_table(out, "failures", cmp.failures),
    }
    files.update(write_report(cmp, out))
    cmp.files = files
    storage.update_manifest(out, outputs={k: str(p.relative_to(out)) for k, p in files.items()},
                            notes=notes)
    return cmp


def _check_summary_names(names: Sequence[str]) -> None:
    from partnersim.errors import did_you_mean

    known = (*outputs.SUMMARIES, COST_MEASURE)
    for name in names:
        if name not in known:
            raise InputError(f"unknown end-of-run measure {name!r}{did_you_mean(name, known)}",
                             key="measures")


def _relabel(scenario: Any, name: str) -> Any:
    from dataclasses import replace

    return replace(scenario, name=name)


def _union_measures(scenarios: Sequence[Any]) -> list[str] | None:
    """Monthly measures to keep: None (all) unless every scenario restricts them."""
    if any(s.measures is None for s in scenarios):
        return None
    keep: list[str] = []
    for s in scenarios:
        keep += [m for m in s.measures if m not in keep]
    return keep
