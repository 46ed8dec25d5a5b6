"""The runner: run specs -> stored results, through the executor ``RunOptions`` names.

Usage (this is the API that ``run``, ``compare``, ``sweep`` and ``sensitivity`` share)::

    from partnersim.run.options import RunOptions
    from partnersim.run.runner import execute
    from partnersim.run.specs import RunSpec
    from partnersim.run.storage import load_results
    from partnersim.seeding import replicate_seeds

    seeds = replicate_seeds(master_seed, n_replicates)
    specs = [RunSpec(run_id=i, seed=s, params=overrides, replicate=i, scenario="baseline",
                     interventions=interventions) for i, s in enumerate(seeds)]
    report = execute(specs, "results/baseline", RunOptions(workers=4))  # resumable
    results = load_results("results/baseline")      # .runs, .timeseries(...), .manifest

Contract (see ``partnersim.run.specs`` for a spec, the model and one run):

* Each run gives one row of the runs table (its ids, seed, status ``ok`` or
  ``failed`` with the error, parameter values, outputs) and optionally its
  monthly rows. A run that raises is stored as failed; the others go on.
* The process pool starts its workers from a clean "forkserver" process (set
  on a multiprocessing context, never globally), started before the runner's own
  checks so that its imports overlap theirs; for partnersim's model it loads the
  compiled code once, so workers forked from it start ready. As with any spawn-like start
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
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from partnersim.errors import InputError
from partnersim.run import storage
from partnersim.run.executors import Pool, auto_chunk_size, open_executor, prepare_executor
from partnersim.run.options import RunOptions
from partnersim.run.specs import ModelRef, RunReport, RunSpec, model_name, resolve_model, run_chunk
from partnersim.seeding import MAX_SEED

FLUSH_RUNS = 500
"""Write a shard once this many finished runs are buffered (or ``FLUSH_SECONDS`` pass)."""
FLUSH_SECONDS = 10.0


# --------------------------------------------------------------------------- execute


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
                             sorted(s.values.items()), list(s.interventions)],
                            default=storage.json_default).encode())
        h.update(b"\n")
    return h.hexdigest()


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
        if not 0 <= int(s.seed) <= MAX_SEED:
            raise InputError(f"run {s.run_id}: seed {s.seed} is not in [0, {MAX_SEED}]",
                             key="seed")


def execute(
    specs: Sequence[RunSpec],
    out_dir: str | os.PathLike[str],
    options: RunOptions = RunOptions(),  # noqa: B008 (frozen: one shared default is safe)
    *,
    model: ModelRef = None,
    keep_timeseries: bool = True,
    measures: Sequence[str] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> RunReport:
    """Run every spec not yet stored in ``out_dir`` and stream the results to it.

    Everything is validated (specs, options, folder, scheduler) before the folder is
    created. A folder that holds the same work (same fingerprint) is resumed; one
    that holds other work is refused unless ``options.overwrite``.

    Args:
        specs: The runs; ``run_id`` unique.
        out_dir: Results folder (created; parents too).
        options: How the runs execute: executor, workers, chunk size (default:
            ``auto_chunk_size``), scheduler, overwrite, progress bar on stderr.
        model: ``None`` for partnersim's model, or ``"package.module:function"``
            (or a module-level function) called as ``function(**params, seed=seed)``.
        keep_timeseries: Store the per-month rows.
        measures: Monthly measures kept in the timeseries, for any model (default: all the
            model reports; partnersim's model then collects only these).
        provenance: Extra manifest entries, e.g. ``{"inputs": [storage.input_record(p)],
            "command": storage.command_line("sweep", p, out=out_dir), "experiment": {...}}``
            (``command``: the command line that reproduces the folder; each session
            records its own raw ``argv``).

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
    prepare_executor(options, model=model)  # the pool's server imports while we validate
    resolve_model(model)
    param_types = storage.param_types(specs)
    fp = fingerprint(specs, model, keep_timeseries=keep_timeseries, measures=measures)
    action = storage.check_output_folder(out_dir, fingerprint=fp, overwrite=options.overwrite)
    pool = open_executor(options, model=model)
    kind = options.executor
    lock = None
    try:
        lock = storage.lock_output_folder(out_dir)  # a second study here is refused
        out = storage.open_output_folder(out_dir, action)
        session = {"start": storage.now_utc(), "end": None, "executor": kind,
                   "workers": pool.workers, "argv": list(sys.argv)}
        notes: list[str] = []
        if action == "resume":
            manifest = storage.read_manifest(out)
            manifest.setdefault("sessions", []).append(session)
            storage.write_manifest(out, manifest)
            notes = code_changes(manifest.get("environment", {}))
        else:
            storage.write_specs(out, specs, param_types)
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
        size = options.chunk_size or auto_chunk_size(len(pending), pool.workers)
        computed, lost = _drive(pool, pending, out, param_types, model, keep_timeseries,
                                measures, size, total=len(specs), initial=len(done),
                                progress=options.progress)
    except BaseException:  # Ctrl-C or an error: finished runs are stored; stop the rest now
        pool.abort()
        if lock is not None:
            storage.unlock_output_folder(lock)
        raise
    else:
        pool.close()
    try:
        runs = storage.load_runs(out, columns=["seed", "status", "error"])
        failed = runs[runs["status"] == "failed"]
        manifest = storage.read_manifest(out)
        manifest["sessions"][-1]["end"] = storage.now_utc()
        manifest["sessions"][-1]["chunk_size"] = size
        manifest["complete"] = len(runs) == len(specs)
        manifest["n_failed"] = int(len(failed))
        storage.write_manifest(out, manifest)
    finally:
        storage.unlock_output_folder(lock)
    return RunReport(
        out_dir=out, total=len(specs), resumed=len(done), computed=computed,
        failed=int(len(failed)), lost=lost,
        failures=[{"run_id": int(r.run_id), "seed": int(r.seed), "error": r.error}
                  for r in failed.head(20).itertuples()],
        elapsed_s=time.perf_counter() - started, executor=kind, workers=pool.workers,
        chunk_size=size, notes=notes)


def code_changes(first: Mapping[str, Any]) -> list[str]:
    """Differences between the code that started a folder (its manifest's ``environment``)
    and the code running now; empty when they are the same."""
    now = storage.environment_record()
    notes = []
    if first.get("source") not in (None, now["source"]):
        notes.append(f"partnersim's source has changed since the folder was started (source "
                     f"hash {now['source'][:12]}, was {first['source'][:12]}): runs from both "
                     f"may be mixed")
    old_v = first.get("packages", {}).get("partnersim")
    if old_v != now["packages"]["partnersim"]:
        notes.append(f"resumed with partnersim {now['packages']['partnersim']}; the folder was "
                     f"started with {old_v}")
    old_git, new_git = first.get("git") or {}, now["git"] or {}
    if old_git.get("commit") != new_git.get("commit"):
        notes.append(f"resumed at git commit {new_git.get('commit')}; the folder was started "
                     f"at {old_git.get('commit')}: runs from both may be mixed")
    return notes


def _drive(pool: Pool, pending: list[RunSpec], out: Path,
           param_types: dict[str, pa.DataType], model: ModelRef, keep_timeseries: bool,
           measures: Sequence[str] | None, size: int, *, total: int, initial: int,
           progress: bool) -> tuple[int, int]:
    """Submit chunks (a bounded number in flight), store results as they come back."""
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
