"""Run specs and one run: ``RunSpec``, the model reference, and running a spec or a chunk of them.

A ``RunSpec`` is one model run: a unique ``run_id`` (0..n-1 within a results
folder), the ``seed`` of the run, the parameter values (``params``, overrides
of the declared defaults for partnersim's model; keyword arguments for any
other model), the design ``point`` and ``replicate`` it belongs to, an optional
``scenario`` label and ``interventions``.

The model is partnersim's ``simulate`` by default, or any importable
``"package.module:function"`` called as ``function(**params, seed=seed)`` that
returns a mapping of named outputs (scalars are end-of-run outputs; 1-D
sequences of equal length become monthly rows of the timeseries) or an object
with ``.summary`` and ``.timeseries`` like partnersim's ``RunResult``. A run that
raises is a failed run (a row with its error), never a crash of the caller.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim.errors import InputError
from partnersim.params import Params
from partnersim.run import storage

PARTNERSIM_MODEL = "partnersim.model.simulate:simulate"
"""The default model: partnersim's ``simulate(params, seed=, interventions=, measures=)``."""

ModelRef = str | Callable[..., Any] | None


@dataclass(frozen=True)
class RunSpec:
    """One model run.

    Attributes:
        run_id: Unique id of the run within its results folder (0..n-1 by convention).
        seed: The run's seed (63-bit non-negative int); re-running the spec alone
            with this seed reproduces the run.
        params: Parameter values: for partnersim's model a validated ``Params`` (passed
            to the model as it is) or overrides of the declared defaults; for any other
            model its keyword arguments. ``values`` gives them as plain Python scalars.
        point: Index of the design point (0 for a single scenario).
        replicate: Replicate index; replicate ``i`` has the same seed in every
            point and scenario (common random numbers).
        scenario: Label of the scenario the run belongs to ("" if none).
        interventions: Interventions passed to partnersim's model: parsed objects from
            ``partnersim.model.interventions`` (passed as they are) or their table dicts.
    """

    run_id: int
    seed: int
    params: Mapping[str, Any] | Params = field(default_factory=dict)
    point: int = 0
    replicate: int = 0
    scenario: str = ""
    interventions: tuple[Any, ...] = ()

    @cached_property
    def values(self) -> dict[str, Any]:
        """The parameter values as plain Python scalars: what tables and fingerprints record."""
        if isinstance(self.params, Params):
            return self.params.model_dump()
        return dict(self.params)


@dataclass
class RunReport:
    """What ``execute`` did.

    Attributes:
        out_dir: The results folder.
        total: Runs in the specs.
        resumed: Runs found already stored when the call started.
        computed: Runs computed and stored by this call.
        failed: Runs stored as failed in the whole folder (this call and earlier ones).
        lost: Runs whose chunk died without a result (e.g. a worker was killed);
            they stay missing and a rerun of the same call computes them.
        failures: Up to 20 failed runs: ``{"run_id", "seed", "error"}``.
        notes: Warnings, e.g. a folder resumed with another partnersim version.
        elapsed_s: Wall time of this call.
        executor: ``serial``, ``process`` or ``dask``.
        workers: Worker processes (Dask: worker threads across the cluster).
        chunk_size: Runs per task.
    """

    out_dir: Path
    total: int
    resumed: int
    computed: int
    failed: int
    lost: int
    failures: list[dict[str, Any]]
    elapsed_s: float
    executor: str
    workers: int
    chunk_size: int
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every run is stored (ok or failed)."""
        return self.resumed + self.computed == self.total

    @property
    def ok(self) -> bool:
        """Every run is stored and none failed."""
        return self.complete and self.failed == 0

    def summary(self) -> str:
        """A few lines for the terminal: counts, failures and where the results are."""
        lines = [f"{self.resumed + self.computed}/{self.total} runs stored in {self.out_dir} "
                 f"({self.computed} computed now, {self.resumed} resumed; {self.executor}, "
                 f"{self.workers} worker(s), chunks of {self.chunk_size}; "
                 f"{self.elapsed_s:.1f} s)"]
        if self.failed:
            lines.append(f"{self.failed} run(s) failed; e.g.:")
            lines += [f"  run {f['run_id']} (seed {f['seed']}): {f['error']}"
                      for f in self.failures[:5]]
        lines += [f"note: {n}" for n in self.notes]
        if self.lost:
            lines.append(f"{self.lost} run(s) lost to a crashed worker; run the same command "
                         "again to compute them")
            if self.computed == 0 and self.executor == "process":
                lines.append("  (no run finished: if a script calls the runner, put the call "
                             "under 'if __name__ == \"__main__\":', since workers import it)")
        return "\n".join(lines)


def model_name(model: ModelRef) -> str:
    """The ``"package.module:function"`` name of a model reference (None: partnersim's)."""
    if model is None or model == "partnersim":
        return PARTNERSIM_MODEL
    if isinstance(model, str):
        return model
    return f"{model.__module__}:{model.__qualname__}"


@lru_cache(maxsize=16)
def _import_model(name: str) -> Callable[..., Any]:
    module_name, _, attr = name.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{name} is not callable")
    return obj


def resolve_model(model: ModelRef, *, source: str | None = None,
                  key: str | None = "model") -> Callable[..., Any]:
    """Import a model reference; raise ``InputError`` if it cannot be found.

    Args:
        model: ``None`` (partnersim's model), ``"package.module:function"`` or a callable.
        source: File named in the error message.
        key: Key named in the error message.
    """
    if callable(model):
        return model
    name = model_name(model)
    if ":" not in name or not all(name.partition(":")[::2]):
        raise InputError(f"expected 'package.module:function', got {name!r}",
                         source=source, key=key)
    try:
        return _import_model(name)
    except (ImportError, AttributeError, TypeError) as exc:
        raise InputError(f"cannot import model {name!r} ({exc})", source=source,
                         key=key) from None


def run_one(spec: RunSpec, model: ModelRef = None, *, keep_timeseries: bool = True,
            measures: Sequence[str] | None = None) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Run one spec; never raises for an error of the run itself.

    Returns:
        ``(row, timeseries)``: the row holds ``run_id, scenario, point, replicate,
        seed, status, error, params`` (dict) and ``outputs`` (dict of floats);
        ``timeseries`` has ``run_id, month`` and the monthly measures (``measures``, or every
        one the model reports), or is None.
    """
    row: dict[str, Any] = {"run_id": spec.run_id, "scenario": spec.scenario,
                           "point": spec.point, "replicate": spec.replicate,
                           "seed": spec.seed, "status": "ok", "error": None,
                           "params": spec.values, "outputs": {}}
    try:
        fn = resolve_model(model) if callable(model) else _import_model(model_name(model))
        if model_name(model) == PARTNERSIM_MODEL:
            kwargs: dict[str, Any] = {"seed": spec.seed, "interventions": spec.interventions}
            if measures is not None:
                kwargs["measures"] = list(measures)
            result = fn(spec.params, **kwargs)  # a validated Params is not parsed again
        else:
            kwargs = dict(spec.values)
            if spec.interventions:
                kwargs["interventions"] = spec.interventions
            result = fn(**kwargs, seed=spec.seed)
        outputs, ts = _normalise(result, keep_timeseries)
        if ts is not None and measures is not None:  # any model: keep the measures asked for
            missing = [m for m in measures if m not in ts.columns]
            if missing:
                raise ValueError(f"the model reports no monthly {', '.join(missing)}")
            if list(ts.columns) != ["month", *measures]:  # (partnersim's model kept only these)
                ts = ts[["month", *measures]]
        for key in outputs:
            if key in spec.values or key in storage.ID_COLUMNS:
                raise ValueError(f"output {key!r} has the name of a parameter or id column")
    except Exception as exc:  # a failing run is data, not a crash of the sweep
        row["status"] = "failed"
        row["error"] = _describe_error(exc)
        return row, None
    row["outputs"] = outputs
    if ts is not None:
        ts.insert(0, "run_id", np.full(len(ts), spec.run_id, dtype="int64"))
    return row, ts


def _normalise(result: Any, keep_timeseries: bool) -> tuple[dict[str, float], pd.DataFrame | None]:
    if hasattr(result, "summary"):
        summary = dict(result.summary)
        ts = getattr(result, "timeseries", None)
        # a new frame (the model's own is never changed below)
        ts = ts.reset_index(drop=True) if (keep_timeseries and isinstance(ts, pd.DataFrame)) \
            else None
    elif isinstance(result, Mapping):
        summary, series = {}, {}
        for key, value in result.items():
            if np.ndim(value) == 0:
                summary[key] = value
            else:
                series[key] = np.asarray(value, dtype="float64")
        ts = None
        if keep_timeseries and series:
            lengths = {len(v) for v in series.values()}
            if len(lengths) != 1:
                raise ValueError("series outputs have different lengths")
            ts = pd.DataFrame(series)
    else:
        raise TypeError(f"model returned {type(result).__name__}; expected a mapping of "
                        "named outputs or an object with .summary and .timeseries")
    outputs: dict[str, float] = {}
    for key, value in summary.items():
        if isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
            outputs[str(key)] = float(value)
        elif value is None:
            outputs[str(key)] = float("nan")
        else:
            raise TypeError(f"output {key!r} is {type(value).__name__}, not a number")
    if ts is not None and "month" not in ts.columns:
        ts.insert(0, "month", np.arange(len(ts), dtype="int64"))
    return outputs, ts


def _describe_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" [{Path(frames[-1].filename).name}:{frames[-1].lineno}]" if frames else ""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}{where}"


def run_chunk(specs: Sequence[RunSpec], model: ModelRef = None, keep_timeseries: bool = True,
              measures: Sequence[str] | None = None
              ) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Run a chunk of specs in order (the task each worker executes).

    Returns:
        The chunk's rows and its timeseries rows concatenated (or None).
    """
    rows, frames = [], []
    for spec in specs:
        row, ts = run_one(spec, model, keep_timeseries=keep_timeseries, measures=measures)
        rows.append(row)
        if ts is not None:
            frames.append(ts)
    return rows, (pd.concat(frames, ignore_index=True) if frames else None)
