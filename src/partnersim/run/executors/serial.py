"""The serial executor: each chunk runs in the calling process when it is submitted."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import Any

from partnersim.run.executors.base import Pool


class SerialExecutor(cf.Executor):
    """Runs each task in the calling process when it is submitted."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def open_serial() -> Pool:
    """One "worker": this process."""
    return Pool(SerialExecutor(), 1, lambda: None)
