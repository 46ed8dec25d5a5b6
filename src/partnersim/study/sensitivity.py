"""Sensitivity studies: SALib designs -> run specs; indices, noise, convergence from stored runs.

SALib samples and analyses; what each design and analyser is (its SALib call, how it
nests, the sample sizes it needs, the indices it reports) is declared once, in
``partnersim.designs``. This module does what SALib leaves to its users:

* **Designs to runs.** ``build_design`` draws the design with SALib's sampler
  for the method (seeded from the experiment's master seed) and maps each row
  onto parameter values (see ``inputs.experiments.Factor`` for integer, flag and
  choice parameters). ``make_specs`` gives each design point ``replicates``
  runs; replicate ``r`` has the same seed at every point (common random
  numbers). Run ids are ``point * replicates + replicate``, so the runs table
  sorted by run id is in design order, the order SALib's analysers trust.
* **Replicates.** Indices are computed on the replicate mean at each design
  point. Beside them, ``replicate_noise`` reports the share of the output's
  variance across runs that is replicate noise (the mean within-point
  variance over the total variance; a one-way ANOVA decomposition), with a
  bootstrap interval over design points, and the share left in the replicate
  mean (noise variance / replicates over the variance of the means): no input
  can explain that share, so indices of the mean sum to at most one minus it.
* **Convergence.** The designs that nest (Sobol' base samples, Morris
  trajectories, Latin-hypercube rows) are re-analysed on their first 1/8, 1/4,
  1/2 and all of the sample. An output has converged when, between the two
  largest sizes, no main index moves by more than ``convergence_tolerance`` and
  every main index's CI half-width at full size is below ``ci_tolerance``
  (Morris mu* is scaled by the largest mu* first). eFAST's frequency design
  does not nest; its verdict is "not assessed".
* **Time-resolved indices.** Monthly measures are averaged over each period
  (``period_months``, a year by default) of each run, averaged over replicates,
  and analysed period by period (S1 and ST for Sobol' and eFAST).
* **eFAST** confidence intervals: SALib's bootstrap of one search curve is
  unreliable (SALib#649; it often gives zero). The design is therefore drawn
  (``partnersim.designs``) as ``fast_curves`` independent eFAST samples (random
  phase shifts; seeds from the master seed); each is analysed by SALib, the
  estimate is their mean and the interval a t interval from their spread.
* **PAWN** has no confidence interval in SALib; its analyser (``partnersim.designs``)
  bootstraps one by resampling design rows and calling SALib's ``pawn.analyze``
  on each resample.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim.designs import ANALYSERS, DESIGNS, check_sample_size
from partnersim.errors import InputError
from partnersim.inputs.experiments import Experiment
from partnersim.present import sensitivity_plots as ps
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute
from partnersim.run.specs import RunReport, RunSpec
from partnersim.seeding import replicate_seeds

INDEX_COLUMNS: tuple[str, ...] = ("output", "method", "param", "index", "value", "conf")
"""Columns of the indices table; ``conf`` is the CI half-width at ``conf_level``."""


def _child_seed(master: int, stream: int, *more: int) -> int:
    """A 32-bit seed for SALib, derived from the master seed without consuming it."""
    return int(np.random.SeedSequence([master, stream, *more]).generate_state(1)[0])


SAMPLER_STREAM, ANALYSIS_STREAM, BOOTSTRAP_STREAM = 1, 2, 3


# --------------------------------------------------------------------------- designs


@dataclass(frozen=True)
class Design:
    """A drawn design.

    Attributes:
        raw: Design values as sampled (points x factors), in SALib's intervals; on a
            grid, the numeric values (flags 0/1, listed values by index).
        points: Parameter values of each point (plain Python values).
        unit_rows: Rows per unit of sample size that nest (Sobol': a base sample's
            ``D + 2`` rows; Morris: a trajectory's ``D + 1``; Latin: 1); 0 if the
            design does not nest.
    """

    raw: np.ndarray
    points: list[dict[str, Any]]
    unit_rows: int


def build_design(exp: Experiment, sample_size: int | None = None) -> Design:
    """Draw the experiment's design with its SALib sampler (seeded) and map it onto parameters."""
    design_method = DESIGNS[exp.design]
    k = len(exp.factors)
    if design_method.sampler is None:  # the full grid: the product of the factors' levels
        levels = int(exp.options["levels"])
        axes = [f.grid_values(levels) for f in exp.factors]
        points = [dict(zip(exp.names, combo, strict=True)) for combo in itertools.product(*axes)]
        raw = np.array([[_grid_raw(f, v) for f, v in zip(exp.factors, p.values(), strict=True)]
                        for p in points], dtype="float64").reshape(len(points), k)
        return Design(raw, points, 0)

    def seed(*more: int) -> int:
        return _child_seed(exp.seed, SAMPLER_STREAM, *more)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's convergence-property notices
        raw = design_method.sampler(exp.problem(), sample_size or exp.sample_size, exp.options,
                                    seed)
    raw = np.asarray(raw, dtype="float64")
    points = [{f.name: f.value(x) for f, x in zip(exp.factors, row, strict=True)} for row in raw]
    unit = design_method.unit_rows(k, exp.options) if design_method.unit_rows else 0
    return Design(raw, points, unit)


def _grid_raw(factor: Any, value: Any) -> float:
    if factor.values is not None:
        return float(factor.values.index(value))
    return float(value)


def make_specs(exp: Experiment, design: Design) -> list[RunSpec]:
    """Run specs: each point x each replicate; run id ``point * replicates + replicate``."""
    seeds = replicate_seeds(exp.seed, exp.replicates)
    bases = exp.replicate_bases(seeds)  # posterior draws, one per replicate (or none)
    specs = []
    for p, values in enumerate(design.points):
        for r, seed in enumerate(seeds):
            specs.append(RunSpec(run_id=p * exp.replicates + r, seed=seed,
                                 params={**bases[r], **exp.base_params, **values},
                                 point=p, replicate=r, scenario=exp.name,
                                 interventions=exp.interventions))
    return specs


def design_table(exp: Experiment, design: Design) -> pd.DataFrame:
    """The design as sampled: ``point`` and each factor's raw design value."""
    df = pd.DataFrame(design.raw, columns=exp.names)
    df.insert(0, "point", np.arange(len(df), dtype="int64"))
    return df


def experiment_record(exp: Experiment) -> dict[str, Any]:
    """The resolved experiment, for the manifest."""
    return {
        "name": exp.name, "question": exp.question, "model": exp.model or "partnersim",
        "design": exp.design, "sample_size": exp.sample_size, "replicates": exp.replicates,
        "seed": exp.seed, "outputs": list(exp.outputs),
        "measures": None if exp.measures is None else list(exp.measures),
        "options": dict(exp.options), "base_params": dict(exp.base_params),
        "factors": [{"name": f.name, "type": f.type, "lower": f.lower, "upper": f.upper,
                     "values": None if f.values is None else list(f.values),
                     "salib_bounds": f.salib_bounds} for f in exp.factors],
        "replicate_seeds": replicate_seeds(exp.seed, exp.replicates),
        "posterior": None if exp.posterior is None else {
            **exp.posterior.record(),
            "draws": exp.replicate_bases(replicate_seeds(exp.seed, exp.replicates))},
    }


def run_experiment(exp: Experiment, out_dir: str | Path,
                   options: RunOptions = RunOptions(),  # noqa: B008 (frozen: shared default)
                   *, command: str | None = None) -> tuple[RunReport, Design]:
    """Draw the design, run it through the runner (resumable) and store the design table.

    ``command`` (the command line that reproduces the study) goes into the manifest.

    Raises:
        InputError: as ``runner.execute`` (folder, scheduler), before anything is written.
    """
    design = build_design(exp)
    specs = make_specs(exp, design)
    inputs = [storage.input_record(exp.source, exp.text)]
    if exp.scenario_source:
        inputs.append(storage.input_record(exp.scenario_source, exp.scenario_text))
    provenance = {"kind": "experiment", "inputs": inputs,
                  "command": command,
                  "experiment": experiment_record(exp)}
    measures = list(exp.measures) if exp.measures is not None else None
    report = execute(specs, out_dir, options, model=exp.model,
                     keep_timeseries=bool(measures), measures=measures or None,
                     provenance=provenance)
    storage.write_table(out_dir, "design", design_table(exp, design))
    return report, design


# --------------------------------------------------------------------------- tables


def output_names(exp: Experiment, runs: pd.DataFrame) -> list[str]:
    """The outputs to analyse: the experiment's list, or every output column of the runs.

    Raises:
        InputError: ``outputs[i]``: a model (one of the file's, not partnersim's, whose
            outputs are checked when the file is read) returned no such output.
    """
    skip = set(storage.ID_COLUMNS) | set(exp.base_params) | set(exp.names)
    returned = [c for c in runs.columns if c not in skip and runs[c].dtype.kind == "f"]
    if not exp.outputs:
        return returned
    if (runs["status"] == "ok").any():
        for k, name in enumerate(exp.outputs):
            if name not in runs.columns:
                raise InputError(f"the model returned no output {name!r}; it returned "
                                 f"{', '.join(returned) or 'none'} (its runs are stored: "
                                 f"correct the file and run again to analyse them)",
                                 source=exp.source, key=f"outputs[{k}]")
    return list(exp.outputs)


def point_means(runs: pd.DataFrame, output: str, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Replicate mean of an output at each point (NaN where no run succeeded) and ok counts."""
    ok = runs[runs["status"] == "ok"]
    grouped = ok.groupby("point")[output]
    mean = grouped.mean().reindex(range(n_points))
    count = grouped.count().reindex(range(n_points), fill_value=0)
    return mean.to_numpy("float64"), count.to_numpy("int64")


def points_summary(runs: pd.DataFrame, outputs: Sequence[str],
                   design_points: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per design point: parameter values, runs ok, and each output's mean and sd."""
    n = len(design_points)
    table = pd.DataFrame(list(design_points))
    table.insert(0, "point", np.arange(n, dtype="int64"))
    ok = runs[runs["status"] == "ok"]
    table["runs_ok"] = ok.groupby("point").size().reindex(range(n), fill_value=0).to_numpy()
    for o in outputs:
        g = ok.groupby("point")[o]
        table[f"{o}_mean"] = g.mean().reindex(range(n)).to_numpy("float64")
        table[f"{o}_sd"] = g.std(ddof=1).reindex(range(n)).to_numpy("float64")
    return table


def replicate_noise(runs: pd.DataFrame, output: str, *, replicates: int, seed: int,
                    num_resamples: int = 200, conf_level: float = 0.95) -> dict[str, Any]:
    """Share of an output's variance that is replicate noise, with a bootstrap interval.

    ``noise_share`` = mean within-point variance / variance over all runs;
    ``noise_share_mean`` = (within-point variance / replicates) / variance of the
    point means, the share of the analysed quantity that no input explains. The
    interval resamples design points with replacement.
    """
    ok = runs.loc[runs["status"] == "ok", ["point", output]].dropna()
    row: dict[str, Any] = {"output": output, "replicates": replicates,
                           "n_points": int(ok["point"].nunique()),
                           "noise_share": np.nan, "noise_low": np.nan, "noise_high": np.nan,
                           "noise_share_mean": np.nan}
    if replicates < 2 or ok.empty:
        return row
    g = ok.groupby("point")[output]
    squares = (ok[output] ** 2).groupby(ok["point"]).sum()
    stats = pd.DataFrame({"n": g.count(), "mean": g.mean(), "var": g.var(ddof=1),
                          "ss": squares})
    stats = stats[stats["n"] >= 2]
    if len(stats) < 2:
        return row

    def share(sub: pd.DataFrame) -> tuple[float, float]:
        n = sub["n"].to_numpy()
        total_n = n.sum()
        grand = float(np.sum(sub["mean"] * n) / total_n)
        total_var = float((sub["ss"].sum() - total_n * grand**2) / (total_n - 1))
        within = float(sub["var"].mean())
        var_means = float(sub["mean"].var(ddof=1))
        s = within / total_var if total_var > 0 else np.nan
        s_mean = (within / replicates) / var_means if var_means > 0 else np.nan
        return s, s_mean

    s, s_mean = share(stats)
    rng = np.random.default_rng(seed)
    boots = []
    idx = np.arange(len(stats))
    for _ in range(num_resamples):
        b, _ = share(stats.iloc[rng.choice(idx, size=len(idx), replace=True)])
        boots.append(b)
    alpha = (1 - conf_level) / 2
    lo, hi = np.nanquantile(boots, [alpha, 1 - alpha]) if np.isfinite(boots).any() else (
        np.nan, np.nan)
    row.update(noise_share=s, noise_low=float(lo), noise_high=float(hi),
               noise_share_mean=s_mean)
    return row


# --------------------------------------------------------------------------- indices

ANALYSIS_FAILURES = (ValueError, np.linalg.LinAlgError)
"""What SALib raises when an output has too few distinct values for a method (e.g. delta's
kernel density on a nearly constant output: "Singular matrix"): that analysis is skipped
with a note (a convergence sub-sample: left out), instead of failing the whole study."""


def analyse_method(method: str, exp: Experiment, X: np.ndarray, Y: np.ndarray, *,
                   seed: int) -> pd.DataFrame:
    """One SALib analysis of the replicate means ``Y`` over design rows ``X``.

    Args:
        method: A name in ``partnersim.designs.ANALYSERS``.

    Returns:
        Rows ``param, index, value, conf`` (``conf`` NaN where the method gives none).
    """
    if method not in ANALYSERS:
        raise ValueError(f"unknown method {method!r}")
    analyser = ANALYSERS[method]
    names = exp.names
    # record=True: SALib (delta) resets the filters inside, so only capture keeps it quiet
    with warnings.catch_warnings(record=True), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = analyser.analyse(exp.problem(), X, Y, exp.options, seed)
    rows: list[tuple[str, str, float, float]] = []
    for index, conf in analyser.indices:
        vals = np.asarray(res[index], dtype="float64")
        confs = (np.asarray(res[conf], dtype="float64") if conf else
                 np.full(len(vals), np.nan))
        for name, v, c in zip(names, vals, confs, strict=True):
            rows.append((name, index, float(v), float(c)))
    for index, conf in analyser.pair_indices:
        if index not in res:  # e.g. Sobol' second order, when not asked for
            continue
        pair, pair_conf = np.asarray(res[index]), np.asarray(res[conf])
        for i, j in itertools.combinations(range(len(names)), 2):
            rows.append((f"{names[i]}:{names[j]}", index, float(pair[i, j]),
                         float(pair_conf[i, j])))
    return pd.DataFrame(rows, columns=["param", "index", "value", "conf"])


@dataclass
class Analysis:
    """Tables of a sensitivity analysis (all tidy, ready for ``present.sensitivity_plots``).

    Attributes:
        indices: ``output, method, param, index, value, conf``.
        noise: One row per output: replicate-noise shares (see ``replicate_noise``).
        convergence: ``output, method, n, param, index, value, conf`` at each size.
        verdicts: One row per output and method: ``converged`` (True, False or
            None = not assessed), ``max_change``, ``max_conf``, ``verdict`` text.
        time_indices: ``measure, period, method, param, index, value, conf``.
        notes: Outputs or measures left out, and why.
    """

    indices: pd.DataFrame
    noise: pd.DataFrame
    convergence: pd.DataFrame
    verdicts: pd.DataFrame
    time_indices: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _usable(y: np.ndarray, what: str, notes: list[str]) -> bool:
    if not np.all(np.isfinite(y)):
        bad = int(np.sum(~np.isfinite(y)))
        notes.append(f"{what}: {bad} design point(s) have no finite value (failed runs or "
                     "missing output); not analysed")
        return False
    if np.ptp(y) == 0:
        notes.append(f"{what}: constant over the design; nothing to apportion")
        return False
    return True


def analyse(exp: Experiment, design: Design, runs: pd.DataFrame,
            out_dir: str | Path) -> Analysis:
    """Indices, replicate noise, convergence and time-resolved indices of a design that ran.

    Args:
        exp: The experiment.
        design: The design it ran (as ``run_experiment`` drew it).
        runs: Its runs table (``storage.load_runs``), every run stored.
        out_dir: Its results folder, whose timeseries shards the time-resolved
            indices read (one shard at a time).
    """
    n_points = len(design.points)
    methods = DESIGNS[exp.design].analysers
    outputs = output_names(exp, runs)
    a_seed = _child_seed(exp.seed, ANALYSIS_STREAM)
    b_seed = _child_seed(exp.seed, BOOTSTRAP_STREAM)
    notes: list[str] = []
    idx_frames, conv_frames, verdicts, noise_rows = [], [], [], []
    for output in outputs:
        if output not in runs.columns:
            notes.append(f"{output}: not among the runs' outputs; not analysed")
            continue
        y, _ = point_means(runs, output, n_points)
        noise_rows.append(replicate_noise(runs, output, replicates=exp.replicates,
                                          seed=b_seed,
                                          num_resamples=int(exp.options["num_resamples"]),
                                          conf_level=float(exp.options["conf_level"])))
        if not _usable(y, output, notes):
            continue
        for method in methods:
            try:
                df = analyse_method(method, exp, design.raw, y, seed=a_seed)
            except ANALYSIS_FAILURES as exc:
                notes.append(f"{output}: {ANALYSERS[method].label} could not analyse it "
                             f"({str(exc).splitlines()[0]}); no indices")
                continue
            conv, verdict = convergence(exp, design, y, method, output, seed=a_seed, full=df)
            df.insert(0, "method", method)
            df.insert(0, "output", output)
            idx_frames.append(df)
            conv_frames.append(conv)
            verdicts.append(verdict)
    time_idx = time_resolved(exp, out_dir, design, runs, notes)
    return Analysis(
        indices=_frame(idx_frames, list(INDEX_COLUMNS)),
        noise=pd.DataFrame(noise_rows, columns=["output", "replicates", "n_points",
                                                "noise_share", "noise_low", "noise_high",
                                                "noise_share_mean"]),
        convergence=_frame(conv_frames, ["output", "method", "n", "param", "index", "value",
                                         "conf"]),
        verdicts=pd.DataFrame(verdicts, columns=["output", "method", "converged",
                                                 "max_change", "max_conf", "verdict"]),
        time_indices=time_idx, notes=notes)


def _frame(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def convergence_sizes(exp: Experiment) -> list[int]:
    """Sample sizes (in the design's units) of the convergence report, largest last."""
    n = int(exp.sample_size or 0)
    minimum_of = DESIGNS[exp.design].convergence_minimum
    if minimum_of is None:
        return []
    minimum = minimum_of(exp.options)
    sizes = sorted({n // d for d in (8, 4, 2, 1) if n // d >= minimum})
    return sizes if len(sizes) >= 2 else []


def convergence(exp: Experiment, design: Design, y: np.ndarray, method: str, output: str,
                *, seed: int, full: pd.DataFrame | None = None
                ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Indices on growing nested sub-samples of the design, and the verdict (see module doc).

    ``full`` is the analysis of the whole sample (``param, index, value, conf``), if
    already computed; it is reused for the largest size.
    """
    sizes = convergence_sizes(exp) if design.unit_rows else []
    verdict: dict[str, Any] = {"output": output, "method": method, "converged": None,
                               "max_change": np.nan, "max_conf": np.nan}
    if not sizes:
        label = DESIGNS[exp.design].label
        why = (f"the {label} design does not nest" if not design.unit_rows
               else "the sample is too small to halve")
        verdict["verdict"] = f"not assessed: {why}; rerun with a larger sample_size to check"
        return pd.DataFrame(), verdict
    frames = []
    for n in sizes:
        rows = n * design.unit_rows
        sub_y = y[:rows]
        if np.ptp(sub_y) == 0:
            continue
        if full is not None and rows >= len(y):
            df = full[["param", "index", "value", "conf"]].copy()
        else:
            try:
                df = analyse_method(method, exp, design.raw[:rows], sub_y, seed=seed)
            except ANALYSIS_FAILURES:  # too few or too alike values for the method here
                continue
        df.insert(0, "n", n)
        frames.append(df)
    if len(frames) < 2:
        verdict["verdict"] = ("not assessed: sub-samples are constant or too small for "
                              f"{ANALYSERS[method].label}")
        return pd.DataFrame(), verdict
    conv = pd.concat(frames, ignore_index=True)
    conv.insert(0, "method", method)
    conv.insert(0, "output", output)
    analyser = ANALYSERS[method]
    main = conv[conv["index"].isin(analyser.main)].copy()
    if analyser.scaled_by_largest:
        scale = main.loc[main["n"] == sizes[-1], "value"].abs().max()
        if scale > 0:
            main["value"] /= scale
            main["conf"] /= scale
    last, prev = sizes[-1], sizes[-2]
    a = main[main["n"] == last].set_index(["param", "index"])
    b = main[main["n"] == prev].set_index(["param", "index"])
    change = float((a["value"] - b["value"].reindex(a.index)).abs().max())
    conf = float(a["conf"].max()) if a["conf"].notna().any() else np.nan
    tol = float(exp.options["convergence_tolerance"])
    ci_tol = float(exp.options["ci_tolerance"])
    ok = change <= tol and (np.isnan(conf) or conf <= ci_tol)
    worst = (a["value"] - b["value"].reindex(a.index)).abs().idxmax()
    reasons = []
    if change > tol:
        reasons.append(f"{worst[1]} of {worst[0]} moved {change:.3f} > {tol} from n={prev} "
                       f"to n={last}")
    if not np.isnan(conf) and conf > ci_tol:
        reasons.append(f"widest CI half-width {conf:.3f} > {ci_tol}")
    verdict.update(converged=bool(ok), max_change=change, max_conf=conf,
                   verdict="converged" if ok else "not converged: " + "; ".join(reasons))
    return conv, verdict


def period_means(out_dir: str | Path, measures: Sequence[str], period: int) -> pd.DataFrame:
    """Per run and period: the mean of each monthly measure over the period's months.

    Read shard by shard (memory stays bounded); only complete periods are kept.
    """
    frames = []
    for ts in storage.iter_timeseries(out_dir, measures):
        ts = ts.assign(period=ts["month"] // period)
        g = ts.groupby(["run_id", "period"])
        agg = g[list(measures)].mean()
        agg["months"] = g.size()
        frames.append(agg[agg["months"] == period].drop(columns="months").reset_index())
    if not frames:
        return pd.DataFrame(columns=["run_id", "period", *measures])
    return pd.concat(frames, ignore_index=True)


def time_resolved(exp: Experiment, out_dir: str | Path, design: Design, runs: pd.DataFrame,
                  notes: list[str]) -> pd.DataFrame:
    """Indices of each monthly measure's period means, period by period."""
    columns = ["measure", "period", "method", "param", "index", "value", "conf"]
    if not exp.measures:
        return pd.DataFrame(columns=columns)
    period = int(exp.options["period_months"])
    method = DESIGNS[exp.design].analysers[0]
    pm = period_means(out_dir, exp.measures, period)
    if pm.empty:
        notes.append("time-resolved indices: no complete period in the timeseries")
        return pd.DataFrame(columns=columns)
    ok = runs.loc[runs["status"] == "ok", ["run_id", "point"]]
    pm = pm.merge(ok, on="run_id", how="inner")
    n_points = len(design.points)
    a_seed = _child_seed(exp.seed, ANALYSIS_STREAM)
    frames = []
    keep = set(ANALYSERS[method].main)
    for measure in exp.measures:
        table = pm.groupby(["point", "period"])[measure].mean().unstack("period")
        table = table.reindex(range(n_points))
        reached = [p for p in table.columns if table[p].notna().all()]
        if len(reached) < len(table.columns):
            notes.append(f"{measure}: time-resolved indices cover periods 1-{len(reached)}, "
                         "the periods every design point reaches (horizons differ or runs "
                         "failed)")
        for p in reached:
            y = table[p].to_numpy("float64")
            if not _usable(y, f"{measure} in period {int(p) + 1}", notes):
                continue
            df = analyse_method(method, exp, design.raw, y, seed=a_seed)
            df = df[df["index"].isin(keep)]
            df.insert(0, "method", method)
            df.insert(0, "period", int(p))
            df.insert(0, "measure", measure)
            frames.append(df)
    return _frame(frames, columns)


# --------------------------------------------------------------------------- output


def write_analysis(analysis: Analysis, out_dir: str | Path, *, figures: bool = True
                   ) -> dict[str, Path]:
    """Store the tables (``indices``, ``noise``, ``convergence``, ``verdicts``,
    ``time_indices``) as Parquet and draw the figures into ``figures/``."""
    out = Path(out_dir)
    files = {}
    for name in ("indices", "noise", "convergence", "verdicts", "time_indices"):
        files[name] = storage.write_table(out, name, getattr(analysis, name))
    if figures:
        files.update(ps.save_all(analysis, out / storage.FIGURES_DIR))
    return files


def format_indices(analysis: Analysis, *, max_params: int = 8) -> str:
    """A compact text table: per output, the main indices with CIs, noise share and verdict."""
    lines = []
    noise = analysis.noise.set_index("output") if len(analysis.noise) else pd.DataFrame()
    verdicts = analysis.verdicts
    for (output, method), df in analysis.indices.groupby(["output", "method"], sort=False):
        main = ANALYSERS[method].main
        head = f"{output} [{method}]"
        if output in noise.index and np.isfinite(noise.loc[output, "noise_share"]):
            r = noise.loc[output]
            head += (f"  replicate noise {r['noise_share']:.2f} "
                     f"[{r['noise_low']:.2f}, {r['noise_high']:.2f}] of run variance, "
                     f"{r['noise_share_mean']:.2f} of the mean's")
        v = verdicts[(verdicts["output"] == output) & (verdicts["method"] == method)]
        if len(v):
            head += f"  ({v['verdict'].iloc[0]})"
        lines.append(head)
        # dropna=False: a method with no interval (or no value) keeps its column, as NaN
        wide = df[df["index"].isin(main)].pivot_table(index="param", columns="index",
                                                      values=["value", "conf"], sort=False,
                                                      dropna=False)
        order = wide[("value", main[-1])].sort_values(ascending=False).index[:max_params]
        for param in order:
            cells = []
            for ix in main:
                val, conf = wide.loc[param, ("value", ix)], wide.loc[param, ("conf", ix)]
                cells.append(f"{ix} {val:6.3f}" + ("" if np.isnan(conf) else f" ±{conf:.3f}"))
            lines.append(f"    {param:<28} " + "   ".join(cells))
    lines += [f"note: {n}" for n in analysis.notes]
    return "\n".join(lines)


# --------------------------------------------------------------------------- verbs


@dataclass
class StudyOutcome:
    """What ``sweep`` or ``sensitivity`` did and where it put it.

    Attributes:
        experiment: The experiment as run (with overrides applied).
        out_dir: The results folder.
        report: The runner's report.
        files: Named output files (tables and figures).
        design: The design that ran.
        runs: The runs table as stored when the call ended.
        analysis: The sensitivity tables (``None`` for a sweep or an incomplete run).
    """

    experiment: Experiment
    out_dir: Path
    report: RunReport
    files: dict[str, Path]
    design: Design
    runs: pd.DataFrame
    analysis: Analysis | None = None


def sweep(exp: Experiment, out_dir: str | Path,
          options: RunOptions = RunOptions(),  # noqa: B008 (frozen: shared default)
          *, figures: bool = True, command: str | None = None) -> StudyOutcome:
    """Run an experiment's design and store the runs plus a per-point summary (``points``).

    A grid over one or two parameters also gets a figure per output (``figures/sweep_*``).

    Args:
        exp: A validated experiment.
        out_dir: Results folder.
        options: How the runs execute.
        figures: Draw the grid figures.
        command: The command line that reproduces the study (for the manifest).
    """
    report, design = run_experiment(exp, out_dir, options, command=command)
    out = Path(out_dir)
    files = {"manifest": out / storage.MANIFEST, "design": out / "design.parquet",
             "runs": out / storage.RUNS_DIR}
    if exp.measures:
        files["timeseries"] = out / storage.TIMESERIES_DIR
    runs = storage.load_runs(out)
    outputs = output_names(exp, runs)
    points = points_summary(runs, outputs, design.points)
    files["points"] = storage.write_table(out, "points", points)
    if figures and exp.design == "grid":
        files.update(ps.save_sweep(points, exp.names, outputs, out / storage.FIGURES_DIR))
    return StudyOutcome(exp, out, report, files, design, runs)


def sensitivity(exp: Experiment, out_dir: str | Path,
                options: RunOptions = RunOptions(),  # noqa: B008 (frozen: shared default)
                *, figures: bool = True, command: str | None = None) -> StudyOutcome:
    """Run an experiment's design, then compute and store indices, noise, convergence, figures.

    Indices are computed once every run is stored (failed runs included); if runs were
    lost (a crashed worker) the analysis waits for the rerun that completes them.

    Raises:
        InputError: a design without sensitivity indices (a grid), or a sample too small
            for its analyses, before anything runs.
    """
    if not DESIGNS[exp.design].analysers:
        raise InputError("a grid has no sensitivity indices; run it with 'partnersim sweep'",
                         source=exp.source, key="design")
    check_sample_size(exp.design, int(exp.sample_size), exp.options, source=exp.source,
                      key="sample_size", analysed=True)
    outcome = sweep(exp, out_dir, options, figures=False, command=command)
    if outcome.report.complete:  # the design and runs just stored: nothing drawn or read twice
        analysis = analyse(exp, outcome.design, outcome.runs, out_dir)
        outcome.files.update(write_analysis(analysis, out_dir, figures=figures))
        outcome.analysis = analysis
    return outcome
