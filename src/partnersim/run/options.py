"""How runs execute: the executor, its workers, chunking, the folder policy and progress output."""

from __future__ import annotations

from dataclasses import dataclass

from partnersim.errors import InputError, unknown

EXECUTORS: tuple[str, ...] = ("serial", "process", "dask")
"""Where runs can execute: in this process, a local process pool, a Dask cluster (kept here,
not beside the executors, so the command line lists them without loading the executors)."""


@dataclass(frozen=True)
class RunOptions:
    """How runs execute (not what is run): one value shared by every verb and the API.

    Validated on construction; each error names the command-line flag that sets the field.

    Attributes:
        executor: ``serial`` (in this process), ``process`` (local pool) or ``dask``.
        workers: Worker processes for ``process`` (None: every usable core); at least 1.
        chunk_size: Runs per task (None: the runner's choice); at least 1.
        scheduler: Dask scheduler address, e.g. ``tcp://host:8786``; implies ``dask``.
        overwrite: Replace a results folder that holds other (or complete) results.
        progress: Show a progress bar on stderr.
    """

    executor: str = "process"
    workers: int | None = None
    chunk_size: int | None = None
    scheduler: str | None = None
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.scheduler and self.executor != "dask":
            object.__setattr__(self, "executor", "dask")  # a scheduler implies Dask
        if self.executor not in EXECUTORS:
            raise unknown("executor", str(self.executor), EXECUTORS, key="--executor",
                          show_name=True, list_choices=True)
        if self.workers is not None and (isinstance(self.workers, bool)
                                         or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise InputError(f"expected at least 1 worker, got {self.workers}", key="--workers")
        if self.chunk_size is not None and (isinstance(self.chunk_size, bool)
                                            or not isinstance(self.chunk_size, int)
                                            or self.chunk_size < 1):
            raise InputError(f"expected at least 1 run per chunk, got {self.chunk_size}",
                             key="--chunk-size")
        if self.executor == "dask" and not self.scheduler:
            raise InputError("the dask executor needs --scheduler ADDRESS "
                             "(e.g. tcp://host:8786)", key="--scheduler")
