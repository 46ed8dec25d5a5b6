"""Running scenarios through the runner: run specs, the consolidated tables, run figures.

A scenario's results folder (``results/<scenario>/``) is a runner results
folder (see :mod:`partnersim.run.storage`: ``manifest.json``, ``specs.parquet``,
sharded ``runs/`` and ``timeseries/``, which make an interrupted run
resumable) plus, once every run is stored, the two single tables analysts
open directly:

- ``runs.parquet``: one row per run: ``run_id, scenario, point, replicate,
  seed, status, error``, every parameter value, then the end-of-run outputs
  (float64);
- ``timeseries.parquet``: tidy, one row per run and month: ``run_id,
  scenario, replicate, seed, month`` and the monthly measures (float64);

and ``figures/*.png``. ``load_results`` (in :mod:`partnersim.run.storage`) reads
the shards; ``pandas.read_parquet`` reads the single tables.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from partnersim import outputs
from partnersim.errors import InputError
from partnersim.inputs.scenarios import Scenario, load_scenario
from partnersim.present import plots
from partnersim.present.text import SUMMARY_HEADER
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute
from partnersim.run.specs import ModelRef, RunReport, RunSpec
from partnersim.seeding import replicate_seeds

RUNS_TABLE = "runs"
TIMESERIES_TABLE = "timeseries"
"""The consolidated tables: ``runs.parquet`` and ``timeseries.parquet`` (``storage.table_path``)."""
RESULTS_ROOT = Path("results")

COST_TIME_COLUMN = "cost_time_total"
COST_MONEY_COLUMN = "cost_money_total"


@dataclass
class RunOutcome:
    """What :func:`run_scenario` did and where it put it.

    Attributes:
        scenario: The scenario that ran (with the replicate count used).
        out_dir: The results folder.
        report: The runner's report (counts, failures, timing).
        runs: The runs table (as in ``runs.parquet``).
        files: Named output files: ``runs``, ``timeseries``, ``manifest`` and figures.
    """

    scenario: Scenario
    out_dir: Path
    report: RunReport
    runs: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)

    def timeseries(self) -> pd.DataFrame:
        """The tidy timeseries table (read from ``timeseries.parquet``)."""
        return pd.read_parquet(self.files["timeseries"])


# --------------------------------------------------------------------------- specs


def scenario_specs(scenario: Scenario, seeds: Sequence[int], *, point: int = 0,
                   first_run_id: int = 0) -> list[RunSpec]:
    """One run spec per seed: the scenario's validated parameters (every value, so that
    ``runs.parquet`` records the full set; with a posterior, replicate i's draw,
    ``Scenario.replicate_params``) and parsed interventions, not parsed again."""
    params = scenario.replicate_params(seeds)
    return [RunSpec(run_id=first_run_id + i, seed=int(s), params=params[i], point=point,
                    replicate=i, scenario=scenario.name, interventions=scenario.interventions)
            for i, s in enumerate(seeds)]


def default_out_dir(name: str) -> Path:
    """``results/<name>`` under the current folder."""
    return RESULTS_ROOT / name


def refuse_complete(out_dir: Path, overwrite: bool) -> None:
    """Refuse a folder that already holds complete results, unless ``overwrite``.

    An interrupted folder of the same work is left to the runner, which resumes it.

    Raises:
        InputError: the folder holds a finished run or comparison.
    """
    manifest = out_dir / storage.MANIFEST
    if overwrite or not manifest.is_file():
        return
    try:
        complete = bool(storage.read_manifest(out_dir).get("complete"))
    except (OSError, ValueError):
        return  # the runner reports an unreadable manifest
    if complete:
        raise InputError("already holds complete results; use --overwrite to replace them "
                         "or --out to choose another folder", source=str(out_dir))


# --------------------------------------------------------------------------- tables


def consolidate(out_dir: str | os.PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``runs.parquet`` and the tidy ``timeseries.parquet`` from the runner's shards.

    Returns:
        ``(runs, timeseries)`` as written. ``timeseries`` gains ``scenario``,
        ``replicate`` and ``seed`` beside ``run_id`` so it is usable on its own.
    """
    out = Path(out_dir)
    runs = add_cost_total(storage.load_runs(out))
    ids = runs[["run_id", "scenario", "replicate", "seed"]]
    ts = storage.load_timeseries(out)
    if len(ts):
        ts = ids.merge(ts, on="run_id", how="inner", validate="one_to_many")
        ts = ts.sort_values(["run_id", "month"], kind="stable").reset_index(drop=True)
    else:
        ts = pd.DataFrame(columns=["run_id", "scenario", "replicate", "seed", "month"])
    storage.write_table(out, RUNS_TABLE, runs)
    storage.write_table(out, TIMESERIES_TABLE, ts)
    return runs, ts


def add_cost_total(runs: pd.DataFrame) -> pd.DataFrame:
    """Add ``cost_total`` (``outputs.COST_OUTPUT``, GBP k): ``cost_money_total + cost_time_total``.

    Both parts are in GBP k: the model prices staff time on relationships (and
    two-way communication) at ``staff_month_cost`` as it goes. A model that
    reports ``cost_total`` itself keeps its own.
    """
    if outputs.COST_OUTPUT in runs.columns or COST_MONEY_COLUMN not in runs.columns:
        return runs
    runs = runs.copy()
    total = runs[COST_MONEY_COLUMN].astype("float64")
    if COST_TIME_COLUMN in runs.columns:
        total = total + runs[COST_TIME_COLUMN].astype("float64")
    runs[outputs.COST_OUTPUT] = total
    return runs


# --------------------------------------------------------------------------- figures


def run_figures(runs: pd.DataFrame, timeseries: pd.DataFrame, fig_dir: str | Path,
                *, headline: Sequence[str] = ()) -> dict[str, Path]:
    """The figures ``partnersim run`` writes: trajectories of the monthly measures and
    end-of-run distributions of the ``headline`` outputs."""
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    files: dict[str, Path] = {}
    for name, frame, wanted, plot in (
            ("trajectories", timeseries, outputs.TRAJECTORIES, plots.plot_trajectories),
            ("distributions", ok, headline, plots.plot_distribution)):
        path = plots.save_grid(plot, frame, plots.available(frame, wanted),
                               fig_dir / f"{name}.png", ncols=3, by=None)
        if path is not None:
            files[name] = path
    return files


# --------------------------------------------------------------------------- summaries


def summary_table(runs: pd.DataFrame, outputs: Sequence[str]) -> pd.DataFrame:
    """Mean, standard deviation and 5/50/95th percentiles of end-of-run outputs
    (columns ``present.text.SUMMARY_HEADER``; ``present.text.format_summary`` prints it)."""
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    cols = [m for m in outputs if m in ok.columns]
    if not cols:
        return pd.DataFrame(columns=list(SUMMARY_HEADER))
    x = ok[cols].astype("float64")
    table = pd.DataFrame({
        "mean": x.mean(), "sd": x.std(ddof=1), "p05": x.quantile(0.05),
        "median": x.median(), "p95": x.quantile(0.95), "n": x.notna().sum(),
    })
    return table.rename_axis("output").reset_index()


# --------------------------------------------------------------------------- run


def run_scenario(
    scenario: Scenario | str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    options: RunOptions = RunOptions(),  # noqa: B008 (frozen: one shared default is safe)
    *,
    replicates: int | None = None,
    model: ModelRef = None,
    command: str | None = None,
) -> RunOutcome:
    """Run a scenario's replicates into a results folder, with tables, manifest and figures.

    Args:
        scenario: A :class:`Scenario` or the path of a scenario file.
        out_dir: Results folder (default ``results/<scenario name>``).
        options: How the runs execute (executor, workers, ...); ``overwrite``
            replaces a folder that already holds results.
        replicates: Override the scenario's replicate count (seeds stay those of
            the scenario's master seed: replicate i is the same run either way).
        model: Model reference for the runner (default: partnersim's model).
        command: The command line recorded in the manifest (default: the
            equivalent ``partnersim run`` command).

    Returns:
        A :class:`RunOutcome`.

    Raises:
        InputError: bad scenario file, a folder already holding results
            (without ``overwrite``), an unwritable folder. Nothing is written.
    """
    path = None
    if not isinstance(scenario, Scenario):
        path = Path(scenario)
        scenario = load_scenario(path)
    if replicates is not None:
        scenario = scenario.with_replicates(replicates)
    out = Path(out_dir) if out_dir is not None else default_out_dir(scenario.name)
    refuse_complete(out, options.overwrite)
    seeds = replicate_seeds(scenario.seed, scenario.replicates)
    specs = scenario_specs(scenario, seeds)
    if command is None:
        command = storage.command_line("run", path or scenario.source or scenario.name, out=out_dir,
                                       replicates=replicates)
    provenance = {
        "kind": "run",
        "command": command,
        "scenario": scenario_record(scenario),
        "replicate_seeds": seeds,
    }
    report = execute(specs, out, options, model=model, provenance=provenance,
                     measures=list(scenario.measures) if scenario.measures else None)
    files: dict[str, Path] = {"manifest": out / storage.MANIFEST}
    runs = storage.load_runs(out)
    if report.complete:
        runs, ts = consolidate(out)
        files["runs"] = storage.table_path(out, RUNS_TABLE)
        files["timeseries"] = storage.table_path(out, TIMESERIES_TABLE)
        files.update(run_figures(runs, ts, out / storage.FIGURES_DIR,
                                 headline=outputs.HEADLINE))
        storage.update_manifest(out, files={k: str(p.relative_to(out))
                                            for k, p in files.items()})
    return RunOutcome(scenario=scenario, out_dir=out, report=report, runs=runs, files=files)


def scenario_record(scenario: Scenario) -> dict[str, Any]:
    """The scenario's provenance for a manifest: name, file, SHA-256 and full text
    (``storage.input_record``), replicate count and master seed, and the posterior its
    replicates draw from (folder, calibration, parameters, SHA-256 of its particles)."""
    record = {"name": scenario.name, **storage.input_record(scenario.source, scenario.text),
              "replicates": scenario.replicates, "seed": scenario.seed}
    if scenario.posterior is not None:  # the draws themselves are in specs.parquet
        record["posterior"] = scenario.posterior.record()
    return record
