"""Reference results: a run, a compare, a sweep, a sensitivity study and validate, hashed.

A refactoring that must not change behaviour is checked against this record:

    python scripts/reference_results.py --check   # exit 1 and name what differs
    python scripts/reference_results.py --write   # record the current results (on purpose)

Every verb is called as a user calls it (``partnersim.cli.main``) on small inputs
written here, and every data table it writes is hashed column by column
(``pandas.util.hash_pandas_object``: values and row order, to the bit). Manifests,
figures and reports are left out: they hold dates, versions and file paths.
The record is ``tests/golden/reference.json``, with the environment it was written in
(library versions and CPU extensions can move a last bit); ``tests/test_reference.py`` runs
the check.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests" / "golden" / "reference.json"

SCENARIO = """\
name = "short"
replicates = 2
seed = 20261126
[params]
horizon_months = 36
"""

SWEEP = """\
name = "ref_sweep"
scenario = "short.toml"
design = "grid"
replicates = 2
seed = 7
outputs = ["cumulative_output", "trust_across_final"]
measures = ["trust_across", "output"]
[vary]
relationship_time = { values = [0.05, 0.25] }
capacity_budget = { values = [0.0, 20.0] }
"""

SENSITIVITY = """\
name = "ref_sobol"
scenario = "short.toml"
design = "sobol"
sample_size = 8
replicates = 1
seed = 11
outputs = ["cumulative_output", "trust_across_final"]
measures = ["trust_across"]
[vary]
relationship_time = {}
leadership = {}
resources = {}
[options]
num_resamples = 50
period_months = 12
"""

RENAMED: dict[str, dict[str, str]] = {
    # issue 11: one name per concept (the policy lever keeps the parameter's name)
    "timeseries": {"relationship_time": "relationship_time_spent",
                   "leadership": "effective_leadership",
                   "small_wins_total": "small_wins_cumulative",  # the end-of-run output's name
                   "leader_presence": "chair_presence"},  # the chair is "chair" everywhere
    "runs": {"leader_recovery_months": "chair_recovery_months"},
    "specs": {"leader_recovery_months": "chair_recovery_months"},
    # issue 11: a comparison compares end-of-run outputs
    "differences": {"measure": "output"},
}
"""Columns renamed on purpose since the record was written: table (its file name without
the extension; ``timeseries`` covers both the consolidated table and its shards) -> old
column name -> new name. The check compares the old column's hash with the new column's."""


def _renamed(table: str) -> dict[str, str]:
    return RENAMED.get(table.split(".")[0].removesuffix("/*"), {})


def environment() -> dict[str, str]:
    """What can move a result's last bit: library versions and the CPU's vector extensions."""
    import numba
    import numpy as np
    import pyarrow

    simd = np._core._multiarray_umath.__cpu_features__  # what numpy dispatches on
    return {"python": sys.version.split()[0], "numpy": np.__version__, "numba": numba.__version__,
            "pandas": pd.__version__, "pyarrow": pyarrow.__version__,
            "cpu": " ".join(sorted(k for k, on in simd.items() if on and k.startswith("AVX512")))
            or "no AVX-512"}


def column_hashes(df: pd.DataFrame) -> dict[str, str]:
    """SHA-256 of each column's values, in row order."""
    out = {}
    for name in df.columns:
        values = pd.util.hash_pandas_object(df[name], index=False).to_numpy()
        out[str(name)] = hashlib.sha256(values.tobytes()).hexdigest()[:16]
    return out


def _shards(folder: Path) -> pd.DataFrame:
    """A folder of run shards as one table, in run (and month) order."""
    df = pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])
    keys = [k for k in ("run_id", "month") if k in df.columns]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def _tables(folder: Path) -> dict[str, dict[str, str]]:
    """Every data table in a results folder (Parquet, CSV, JSON), hashed.

    Run shards count only where no consolidated table of the same rows exists.
    """
    tables = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() and path.name in ("runs", "timeseries"):
            if not path.with_suffix(".parquet").exists():
                tables[rel + "/*.parquet"] = column_hashes(_shards(path))
        elif path.parent.name in ("runs", "timeseries") or path.name == "manifest.json":
            continue
        elif path.suffix == ".parquet":
            tables[rel] = column_hashes(pd.read_parquet(path))
        elif path.suffix == ".csv":
            tables[rel] = column_hashes(pd.read_csv(path))
        elif path.suffix == ".json":
            text = json.dumps(json.loads(path.read_text()), sort_keys=True)
            tables[rel] = {"text": hashlib.sha256(text.encode()).hexdigest()[:16]}
    return tables


def produce(work: Path) -> dict[str, dict[str, dict[str, str]]]:
    """Run every verb on the reference inputs in ``work`` and hash what each wrote."""
    from partnersim.cli import main

    (work / "short.toml").write_text(SCENARIO)
    (work / "sweep.toml").write_text(SWEEP)
    (work / "sobol.toml").write_text(SENSITIVITY)
    scenarios = ROOT / "scenarios"
    common = ["--workers", "2", "--no-progress"]
    commands = {
        "run": ["run", str(scenarios / "baseline.toml"), "--replicates", "3",
                "--out", str(work / "run"), *common],
        "compare": ["compare", str(scenarios / "baseline.toml"),
                    str(scenarios / "ground_rules.toml"), "--replicates", "3",
                    "--out", str(work / "compare"), *common],
        "sweep": ["sweep", str(work / "sweep.toml"), "--out", str(work / "sweep"),
                  "--no-figures", *common],
        "sensitivity": ["sensitivity", str(work / "sobol.toml"),
                        "--out", str(work / "sensitivity"), "--no-figures", *common],
        "validate": ["validate", "--quick", "--patterns", "SF1,SF4,SF7",
                     "--out", str(work / "validate"), "--workers", "2"],
    }
    record = {}
    for verb, argv in commands.items():
        with contextlib.redirect_stdout(io.StringIO()):
            status = main(argv)
        if status != 0:
            raise SystemExit(f"reference_results: `partnersim {' '.join(argv)}` exited {status}")
        record[verb] = _tables(work / verb)
    return record


def differences(expected: dict, actual: dict) -> list[str]:
    """What the record holds that is missing or changed now, one line each (empty: identical).

    Tables and columns that are new are not differences: see ``additions``."""
    lines = []
    for verb, tables in expected.items():
        for table, columns in tables.items():
            got = actual.get(verb, {}).get(table)
            if got is None:
                lines.append(f"{verb}: {table} is missing")
                continue
            renamed = _renamed(table)
            for column, digest in columns.items():
                new = renamed.get(column, column)
                if new not in got:
                    lines.append(f"{verb}: {table}: column {column} is missing")
                elif got[new] != digest:
                    lines.append(f"{verb}: {table}: column {new} differs")
    return lines


def additions(expected: dict, actual: dict) -> list[str]:
    """Tables and columns written now that the record does not hold (not compared)."""
    lines = []
    for verb, tables in actual.items():
        for table, columns in tables.items():
            if table not in expected.get(verb, {}):
                lines.append(f"{verb}: new table {table}")
                continue
            known = {_renamed(table).get(c, c) for c in expected[verb][table]}
            lines += [f"{verb}: {table}: new column {c}" for c in columns if c not in known]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="compare with the record")
    action.add_argument("--write", action="store_true", help="replace the record")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        actual = produce(Path(tmp))
    if args.write:
        record = {"environment": environment(), "results": actual}
        RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"wrote {RECORD.relative_to(ROOT)}")
        return 0
    record = json.loads(RECORD.read_text())
    for line in additions(record["results"], actual):
        print(f"{line} (added since the record; not compared)")
    found = differences(record["results"], actual)
    for line in found:
        print(line)
    if found and record["environment"] != environment():
        print(f"recorded with {record['environment']}, running with {environment()}: "
              "another CPU or library version can move a last bit; if tests/test_golden.py "
              "passes, record this machine's results with --write before refactoring")
    print("reference results: identical" if not found else f"{len(found)} difference(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
