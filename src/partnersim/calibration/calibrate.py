"""The ``calibrate`` verb: a calibration file -> a calibration folder.

The folder holds pyabc's history database (``history.db``, the record, from which a killed
calibration resumes), the posterior as weighted particles (``posterior.parquet``), a
per-parameter summary (``posterior_summary.csv``), the diagnostics per generation
(``diagnostics.csv``: tolerance, particles, simulations, acceptance rate, effective sample
size), the posterior predictive checks (``ppc.csv``, with their runs in ``ppc_runs/``), the
targets as used (``targets.csv``; simulated ones with their runs in ``truth_runs/``),
figures (marginal and pairwise posteriors, diagnostics, predictive checks), ``summary.md``,
``summary.html`` and ``manifest.json``.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim.calibration import figures as calibration_figures
from partnersim.calibration import smc
from partnersim.calibration.spec import Calibration, load_calibration
from partnersim.errors import InputError
from partnersim.outputs import label
from partnersim.params import make_params
from partnersim.present.text import md_table
from partnersim.run import storage
from partnersim.run.executors import Pool, open_executor
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute
from partnersim.run.specs import RunSpec
from partnersim.seeding import replicate_seeds


def pyabc_version() -> str:
    return version("pyabc")

TRUTH_RUNS = "truth_runs"
PPC_RUNS = "ppc_runs"
FORMAT = 1


@dataclass
class CalibrationOutcome:
    """What ``calibrate`` produced.

    Attributes:
        out_dir: The calibration folder.
        calibration: The calibration as run (simulated targets filled in).
        posterior: The last generation's weighted particles.
        summary: Per parameter: mean, sd, median, 90% interval (and the truth, if known).
        diagnostics: Per generation: tolerance, particles, simulations, acceptance, ESS.
        ppc: Per target: the target beside its simulated distribution at posterior draws.
        resumed_from: Complete generations found in the database when the call started.
        files: Name -> path of every file written.
        elapsed_s: Wall time of this call.
    """

    out_dir: Path
    calibration: Calibration
    posterior: pd.DataFrame
    summary: pd.DataFrame
    diagnostics: pd.DataFrame
    ppc: pd.DataFrame
    resumed_from: int
    files: dict[str, Path] = field(default_factory=dict)
    elapsed_s: float = 0.0


def check_horizon(calibration: Calibration) -> None:
    """Refuse a target whose months lie beyond the runs' horizon."""
    horizon = make_params(calibration.model).horizon_months
    if calibration.truth is not None:
        horizon = make_params({**calibration.model, **calibration.truth.params}).horizon_months
    for t in calibration.targets:
        if t.months is not None and t.months[1] >= horizon:
            raise InputError(f"month {t.months[1]} is past the horizon ({horizon} months: "
                             f"months 0-{horizon - 1})", source=calibration.source,
                             key=f"targets.{t.name}.months")


def calibrate(calibration: Calibration | str | Path, out: str | Path,
              options: RunOptions = RunOptions(),  # noqa: B008 (frozen: a safe default)
              *, command: str | None = None, figures: bool = True,
              progress: Callable[[str], None] | None = smc.show_on_stderr) -> CalibrationOutcome:
    """Calibrate (or resume calibrating) into ``out``.

    Everything is checked before anything is written: the file, the folder (one holding
    another calibration is refused unless ``options.overwrite``), the database of a folder
    being resumed, the Dask scheduler.

    Args:
        calibration: A calibration file (or one loaded with ``load_calibration``).
        out: The calibration folder.
        options: Where runs execute: ``serial`` (reproducible from the seed), ``process``
            or ``dask`` (``scheduler``); ``overwrite`` replaces another calibration's folder.
        command: The command line that reproduces the folder (for the manifest).
        figures: Draw the figures.
        progress: Called with each progress line (None: quiet).

    Raises:
        InputError: bad input, as one line naming the file and key.
    """
    started = time.perf_counter()
    cal = calibration if isinstance(calibration, Calibration) else load_calibration(calibration)
    check_horizon(cal)
    out = Path(out)
    fp = cal.fingerprint()
    action = storage.check_output_folder(out, fingerprint=fp, overwrite=options.overwrite)
    db = out / smc.HISTORY
    done = smc.generations_done(db) if action == "resume" else 0
    pool: Pool | None = None if options.executor == "serial" else open_executor(options)
    runs_options = dataclasses.replace(options, overwrite=False)
    try:
        if action == "overwrite":
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        _start_manifest(out, cal, fp, action, options, command, done)
        if cal.truth is not None:
            cal = simulate_targets(cal, out / TRUTH_RUNS, runs_options)
        if progress:
            progress(f"{cal.name}: {len(cal.priors)} parameter(s), {len(cal.targets)} "
                     f"target(s), {cal.replicates} run(s) per particle"
                     + (f"; resuming after generation {done - 1}" if done else ""))
        history = smc.run(cal, db, pool, progress=progress)
    except BaseException:
        if pool is not None:
            pool.abort()
        raise
    else:
        if pool is not None:
            pool.close()
    post = smc.posterior(history, cal.names)
    diag = smc.diagnostics(history)
    summary = smc.summarise_posterior(post, cal)
    if progress and cal.abc.ppc_draws:
        progress(f"posterior predictive checks: {cal.abc.ppc_draws} draws x "
                 f"{cal.replicates} run(s)")
    ppc, draws = predictive_checks(cal, post, out / PPC_RUNS, runs_options)
    outcome = CalibrationOutcome(out, cal, post, summary, diag, ppc, done)
    outcome.files = write_outputs(outcome, draws, figures=figures)
    outcome.elapsed_s = time.perf_counter() - started
    _finish_manifest(out, outcome)
    return outcome


# --------------------------------------------------------------------------- simulated targets


def _summaries(out_dir: Path, cal: Calibration) -> pd.DataFrame:
    """Per stored run: ``point``, ``replicate`` and each target's value."""
    results = storage.load_results(out_dir)
    runs = results.runs
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} run(s) failed in {out_dir}, e.g. "
                           f"{failed['error'].iloc[0]}")
    ts = results.timeseries(cal.measures) if cal.measures else None
    groups = dict(tuple(ts.groupby("run_id"))) if ts is not None else {}
    rows = []
    for row in runs.to_dict("records"):
        values = {t.name: smc.target_value(t, row, groups.get(row["run_id"]))
                  for t in cal.targets}
        rows.append({"run_id": row["run_id"], "point": row["point"],
                     "replicate": row["replicate"], **values})
    return pd.DataFrame(rows)


def _execute(specs: list[RunSpec], out_dir: Path, options: RunOptions, cal: Calibration,
             what: str) -> pd.DataFrame:
    report = execute(specs, out_dir, options, keep_timeseries=bool(cal.measures),
                     measures=cal.measures or None,
                     provenance={"calibration": cal.name, "purpose": what})
    if not report.complete:
        raise RuntimeError(f"{report.lost} {what} run(s) were lost; run the same command again")
    return _summaries(out_dir, cal)


def simulate_targets(cal: Calibration, out_dir: Path, options: RunOptions) -> Calibration:
    """Targets simulated at the truth: the observed value of each is the mean over the first
    ``replicates`` runs (what one particle at the truth would show); a target without an
    ``sd`` takes the standard deviation of that mean, from all the truth's runs."""
    truth = cal.truth
    assert truth is not None
    params = {**cal.model, **truth.params}
    specs = [RunSpec(run_id=i, seed=s, params=params, replicate=i, scenario="truth")
             for i, s in enumerate(replicate_seeds(truth.seed, truth.replicates))]
    values = _execute(specs, out_dir, options, cal, "truth")
    observed = values[values["replicate"] < cal.replicates]
    targets = []
    for t in cal.targets:
        sd = t.sd
        if sd is None:
            spread = float(values[t.name].std(ddof=1)) / math.sqrt(cal.replicates)
            sd = spread if spread > 0 else 1e-6 * max(1.0, abs(float(values[t.name].mean())))
        targets.append(dataclasses.replace(t, value=float(observed[t.name].mean()), sd=sd))
    return cal.with_targets(tuple(targets))


# --------------------------------------------------------------------------- predictive checks


def predictive_checks(cal: Calibration, post: pd.DataFrame, out_dir: Path,
                      options: RunOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each target beside the distribution of its summary at ``ppc_draws`` posterior draws
    (each draw run as a particle is: ``replicates`` seeds, mean).

    Returns:
        ``(table, draws)``: per target the value, sd, the simulated mean, 5%, 50% and 95%
        points, whether the target lies in that 90% predictive interval and the median's
        distance in target sds; and the draws' summaries (one row per draw).
    """
    n = cal.abc.ppc_draws
    columns = ["target", "measure", "value", "sd", "sim_mean", "sim_q05", "sim_q50",
               "sim_q95", "within_90", "z_median"]
    if n == 0:
        return pd.DataFrame(columns=columns), pd.DataFrame()
    rng = np.random.default_rng(cal.seed)
    picks = rng.choice(len(post), size=n, replace=True, p=post["weight"].to_numpy())
    seeds = replicate_seeds(cal.seed + 1, n * cal.replicates)
    specs = []
    for i, k in enumerate(picks):
        values = {name: float(post[name].iloc[k]) for name in cal.names}
        for r in range(cal.replicates):
            run_id = i * cal.replicates + r
            specs.append(RunSpec(run_id=run_id, seed=seeds[run_id],
                                 params={**cal.model, **values}, point=i, replicate=r,
                                 scenario="posterior"))
    runs = _execute(specs, out_dir, options, cal, "predictive check")
    draws = runs.groupby("point")[[t.name for t in cal.targets]].mean().reset_index()
    rows = []
    for t in cal.targets:
        sim = draws[t.name].to_numpy()
        q05, q50, q95 = np.nanquantile(sim, [0.05, 0.5, 0.95])
        rows.append({"target": t.name, "measure": t.describe(), "value": t.value, "sd": t.sd,
                     "sim_mean": float(np.nanmean(sim)), "sim_q05": float(q05),
                     "sim_q50": float(q50), "sim_q95": float(q95),
                     "within_90": bool(q05 <= t.value <= q95),
                     "z_median": float((q50 - t.value) / t.sd)})
    return pd.DataFrame(rows, columns=columns), draws


# --------------------------------------------------------------------------- files


def targets_table(cal: Calibration) -> pd.DataFrame:
    rows = []
    for t in cal.targets:
        rows.append({"target": t.name, "measure": t.measure,
                     "months": "" if t.months is None else f"{t.months[0]}-{t.months[1]}",
                     "value": t.value, "sd": t.sd,
                     "source": "simulated at the truth" if t.source is None else t.source.cite(),
                     "url": "" if t.source is None else t.source.url, "why": t.why,
                     "pattern": t.pattern or ""})
    return pd.DataFrame(rows)


def write_outputs(outcome: CalibrationOutcome, draws: pd.DataFrame, *, figures: bool
                  ) -> dict[str, Path]:
    out = outcome.out_dir
    cal = outcome.calibration
    files: dict[str, Path] = {"history": out / smc.HISTORY}
    files["posterior"] = storage.write_table(out, "posterior", outcome.posterior)
    for name, table in (("posterior_summary", outcome.summary),
                        ("diagnostics", outcome.diagnostics), ("ppc", outcome.ppc),
                        ("targets", targets_table(cal))):
        path = out / f"{name}.csv"
        table.to_csv(path, index=False)
        files[name] = path
    if figures:
        figs = out / storage.FIGURES_DIR
        figs.mkdir(exist_ok=True)
        truth = cal.truth.params if cal.truth is not None else None
        files["marginals"] = calibration_figures.plot_marginals(
            outcome.posterior, cal.priors, figs / "marginals.png", truth=truth)
        files["pairs"] = calibration_figures.plot_pairs(
            outcome.posterior, cal.priors, figs / "pairs.png", truth=truth)
        files["diagnostics_figure"] = calibration_figures.plot_diagnostics(
            outcome.diagnostics, figs / "diagnostics.png")
        if len(draws):
            files["ppc_figure"] = calibration_figures.plot_ppc(
                draws, cal.targets, figs / "ppc.png")
    md = summary_markdown(outcome, files)
    files["summary_md"] = out / "summary.md"
    files["summary_md"].write_text(md)
    files["summary_html"] = out / "summary.html"
    files["summary_html"].write_text(summary_html(outcome, files))
    return files


def _fmt(x: Any) -> str:
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, float | np.floating):
        return "" if math.isnan(x) else f"{x:.4g}"
    return str(x)


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)\n"
    return md_table(df.columns, [[_fmt(v) for v in row] for row in df.itertuples(index=False)]
                    ) + "\n"


def _target_rows(cal: Calibration) -> pd.DataFrame:
    return pd.DataFrame([{"target": t.name, "measure": f"{label(t.measure)} ({t.describe()})",
                          "value": t.value, "sd": t.sd,
                          "source": "simulated at the truth" if t.source is None
                          else t.source.cite()} for t in cal.targets])


def summary_markdown(outcome: CalibrationOutcome, files: dict[str, Path]) -> str:
    cal = outcome.calibration
    diag = outcome.diagnostics
    last = diag.iloc[-1] if len(diag) else None
    summary = outcome.summary.drop(columns=["prior_origin"])
    lines = [f"# Calibration: {cal.name}", ""]
    if cal.question:
        lines += [cal.question, ""]
    lines += [f"ABC-SMC (pyabc) over {len(cal.priors)} parameter(s) against "
              f"{len(cal.targets)} target(s); {cal.replicates} run(s) per particle; "
              f"{len(diag)} generation(s)"
              + (f", final tolerance {last['epsilon']:.4g}, acceptance rate "
                 f"{last['acceptance_rate']:.3g}, effective sample size {last['ess']:.0f} of "
                 f"{int(last['particles'])} particles" if last is not None else "") + ".", ""]
    if cal.truth is not None:
        lines += ["The targets were simulated at a known point (`[truth]`): this is a check "
                  "that the method recovers it, not a calibration to evidence.", ""]
    lines += ["## Targets", "", _md_table(_target_rows(cal)),
              "## Posterior", "",
              "Weighted mean, sd, median and 90% interval; `width_share` is the interval's "
              "width over the prior's 90% width (1: the targets taught nothing).", "",
              _md_table(summary),
              "Priors: " + "; ".join(f"{p.parameter} uniform [{p.lower:g}, {p.upper:g}] "
                                     f"({p.origin})" for p in cal.priors), "",
              "## Diagnostics per generation", "", _md_table(diag),
              "## Posterior predictive checks", "",
              f"Each target against its summary at {cal.abc.ppc_draws} posterior draws "
              "(5%, 50%, 95% points); `z_median` is the median's distance from the target "
              "in target sds.", "", _md_table(outcome.ppc), "## Files", ""]
    lines += [f"- {k}: `{Path(p).relative_to(outcome.out_dir)}`" for k, p in files.items()
              if k not in ("summary_md", "summary_html")]
    return "\n".join(lines) + "\n"


def summary_html(outcome: CalibrationOutcome, files: dict[str, Path]) -> str:
    cal = outcome.calibration
    from_png = calibration_figures.png_base64

    def table(df: pd.DataFrame) -> str:
        return df.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0,
                          classes="t") if len(df) else "<p>(none)</p>"

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Calibration: "
             f"{cal.name}</title><style>body{{font-family:sans-serif;max-width:70em;"
             "margin:auto}} table.t{{border-collapse:collapse}} .t td,.t th{{padding:2px 8px;"
             "border-bottom:1px solid #ddd;text-align:right}}</style></head><body>",
             f"<h1>Calibration: {cal.name}</h1><p>{cal.question}</p>",
             "<h2>Targets</h2>", table(_target_rows(cal)),
             "<h2>Posterior</h2>", table(outcome.summary),
             "<h2>Diagnostics per generation</h2>", table(outcome.diagnostics),
             "<h2>Posterior predictive checks</h2>", table(outcome.ppc)]
    for key in ("marginals", "pairs", "diagnostics_figure", "ppc_figure"):
        if key in files:
            parts.append(f"<p><img alt='{key}' src='data:image/png;base64,"
                         f"{from_png(files[key])}' style='max-width:100%'></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _start_manifest(out: Path, cal: Calibration, fp: str, action: str, options: RunOptions,
                    command: str | None, done: int) -> None:
    session = {"start": storage.now_utc(), "end": None, "executor": options.executor,
               "resumed_from_generation": done}
    if action == "resume" and (out / storage.MANIFEST).is_file():
        manifest = storage.read_manifest(out)
        manifest.setdefault("sessions", []).append(session)
        manifest["complete"] = False  # until this session has written every output
    else:
        inputs = []
        if cal.source is not None:
            inputs.append(storage.input_record(cal.source, cal.text))
        inputs += [storage.input_record(i["path"], i["text"]) for i in cal.inputs]
        manifest = {"format": FORMAT, "kind": "calibration", "fingerprint": fp,
                    "calibration": cal.name, "command": command, "inputs": inputs,
                    "environment": {**storage.environment_record(),
                                    "pyabc": pyabc_version()}, "complete": False,
                    "sessions": [session]}
    storage.write_manifest(out, manifest)


def _finish_manifest(out: Path, outcome: CalibrationOutcome) -> None:
    manifest = storage.read_manifest(out)
    manifest["sessions"][-1]["end"] = storage.now_utc()
    manifest["sessions"][-1]["elapsed_s"] = round(outcome.elapsed_s, 2)
    manifest["complete"] = True
    manifest["generations"] = len(outcome.diagnostics)
    manifest["files"] = {k: str(Path(p).relative_to(out)) for k, p in outcome.files.items()}
    storage.write_manifest(out, manifest)


def summary_lines(outcome: CalibrationOutcome) -> list[str]:
    """What the terminal shows when a calibration is done: the posterior, the predictive
    checks and where the files are."""
    cal = outcome.calibration
    diag = outcome.diagnostics
    lines = [f"{cal.name}: {len(diag)} generation(s)"
             + (f" ({outcome.resumed_from} resumed)" if outcome.resumed_from else "")
             + f", {int(diag['simulations'].sum()) if len(diag) else 0} particles simulated "
             f"({cal.replicates} run(s) each); {outcome.elapsed_s:.1f} s", ""]
    cols = ["parameter", "median", "q05", "q95", "width_share"]
    if cal.truth is not None:
        cols += ["truth", "covered"]
    lines += [outcome.summary[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}"),
              ""]
    if len(outcome.ppc):
        lines += [outcome.ppc[["target", "value", "sim_q05", "sim_q50", "sim_q95",
                               "within_90"]].to_string(index=False,
                                                       float_format=lambda x: f"{x:.4g}"), ""]
    for key in ("summary_md", "summary_html", "posterior", "diagnostics", "ppc", "history"):
        if key in outcome.files:
            lines.append(f"{key + ':':<14}{outcome.files[key]}")
    figs = [p for k, p in outcome.files.items() if str(p).endswith(".png")]
    if figs:
        lines.append(f"{'figures:':<14}{figs[0].parent} ({len(figs)} files)")
    return lines
