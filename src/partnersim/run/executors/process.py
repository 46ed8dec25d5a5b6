"""The local process pool: workers forked from a clean "forkserver" process."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing

from partnersim.run.executors.base import Pool
from partnersim.run.specs import ModelRef, model_name


def open_process_pool(workers: int, model: ModelRef = None) -> Pool:
    """Start ``workers`` processes with the runner (and the model's module) preloaded."""
    # forkserver: workers fork from a clean single-threaded server, so threads in
    # this process (tqdm, Dask) cannot deadlock them; set on a context, not globally.
    ctx = multiprocessing.get_context("forkserver")
    preload = ["partnersim.run.specs"]
    if not callable(model):
        preload.append(model_name(model).partition(":")[0])
    ctx.set_forkserver_preload(preload)
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    def abort() -> None:
        workers_now = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers_now:
            proc.terminate()

    return Pool(pool, workers, lambda: pool.shutdown(wait=True, cancel_futures=True), abort)
