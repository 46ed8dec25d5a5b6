"""Comparing scenarios: seed-paired differences, bootstrap CIs, costs beside effects.

Every scenario in a comparison runs with the *same* replicate seeds (common
random numbers): the reference's master seed and replicate count are used for
all, whatever the other files say. Replicate *i* of every scenario therefore
meets the same draws wherever the scenarios do not differ, and the difference
``option_i - reference_i`` removes most of the between-run noise. A scenario
compared with itself gives differences of exactly zero.

A comparison is a design with one point per scenario: in the runs table a
scenario's position (0 for the reference) is its ``point``, and its name is
its ``scenario``. The values compared are end-of-run *outputs* (the ``output``
column of the differences table).

Statistics (see docs/decisions.md):

- paired difference per headline output: mean over paired seeds, with a
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim.errors import InputError, unknown
from partnersim.inputs.scenarios import Scenario, load_scenario
from partnersim.outputs import COST_OUTPUT, HEADLINE, SUMMARIES, better
from partnersim.present.report import write_report
from partnersim.present.text import fmt
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute
from partnersim.seeding import replicate_seeds
from partnersim.stats import CI_LEVEL, N_BOOT, bootstrap_ci
from partnersim.study.replicates import (
    RESULTS_ROOT,
    RUNS_TABLE,
    TIMESERIES_TABLE,
    consolidate,
    refuse_complete,
    scenario_record,
    scenario_specs,
)

FEW_PAIRS = 10
"""Below this many paired seeds the report warns that its intervals are rough (a rule of
thumb: bootstrap intervals under-cover in small samples)."""
EFFECT_EPS = 1e-9
"""Effects smaller than this (in absolute value) count as zero when dividing cost by effect."""

# --------------------------------------------------------------------------- bootstrap


def _rng_for(boot_seed: int, *keys: str) -> np.random.Generator:
    """A generator per (scenario, output), independent of the order they are analysed in."""
    words = [int.from_bytes(hashlib.sha256(k.encode("utf-8")).digest()[:8], "little")
             for k in keys]
    return np.random.default_rng([boot_seed, *words])


# --------------------------------------------------------------------------- differences


DIRECTION_WORDS: dict[int, str] = {1: "higher", -1: "lower", 0: "neither"}
"""The ``direction`` column: which way an output is better (``outputs.better``)."""

DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "scenario", "reference", "output", "direction", "n_pairs",
    "reference_mean", "scenario_mean", "difference", "ci_low", "ci_high",
    "share_worse", "share_better", "p05", "p95", "significant",
)
"""Columns of the table :func:`paired_differences` returns."""


def _paired(runs: pd.DataFrame, scenario: str, reference: str, output: str) -> pd.DataFrame:
    """Option and reference values of ``output`` aligned on the replicate seed."""
    ref = runs.loc[runs["scenario"] == reference, ["seed", output]].set_index("seed")[output]
    opt = runs.loc[runs["scenario"] == scenario, ["seed", output]].set_index("seed")[output]
    if ref.index.has_duplicates or opt.index.has_duplicates:
        raise ValueError("a seed appears twice within one scenario; cannot pair runs")
    both = pd.DataFrame({"reference": ref.astype(float), "option": opt.astype(float)}).dropna()
    return both


def paired_differences(
    runs: pd.DataFrame,
    outputs: Iterable[str],
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
        runs: One row per run with columns ``scenario``, ``seed`` and the outputs.
        outputs: End-of-run outputs to compare.
        reference: The scenario every other one is compared against.
        scenarios: Scenarios to compare (default: all but the reference, in
            order of appearance). The reference may be included: its
            differences are exactly zero.
        boot_seed: Seeds the bootstrap, so intervals are reproducible.
        n_boot: Bootstrap resamples.
        level: Confidence level.
        method: ``"bca"`` or ``"percentile"`` (see :func:`bootstrap_ci`).

    Returns:
        One row per (scenario, output) with the columns in
        :data:`DIFFERENCE_COLUMNS`. Runs are paired by ``seed``; a pair with a
        missing value (e.g. a time to trust never reached) is left out, and
        ``n_pairs`` says how many pairs remain. ``share_worse`` is the share
        of pairs where the option is worse than the reference, taking the
        output's direction (``outputs.better``) into account; ``significant`` is true when the
        CI excludes zero.
    """
    if scenarios is None:
        scenarios = [s for s in pd.unique(runs["scenario"]) if s != reference]
    rows = []
    for scn in scenarios:
        for m in outputs:
            both = _paired(runs, scn, reference, m)
            d = (both["option"] - both["reference"]).to_numpy()
            direction = better(m)
            rng = _rng_for(boot_seed, scn, m)
            low, high = bootstrap_ci(d, rng=rng, n_boot=n_boot, level=level, method=method)
            n = int(d.size)
            rows.append({
                "scenario": scn,
                "reference": reference,
                "output": m,
                "direction": DIRECTION_WORDS[direction],
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
    cost_output: str = COST_OUTPUT,
    eps: float = EFFECT_EPS,
) -> pd.DataFrame:
    """Incremental cost beside effect, per option and outcome.

    Args:
        differences: The table from :func:`paired_differences`; it must hold
            rows for ``cost_output`` and for each outcome.
        outcomes: Outcome outputs to price.
        cost_output: The total-cost output (GBP k).
        eps: Effects smaller than this in absolute value count as zero.

    Returns:
        One row per (scenario, outcome). ``cost_per_unit`` is incremental
        cost divided by the effect, in GBP k per unit of outcome *gained*
        (the effect is signed so that a gain is positive, whatever the
        output's direction). It is NaN, and ``verdict`` says why, unless the
        effect's CI excludes zero; an option that costs less and does better
        "dominates", one that costs more and does worse is "dominated".
    """
    rows = []
    cost = differences[differences["output"] == cost_output].set_index("scenario")
    for _, r in differences[differences["output"].isin(outcomes)].iterrows():
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
            "scenario": scn, "outcome": r["output"],
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
        runs: One row per run (``scenario``, ``seed``, outputs).
        outcome: The outcome that defines failure (worse than the reference
            on the same seed, given the output's direction).
        reference: Reference scenario.
        scenarios: Options (default: all but the reference).
        features: Reference-run outputs describing the partnership's own
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
    direction = better(outcome)
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
        differences: :func:`paired_differences` for the compared outputs and cost.
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
    outputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyse(
    runs: pd.DataFrame,
    timeseries: pd.DataFrame,
    scenarios: Sequence[Any],
    *,
    outputs: Sequence[str],
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
    the outputs and ``outputs.COST_OUTPUT``. A comparison is a design with one
    point per scenario: a scenario's position in ``scenarios`` is its ``point`` in
    the runs table.
    """
    names = [s.name for s in scenarios]
    reference = names[0]
    options = names[1:] or [reference]
    wanted = list(dict.fromkeys([*outputs, COST_OUTPUT]))
    missing = [m for m in wanted + [outcome] if m not in runs.columns]
    if missing:
        raise InputError(f"output(s) not in the run results: {', '.join(missing)}",
                         key="outputs")
    diffs = paired_differences(runs, wanted, reference=reference, scenarios=options,
                               boot_seed=boot_seed, n_boot=n_boot, level=level,
                               method=method)
    outcomes = [m for m in outputs if m != COST_OUTPUT and not m.startswith("cost_")]
    costs = cost_effectiveness(diffs, outcomes)
    fails = failure_conditions(runs, outcome, reference=reference, scenarios=options,
                               features=[f for f in features if f in runs.columns])
    return Comparison(reference=reference, scenarios=list(scenarios), seeds=list(seeds),
                      runs=runs, timeseries=timeseries, differences=diffs, costs=costs,
                      failures=fails, outcome=outcome, outputs=list(outputs))


def summary_lines(cmp: Comparison, *, max_outputs: int | None = None) -> list[str]:
    """A short plain-text table of the paired differences, for the terminal."""
    d = cmp.differences
    ms = list(dict.fromkeys(d["output"]))
    if max_outputs is not None:
        ms = ms[:max_outputs]
    lines = [f"reference: {cmp.reference}; {len(cmp.seeds)} paired seeds; "
             f"{int(CI_LEVEL * 100)}% bootstrap CIs"]
    width = max(len(m) for m in ms) if ms else 10
    for scn in dict.fromkeys(d["scenario"]):
        lines.append(f"{scn} - {cmp.reference}:")
        for m in ms:
            r = d[(d["scenario"] == scn) & (d["output"] == m)].iloc[0]
            flag = "*" if r["significant"] else " "
            lines.append(f"  {m:<{width}} {fmt(r['difference']):>10} "
                         f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]{flag} "
                         f"worse in {r['share_worse']:.0%} of seeds")
    return lines


# --------------------------------------------------------------------------- running a comparison


FAILURE_FEATURES: tuple[str, ...] = (
    "first_task_success", "time_to_trust_months", "small_wins_total", "trust_across_year5",
)
"""Reference-run outputs shown beside the seeds where an option fails."""


def default_compare_dir(names: Sequence[str]) -> Path:
    """``results/compare-<reference>-vs-<options>`` (shortened with a hash when long)."""
    stem = f"compare-{names[0]}-vs-" + "-".join(names[1:] or names[:1])
    if len(stem) > 80:
        digest = hashlib.sha256("\0".join(names).encode()).hexdigest()[:8]
        stem = f"compare-{names[0]}-vs-{len(names) - 1}-options-{digest}"
    return RESULTS_ROOT / stem


def compare(
    scenario_paths: Sequence[Any],
    out_dir: str | Path | None = None,
    options: RunOptions = RunOptions(),  # noqa: B008 (frozen: one shared default is safe)
    *,
    replicates: int | None = None,
    outputs: Sequence[str] | None = None,
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
        options: How the runs execute (executor, workers, ...); ``overwrite``
            replaces a folder that already holds results.
        replicates: Paired seeds per scenario (default: the reference's count).
        outputs: End-of-run outputs to compare (default ``outputs.HEADLINE``).
        outcome: Primary outcome for costs and failures (default: the first output).
        n_boot: Bootstrap resamples.
        method: ``"bca"`` or ``"percentile"`` bootstrap intervals.
        model: Model reference for the runner (default: partnersim's model).
        command: The command line recorded in the report (default: the
            equivalent ``partnersim compare`` command).

    Returns:
        The :class:`Comparison`, with ``files`` naming the report and tables.

    Raises:
        InputError: a bad scenario file, fewer than two scenarios, duplicate
            names, an unknown output, a folder already holding results (without
            ``overwrite``) or an unwritable folder. Nothing is written then.
    """
    if len(scenario_paths) < 2:
        raise InputError("expected the reference scenario and at least one to compare with it "
                         "(one scenario alone: partnersim run)", key="SCENARIO")
    scenarios = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenario_paths]
    relabelled = []
    seen: dict[str, int] = {}
    for i, s in enumerate(scenarios):
        seen[s.name] = seen.get(s.name, 0) + 1
        if seen[s.name] > 1:  # e.g. a scenario compared with itself: keep runs apart
            new_name = f"{s.name}_{seen[s.name]}"
            relabelled.append(f"{s.name} appears {seen[s.name]} times; "
                              f"run {i + 1} is labelled {new_name}.")
            scenarios[i] = replace(s, name=new_name)
    names = [s.name for s in scenarios]
    ref = scenarios[0]
    n = ref.with_replicates(replicates).replicates if replicates is not None else ref.replicates
    how = "--replicates" if replicates is not None else f"{ref.name}'s"
    notes = [f"Common random numbers: all scenarios ran with {ref.name}'s master seed "
             f"({ref.seed}) and {n} replicates ({how} count): replicate i has the same "
             f"seed in every scenario.", *relabelled]
    if n < FEW_PAIRS:
        notes.append(f"Only {n} paired seed{'' if n == 1 else 's'}: "
                     + ("one pair gives no interval" if n == 1 else
                        "bootstrap intervals from so few pairs miss the true difference "
                        "more often than their level says")
                     + f"; use {FEW_PAIRS} or more (the shipped scenarios use 20).")
    for s in scenarios[1:]:
        if s.seed != ref.seed or (replicates is None and s.replicates != ref.replicates):
            notes.append(f"{s.name}: its file asks for seed {s.seed} and {s.replicates} "
                         f"replicates; it ran with the reference's seeds instead.")
        if s.horizon_months != ref.horizon_months:
            notes.append(f"{s.name}: horizon {s.horizon_months} months differs from the "
                         f"reference's {ref.horizon_months}; end-of-run outputs cover "
                         f"different periods.")
    outputs = list(outputs) if outputs is not None else list(HEADLINE)
    outcome = outcome or outputs[0]
    if model is None:  # partnersim's model: check names before any run
        _check_summary_names([*outputs, outcome])

    def drawn_from(s: Any) -> str | None:
        return None if s.posterior is None else s.posterior.sha256

    # replicate i must have the same parameter draw in every scenario
    other = next((s for s in scenarios if drawn_from(s) != drawn_from(ref)), None)
    if other is not None:
        raise InputError("the compared scenarios draw their parameters from different "
                         "posteriors (or some from none), so their replicates would not be "
                         f"paired; give {other.name} the reference's posterior",
                         source=other.source, key="posterior")
    out = Path(out_dir) if out_dir is not None else default_compare_dir(names)
    refuse_complete(out, options.overwrite)
    seeds = replicate_seeds(ref.seed, n)
    specs = []
    for point, s in enumerate(scenarios):
        specs += scenario_specs(s, seeds, point=point, first_run_id=point * n)
    if command is None:
        command = storage.command_line(
            "compare", *[s.source or s.name for s in scenarios], out=out_dir,
            replicates=replicates)
    keep = _union_measures(scenarios)
    report = execute(
        specs, out, options, model=model, measures=keep,
        provenance={"kind": "compare", "command": command, "reference": ref.name,
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
    cmp = analyse(ok, ts, scenarios, outputs=outputs, outcome=outcome, seeds=seeds,
                  boot_seed=ref.seed, features=FAILURE_FEATURES, n_boot=n_boot,
                  method=method)
    cmp.out_dir = out
    cmp.command = command
    cmp.notes = notes
    files: dict[str, Path] = {
        "manifest": out / storage.MANIFEST, "runs": storage.table_path(out, RUNS_TABLE),
        "timeseries": storage.table_path(out, TIMESERIES_TABLE),
        "differences": storage.write_table(out, "differences", cmp.differences),
        "costs": storage.write_table(out, "costs", cmp.costs),
        "failures": storage.write_table(out, "failures", cmp.failures),
    }
    files.update(write_report(cmp, out))
    cmp.files = files
    storage.update_manifest(out, files={k: str(p.relative_to(out)) for k, p in files.items()},
                            notes=notes)
    return cmp


def _check_summary_names(names: Sequence[str]) -> None:
    known = (*SUMMARIES, COST_OUTPUT)
    for name in names:
        if name not in known:
            raise unknown("end-of-run output", name, known, key="outputs", show_name=True)


def _union_measures(scenarios: Sequence[Any]) -> list[str] | None:
    """Monthly measures to keep: None (all) unless every scenario restricts them."""
    if any(s.measures is None for s in scenarios):
        return None
    keep: list[str] = []
    for s in scenarios:
        keep += [m for m in s.measures if m not in keep]
    return keep
