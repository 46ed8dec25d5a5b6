"""``partnersim validate``: the quick validation runs in CI, writes its table and fails on a
pattern that does not hold."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from partnersim.cli import main
from partnersim.inputs import patterns as pattern_files
from partnersim.inputs.patterns import load_definition
from partnersim.run import storage
from partnersim.validation.checks import CHECKS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_validation_writes_a_table_naming_every_pattern(tmp_path, capsys):
    status = main(["validate", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    table = (tmp_path / "patterns.md").read_text()
    csv = (tmp_path / "patterns.csv").read_text()
    for pattern in CHECKS:
        assert f"| {pattern} " in table and f"\n{pattern}," in csv
        assert pattern in out
    rows = pd.read_csv(tmp_path / "patterns.csv")
    assert list(rows["pattern"]) == list(CHECKS)
    failing = set(rows.loc[~rows["holds"], "pattern"])
    assert not failing, f"patterns not holding: {sorted(failing)}"
    assert status == 0  # (a pattern that does not hold gives 1: tested below)


def test_validate_runs_a_chosen_subset_and_exits_zero_when_all_hold(tmp_path, capsys):
    status = main(["validate", "--quick", "--patterns", "SF1,sf11", "--workers", "1",
                   "--no-progress", "--out", str(tmp_path)])
    assert status == 0
    table = (tmp_path / "patterns.md").read_text()
    assert "| SF1 " in table and "| SF11 " in table and "| SF2 " not in table
    assert str(tmp_path / "patterns.csv") in capsys.readouterr().out


def test_validate_exits_one_when_a_pattern_does_not_hold(tmp_path, capsys, monkeypatch):
    # SF3's pattern file with its mechanism switched off (the file's mechanism_off in its
    # params) does not hold
    shipped = pattern_files.SHIPPED_PATTERNS / "sf3.toml"
    off = "".join(f"{k} = {json.dumps(v)}\n" for k, v in load_definition("SF3").mechanism_off.items())
    folder = tmp_path / "patterns"
    folder.mkdir()
    (folder / "sf3.toml").write_text(shipped.read_text().replace("[params]\n", f"[params]\n{off}"))
    monkeypatch.setattr(pattern_files, "SHIPPED_PATTERNS", folder)
    assert load_definition("SF3").params["confidence_steepness"] == 0.0
    out = tmp_path / "out"
    assert main(["validate", "--quick", "--patterns", "SF3", "--out", str(out),
                 "--no-progress"]) == 1
    assert "do not hold: SF3" in capsys.readouterr().err


def test_a_rerun_resumes_the_kept_runs_and_other_work_needs_overwrite(tmp_path, capsys):
    argv = ["validate", "--quick", "--patterns", "SF11", "--executor", "serial",
            "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    runs = tmp_path / "runs_quick"
    first = (tmp_path / "patterns.csv").read_text()
    shards = sorted(p.name for p in (runs / "runs").iterdir())
    assert main(argv) == 0  # the same validation: nothing to compute
    assert (tmp_path / "patterns.csv").read_text() == first
    assert sorted(p.name for p in (runs / "runs").iterdir()) == shards
    assert len(json.loads((runs / "manifest.json").read_text())["sessions"]) == 2
    capsys.readouterr()
    other = ["validate", "--quick", "--patterns", "SF11,SF13", "--executor", "serial",
             "--no-progress", "--out", str(tmp_path)]
    assert main(other) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*other, "--overwrite"]) == 0
    assert list(pd.read_csv(tmp_path / "patterns.csv")["pattern"]) == ["SF11", "SF13"]


def test_dask_without_a_scheduler_is_one_clear_error_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["validate", "--patterns", "SF1", "--executor", "dask", "--out", str(out)]) == 2
    assert "--scheduler" in capsys.readouterr().err and not out.exists()


def test_unknown_pattern_is_one_clear_error(tmp_path, capsys):
    assert main(["validate", "--patterns", "SF99", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "SF99" in err and "Traceback" not in err


def test_every_pattern_has_an_experiment_file_with_quick_and_full_seeds():
    for pattern in CHECKS:
        defn = load_definition(pattern)
        assert defn.id == pattern and defn.statement and defn.measured
        assert 0 < defn.n_seeds["quick"] <= defn.n_seeds["full"]


def test_an_unwritable_output_folder_fails_before_any_run(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["validate", "--patterns", "SF1", "--out", str(blocker / "out")]) == 2
    captured = capsys.readouterr()
    assert "cannot create the folder" in captured.err and "SF1 " not in captured.out


def test_runs_kept_from_other_code_are_not_reused(tmp_path, capsys, monkeypatch):
    argv = ["validate", "--quick", "--patterns", "SF11", "--executor", "serial",
            "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    monkeypatch.setattr(storage, "source_hash", lambda: "0" * 64)  # as if the model changed
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "made by other partnersim code" in err and "--overwrite" in err
    assert main([*argv, "--overwrite"]) == 0
    manifest = json.loads((tmp_path / "runs_quick" / "manifest.json").read_text())
    assert manifest["environment"]["source"] == "0" * 64


def test_the_record_of_another_validation_is_not_replaced_silently(tmp_path, capsys):
    record = ROOT / "results" / "validation"
    for name in ("patterns.csv", "patterns.md", "details.json"):
        (tmp_path / name).write_bytes((record / name).read_bytes())
    quick = ["validate", "--quick", "--patterns", "SF11", "--executor", "serial",
             "--no-progress", "--out", str(tmp_path)]
    assert main(quick) == 2
    err = capsys.readouterr().err
    assert "holds the results of another validation (13 pattern(s))" in err
    assert "--overwrite" in err and err.count("\n") == 1
    assert (tmp_path / "patterns.csv").read_bytes() == (record / "patterns.csv").read_bytes()
    assert not (tmp_path / "runs_quick").exists()
    assert main([*quick, "--overwrite"]) == 0
    assert list(pd.read_csv(tmp_path / "patterns.csv")["pattern"]) == ["SF11"]


def test_an_unknown_pattern_writes_nothing(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["validate", "--patterns", "SF99", "--out", str(out)]) == 2
    assert "unknown pattern 'SF99'" in capsys.readouterr().err
    assert not out.exists()
