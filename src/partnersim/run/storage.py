"""Results folders on disk: sharded Parquet tables, the manifest, derived tables and resume state.

A results folder looks like this::

    results/<name>/
        manifest.json          provenance: versions, git commit, inputs (hash and text),
                               seeds, command lines, start/end times, fingerprint
        specs.parquet          every run spec: run_id, scenario, point, replicate, seed,
                               parameter values (written once, before any run)
        runs/part-*.parquet    one row per finished run (ok or failed), in shards
        timeseries/part-*.parquet  one row per run and month (run_id, month, measures)
        <derived>.parquet      tables computed from the runs (indices, summaries, ...)
        figures/*.png

A shard of ``runs`` is the commit record of the runs it holds: its
``timeseries`` twin (same file name) is written first, then the ``runs``
shard, each through a temporary file renamed into place. After a kill at any
moment, the finished runs are exactly those in ``runs`` shards; orphaned
``timeseries`` shards and temporary files are removed on resume.

Value types are fixed so that every executor, worker count and chunk size
gives bit-identical tables: output values are stored as float64 (booleans as
0.0/1.0, missing or failed as NaN); parameter columns take one Arrow type per
column, decided from all run specs before any run starts.

This module computes nothing: it writes and reads.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from partnersim.errors import InputError

if TYPE_CHECKING:
    from partnersim.run.specs import RunSpec

MANIFEST = "manifest.json"
SPECS = "specs.parquet"
RUNS_DIR = "runs"
TIMESERIES_DIR = "timeseries"
FIGURES_DIR = "figures"
"""Where every verb puts its figures inside a results folder."""
FORMAT_VERSION = 1

ID_COLUMNS: tuple[str, ...] = (
    "run_id", "scenario", "point", "replicate", "seed", "status", "error",
)
"""Leading columns of the runs table, in order; parameters and outputs follow."""

DEPENDENCIES: tuple[str, ...] = (
    "mesa", "numpy", "numba", "llvmlite", "pandas", "pyarrow", "scipy", "SALib", "pydantic",
    "pyabc", "ema_workbench", "dask", "distributed", "tqdm", "matplotlib",
)
"""Packages whose versions every manifest records: those that compute results (numba and
llvmlite compile the model's loops, so they belong with numpy) and those that store them."""


# --------------------------------------------------------------------------- folders


def check_output_folder(out_dir: str | os.PathLike[str], *, fingerprint: str,
                        overwrite: bool = False) -> str:
    """Decide what to do with a results folder, without touching the disk.

    Args:
        out_dir: The results folder.
        fingerprint: Identity of the work to be stored (the runner's fingerprint).
        overwrite: Start afresh, deleting an existing results folder.

    Returns:
        ``"new"`` (folder absent or empty), ``"resume"`` (it holds the same work) or
        ``"overwrite"`` (it holds a results folder that ``overwrite=True`` replaces).

    Raises:
        InputError: the folder holds different work and ``overwrite`` is off; the path
            is a file or a non-empty folder that is not a results folder; or the
            nearest existing parent folder is not writable.
    """
    out = Path(out_dir)
    where = str(out)
    if out.exists() and not out.is_dir():
        raise InputError("is a file, not a results folder", source=where)
    if out.is_dir() and any(out.iterdir()):
        manifest = out / MANIFEST
        if not manifest.is_file():
            raise InputError("folder exists and is not a partnersim results folder; "
                             "choose another --out", source=where)
        if overwrite:
            _check_writable(out)
            return "overwrite"
        try:
            old = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"unreadable manifest ({exc}); use --overwrite",
                             source=str(manifest)) from None
        if old.get("fingerprint") != fingerprint:
            raise InputError("holds results of a different experiment; use --overwrite "
                             "to replace them or choose another --out", source=where)
        _check_writable(out)
        return "resume"
    _check_writable(out)
    return "new"


def _check_writable(path: Path) -> None:
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"cannot write here ({probe} is not a writable folder)",
                         source=str(path))


def lock_output_folder(out_dir: str | os.PathLike[str]) -> int:
    """Create the results folder if need be and hold it for this study alone (an exclusive
    lock on the folder itself, which the system releases if the process dies): two studies
    writing one folder at once stored every run twice.

    Returns:
        The lock, for ``unlock_output_folder``.

    Raises:
        InputError: another study holds the folder.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lock = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise InputError("another partnersim study is writing this folder: wait for it to "
                         "end, or choose another --out", source=str(out)) from None
    return lock


def unlock_output_folder(lock: int) -> None:
    os.close(lock)


def open_output_folder(out_dir: str | os.PathLike[str], action: str) -> Path:
    """Create (or clear, for ``"overwrite"``) a results folder checked by ``check_output_folder``.

    On ``"resume"`` only leftovers of an interrupted session are removed: temporary
    files and ``timeseries`` shards without their ``runs`` twin. Cleared, the folder
    itself stays (its lock is on it: ``lock_output_folder``).
    """
    out = Path(out_dir)
    if action == "overwrite":
        for child in out.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / RUNS_DIR).mkdir(exist_ok=True)
    (out / TIMESERIES_DIR).mkdir(exist_ok=True)
    for tmp in out.rglob("*.tmp"):
        tmp.unlink(missing_ok=True)
    committed = {p.name for p in (out / RUNS_DIR).glob("part-*.parquet")}
    for orphan in (out / TIMESERIES_DIR).glob("part-*.parquet"):
        if orphan.name not in committed:
            orphan.unlink()
    return out


# --------------------------------------------------------------------------- writing


def _atomic_write_table(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def table_path(out_dir: str | os.PathLike[str], name: str) -> Path:
    """Where the derived table ``name`` lives: ``<out_dir>/<name>.parquet``."""
    return Path(out_dir) / f"{name}.parquet"


def write_table(out_dir: str | os.PathLike[str], name: str, df: pd.DataFrame) -> Path:
    """Write a derived table (e.g. indices) as ``<out_dir>/<name>.parquet``, atomically."""
    path = table_path(out_dir, name)
    _atomic_write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    return path


def read_table(out_dir: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read a derived table written by ``write_table``."""
    return pd.read_parquet(table_path(out_dir, name))


def arrow_type_of(values: Sequence[Any]) -> pa.DataType:
    """One Arrow type for a parameter column, from all its values (bool, int, float, str)."""
    kinds = {_kind(v) for v in values if v is not None}
    if not kinds:
        return pa.float64()
    if kinds == {"bool"}:
        return pa.bool_()
    if kinds == {"int"}:
        return pa.int64()
    if kinds <= {"int", "float"}:
        return pa.float64()
    return pa.string()


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    return "str"


def json_default(obj: Any) -> Any:
    """JSON for what ``json`` cannot encode itself: pydantic models, numpy scalars, else text."""
    if hasattr(obj, "as_table"):  # an intervention: as a scenario file writes it
        return obj.as_table()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def param_types(specs: Sequence[RunSpec]) -> dict[str, pa.DataType]:
    """The Arrow type of each parameter column, in first-seen order, from every spec.

    Raises:
        InputError: a parameter is named like a leading column of the runs table.
    """
    names: list[str] = []
    seen: set[str] = set()
    for s in specs:
        for k in s.values:
            if k not in seen:
                seen.add(k)
                names.append(k)
    for k in names:
        if k in ID_COLUMNS:
            raise InputError(f"parameter name {k!r} clashes with a column of the runs table",
                             key=k)
    return {k: arrow_type_of([s.values.get(k) for s in specs]) for k in names}


def specs_table(specs: Sequence[RunSpec], param_types: Mapping[str, pa.DataType]) -> pa.Table:
    """The specs table: ids, seed, parameter values and (if any) interventions as JSON."""
    cols: dict[str, pa.Array] = {
        "run_id": pa.array([s.run_id for s in specs], pa.int64()),
        "scenario": pa.array([s.scenario for s in specs], pa.string()),
        "point": pa.array([s.point for s in specs], pa.int64()),
        "replicate": pa.array([s.replicate for s in specs], pa.int64()),
        "seed": pa.array([s.seed for s in specs], pa.int64()),
    }
    for name, typ in param_types.items():
        cols[name] = pa.array([s.values.get(name) for s in specs], typ)
    if any(s.interventions for s in specs):
        cols["interventions"] = pa.array(
            [json.dumps(list(s.interventions), default=json_default) for s in specs],
            pa.string())
    return pa.table(cols)


@dataclass
class ShardWriter:
    """Buffers finished runs and writes them as paired ``runs``/``timeseries`` shards.

    Rows are dicts with the ``ID_COLUMNS``, parameter values and output values.
    A shard is written when ``flush`` is called; the caller decides when (the runner
    flushes every few hundred runs or few seconds, and at the end).

    Attributes:
        out_dir: The results folder (already opened).
        param_types: Arrow type of each parameter column, in column order.
    """

    out_dir: Path
    param_types: dict[str, pa.DataType]
    _rows: list[dict[str, Any]] = field(default_factory=list)
    _series: list[pd.DataFrame] = field(default_factory=list)

    @property
    def buffered(self) -> int:
        """Runs waiting to be written."""
        return len(self._rows)

    def add(self, rows: Sequence[dict[str, Any]], timeseries: pd.DataFrame | None) -> None:
        """Buffer finished runs and (optionally) their per-month rows."""
        self._rows.extend(rows)
        if timeseries is not None and len(timeseries):
            self._series.append(timeseries)

    def flush(self) -> int:
        """Write the buffered runs as one shard pair; return how many runs were written."""
        if not self._rows:
            return 0
        rows = sorted(self._rows, key=lambda r: r["run_id"])
        ids = [r["run_id"] for r in rows]
        digest = hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:10]
        name = f"part-{ids[0]:012d}-{digest}.parquet"
        if self._series:
            ts = pd.concat(self._series, ignore_index=True)
            ts = ts.sort_values(["run_id", "month"], kind="stable").reset_index(drop=True)
            _atomic_write_table(timeseries_table(ts), self.out_dir / TIMESERIES_DIR / name)
        _atomic_write_table(runs_table(rows, self.param_types), self.out_dir / RUNS_DIR / name)
        self._rows, self._series = [], []
        return len(rows)


def runs_table(rows: Sequence[Mapping[str, Any]],
               param_types: Mapping[str, pa.DataType]) -> pa.Table:
    """Rows of finished runs -> an Arrow table with the fixed column types."""
    cols: dict[str, pa.Array] = {
        "run_id": pa.array([r["run_id"] for r in rows], pa.int64()),
        "scenario": pa.array([r["scenario"] for r in rows], pa.string()),
        "point": pa.array([r["point"] for r in rows], pa.int64()),
        "replicate": pa.array([r["replicate"] for r in rows], pa.int64()),
        "seed": pa.array([r["seed"] for r in rows], pa.int64()),
        "status": pa.array([r["status"] for r in rows], pa.string()),
        "error": pa.array([r["error"] for r in rows], pa.string()),
    }
    for name, typ in param_types.items():
        cols[name] = pa.array([r["params"].get(name) for r in rows], typ)
    outputs: list[str] = []
    for r in rows:
        outputs.extend(k for k in r["outputs"] if k not in outputs)
    for name in outputs:
        if name in cols:
            raise ValueError(f"output {name!r} has the name of a parameter or id column")
        cols[name] = pa.array([_as_float(r["outputs"].get(name)) for r in rows], pa.float64())
    return pa.table(cols)


def timeseries_table(ts: pd.DataFrame) -> pa.Table:
    """Per-month rows -> Arrow: ``run_id`` and ``month`` as int64, measures as float64."""
    cols = {"run_id": pa.array(ts["run_id"].to_numpy("int64")),
            "month": pa.array(ts["month"].to_numpy("int64"))}
    for name in ts.columns:
        if name not in cols:
            cols[name] = pa.array(ts[name].to_numpy("float64", na_value=float("nan")))
    return pa.table(cols)


def _as_float(value: Any) -> float:
    if value is None:
        return float("nan")
    return float(value)


# --------------------------------------------------------------------------- reading


def _shards(out_dir: Path, sub: str) -> list[Path]:
    return sorted((Path(out_dir) / sub).glob("part-*.parquet"))


def completed_run_ids(out_dir: str | os.PathLike[str]) -> set[int]:
    """Run ids already stored (ok or failed); reads only the ``run_id`` column."""
    done: set[int] = set()
    for path in _shards(Path(out_dir), RUNS_DIR):
        done.update(pq.read_table(path, columns=["run_id"]).column(0).to_pylist())
    return done


def load_runs(out_dir: str | os.PathLike[str],
              columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The runs table: one row per stored run, sorted by ``run_id``.

    Columns: ``run_id, scenario, point, replicate, seed, status ("ok" | "failed"),
    error`` (message of a failed run, else null), the parameter values of the run
    spec, then the outputs (float64; NaN for failed runs).

    Args:
        out_dir: A results folder.
        columns: Only these columns (``run_id`` is always included).
    """
    paths = _shards(Path(out_dir), RUNS_DIR)
    if not paths:
        return pd.DataFrame(columns=list(ID_COLUMNS))
    want = None if columns is None else ["run_id", *[c for c in columns if c != "run_id"]]
    frames = []
    order: list[str] = []
    for path in paths:
        schema_names = pq.read_schema(path).names
        order.extend(c for c in schema_names if c not in order)
        cols = None if want is None else [c for c in want if c in schema_names]
        frames.append(pq.read_table(path, columns=cols).to_pandas())
    df = pd.concat(frames, ignore_index=True)
    if want is not None:
        order = [c for c in want]
    for col in order:
        if col not in df.columns:
            df[col] = float("nan")
    df = df[order].sort_values("run_id", kind="stable").reset_index(drop=True)
    return df


def iter_timeseries(out_dir: str | os.PathLike[str],
                    columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """Yield the timeseries table shard by shard (memory stays bounded by one shard).

    Args:
        out_dir: A results folder.
        columns: Measures to read besides ``run_id`` and ``month``.
    """
    for path in _shards(Path(out_dir), TIMESERIES_DIR):
        names = pq.read_schema(path).names
        cols = None if columns is None else ["run_id", "month",
                                             *[c for c in columns if c in names]]
        yield pq.read_table(path, columns=cols).to_pandas()


def load_timeseries(out_dir: str | os.PathLike[str], columns: Sequence[str] | None = None,
                    run_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The timeseries table: ``run_id, month`` and monthly measures, sorted by run and month.

    For large sweeps pass ``columns`` (and ``run_ids``), or use ``iter_timeseries``.
    """
    keep = None if run_ids is None else set(int(i) for i in run_ids)
    frames = []
    for df in iter_timeseries(out_dir, columns):
        if keep is not None:
            df = df[df["run_id"].isin(keep)]
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["run_id", "month", *(columns or [])])
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["run_id", "month"], kind="stable").reset_index(drop=True)


def load_specs(out_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Every run spec of the folder (done or not): ids, seed and parameter values."""
    return pd.read_parquet(Path(out_dir) / SPECS)


@dataclass(frozen=True)
class Results:
    """A results folder read back: the runs table, the manifest and lazy timeseries access."""

    out_dir: Path
    runs: pd.DataFrame
    manifest: dict[str, Any]

    def timeseries(self, columns: Sequence[str] | None = None,
                   run_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """The timeseries table (see ``load_timeseries``)."""
        return load_timeseries(self.out_dir, columns, run_ids)

    @property
    def failed(self) -> pd.DataFrame:
        """Failed runs: run id, scenario, point, replicate, seed and error."""
        return self.runs.loc[self.runs["status"] == "failed", list(ID_COLUMNS)]


def load_results(out_dir: str | os.PathLike[str]) -> Results:
    """Read a results folder: ``Results(runs, manifest)`` with ``.timeseries(...)``.

    Raises:
        InputError: the folder is not a partnersim results folder.
    """
    out = Path(out_dir)
    if not (out / MANIFEST).is_file():
        raise InputError("not a partnersim results folder (no manifest.json)", source=str(out))
    return Results(out, load_runs(out), read_manifest(out))


# --------------------------------------------------------------------------- manifest


def command_line(verb: str, *positional: str | os.PathLike[str], **flags: Any) -> str:
    """The ``partnersim`` command that reproduces a results folder, as a shell would take it
    (what manifests and reports record as ``command``). A flag of None is left out, True is a
    bare flag; ``chunk_size=8`` is ``--chunk-size 8``."""
    argv = ["partnersim", verb, *(str(p) for p in positional)]
    for name, value in flags.items():
        if value is None or value is False:
            continue
        argv.append("--" + name.replace("_", "-"))
        if value is not True:
            argv.append(str(value))
    return shlex.join(argv)


def now_utc() -> str:
    """The current time, ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def input_record(path: str | os.PathLike[str] | None,
                 text: str | None = None) -> dict[str, str | None]:
    """Provenance of an input file, as manifests record it: path, SHA-256 and full text.

    Args:
        path: The file (None for an input made in memory).
        text: The text as it was read (a scenario's or experiment's ``text``); default:
            read the file now. The hash is that of the text in UTF-8, the file's bytes.
    """
    if text is not None:
        data = text.encode("utf-8")
    elif path is not None:
        data = Path(path).read_bytes()
    else:
        raise ValueError("input_record needs the path or the text")
    return {"path": None if path is None else str(path),
            "sha256": hashlib.sha256(data).hexdigest(),
            "text": data.decode("utf-8", errors="replace")}


def source_hash() -> str:
    """SHA-256 of partnersim's own source and data files (``*.py``, ``*.toml`` in the
    package): which code made a results folder, even from an uncommitted or installed tree."""
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.toml")]):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def environment_record() -> dict[str, Any]:
    """Versions of Python, partnersim and its dependencies, the platform, the git commit and
    the hash of partnersim's source."""
    versions: dict[str, str | None] = {}
    for name in ("partnersim", *DEPENDENCIES):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),  # OS and architecture, no host name
        "packages": versions,
        "git": _git_record(),
        "source": source_hash(),
    }


def _git_record() -> dict[str, Any] | None:
    src = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=src, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=src, capture_output=True, text=True, timeout=5,
                               check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def write_manifest(out_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    path = Path(out_dir) / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def read_manifest(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``manifest.json``."""
    return json.loads((Path(out_dir) / MANIFEST).read_text())


def update_manifest(out_dir: str | os.PathLike[str], **changes: Any) -> dict[str, Any]:
    """Merge top-level keys into ``manifest.json`` and return the new manifest."""
    manifest = read_manifest(out_dir)
    manifest.update(changes)
    write_manifest(out_dir, manifest)
    return manifest


def write_specs(out_dir: str | os.PathLike[str], specs: Sequence[RunSpec],
                param_types: Mapping[str, pa.DataType]) -> None:
    """Write the table of all run specs (once, when a folder is created)."""
    _atomic_write_table(specs_table(specs, param_types), Path(out_dir) / SPECS)
