"""The runner: run specs -> stored results, through a serial, process-pool or Dask executor.

Usage (this is the API that ``run``, ``compare``, ``sweep`` and ``sensitivity`` share)::

    from partnersim.run.runner import RunSpec, execute
    from partnersim.seeding import replicate_seeds
    from partnersim.run.storage import load_results

    seeds = replicate_seeds(master_seed, n_replicates)
    specs = [RunSpec(run_id=i, seed=s, params=overrides, replicate=i, scenario="baseline",
                     interventions=interventions) for i, s in enumerate(seeds)]
    report = execute(specs, "results/baseline")           # process pool, resumable
    results = load_results("results/baseline")            # .runs, .timeseries(...), .manifest

Contract:

* A ``RunSpec`` is one model run: a unique ``run_id`` (0..n-1 within a results
  folder), the ``seed`` of the run, the parameter values (``params``, overrides
  of the declared defaults for partnersim's model; keyword arguments for any
  other model), the design ``point`` and ``replicate`` it belongs to, an optional
  ``scenario`` label and ``interventions``.
* The model is partnersim's ``simulate`` by default, or any importable
  ``"package.module:function"`` called as ``function(**params, seed=seed)`` that
  returns a mapping of named outputs (scalars are end-of-run outputs; 1-D
  sequences of equal length become monthly rows of the timeseries) or an
  object with ``.summary`` and ``.timeseries`` like partnersim's ``RunResult``.
* Each run gives one row of the runs table (its ids, seed, status ``ok`` or
  ``failed`` with the error, parameter values, outputs) and optionally its
  monthly rows. A run that raises is stored as failed; the others go on.
* The process pool starts its workers from a clean "forkserver" process (set
  on a multiprocessing context, never globally). As with any spawn-like start
  method, a script that calls ``execute`` must do so under
  ``if __name__ == "__main__":`` (workers import the script), and a model
  passed as a function object must live in an importable module; the
  ``partnersim`` command line needs neither.
* Results stream to sharded Parquet (see ``partnersim.run.storage``) as chunks
  finish, so memory stays flat and an interrupted call resumes: calling
  ``execute`` again with the same specs on the same folder computes only the
  missing runs. Tables are identical to the bit (after sorting by ``run_id``,
  which the loaders do) whatever the executor, worker count or chunk size.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import importlib
import json
import math
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from partnersim.errors import InputError
from partnersim.run import storage

ExecutorKind = Literal["serial", "process", "dask"]
EXECUTORS: tuple[str, ...] = ("serial", "process", "dask")

PARTNERSIM_MODEL = "partnersim.model.simulate:simulate"
"""The default model: partnersim's ``simulate(params, seed=, interventions=, measures=)``."""

FLUSH_RUNS = 500
"""Write a shard once this many finished runs are buffered (or ``FLUSH_SECONDS`` pass)."""
FLUSH_SECONDS = 10.0

ModelRef = str | Callable[..., Any] | None


@dataclass(frozen=True)
class RunSpec:
    """One model run.

    Attributes:
        run_id: Unique id of the run within its results folder (0..n-1 by convention).
        seed: The run's seed (63-bit non-negative int); re-running the spec alone
            with this seed reproduces the run.
        params: Parameter values: overrides of the declared defaults (partnersim's
            model) or keyword arguments (any other model). Plain Python scalars.
        point: Index of the design point (0 for a single scenario).
        replicate: Replicate index; replicate ``i`` has the same seed in every
            point and scenario (common random numbers).
        scenario: Label of the scenario the run belongs to ("" if none).
        interventions: Interventions passed to partnersim's model (parsed objects
            from ``partnersim.model.interventions`` or their table dicts).
    """

    run_id: int
    seed: int
    params: Mapping[str, Any] = field(default_factory=dict)
    point: int = 0
    replicate: int = 0
    scenario: str = ""
    interventions: tuple[Any, ...] = ()


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


# --------------------------------------------------------------------------- models


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
        ``timeseries`` has ``run_id, month`` and measures (or is None).
    """
    row: dict[str, Any] = {"run_id": spec.run_id, "scenario": spec.scenario,
                           "point": spec.point, "replicate": spec.replicate,
                           "seed": spec.seed, "status": "ok", "error": None,
                           "params": dict(spec.params), "outputs": {}}
    try:
        fn = resolve_model(model) if callable(model) else _import_model(model_name(model))
        if model_name(model) == PARTNERSIM_MODEL:
            kwargs: dict[str, Any] = {"seed": spec.seed, "interventions": spec.interventions}
            if measures is not None:
                kwargs["measures"] = list(measures)
            result = fn(dict(spec.params), **kwargs)
        else:
            kwargs = dict(spec.params)
            if spec.interventions:
                kwargs["interventions"] = spec.interventions
            result = fn(**kwargs, seed=spec.seed)
        outputs, ts = _normalise(result, keep_timeseries)
        for key in outputs:
            if key in spec.params or key in storage.ID_COLUMNS:
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
        ts = ts.copy() if (keep_timeseries and isinstance(ts, pd.DataFrame)) else None
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
    if ts is not None:
        if "month" not in ts.columns:
            ts.insert(0, "month", np.arange(len(ts), dtype="int64"))
        ts = ts.reset_index(drop=True)
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


# --------------------------------------------------------------------------- executors


class SerialExecutor(cf.Executor):
    """Runs each task in the calling process when it is submitted."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


@dataclass
class _Pool:
    executor: cf.Executor
    workers: int
    close: Callable[[], None]
    abort: Callable[[], None] = lambda: None  # stop now (Ctrl-C): unfinished chunks are dropped


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def open_executor(kind: str = "process", *, workers: int | None = None,
                  scheduler: str | None = None, model: ModelRef = None) -> _Pool:
    """Start an executor (before any folder is created, so a bad scheduler writes nothing).

    Args:
        kind: ``serial``, ``process`` or ``dask``; a ``scheduler`` implies ``dask``.
        workers: Worker processes for ``process`` (default: all usable cores).
        scheduler: Dask scheduler address, e.g. ``tcp://10.0.0.5:8786``.
        model: Preloaded in process-pool workers.

    Raises:
        InputError: unknown executor, bad worker count or unreachable scheduler.
    """
    if scheduler and kind != "dask":
        kind = "dask"
    if kind not in EXECUTORS:
        raise InputError(f"unknown executor {kind!r}; expected one of {', '.join(EXECUTORS)}",
                         key="--executor")
    if workers is not None and workers < 1:
        raise InputError(f"expected at least 1 worker, got {workers}", key="--workers")
    if kind == "serial":
        return _Pool(SerialExecutor(), 1, lambda: None)
    if callable(model) and getattr(model, "__module__", None) == "__main__" and not getattr(
            sys.modules.get("__main__"), "__file__", None):
        raise InputError("a model defined interactively cannot reach worker processes; define "
                         "it in a module and pass 'module:function', or use the serial executor",
                         key="model")
    if kind == "process":
        n = workers or default_workers()
        # forkserver: workers fork from a clean single-threaded server, so threads in
        # this process (tqdm, Dask) cannot deadlock them; set on a context, not globally.
        ctx = multiprocessing.get_context("forkserver")
        preload = ["partnersim.run.runner"]
        name = model_name(model)
        if not callable(model):
            preload.append(name.partition(":")[0])
        ctx.set_forkserver_preload(preload)
        pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx)

        def abort() -> None:
            workers_now = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in workers_now:
                proc.terminate()

        return _Pool(pool, n, lambda: pool.shutdown(wait=True, cancel_futures=True), abort)
    if not scheduler:
        raise InputError("the dask executor needs --scheduler ADDRESS (e.g. tcp://host:8786)",
                         key="--scheduler")
    _probe_scheduler(scheduler)
    try:
        from distributed import Client

        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                         key="--scheduler") from None
    n = max(1, sum(client.nthreads().values()))
    executor = client.get_executor(pure=False)

    def close() -> None:
        executor.shutdown(wait=True)
        client.close()

    def abort() -> None:
        executor.shutdown(wait=False)
        client.close()

    return _Pool(executor, n, close, abort)


def _probe_scheduler(address: str) -> None:
    """Fail fast (one line, no retries) when nothing listens at a tcp:// scheduler address."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        return  # other transports: leave it to distributed
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise InputError(f"expected a scheduler address like tcp://host:8786, got {address!r}",
                         key="--scheduler")
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} "
                         f"({exc.strerror or exc})", key="--scheduler") from None


def auto_chunk_size(n_runs: int, workers: int) -> int:
    """Runs per task: about 16 tasks per worker (so the last tasks balance), at most 50 runs
    a task (so 20 ms runs still amortise the ~1 ms cost of a task), at least 1."""
    return max(1, min(50, math.ceil(n_runs / (workers * 16))))


# --------------------------------------------------------------------------- execute


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def fingerprint(specs: Iterable[RunSpec], model: ModelRef = None, *,
                keep_timeseries: bool = True, measures: Sequence[str] | None = None) -> str:
    """SHA-256 identity of the work: every spec, the model, what is kept.

    Two calls with the same fingerprint produce the same tables, so a folder with the
    same fingerprint is resumed and one with another is refused.
    """
    h = hashlib.sha256()
    h.update(json.dumps([model_name(model), keep_timeseries,
                         None if measures is None else list(measures)]).encode())
    for s in specs:
        h.update(json.dumps([s.run_id, s.seed, s.point, s.replicate, s.scenario,
                             sorted(s.params.items()), list(s.interventions)],
                            default=_json_default).encode())
        h.update(b"\n")
    return h.hexdigest()


def _param_types(specs: Sequence[RunSpec]) -> dict[str, pa.DataType]:
    names: list[str] = []
    seen: set[str] = set()
    for s in specs:
        for k in s.params:
            if k not in seen:
                seen.add(k)
                names.append(k)
    for k in names:
        if k in storage.ID_COLUMNS:
            raise InputError(f"parameter name {k!r} clashes with a column of the runs table",
                             key=k)
    return {k: storage.arrow_type_of([s.params.get(k) for s in specs]) for k in names}


def _specs_table(specs: Sequence[RunSpec], param_types: Mapping[str, pa.DataType]) -> pa.Table:
    cols: dict[str, pa.Array] = {
        "run_id": pa.array([s.run_id for s in specs], pa.int64()),
        "scenario": pa.array([s.scenario for s in specs], pa.string()),
        "point": pa.array([s.point for s in specs], pa.int64()),
        "replicate": pa.array([s.replicate for s in specs], pa.int64()),
        "seed": pa.array([s.seed for s in specs], pa.int64()),
    }
    for name, typ in param_types.items():
        cols[name] = pa.array([s.params.get(name) for s in specs], typ)
    if any(s.interventions for s in specs):
        cols["interventions"] = pa.array(
            [json.dumps(list(s.interventions), default=_json_default) for s in specs],
            pa.string())
    return pa.table(cols)


def validate_specs(specs: Sequence[RunSpec]) -> None:
    """Check run ids are unique and seeds are non-negative 63-bit ints.

    Raises:
        InputError: naming the offending run.
    """
    ids: set[int] = set()
    for s in specs:
        if s.run_id in ids:
            raise InputError(f"run_id {s.run_id} appears twice", key="run_id")
        ids.add(s.run_id)
        if not 0 <= int(s.seed) < 2**63:
            raise InputError(f"run {s.run_id}: seed {s.seed} is not in [0, 2**63)", key="seed")


def execute(
    specs: Sequence[RunSpec],
    out_dir: str | os.PathLike[str],
    *,
    model: ModelRef = None,
    executor: ExecutorKind | str = "process",
    workers: int | None = None,
    chunk_size: int | None = None,
    scheduler: str | None = None,
    keep_timeseries: bool = True,
    measures: Sequence[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    provenance: Mapping[str, Any] | None = None,
) -> RunReport:
    """Run every spec not yet stored in ``out_dir`` and stream the results to it.

    Everything is validated (specs, options, folder, scheduler) before the folder is
    created. A folder that holds the same work (same fingerprint) is resumed; one
    that holds other work is refused unless ``overwrite``.

    Args:
        specs: The runs; ``run_id`` unique.
        out_dir: Results folder (created; parents too).
        model: ``None`` for partnersim's model, or ``"package.module:function"``
            (or a module-level function) called as ``function(**params, seed=seed)``.
        executor: ``serial`` (in this process), ``process`` (local pool, default) or
            ``dask`` (needs ``scheduler``).
        workers: Worker processes for ``process`` (default: usable cores).
        chunk_size: Runs per task (default: ``auto_chunk_size``).
        scheduler: Dask scheduler address; implies ``executor="dask"``.
        keep_timeseries: Store the per-month rows.
        measures: Monthly measures partnersim's model collects (default: all).
        overwrite: Replace an existing results folder holding other work.
        progress: Show a progress bar (runs done, rate, time left) on stderr.
        provenance: Extra manifest entries, e.g. ``{"inputs": [storage.input_record(p)],
            "command": sys.argv, "experiment": {...}}``.

    Returns:
        A ``RunReport``; ``report.ok`` is False if a run failed or was lost.

    Raises:
        InputError: bad specs or options, a folder holding other work, an unwritable
            folder, an unreachable scheduler, a model that cannot be imported.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a worker is importing a script that calls execute() at top level: touching the
        # folder here would race the real sweep, so stop before anything happens
        raise RuntimeError("execute() was called while a worker process imported the main "
                           "script; put the call under 'if __name__ == \"__main__\":'")
    started = time.perf_counter()
    specs = list(specs)
    validate_specs(specs)
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"expected at least 1 run per chunk, got {chunk_size}",
                         key="--chunk-size")
    resolve_model(model)
    param_types = _param_types(specs)
    fp = fingerprint(specs, model, keep_timeseries=keep_timeseries, measures=measures)
    action = storage.check_output_folder(out_dir, fingerprint=fp, overwrite=overwrite)
    pool = open_executor(executor, workers=workers, scheduler=scheduler, model=model)
    kind = "dask" if scheduler else executor
    try:
        out = storage.open_output_folder(out_dir, action)
        session = {"start": storage.now_utc(), "end": None, "executor": kind,
                   "workers": pool.workers, "command": list(sys.argv)}
        notes: list[str] = []
        if action == "resume":
            manifest = storage.read_manifest(out)
            manifest.setdefault("sessions", []).append(session)
            storage.write_manifest(out, manifest)
            notes = _version_notes(manifest.get("environment", {}))
        else:
            storage.write_specs(out, _specs_table(specs, param_types))
            storage.write_manifest(out, {
                "format": storage.FORMAT_VERSION,
                "fingerprint": fp,
                "model": model_name(model),
                "n_runs": len(specs),
                "keep_timeseries": keep_timeseries,
                "measures": None if measures is None else list(measures),
                "seeds": sorted({int(s.seed) for s in specs}),
                "environment": storage.environment_record(),
                **dict(provenance or {}),
                "sessions": [session],
            })
        done = storage.completed_run_ids(out)
        pending = [s for s in sorted(specs, key=lambda s: s.run_id) if s.run_id not in done]
        size = chunk_size or auto_chunk_size(len(pending), pool.workers)
        computed, lost = _drive(pool, pending, out, param_types, model, keep_timeseries,
                                measures, size, total=len(specs), initial=len(done),
                                progress=progress)
    except BaseException:  # Ctrl-C or an error: finished runs are stored; stop the rest now
        pool.abort()
        raise
    else:
        pool.close()
    runs = storage.load_runs(out, columns=["seed", "status", "error"])
    failed = runs[runs["status"] == "failed"]
    manifest = storage.read_manifest(out)
    manifest["sessions"][-1]["end"] = storage.now_utc()
    manifest["sessions"][-1]["chunk_size"] = size
    manifest["complete"] = len(runs) == len(specs)
    manifest["n_failed"] = int(len(failed))
    storage.write_manifest(out, manifest)
    return RunReport(
        out_dir=out, total=len(specs), resumed=len(done), computed=computed,
        failed=int(len(failed)), lost=lost,
        failures=[{"run_id": int(r.run_id), "seed": int(r.seed), "error": r.error}
                  for r in failed.head(20).itertuples()],
        elapsed_s=time.perf_counter() - started, executor=kind, workers=pool.workers,
        chunk_size=size, notes=notes)


def _version_notes(first: Mapping[str, Any]) -> list[str]:
    """Differences between the code that started a folder and the code resuming it."""
    now = storage.environment_record()
    notes = []
    old_v = first.get("packages", {}).get("partnersim")
    if old_v != now["packages"]["partnersim"]:
        notes.append(f"resumed with partnersim {now['packages']['partnersim']}; the folder was "
                     f"started with {old_v}")
    old_git, new_git = first.get("git") or {}, now["git"] or {}
    if old_git.get("commit") != new_git.get("commit"):
        notes.append(f"resumed at git commit {new_git.get('commit')}; the folder was started "
                     f"at {old_git.get('commit')}: runs from both may be mixed")
    return notes


def _drive(pool: _Pool, pending: list[RunSpec], out: Path,
           param_types: dict[str, pa.DataType], model: ModelRef, keep_timeseries: bool,
           measures: Sequence[str] | None, size: int, *, total: int, initial: int,
           progress: bool) -> tuple[int, int]:
    """Submit chunks (a bounded number in flight), store results as they come back."""
    from tqdm import tqdm

    chunks = [pending[i:i + size] for i in range(0, len(pending), size)]
    writer = storage.ShardWriter(out, param_types)
    task_model = model if callable(model) else model_name(model)
    max_in_flight = max(2, 2 * pool.workers)
    in_flight: dict[cf.Future[Any], list[RunSpec]] = {}
    computed = lost = 0
    last_flush = time.monotonic()
    bar = tqdm(total=total, initial=initial, unit="run", disable=not progress or None,
               file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
    next_chunk = 0
    broken = False
    try:
        while next_chunk < len(chunks) or in_flight:
            while not broken and next_chunk < len(chunks) and len(in_flight) < max_in_flight:
                chunk = chunks[next_chunk]
                next_chunk += 1
                try:
                    fut = pool.executor.submit(run_chunk, chunk, task_model, keep_timeseries,
                                               measures)
                except Exception:  # the pool is broken: the rest stays missing
                    broken = True
                    lost += sum(len(c) for c in chunks[next_chunk - 1:])
                    next_chunk = len(chunks)
                    break
                in_flight[fut] = chunk
            if not in_flight:
                break
            finished, _ = cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                chunk = in_flight.pop(fut)
                try:
                    rows, ts = fut.result()
                except Exception:  # a worker died: these runs stay missing (rerun resumes)
                    lost += len(chunk)
                    continue
                writer.add(rows, ts)
                bar.update(len(rows))
            if writer.buffered >= max(FLUSH_RUNS, size) or (
                    time.monotonic() - last_flush > FLUSH_SECONDS):
                computed += writer.flush()
                last_flush = time.monotonic()
    finally:
        computed += writer.flush()
        bar.close()
    return computed, lost
