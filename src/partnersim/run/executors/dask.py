"""The Dask executor: runs on the workers of a running ``distributed`` scheduler."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from partnersim.errors import InputError
from partnersim.run.executors.base import Pool
from partnersim.run.storage import source_hash

SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
"""The transports distributed knows."""


def open_dask(scheduler: str) -> Pool:
    """Connect to the scheduler at ``scheduler`` (fails fast if nothing listens there).

    Raises:
        InputError: a malformed or unreachable scheduler address (key ``--scheduler``).
    """
    _probe_scheduler(scheduler)
    try:
        # distributed takes about a second to import: only Dask users pay for it
        from distributed import Client

        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                         key="--scheduler") from None
    try:
        _check_workers(client, scheduler)
    except BaseException:
        client.close()
        raise
    n = max(1, sum(client.nthreads().values()))
    executor = client.get_executor(pure=False)

    def close() -> None:
        executor.shutdown(wait=True)
        client.close()

    def abort() -> None:
        executor.shutdown(wait=False)
        client.close()

    return Pool(executor, n, close, abort)


WAIT_FOR_WORKERS = 30.0
"""Seconds a study waits for the scheduler's first worker before it gives up."""


def _check_workers(client, scheduler: str) -> None:
    """Refuse a cluster whose runs could not run, or would not be this checkout's: no worker
    (a study would wait silently for ever), or a worker that cannot import partnersim or
    runs other partnersim code (its runs would differ, unseen)."""
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
    except TimeoutError:
        raise InputError(f"the Dask scheduler at {scheduler} has no workers (waited "
                         f"{WAIT_FOR_WORKERS:.0f} s): start them with 'dask worker "
                         f"{scheduler}'", key="--scheduler") from None

    def worker_source() -> tuple[str | None, str]:  # nested: sent whole, not as an import
        import importlib  # on the worker: whether partnersim imports there is the question

        try:
            storage = importlib.import_module("partnersim.run.storage")
        except Exception as exc:  # noqa: BLE001 - any failure to import is the answer
            return None, f"cannot import partnersim ({type(exc).__name__}: {exc})"
        return storage.source_hash(), "runs other partnersim code than this checkout's"

    ours = source_hash()
    for worker, answer in sorted(client.run(worker_source, on_error="return").items()):
        found, problem = ((None, f"failed to answer ({type(answer).__name__}: {answer})")
                          if isinstance(answer, BaseException) else answer)
        if found != ours:
            raise InputError(f"the Dask worker {worker} {problem}: every worker must run "
                             f"this checkout's partnersim (start the workers from its "
                             f"environment)", key="--scheduler")


def _probe_scheduler(address: str) -> None:
    """Fail fast (one line, no retries) when nothing listens at a tcp:// scheduler address."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in SCHEMES:
        # refused here: a client that distributed fails to open hangs for 40 s on exit
        raise InputError(f"expected a scheduler address like tcp://host:8786 (transports: "
                         f"{', '.join(SCHEMES)}), got {address!r}", key="--scheduler")
    if parts.scheme not in ("tcp", "tls", "ws", "wss"):
        return  # no socket to probe: leave it to distributed
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
