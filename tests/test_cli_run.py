"""`partnersim run` and `partnersim compare` in-process: results folders, refusals, bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from partnersim import outputs
from partnersim.api import load_results
from partnersim.cli import main
from partnersim.params import PARAMETERS
from partnersim.seeding import replicate_seeds

SMALL = """# Question: a small partnership for tests
name = "small"
question = "How does a small partnership fare?"
replicates = 3
seed = 7

[params]
horizon_months = 24
n_staff = 60
joint_chair = true
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --------------------------------------------------------------------------- run


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory):
    """One real run through the default executor (process pool, 2 workers)."""
    folder = tmp_path_factory.mktemp("run")
    path = folder / "small.toml"
    path.write_text(SMALL)
    out = folder / "out"
    import contextlib
    import io

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(["run", str(path), "--out", str(out), "--workers", "2", "--no-progress"])
    return rc, stdout.getvalue(), out, path


def test_run_writes_the_results_folder(ran) -> None:
    rc, text, out, _ = ran
    assert rc == 0
    for name in ("runs.parquet", "timeseries.parquet", "manifest.json",
                 "figures/trajectories.png", "figures/distributions.png"):
        assert (out / name).is_file(), name
        assert str(out / name) in text, f"the command says where {name} went"
    assert "cumulative_output" in text  # the summary table


def test_runs_table_has_one_row_per_run_with_typed_columns(ran) -> None:
    _, _, out, _ = ran
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 3
    assert runs["seed"].tolist() == replicate_seeds(7, 3)
    assert runs["replicate"].tolist() == [0, 1, 2]
    assert (runs["status"] == "ok").all()
    assert runs["seed"].dtype == "int64" and runs["run_id"].dtype == "int64"
    assert pd.api.types.is_string_dtype(runs["scenario"])
    # every parameter is a column of its declared type
    for name, spec in PARAMETERS.items():
        col = runs[name]
        if spec.type == "int":
            assert col.dtype == "int64", name
        elif spec.type == "float":
            assert col.dtype == "float64", name
        elif spec.type == "bool":
            assert col.dtype == "bool", name
        else:
            assert pd.api.types.is_string_dtype(col), name
    assert runs["n_staff"].eq(60).all() and runs["joint_chair"].all()
    for m in outputs.SUMMARIES:
        assert runs[m].dtype == "float64", m
    assert runs["cost_total"].dtype == "float64"


def test_timeseries_is_tidy(ran) -> None:
    _, _, out, _ = ran
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 3 * 24
    assert list(ts.columns[:5]) == ["run_id", "scenario", "replicate", "seed", "month"]
    assert ts.groupby("run_id")["month"].apply(list).map(lambda m: m == list(range(24))).all()
    assert ts["month"].dtype == "int64" and ts["seed"].dtype == "int64"
    for m in outputs.MONTHLY:
        assert ts[m].dtype == "float64", m
    # the timeseries agrees with the runs table on each run's seed
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(zip(ts["run_id"], ts["seed"], strict=True)) == set(
        zip(runs["run_id"], runs["seed"], strict=True))


def test_manifest_records_provenance(ran) -> None:
    _, _, out, path = ran
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert man["scenario"]["text"] == SMALL
    assert man["replicate_seeds"] == replicate_seeds(7, 3)
    assert man["command"].startswith("partnersim run ") and "command_line" not in man
    assert man["environment"]["packages"]["mesa"]
    assert "git" in man["environment"] and man["environment"]["python"]
    session = man["sessions"][-1]
    assert session["start"] and session["end"] and session["start"] <= session["end"]
    assert man["complete"] is True


def test_results_load_back_with_the_api(ran) -> None:
    _, _, out, _ = ran
    res = load_results(out)
    stored = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(res.runs, stored.drop(columns=["cost_total"]))
    assert len(res.timeseries(columns=["trust_across"])) == 3 * 24


def test_same_seeds_same_results_serial_equals_pool(ran, tmp_path: Path) -> None:
    _, _, out, path = ran
    assert main(["run", str(path), "--out", str(tmp_path / "serial"), "--executor", "serial",
                 "--replicates", "2", "--no-progress"]) == 0
    a = pd.read_parquet(out / "runs.parquet")
    b = pd.read_parquet(tmp_path / "serial" / "runs.parquet")
    # replicate i is the same run whatever the replicate count or executor
    pd.testing.assert_frame_equal(a.iloc[:2].reset_index(drop=True), b)


def test_run_refuses_to_overwrite_then_overwrites(scenario: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    args = ["run", str(scenario), "--out", str(out), "--executor", "serial", "--no-progress",
            "--replicates", "1"]
    assert main(args) == 0
    stamp = (out / "runs.parquet").stat().st_mtime_ns
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "--overwrite" in err
    assert (out / "runs.parquet").stat().st_mtime_ns == stamp
    assert main([*args, "--overwrite"]) == 0
    assert (out / "runs.parquet").stat().st_mtime_ns != stamp


def test_run_defaults_to_results_scenario_name(scenario: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(scenario), "--executor", "serial", "--replicates", "1",
                 "--no-progress"]) == 0
    assert (tmp_path / "results" / "small" / "runs.parquet").is_file()
    assert "results/small/runs.parquet" in capsys.readouterr().out


# --------------------------------------------------------------------------- compare


def test_compare_prints_where_the_report_went(scenario: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "rules.toml"
    other.write_text(SMALL.replace('name = "small"', 'name = "rules"')
                     + '\n[[interventions]]\nkind = "ground_rules"\nmonth = 0\n')
    out = tmp_path / "cmp"
    rc = main(["compare", str(scenario), str(other), "--out", str(out), "--replicates", "2",
               "--executor", "serial", "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0
    assert f"report:     {out / 'report.html'}" in text
    assert str(out / "report.md") in text
    assert "rules - small" in text
    html = (out / "report.html").read_text()
    assert "partnersim compare" in html and "--replicates 2" in html


# --------------------------------------------------------------------------- bad input


BAD_FILES = {
    "malformed_toml": ('name = "small"\nreplicates = = 3\n', ["line 2"]),
    "unknown_key": ("[params]\nhorizon_month = 24\n",
                    ["params.horizon_month", "did you mean 'horizon_months'"]),
    "out_of_bounds": ("[params]\nn_staff = 5\n", ["params.n_staff", "[10, 20000]"]),
    "wrong_type": ('[params]\nleadership = "strong"\n', ["params.leadership", "expected float"]),
    "unknown_intervention": ('[[interventions]]\nkind = "hire_consultants"\nmonth = 1\n',
                             ["interventions[0].kind", "unknown intervention kind"]),
    "month_past_horizon": ('[params]\nhorizon_months = 24\n[[interventions]]\n'
                           'kind = "chair_leaves"\nmonth = 30\n',
                           ["interventions[0].month", "past the horizon"]),
}


def assert_refused(capsys: pytest.CaptureFixture[str], rc: int, before: set[str],
                   folder: Path, fragments: list[str]) -> None:
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.out == ""
    err = captured.err
    assert err.startswith("partnersim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for frag in fragments:
        assert frag in err, (frag, err)
    assert tree(folder) == before, "nothing written"


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
@pytest.mark.parametrize("verb", ["run", "compare"])
def test_bad_scenario_file(kind: str, verb: str, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    text, fragments = BAD_FILES[kind]
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    good = tmp_path / "good.toml"
    good.write_text(SMALL)
    before = tree(tmp_path)
    files = [str(bad)] if verb == "run" else [str(good), str(bad)]
    rc = main([verb, *files, "--out", str(tmp_path / "out"), "--executor", "serial"])
    assert_refused(capsys, rc, before, tmp_path, [str(bad), *fragments])


@pytest.mark.parametrize("verb", ["run", "compare"])
def test_missing_file(verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(tmp_path)
    files = [str(tmp_path / "absent.toml")] * (1 if verb == "run" else 2)
    rc = main([verb, *files, "--out", str(tmp_path / "out")])
    assert_refused(capsys, rc, before, tmp_path, ["absent.toml", "not found"])


@pytest.mark.parametrize("verb", ["run", "compare"])
def test_unwritable_output_folder(verb: str, scenario: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    before = tree(tmp_path)
    files = [str(scenario)] * (1 if verb == "run" else 2)
    rc = main([verb, *files, "--out", str(blocker / "out"), "--executor", "serial"])
    assert_refused(capsys, rc, before, tmp_path, [str(blocker / "out"), "cannot write"])


def test_bad_replicate_count(scenario: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(tmp_path)
    rc = main(["run", str(scenario), "--replicates", "0", "--out", str(tmp_path / "out")])
    # named alone, right after "error: ": the file is not at fault
    assert_refused(capsys, rc, before, tmp_path, ["error: --replicates: 0 is outside", "[1, "])


def test_compare_bad_replicate_count(scenario: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(tmp_path)
    rc = main(["compare", str(scenario), str(scenario), "--replicates", "-3",
               "--out", str(tmp_path / "out")])
    assert_refused(capsys, rc, before, tmp_path, ["error: --replicates: -3 is outside", "[1, "])


def test_scenario_measures_limit_the_timeseries(tmp_path: Path) -> None:
    path = tmp_path / "few.toml"
    path.write_text(SMALL.replace("seed = 7", 'seed = 7\nmeasures = ["trust_across", "output"]'))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--replicates", "1", "--executor",
                 "serial", "--no-progress"]) == 0
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["run_id", "scenario", "replicate", "seed", "month",
                                "trust_across", "output"]


def test_an_interrupted_run_resumes_with_the_same_command(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(scenario), "--out", str(out), "--executor", "serial", "--no-progress"]
    assert main(args) == 0
    full = pd.read_parquet(out / "runs.parquet")
    # simulate a kill before the end: the last shard and the consolidated tables are missing
    man = json.loads((out / "manifest.json").read_text())
    man["complete"] = False
    (out / "manifest.json").write_text(json.dumps(man))
    for shard in (out / "runs").glob("part-*.parquet"):
        shard.unlink()
    (out / "runs.parquet").unlink()
    (out / "timeseries.parquet").unlink()
    assert main(args) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), full)
    assert json.loads((out / "manifest.json").read_text())["complete"] is True


def test_params_lists_groups_and_rejects_an_unknown_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "--group", "trust"]) == 0
    out = capsys.readouterr().out
    assert "provenance: E empirical" in out and "trust_loss_ratio" in out
    assert "[Slovic 1993" in out  # each parameter's source, not only its tag
    assert "leadership " not in out
    assert main(["params", "--group", "trst"]) == 2
    err = capsys.readouterr().err
    assert "unknown group 'trst'" in err and "did you mean 'trust'" in err and "Traceback" not in err


def test_outputs_lists_every_column_with_its_unit(capsys: pytest.CaptureFixture[str]) -> None:
    from partnersim.outputs import MONTHLY, OUTPUTS

    assert main(["outputs", "--format", "markdown"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == list(OUTPUTS)
    for r, o in zip(rows, OUTPUTS.values(), strict=True):
        assert f" | {o.unit} | " in r and r.endswith(f" | {o.meaning} |")
    assert main(["outputs", "--kind", "monthly"]) == 0
    lines = capsys.readouterr().out.splitlines()[2:]  # after the note and the header
    assert [line.split()[0] for line in lines] == list(MONTHLY)


def test_an_output_folder_the_system_refuses_is_one_line(scenario: Path, tmp_path: Path,
                                                          capsys) -> None:
    out = tmp_path / ("a" * 300)  # longer than a file name may be
    assert main(["run", str(scenario), "--replicates", "1", "--out", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"partnersim: error: {out}") and "File name too long" in err
    assert out.name not in [p.name for p in tmp_path.iterdir()]  # nothing written


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "baseline", "--replicates", "abc"], "argument --replicates: invalid int value"),
    (["run", "baseline", "--executor", "foo"], "argument --executor: invalid choice: 'foo'"),
    (["run"], "the following arguments are required: SCENARIO"),
])
def test_argument_errors_are_one_line(argv, message, capsys) -> None:
    # argparse had printed its usage block above the error (4 to 7 lines)
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and message in err


def test_an_empty_out_is_refused(scenario: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # an empty path had meant the current folder
    before = sorted(tmp_path.iterdir())
    assert main(["run", str(scenario), "--replicates", "1", "--out", ""]) == 2
    assert "--out: expected a folder" in capsys.readouterr().err
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("verb", ["sweep", "decide", "calibrate"])
def test_a_study_name_that_is_a_path_is_refused(verb, tmp_path: Path, capsys,
                                                monkeypatch) -> None:
    # the name makes the results folder: '../../x' had written outside results/
    text = {"sweep": 'name = "../x"\ndesign = "grid"\n[vary]\nleadership = { levels = [0.5] }\n',
            "decide": 'name = "../x"\n',
            "calibrate": 'name = "../x"\n'}[verb]
    f = tmp_path / "bad.toml"
    f.write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main([verb, str(f), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{f}: line 1: name: expected a short name" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
