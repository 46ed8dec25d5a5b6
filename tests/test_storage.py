"""Results folders: refuse to overwrite, resume state, fixed column types, manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from partnersim.errors import InputError
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute
from partnersim.run.specs import RunSpec

WALK = "partnersim.study.testfunctions:random_walk"
SERIAL = RunOptions(executor="serial", progress=False)


def _specs(n: int = 4, volatility: float = 1.0) -> list[RunSpec]:
    return [RunSpec(run_id=i, seed=100 + i, params={"drift": 0.1 * i, "volatility": volatility})
            for i in range(n)]


def test_new_resume_refuse_and_overwrite(tmp_path):
    out = tmp_path / "res"
    assert storage.check_output_folder(out, fingerprint="a") == "new"
    execute(_specs(), out, SERIAL, model=WALK)
    fp = storage.read_manifest(out)["fingerprint"]
    assert storage.check_output_folder(out, fingerprint=fp) == "resume"
    with pytest.raises(InputError, match="different experiment.*--overwrite"):
        storage.check_output_folder(out, fingerprint="other")
    with pytest.raises(InputError, match="different experiment"):
        execute(_specs(volatility=2.0), out, SERIAL,
                model=WALK)
    assert storage.read_manifest(out)["fingerprint"] == fp  # untouched
    report = execute(_specs(volatility=2.0), out,
                     replace(SERIAL, overwrite=True), model=WALK)
    assert report.computed == 4 and report.resumed == 0
    assert storage.read_manifest(out)["fingerprint"] != fp


def test_refuses_files_and_foreign_folders(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        storage.check_output_folder(tmp_path / "file", fingerprint="a")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    for overwrite in (False, True):
        with pytest.raises(InputError, match="not a partnersim results folder"):
            storage.check_output_folder(tmp_path / "mine", fingerprint="a", overwrite=overwrite)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"


def test_resume_removes_leftovers_of_a_killed_session(tmp_path):
    out = tmp_path / "res"
    execute(_specs(), out, SERIAL, model=WALK)
    runs_shard = next((out / "runs").glob("part-*.parquet"))
    orphan = out / "timeseries" / "part-999999999999-deadbeef00.parquet"
    orphan.write_bytes((out / "timeseries" / runs_shard.name).read_bytes())
    (out / "runs" / "part-x.parquet.tmp").write_bytes(b"half a file")
    storage.open_output_folder(out, "resume")
    assert not orphan.exists()
    assert not list(out.rglob("*.tmp"))
    assert (out / "timeseries" / runs_shard.name).exists()


def test_column_types_are_fixed():
    rows = [
        {"run_id": 1, "scenario": "s", "point": 0, "replicate": 1, "seed": 2**62, "status": "ok",
         "error": None, "params": {"n": 3, "flag": True, "mode": "a", "x": 1},
         "outputs": {"b": True, "i": 7, "none": None}},
        {"run_id": 0, "scenario": "s", "point": 0, "replicate": 0, "seed": 5,
         "status": "failed", "error": "ValueError: no", "params": {"n": 4, "flag": False,
                                                                  "mode": "b", "x": 0.5},
         "outputs": {}},
    ]
    specs_values = {"n": [3, 4], "flag": [True, False], "mode": ["a", "b"], "x": [1, 0.5]}
    types = {k: storage.arrow_type_of(v) for k, v in specs_values.items()}
    assert types == {"n": pa.int64(), "flag": pa.bool_(), "mode": pa.string(),
                     "x": pa.float64()}
    table = storage.runs_table(rows, types)
    schema = dict(zip(table.schema.names, table.schema.types, strict=True))
    assert schema["seed"] == pa.int64() and schema["b"] == pa.float64()
    assert schema["i"] == pa.float64() and schema["none"] == pa.float64()
    df = table.to_pandas()
    assert df.loc[0, "b"] == 1.0 and np.isnan(df.loc[1, "b"]) and np.isnan(df.loc[0, "none"])
    assert int(df.loc[0, "seed"]) == 2**62  # 63-bit seeds survive


def test_load_runs_sorts_and_selects_columns(tmp_path):
    out = tmp_path / "res"
    execute(_specs(12), out,
            RunOptions(workers=2, chunk_size=1, progress=False), model=WALK)
    runs = storage.load_runs(out)
    assert list(runs["run_id"]) == list(range(12))
    assert list(runs.columns[:7]) == list(storage.ID_COLUMNS)
    assert list(runs.columns[7:9]) == ["drift", "volatility"]
    some = storage.load_runs(out, columns=["y_end", "seed"])
    assert list(some.columns) == ["run_id", "y_end", "seed"]
    ts = storage.load_timeseries(out, columns=["y"], run_ids=[3, 4])
    assert set(ts["run_id"]) == {3, 4} and list(ts.columns) == ["run_id", "month", "y"]
    chunks = list(storage.iter_timeseries(out, ["y"]))
    assert sum(len(c) for c in chunks) == 12 * 24
    res = storage.load_results(out)
    assert res.failed.empty and len(res.timeseries()) == 12 * 24
    specs = storage.load_specs(out)
    assert list(specs["seed"]) == [100 + i for i in range(12)]


def test_manifest_records_provenance(tmp_path):
    out = tmp_path / "res"
    src = tmp_path / "input.toml"
    src.write_text("a = 1\n")
    execute(_specs(), out, SERIAL, model=WALK,
            provenance={"inputs": [storage.input_record(src)], "command": "partnersim x"})
    m = storage.read_manifest(out)
    assert m["model"] == WALK and m["n_runs"] == 4 and m["complete"] is True
    assert m["seeds"] == [100, 101, 102, 103]
    assert m["inputs"][0]["text"] == "a = 1\n" and len(m["inputs"][0]["sha256"]) == 64
    env = m["environment"]
    assert env["packages"]["numpy"] and env["packages"]["SALib"] and env["python"]
    assert env["packages"]["numba"] and env["packages"]["llvmlite"]  # they compile the model
    assert "git" in env
    session = m["sessions"][0]
    assert session["start"] and session["end"] and session["executor"] == "serial"
    assert isinstance(session["argv"], list) and "command" not in session  # raw, not a command
    assert m["command"] == "partnersim x"
    json.dumps(m)  # plain JSON


def test_an_input_record_hashes_the_text_as_read(tmp_path):
    src = tmp_path / "input.toml"
    src.write_text("a = 'é'\n", encoding="utf-8")
    from_file = storage.input_record(src)
    assert from_file == storage.input_record(src, "a = 'é'\n")
    assert from_file["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert storage.input_record(None, "x = 1\n")["path"] is None  # made in memory


def test_load_results_refuses_a_foreign_folder(tmp_path):
    with pytest.raises(InputError, match="not a partnersim results folder"):
        storage.load_results(tmp_path)


def test_write_and_read_derived_tables(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    path = storage.write_table(tmp_path, "indices", df)
    assert path.name == "indices.parquet"
    pd.testing.assert_frame_equal(storage.read_table(tmp_path, "indices"), df)


def test_refuses_a_folder_under_a_file_before_writing(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot write here"):
        execute(_specs(), tmp_path / "file" / "res",
                SERIAL, model=WALK)
    assert (tmp_path / "file").read_text() == "x"


def test_command_line_is_what_a_shell_takes():
    line = storage.command_line("run", "my scenario.toml", out="results/x", replicates=None,
                                chunk_size=8, quick=True, overwrite=False)
    assert line == "partnersim run 'my scenario.toml' --out results/x --chunk-size 8 --quick"


def test_a_manifest_records_the_hash_of_the_source():
    record = storage.environment_record()
    assert record["source"] == storage.source_hash() and len(record["source"]) == 64
