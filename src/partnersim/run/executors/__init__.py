"""Executors: where chunks of runs execute (serial, a local process pool, Dask) and how wide.

``open_executor(options, model=)`` starts the one ``RunOptions`` asks for and returns a
``Pool`` (its ``concurrent.futures`` executor, worker count, ``close`` and ``abort``).
"""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING

from partnersim.errors import InputError
from partnersim.run.executors.base import Pool
from partnersim.run.executors.dask import open_dask
from partnersim.run.executors.process import open_process_pool, start_forkserver
from partnersim.run.executors.serial import open_serial
from partnersim.run.options import EXECUTORS
from partnersim.run.specs import ModelRef

if TYPE_CHECKING:
    from partnersim.run.options import RunOptions

__all__ = ["EXECUTORS", "Pool", "auto_chunk_size", "default_workers", "open_executor",
           "prepare_executor"]


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def auto_chunk_size(n_runs: int, workers: int) -> int:
    """Runs per task: about 16 tasks per worker (so the last tasks balance), at most 50 runs
    a task (so 20 ms runs still amortise the ~1 ms cost of a task), at least 1."""
    return max(1, min(50, math.ceil(n_runs / (workers * 16))))


def prepare_executor(options: RunOptions, *, model: ModelRef = None) -> None:
    """Start now what takes a second to start, so it starts while the caller validates:
    the process pool's forkserver imports the runner and the model (and loads its
    compiled code) in the background. Nothing else; ``open_executor`` opens the pool."""
    if options.executor == "process":
        start_forkserver(model)


def open_executor(options: RunOptions, *, model: ModelRef = None) -> Pool:
    """Start the executor ``options`` asks for (before any folder is created, so a bad
    scheduler writes nothing).

    Args:
        options: Validated run options (``executor``, ``workers``, ``scheduler``).
        model: Preloaded in process-pool workers.

    Raises:
        InputError: an unreachable scheduler, or an interactively defined model that
            worker processes cannot import.
    """
    if options.executor == "serial":
        return open_serial()
    if callable(model) and getattr(model, "__module__", None) == "__main__" and not getattr(
            sys.modules.get("__main__"), "__file__", None):
        raise InputError("a model defined interactively cannot reach worker processes; define "
                         "it in a module and pass 'module:function', or use the serial executor",
                         key="model")
    if options.executor == "process":
        return open_process_pool(options.workers or default_workers(), model)
    return open_dask(options.scheduler or "")  # RunOptions requires a scheduler for dask
