"""The runner: same results from every executor, resume after kill -9, failures, flat memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from partnersim.errors import InputError
from partnersim.model import partnership
from partnersim.model.interventions import parse_interventions
from partnersim.params import make_params
from partnersim.run import runner, storage
from partnersim.run import specs as run_specs
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute
from partnersim.run.specs import RunSpec, run_one
from partnersim.seeding import replicate_seeds

WALK = "partnersim.study.testfunctions:random_walk"
SERIAL = RunOptions(executor="serial", progress=False)


def walk_specs(n_points: int = 30, replicates: int = 3, fail_above: float | None = 0.8,
               **extra: object) -> list[RunSpec]:
    """A small design over a stochastic model; points with drift > fail_above raise."""
    seeds = replicate_seeds(11, replicates)
    specs = []
    for p in range(n_points):
        params = {"drift": p / n_points, "volatility": 0.5 + (p % 3) * 0.25,
                  "fail_above": fail_above, **extra}
        for r, s in enumerate(seeds):
            specs.append(RunSpec(run_id=p * replicates + r, seed=s, params=params, point=p,
                                 replicate=r, scenario="walk"))
    return specs


def assert_identical(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns, dtypes and values; floats compared by their bits."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        assert a[col].dtype == b[col].dtype, col
        if x.dtype.kind == "f":
            assert np.array_equal(x.view("int64"), y.view("int64")), col
        else:
            assert list(x) == list(y), col


def tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return storage.load_runs(out), storage.load_timeseries(out)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = tmp_path_factory.mktemp("ref") / "serial"
    report = execute(walk_specs(), out, SERIAL, model=WALK)
    assert report.complete and report.failed > 0
    return tables(out)


def test_reference_holds_every_run_with_ids_seeds_and_series(reference):
    runs, ts = reference
    specs = walk_specs()
    assert list(runs["run_id"]) == [s.run_id for s in specs]
    assert list(runs["seed"]) == [s.seed for s in specs]
    assert runs["crossed"].dtype == "float64" and set(runs["crossed"].dropna()) <= {0.0, 1.0}
    ok = runs[runs["status"] == "ok"]
    assert len(ts) == 24 * len(ok)
    assert set(ts["run_id"]) == set(ok["run_id"])
    # replicate r has the same seed at every point (common random numbers)
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()


@pytest.mark.parametrize(("workers", "chunk_size"), [(2, 1), (2, 7), (1, 50)])
def test_process_pool_equals_serial_to_the_bit(reference, tmp_path, workers, chunk_size):
    out = tmp_path / "pool"
    report = execute(walk_specs(), out,
                     RunOptions(workers=workers, chunk_size=chunk_size, progress=False),
                     model=WALK)
    assert report.workers == workers and report.chunk_size == chunk_size
    runs, ts = tables(out)
    assert_identical(runs, reference[0])
    assert_identical(ts, reference[1])


def test_serial_chunk_size_does_not_change_results(reference, tmp_path):
    out = tmp_path / "s"
    execute(walk_specs(), out, replace(SERIAL, chunk_size=4),
            model=WALK)
    for got, want in zip(tables(out), reference, strict=True):
        assert_identical(got, want)


def test_dask_local_cluster_equals_serial_to_the_bit(reference, tmp_path):
    import distributed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        report = execute(walk_specs(), tmp_path / "dask",
                         RunOptions(scheduler=cluster.scheduler_address, chunk_size=5,
                                    progress=False),
                         model=WALK)
    assert report.executor == "dask" and report.workers == 2
    runs, ts = tables(tmp_path / "dask")
    assert_identical(runs, reference[0])
    assert_identical(ts, reference[1])


def test_a_cluster_whose_runs_could_not_run_or_would_differ_is_refused(tmp_path, monkeypatch):
    # no worker: a study had waited silently for ever; a worker on other code: its runs
    # had differed unseen. Both refused in one line before the folder is made.
    import distributed

    from partnersim.run.executors import dask as dask_executor

    monkeypatch.setattr(dask_executor, "WAIT_FOR_WORKERS", 1.0)
    out = tmp_path / "never"
    with distributed.LocalCluster(n_workers=0, processes=True,
                                  dashboard_address=None) as cluster:
        with pytest.raises(InputError, match=r"--scheduler: the Dask scheduler at .* has no "
                                             r"workers \(waited 1 s\)"):
            execute(walk_specs(2, 1), out, RunOptions(scheduler=cluster.scheduler_address),
                    model=WALK)
        cluster.scale(1)
        monkeypatch.setattr(dask_executor, "WAIT_FOR_WORKERS", 120.0)  # for it to start
        # the workers hash their own source; this process pretends its code differs
        monkeypatch.setattr(dask_executor, "source_hash", lambda: "another checkout")
        with pytest.raises(InputError, match=r"the Dask worker tcp://\S+ runs other "
                                             r"partnersim code than this checkout's"):
            execute(walk_specs(2, 1), out, RunOptions(scheduler=cluster.scheduler_address),
                    model=WALK)
    assert not out.exists()


def test_a_folder_another_study_is_writing_is_refused(tmp_path):
    # two studies on one folder at once had stored every run twice
    out = tmp_path / "out"
    specs = walk_specs(2, 1)
    held = storage.lock_output_folder(out)  # as a study that is running holds it
    with pytest.raises(InputError, match="another partnersim study is writing this folder"):
        execute(specs, out, RunOptions(executor="serial", progress=False), model=WALK)
    assert list(out.iterdir()) == []
    storage.unlock_output_folder(held)
    assert execute(specs, out, RunOptions(executor="serial", progress=False),
                   model=WALK).complete
    # the lock goes with the study: a rerun, and one that replaces it, go ahead
    assert execute(specs, out, RunOptions(executor="serial", progress=False,
                                          overwrite=True), model=WALK).computed == len(specs)


def test_failing_runs_are_recorded_with_seed_and_error_and_the_rest_go_on(reference):
    runs, _ = reference
    failed = runs[runs["status"] == "failed"]
    specs = {s.run_id: s for s in walk_specs()}
    expected = {i for i, s in specs.items() if s.params["drift"] > 0.8}
    assert set(failed["run_id"]) == expected
    assert failed["error"].str.startswith("ValueError: drift").all()
    assert failed["y_end"].isna().all()
    assert list(failed["seed"]) == [specs[i].seed for i in failed["run_id"]]
    assert runs.loc[runs["status"] == "ok", "error"].isna().all()
    assert runs.loc[runs["status"] == "ok", "y_end"].notna().all()


def test_report_counts_failures_and_is_not_ok(tmp_path):
    report = execute(walk_specs(10, 1, fail_above=0.5), tmp_path / "r",
                     SERIAL, model=WALK)
    assert report.total == 10 and report.computed == 10 and report.failed == 4
    assert not report.ok and report.complete
    assert all(f["error"].startswith("ValueError") for f in report.failures)
    assert "4 run(s) failed" in report.summary()


def test_rerun_of_complete_folder_computes_nothing(tmp_path):
    out = tmp_path / "r"
    execute(walk_specs(5, 2), out, SERIAL, model=WALK)
    again = execute(walk_specs(5, 2), out, SERIAL,
                    model=WALK)
    assert again.resumed == 10 and again.computed == 0
    assert len(storage.read_manifest(out)["sessions"]) == 2


def test_deleted_shards_are_recomputed_identically(reference, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "FLUSH_RUNS", 10)
    out = tmp_path / "r"
    execute(walk_specs(), out, replace(SERIAL, chunk_size=5),
            model=WALK)
    shards = sorted((out / "runs").glob("part-*.parquet"))
    assert len(shards) >= 5
    removed = 0
    for path in shards[1::2]:
        removed += len(pd.read_parquet(path))
        path.unlink()  # its timeseries twin is now an orphan: removed on resume
    report = execute(walk_specs(), out,
                     RunOptions(workers=2, progress=False), model=WALK)
    assert report.computed == removed and report.resumed == 90 - removed
    for got, want in zip(tables(out), reference, strict=True):
        assert_identical(got, want)


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from partnersim.run import runner
    from partnersim.run.options import RunOptions
    sys.path.insert(0, {tests!r})
    from test_runner import WALK, walk_specs

    if __name__ == "__main__":  # workers import this script
        runner.FLUSH_RUNS = 4
        runner.execute(walk_specs(delay=0.05), sys.argv[1],
                       RunOptions(workers=2, chunk_size=2, progress=False),
                       model=WALK)
""")


def test_resume_after_kill_minus_9_gives_identical_results(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(KILL_SCRIPT.format(tests=str(Path(__file__).parent)))
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), str(out)], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "runs").glob("part-*.parquet"))) < 2:
            assert proc.poll() is None, "the sweep finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, at once
        proc.wait()
    stored = len(storage.completed_run_ids(out))
    assert 0 < stored < 90
    report = execute(walk_specs(delay=0.05), out,
                     RunOptions(workers=2, progress=False), model=WALK)
    assert report.resumed == stored and report.computed == 90 - stored

    clean = tmp_path / "clean"
    execute(walk_specs(delay=0.05), clean,
            RunOptions(workers=2, chunk_size=7, progress=False), model=WALK)
    for got, want in zip(tables(out), tables(clean), strict=True):
        assert_identical(got, want)
    assert not list(out.rglob("*.tmp"))


def test_a_dead_worker_leaves_its_runs_missing_and_a_rerun_completes_them(tmp_path):
    marker = tmp_path / "die"
    marker.touch()
    specs = [RunSpec(run_id=i, seed=i, params={"x1": i / 10, "path": str(marker)})
             for i in range(6)]
    model = "partnersim.study.testfunctions:exits_while_file_exists"
    report = execute(specs, tmp_path / "r",
                     RunOptions(workers=1, chunk_size=1, progress=False),
                     model=model)
    assert report.lost > 0 and not report.complete and not report.ok
    assert "run the same command again" in report.summary()
    stored = storage.load_runs(tmp_path / "r")
    assert (stored["status"] == "ok").all()  # lost runs are not recorded as failed
    marker.unlink()
    again = execute(specs, tmp_path / "r",
                    RunOptions(workers=1, progress=False), model=model)
    assert again.complete and again.ok
    assert again.computed == report.lost


WORKER_START = """
import sys
from partnersim.run.executors.process import open_process_pool


def compiled_in_worker():
    from partnersim.model import stages
    return "partnersim.model.preload" in sys.modules, len(stages._meetings.signatures)


if __name__ == "__main__":
    pool = open_process_pool(1)
    preloaded, signatures = pool.executor.submit(compiled_in_worker).result()
    pool.close()
    print(preloaded, signatures)
"""


def test_pool_workers_start_with_the_compiled_model_loaded(tmp_path):
    """The forkserver loads partnersim's compiled kernels once (``model.preload``), so a
    worker forked from it has them before its first run (else each worker loads them,
    about 0.4 s). In a fresh interpreter: the forkserver is one per process."""
    script = tmp_path / "pool.py"
    script.write_text(WORKER_START)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "1"]


def test_results_stream_to_shards_with_bounded_buffers(tmp_path, monkeypatch):
    """Memory stays flat: finished runs leave memory in shards, tasks in flight are bounded."""
    monkeypatch.setattr(runner, "FLUSH_RUNS", 100)
    most_buffered = most_in_flight = 0
    real_add = storage.ShardWriter.add
    real_wait = runner.cf.wait

    def add(self, rows, ts):
        nonlocal most_buffered
        real_add(self, rows, ts)
        most_buffered = max(most_buffered, self.buffered)

    def wait(futures, **kwargs):
        nonlocal most_in_flight
        most_in_flight = max(most_in_flight, len(futures))
        return real_wait(futures, **kwargs)

    monkeypatch.setattr(storage.ShardWriter, "add", add)
    monkeypatch.setattr(runner.cf, "wait", wait)
    specs = [RunSpec(run_id=i, seed=i, params={"drift": 0.0, "volatility": 1.0})
             for i in range(3000)]
    report = execute(specs, tmp_path / "r",
                     replace(SERIAL, chunk_size=10), model=WALK)
    assert report.computed == 3000
    assert most_buffered <= 100 + 10
    assert most_in_flight <= 2
    shards = list((tmp_path / "r" / "runs").glob("part-*.parquet"))
    assert len(shards) >= 3000 // 110
    assert max(len(pd.read_parquet(p)) for p in shards) <= 110


@pytest.mark.parametrize(("options", "flag"), [
    ({"chunk_size": 0}, "--chunk-size"), ({"workers": 0}, "--workers"),
    ({"workers": 1.5}, "--workers"), ({"executor": "threads"}, "--executor"),
    ({"executor": "dask"}, "--scheduler"),
])
def test_run_options_name_the_flag_of_a_bad_value(options, flag):
    with pytest.raises(InputError, match=flag):
        RunOptions(**options)


def test_a_scheduler_implies_the_dask_executor():
    assert RunOptions(scheduler="tcp://127.0.0.1:1").executor == "dask"
    assert RunOptions().executor == "process" and RunOptions(workers=3).workers == 3


def test_bad_options_raise_input_error_before_writing(tmp_path):
    out = tmp_path / "never"
    specs = walk_specs(2, 1)
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        execute(specs, out, RunOptions(scheduler="tcp://127.0.0.1:1"), model=WALK)
    with pytest.raises(InputError, match="cannot import model"):
        execute(specs, out, model="partnersim.study.testfunctions:nope")
    with pytest.raises(InputError, match="appears twice"):
        execute([*specs, specs[0]], out, model=WALK)
    assert not out.exists()


def test_run_one_never_raises_and_describes_the_error():
    row, ts = run_specs.run_one(RunSpec(0, 1, {"x1": 0.95, "x2": 0.0}),
                             "partnersim.study.testfunctions:always_fails_above")
    assert row["status"] == "failed" and ts is None
    assert row["error"].startswith("ValueError: x1=0.950 is above 0.9 [testfunctions.py:")


def _text_output(*, seed: int) -> dict[str, object]:
    return {"a": 1.0, "label": "text"}


def test_outputs_that_are_not_numbers_fail_the_run():
    row, _ = run_specs.run_one(RunSpec(0, 1, {}), _text_output)
    assert row["status"] == "failed"
    assert row["error"].startswith("TypeError: output 'label' is str, not a number")


def test_partnersim_model_is_the_default(tmp_path):
    seeds = replicate_seeds(5, 2)
    specs = [RunSpec(run_id=i, seed=s, params={"n_staff": 40, "horizon_months": 24},
                     replicate=i) for i, s in enumerate(seeds)]
    report = execute(specs, tmp_path / "ps", SERIAL,
                     measures=["trust_across"])
    assert report.ok
    runs, ts = tables(tmp_path / "ps")
    assert "cumulative_output" in runs.columns and list(runs["n_staff"]) == [40, 40]
    assert list(ts.columns) == ["run_id", "month", "trust_across"] and len(ts) == 48
    assert storage.read_manifest(tmp_path / "ps")["model"] == run_specs.PARTNERSIM_MODEL


def test_resuming_with_other_code_is_noted(tmp_path):
    out = tmp_path / "r"
    execute(walk_specs(3, 1), out, SERIAL, model=WALK)
    manifest = storage.read_manifest(out)
    manifest["environment"]["git"] = {"commit": "0" * 40, "dirty": False}
    manifest["environment"]["source"] = "1" * 64  # e.g. an edit not yet committed
    storage.write_manifest(out, manifest)
    again = execute(walk_specs(3, 1), out, SERIAL,
                    model=WALK)
    assert any("git commit" in n for n in again.notes)
    assert any("source has changed" in n for n in again.notes)
    assert "note: resumed at git commit" in again.summary()


def _clashing_output(*, x1: float, seed: int) -> dict[str, float]:
    return {"x1": x1}


def test_an_output_named_like_a_parameter_fails_the_run():
    row, _ = run_specs.run_one(RunSpec(0, 1, {"x1": 0.5}), _clashing_output)
    assert row["status"] == "failed" and "has the name of a parameter" in row["error"]


INTERRUPT_SCRIPT = textwrap.dedent("""
    import sys
    from partnersim.run import runner
    from partnersim.run.options import RunOptions
    sys.path.insert(0, {tests!r})
    from test_runner import WALK, walk_specs

    if __name__ == "__main__":
        runner.FLUSH_SECONDS = 0.2
        runner.execute(walk_specs(delay=0.05), sys.argv[1],
                       RunOptions(workers=2, chunk_size=3, progress=False),
                       model=WALK)
""")


def test_ctrl_c_stops_at_once_keeps_finished_runs_and_resumes(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(INTERRUPT_SCRIPT.format(tests=str(Path(__file__).parent)))
    out = tmp_path / "interrupted"
    proc = subprocess.Popen([sys.executable, str(script), str(out)], start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((out / "runs").glob("part-*.parquet")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    started = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 5  # running chunks are dropped, not awaited
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    stored = len(storage.completed_run_ids(out))
    assert 0 < stored < 90
    report = execute(walk_specs(delay=0.05), out,
                     RunOptions(workers=2, progress=False), model=WALK)
    assert report.resumed == stored and report.complete
    clean = tmp_path / "clean"
    execute(walk_specs(delay=0.05), clean,
            RunOptions(workers=2, chunk_size=4, progress=False), model=WALK)
    for got, want in zip(tables(out), tables(clean), strict=True):
        assert_identical(got, want)


def test_an_unguarded_script_is_told_what_to_do_and_its_folder_is_left_alone(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from partnersim.run.options import RunOptions
        from partnersim.run.runner import execute
        from partnersim.run.specs import RunSpec
        specs = [RunSpec(i, i, {{"drift": 0.1, "volatility": 1.0}}) for i in range(4)]
        report = execute(specs, {str(tmp_path / "res")!r}, RunOptions(workers=2, progress=False),
                         model={WALK!r})
        print(report.summary())
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert 'put the call under \'if __name__ == "__main__":\'' in done.stderr
    assert "4 run(s) lost" in done.stdout and "if __name__" in done.stdout
    assert storage.completed_run_ids(tmp_path / "res") == set()


def test_validated_params_and_parsed_interventions_reach_the_model_unparsed(monkeypatch):
    params = make_params({"horizon_months": 12})
    ivs = parse_interventions([{"kind": "budget_cut", "month": 2}], horizon_months=12)
    spec = RunSpec(run_id=0, seed=5, params=params, interventions=ivs)

    def validated_again(*args, **kwargs):
        raise AssertionError("validated again")

    monkeypatch.setattr(partnership, "make_params", validated_again)
    monkeypatch.setattr(partnership, "parse_interventions", validated_again)
    row, ts = run_one(spec)
    assert row["status"] == "ok", row["error"]
    assert row["params"] == params.model_dump() == spec.values
    assert len(ts) == 12


def two_series(x: float, *, seed: int = 0) -> dict[str, object]:
    """A model with two monthly series (for the measures filter)."""
    return {"end": x, "up": np.arange(4) * x, "down": -np.arange(4) * x}


def test_measures_are_kept_for_any_model(tmp_path):
    specs = [RunSpec(run_id=i, seed=i, params={"x": float(i)}) for i in range(2)]
    report = execute(specs, tmp_path / "w", SERIAL, model=two_series, measures=["down"])
    assert report.ok
    _, ts = tables(tmp_path / "w")
    assert list(ts.columns) == ["run_id", "month", "down"]
    assert ts["down"].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, -1.0, -2.0, -3.0]
    bad = execute(specs, tmp_path / "bad", SERIAL, model=two_series, measures=["sideways"])
    assert bad.failed == 2 and "no monthly sideways" in bad.failures[0]["error"]
