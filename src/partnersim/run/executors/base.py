"""The handle every executor opens: a ``concurrent.futures`` executor, its width, how to stop it."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Pool:
    """An open executor.

    Attributes:
        executor: Where chunks of runs are submitted.
        workers: Worker processes (Dask: worker threads across the cluster).
        close: Wait for submitted work, then release the workers.
        abort: Stop now (Ctrl-C): unfinished chunks are dropped.
    """

    executor: cf.Executor
    workers: int
    close: Callable[[], None]
    abort: Callable[[], None] = lambda: None
