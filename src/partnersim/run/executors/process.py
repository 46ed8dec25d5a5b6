"""The local process pool: workers forked from a clean "forkserver" process."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import multiprocessing.forkserver

from partnersim.run.executors.base import Pool
from partnersim.run.specs import PARTNERSIM_MODEL, ModelRef, model_name

PRELOAD_PARTNERSIM = "partnersim.model.preload"
"""Preloaded for partnersim's model: its import loads the compiled kernels once, in the
server, so workers do not each load them."""


def start_forkserver(model: ModelRef = None) -> multiprocessing.context.BaseContext:
    """Start the forkserver now, with the runner and the model preloaded, and return its
    context. The server imports in the background: started before the caller's own
    checks (which import the model too), the two imports overlap on two cores.

    The forkserver is one per process: a server already running (an earlier pool in
    this process) is kept, with what it preloaded then.
    """
    ctx = multiprocessing.get_context("forkserver")
    preload = ["partnersim.run.specs"]
    if not callable(model):
        name = model_name(model)
        preload.append(PRELOAD_PARTNERSIM if name == PARTNERSIM_MODEL
                       else name.partition(":")[0])
    ctx.set_forkserver_preload(preload)
    multiprocessing.forkserver.ensure_running()
    return ctx


def open_process_pool(workers: int, model: ModelRef = None) -> Pool:
    """Start ``workers`` processes with the runner (and the model's module) preloaded."""
    # forkserver: workers fork from a clean single-threaded server, so threads in
    # this process (tqdm, Dask) cannot deadlock them; set on a context, not globally.
    ctx = start_forkserver(model)
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    def abort() -> None:
        workers_now = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers_now:
            proc.terminate()

    return Pool(pool, workers, lambda: pool.shutdown(wait=True, cancel_futures=True), abort)
