"""Cases: one case is one run of a pattern's condition, with its hooks and probes, through the runner.

A case runs as a runner model function (``CASE_MODEL``, called in a worker process as
``run_case(**params, seed=seed, interventions=...)``) and returns the run's summary, the
probes (end-of-run statistics of the model's state) and every monthly measure.
``CaseRunner.run`` turns cases into run specs, runs them with
``partnersim.run.runner.execute`` into a results folder (progress, resume and Dask come with
it) and reads them back in the order given, with the monthly measures the checks read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from partnersim.errors import InputError
from partnersim.inputs.patterns import PatternDefinition
from partnersim.model.partnership import PartnershipModel
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute
from partnersim.run.specs import RunSpec

CASE_MODEL = "partnersim.validation.cases:run_case"
"""The runner model that runs one case."""

HOOKS: tuple[str, ...] = ("force_first_task", "force_outcomes_until")
"""Model attributes a case may set before its run (validation hooks, SF3)."""

PROBES: tuple[str, ...] = ("tenure_trust_corr", "between_sector_share")
"""End-of-run statistics of the model's state that every case reports (see ``probe``)."""

IN_PROCESS = RunOptions(executor="serial", progress=False)
"""Options for checks called directly (tests, notebooks): in this process, no progress bar."""


@dataclass(frozen=True)
class Case:
    """One run of a pattern experiment.

    Attributes:
        params: parameter overrides of the declared defaults.
        seed: the run's seed; replicate i has the same seed in every condition.
        interventions: interventions as in a pattern file (table dicts).
        hooks: model attributes set before the run (names in ``HOOKS``).
        scenario: what the run belongs to, e.g. "SF3:early_success" (the runs table's scenario).
        replicate: the seed's index.
    """

    params: Mapping[str, Any]
    seed: int
    interventions: tuple[Any, ...] = ()
    hooks: Mapping[str, Any] = field(default_factory=dict)
    scenario: str = ""
    replicate: int = 0


@dataclass(frozen=True)
class CaseResult:
    """What one case returned: end-of-run values (summary and probes) and monthly measures."""

    summary: Mapping[str, float]
    timeseries: Mapping[str, np.ndarray]

    @property
    def probes(self) -> Mapping[str, float]:
        """The probes (end-of-run statistics of the model's state)."""
        return {p: self.summary[p] for p in PROBES}


def probe(model: PartnershipModel, name: str) -> float:
    """End-of-run statistics that need the model's state, not only its measures."""
    s, t = model.staff, model.ties
    if name == "tenure_trust_corr":  # SF11: tie duration against trust, over all ties
        duration = model.month - t.formed
        if len(t) < 3 or duration.std() == 0 or t.trust.std() == 0:
            return 0.0
        return float(np.corrcoef(duration, t.trust)[0, 1])
    if name == "between_sector_share":  # SF13: share of position variance between sectors
        x, sector = s.position, s.sector
        total = x.var()
        means = np.bincount(sector, weights=x) / np.maximum(np.bincount(sector), 1)
        return float(((means[sector] - x.mean()) ** 2).mean() / total) if total > 0 else 0.0
    raise ValueError(f"unknown probe {name!r}")


def run_case(*, seed: int, interventions: Sequence[Any] = (), **params: Any) -> dict[str, Any]:
    """Run one case (the runner's model function; runs in a worker process).

    Args:
        seed: the run's seed.
        interventions: interventions as in a pattern file.
        **params: parameter overrides, and hooks (names in ``HOOKS``) set on the model
            before it runs.

    Returns:
        The summary and every probe (scalars: end-of-run outputs) and every monthly
        measure (arrays: the timeseries; the runner keeps it only when asked to).
    """
    hooks = {k: params.pop(k) for k in HOOKS if k in params}
    model = PartnershipModel(rng=seed, interventions=interventions, **params)
    model.collect_mesa = False
    for key, value in hooks.items():
        setattr(model, key, value)
    model.run()
    table = model.measures_frame().drop(columns="month")  # the runner numbers the months
    return {**model.summary(), **{p: probe(model, p) for p in PROBES},
            **{m: table[m].to_numpy() for m in table.columns}}


def conditions(defn: PatternDefinition, names: Sequence[str], seeds: Sequence[int],
               overrides: Mapping[str, Any], *,
               hooks: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, list[Case]]:
    """The cases of each named condition, on the same seeds (in seed order)."""
    out = {}
    for name in names:
        params, ivs = defn.condition(name, overrides)
        out[name] = [Case(params, s, ivs, dict((hooks or {}).get(name, {})),
                          f"{defn.id}:{name}", i) for i, s in enumerate(seeds)]
    return out


@dataclass(frozen=True)
class CaseRunner:
    """Where and how cases run.

    Attributes:
        folder: results folder of the runs (None: a temporary folder, removed once read).
        options: the runner's options (executor, workers, progress, overwrite...).
        provenance: extra manifest entries (e.g. the command line).
    """

    folder: Path | None = None
    options: RunOptions = IN_PROCESS
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def run(self, cases: Sequence[Case], measures: Sequence[str] = ()) -> list[CaseResult]:
        """Run ``cases`` and return their results in the same order.

        Args:
            cases: the runs.
            measures: the monthly measures read back (none: no timeseries is kept).

        Raises:
            InputError: bad options or a results folder holding other work.
            RuntimeError: a run failed or was lost (the message names the first failure).
        """
        if not cases:
            return []
        if self.folder is None:
            with tempfile.TemporaryDirectory(prefix="partnersim-validation-") as tmp:
                return self._run(cases, measures, Path(tmp) / "runs")
        return self._run(cases, measures, self.folder)

    def _run(self, cases: Sequence[Case], measures: Sequence[str], folder: Path
             ) -> list[CaseResult]:
        _refuse_other_code(folder, self.options.overwrite)
        specs = [RunSpec(run_id=i, seed=c.seed, replicate=c.replicate, scenario=c.scenario,
                         params={**c.params, **c.hooks}, interventions=tuple(c.interventions))
                 for i, c in enumerate(cases)]
        report = execute(specs, folder, self.options, model=CASE_MODEL,
                         keep_timeseries=bool(measures), measures=list(measures) or None,
                         provenance=dict(self.provenance))
        if not report.ok:
            first = report.failures[0] if report.failures else None
            why = (f"run {first['run_id']} (seed {first['seed']}): {first['error']}" if first
                   else f"{report.lost} run(s) lost to a crashed worker; run again to resume")
            raise RuntimeError(f"validation runs in {folder} did not all finish: {why}")
        return read_results(folder, len(cases), measures)


def _refuse_other_code(folder: Path, overwrite: bool) -> None:
    """Kept runs count only if today's code made them: a verdict must be about the model as it
    is (a sweep may resume across a change with a note; a validation may not)."""
    if overwrite or not (folder / storage.MANIFEST).is_file():
        return
    kept = storage.read_manifest(folder).get("environment", {}).get("source")
    if kept != storage.source_hash():
        raise InputError("runs kept here were made by other partnersim code; run again with "
                         "--overwrite to compute them anew", source=str(folder),
                         key="--overwrite")


def read_results(folder: Path, n: int, measures: Sequence[str]) -> list[CaseResult]:
    """The ``n`` cases stored in ``folder``, in run order (outputs only, not parameters)."""
    runs = storage.load_runs(folder)
    inputs = set(storage.load_specs(folder).columns)
    outputs = [c for c in runs.columns if c not in inputs and c not in storage.ID_COLUMNS]
    summaries = runs[outputs].to_dict("records")
    series: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
    if measures:
        ts = storage.load_timeseries(folder, columns=list(measures))
        run_id = ts["run_id"].to_numpy()
        bounds = np.flatnonzero(np.diff(run_id)) + 1
        starts, ends = np.r_[0, bounds], np.r_[bounds, len(run_id)]
        columns = {m: ts[m].to_numpy(dtype="float64") for m in measures}
        for a, b in zip(starts, ends, strict=True):
            series[int(run_id[a])] = {m: col[a:b] for m, col in columns.items()}
    return [CaseResult(s, t) for s, t in zip(summaries, series, strict=True)]
