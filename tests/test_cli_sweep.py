"""``partnersim sweep`` and ``partnersim sensitivity`` through ``main([...])``, in-process."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from partnersim.cli import main
from partnersim.run import storage

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
PI = math.pi

ISHIGAMI = f"""
# Ishigami through the harness
model = "partnersim.study.testfunctions:ishigami"
design = "sobol"
sample_size = 64
seed = 5
outputs = ["y"]
[vary]
x1 = {{ range = [-{PI}, {PI}] }}
x2 = {{ range = [-{PI}, {PI}] }}
x3 = {{ range = [-{PI}, {PI}] }}
"""

GRID = """
# A grid over a stochastic model, with one failing corner
model = "partnersim.study.testfunctions:random_walk"
design = "grid"
replicates = 3
seed = 9
outputs = ["y_end", "y_max"]
measures = ["y"]
[params]
fail_above = FAIL
[vary]
drift = { values = [0.0, 0.5, 1.0] }
volatility = { range = [0.5, 1.5], levels = 2 }
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sweep_writes_runs_points_and_says_where(tmp_path, capsys):
    exp = write(tmp_path, GRID.replace("FAIL", "2.0"))
    out = tmp_path / "res"
    assert main(["sweep", str(exp), "--out", str(out), "--executor", "serial"]) == 0
    text = capsys.readouterr().out
    assert f"18/18 runs stored in {out}" in text
    assert f"points:       {out / 'points.parquet'}" in text
    runs = storage.load_runs(out)
    assert len(runs) == 18 and (runs["status"] == "ok").all()
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 6 and points["runs_ok"].eq(3).all()
    assert len(storage.load_timeseries(out)) == 18 * 24
    assert (out / "figures" / "sweep_y_end.png").stat().st_size > 1000
    manifest = storage.read_manifest(out)
    assert manifest["inputs"][0]["text"].startswith("\n# A grid")
    assert manifest["command"].startswith("partnersim sweep ")


def test_sweep_reports_failures_and_exits_non_zero(tmp_path, capsys):
    exp = write(tmp_path, GRID.replace("FAIL", "0.7"))
    assert main(["sweep", str(exp), "--out", str(tmp_path / "r"), "--executor", "serial",
                 "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "6 run(s) failed" in captured.out
    assert "ValueError: drift 1.000 is above 0.7" in captured.out
    assert "6 run(s) failed" in captured.err


def test_sensitivity_prints_indices_and_writes_tables_and_figures(tmp_path, capsys):
    exp = write(tmp_path, ISHIGAMI)
    out = tmp_path / "res"
    assert main(["sensitivity", str(exp), "--out", str(out), "--workers", "2",
                 "--chunk-size", "16"]) == 0
    text = capsys.readouterr().out
    assert "y [sobol]" in text and "x2" in text and "ST" in text
    for name in ("indices", "noise", "convergence", "verdicts", "design"):
        assert (out / f"{name}.parquet").is_file()
    assert any((out / "figures").glob("indices_y_sobol.png"))


def test_same_command_resumes_and_a_different_experiment_is_refused(tmp_path, capsys):
    exp = write(tmp_path, ISHIGAMI)
    out = tmp_path / "res"
    argv = ["sensitivity", str(exp), "--out", str(out), "--executor", "serial", "--no-figures"]
    assert main(argv) == 0
    assert main(argv) == 0
    assert "0 computed now, 320 resumed" in capsys.readouterr().out
    assert main([*argv, "--sample-size", "128"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds results of a different experiment" in err
    assert main([*argv, "--sample-size", "128", "--overwrite"]) == 0
    assert len(storage.load_runs(out)) == 128 * 5


def test_overrides_change_the_design(tmp_path, capsys):
    exp = write(tmp_path, GRID.replace("FAIL", "2.0"))
    out = tmp_path / "res"
    assert main(["sweep", str(exp), "--out", str(out), "--executor", "serial",
                 "--replicates", "1", "--seed", "3"]) == 0
    runs = storage.load_runs(out)
    assert len(runs) == 6 and runs["replicate"].eq(0).all()
    assert storage.read_manifest(out)["experiment"]["seed"] == 3


def test_partnersim_sweep_over_a_small_partnership(tmp_path, capsys):
    exp = write(tmp_path, f"""
        scenario = "{ROOT / 'scenarios' / 'ground_rules.toml'}"
        design = "latin"
        sample_size = 6
        replicates = 2
        outputs = ["trust_across_final"]
        measures = ["trust_across"]
        [params]
        n_staff = 40
        horizon_months = 24
        [vary]
        relationship_time = {{}}
        decision_rule = {{}}
    """)
    out = tmp_path / "res"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "2"]) == 0
    runs = storage.load_runs(out)
    assert len(runs) == 12 and (runs["status"] == "ok").all()
    assert set(runs["decision_rule"]) <= {"majority", "supermajority", "consensus"}
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()
    assert len(storage.load_timeseries(out)) == 12 * 24
    assert storage.load_specs(out)["interventions"].str.contains("ground_rules").all()


@pytest.mark.slow
def test_shipped_sobol_study_runs_partnersim_at_a_tiny_size(tmp_path, capsys):
    out = tmp_path / "sobol"
    code = main(["sensitivity", str(EXPERIMENTS / "sobol_relationship_time.toml"), "--out",
                 str(out), "--sample-size", "2", "--replicates", "2", "--no-figures",
                 "--workers", "2"])
    assert code == 0
    runs = storage.load_runs(out)
    assert len(runs) == 2 * 10 * 2 and (runs["status"] == "ok").all()
    assert {"cumulative_output", "trust_across_final"} <= set(runs.columns)
    ts = storage.load_timeseries(out)
    assert list(ts.columns) == ["run_id", "month", "trust_across", "output", "health_effect"]
    indices = pd.read_parquet(out / "indices.parquet")
    assert set(indices["output"]) == {"cumulative_output", "output_vs_alone",
                                      "trust_across_final", "health_effect_final"}
    assert "noise" in capsys.readouterr().out


BAD = [
    ("vary_typo", 'design = "sobol"\nsample_size = 8\n[vary]\nrelationship_tme = {}', [],
     "vary.relationship_tme: unknown parameter (did you mean 'relationship_time'?)"),
    ("out_of_bounds", 'design = "sobol"\nsample_size = 8\n[vary]\n'
     'relationship_time = { range = [0.1, 0.9] }', [],
     "vary.relationship_time.range: range [0.1, 0.9] is outside the declared bounds"),
    ("unsupported_design", 'design = "hdmr"\n[vary]\nleadership = {}', [],
     "design: design 'hdmr' is not supported"),
    ("sample_size", 'design = "sobol"\nsample_size = 100\n[vary]\nleadership = {}', [],
     "sample_size: sample size 100 cannot be used: sobol needs a power of 2"),
    ("sample_size_override", 'design = "fast"\n[vary]\nleadership = {}',
     ["--sample-size", "20"], "--sample-size: sample size 20 cannot be used: fast (eFAST) "
     "with M=4 needs more than 4*M^2 = 64"),
    ("scheduler", 'design = "sobol"\nsample_size = 8\n[vary]\nleadership = {}',
     ["--scheduler", "tcp://127.0.0.1:9"], "--scheduler: cannot reach the Dask scheduler at "
     "tcp://127.0.0.1:9"),
    # not a transport of distributed: refused before a client is made (one that failed to
    # open hung for 40 s when the interpreter exited, printing a traceback)
    ("scheduler_scheme", 'design = "sobol"\nsample_size = 8\n[vary]\nleadership = {}',
     ["--scheduler", "http://x"], "--scheduler: expected a scheduler address like "
     "tcp://host:8786"),
    ("grid_sensitivity", 'design = "grid"\n[vary]\nleadership = {}', [],
     "design: a grid has no sensitivity indices; run it with 'partnersim sweep'"),
]


@pytest.mark.parametrize(("case", "text", "extra", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, case, text, extra,
                                                   message):
    exp = write(tmp_path, text, f"{case}.toml")
    out = tmp_path / "never"
    code = main(["sensitivity", str(exp), "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("partnersim: error: ")
    assert message in captured.err
    if not message.startswith("--"):
        assert str(exp) in captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists()


def test_missing_experiment_file(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "x")]) == 2
    assert "nope.toml: experiment file not found" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_sweep_on_a_dask_cluster_matches_the_serial_sweep(tmp_path, capsys):
    import distributed
    exp = write(tmp_path, GRID.replace("FAIL", "2.0"))
    assert main(["sweep", str(exp), "--out", str(tmp_path / "serial"), "--executor",
                 "serial", "--no-figures"]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert main(["sweep", str(exp), "--out", str(tmp_path / "dask"), "--scheduler",
                     cluster.scheduler_address, "--no-figures"]) == 0
    assert "dask, 2 worker(s)" in capsys.readouterr().out
    for load in (storage.load_runs, storage.load_timeseries):
        a, b = load(tmp_path / "serial"), load(tmp_path / "dask")
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for k in map(int, kids):
            if k not in found:
                found.add(k)
                todo.append(k)
    return found


def test_kill_stops_a_sweep_and_its_workers_and_the_rerun_resumes(tmp_path):
    # `kill PID` (SIGTERM to the command alone, not its process group) must not leave the
    # pool's server and workers running; the finished runs stay, and the rerun resumes
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "partnersim.cli", "sweep", "grid_time_vs_resources",
               "--replicates", "6", "--workers", "2", "--no-progress", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(_descendants(proc.pid)) < 4:  # the resource tracker, the server, two workers
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # some runs under way
    below = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert err.startswith("partnersim: stopped (SIGTERM); finished runs are kept")
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() for p in below):
        assert time.monotonic() < deadline, "workers outlived the killed sweep"
        time.sleep(0.1)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(storage.completed_run_ids(out)) == 45 * 6
