"""``partnersim validate``: the quick validation runs in CI, writes its table and fails on a
pattern that does not hold."""

from __future__ import annotations

from functools import partial

import pandas as pd
import pytest

from partnersim.cli import main
from partnersim.validation import patterns
from partnersim.validation.patterns import PATTERNS, load_definition


@pytest.mark.slow
def test_quick_validation_writes_a_table_naming_every_pattern(tmp_path, capsys):
    status = main(["validate", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    table = (tmp_path / "patterns.md").read_text()
    csv = (tmp_path / "patterns.csv").read_text()
    for pattern in PATTERNS:
        assert f"| {pattern} " in table and f"\n{pattern}," in csv
        assert pattern in out
    rows = pd.read_csv(tmp_path / "patterns.csv")
    assert list(rows["pattern"]) == list(PATTERNS)
    failing = set(rows.loc[~rows["holds"], "pattern"])
    assert not failing, f"patterns not holding: {sorted(failing)}"
    assert status == 0  # (a pattern that does not hold gives 1: tested below)


def test_validate_runs_a_chosen_subset_and_exits_zero_when_all_hold(tmp_path, capsys):
    status = main(["validate", "--quick", "--patterns", "SF1,sf11", "--workers", "1",
                   "--out", str(tmp_path)])
    assert status == 0
    table = (tmp_path / "patterns.md").read_text()
    assert "| SF1 " in table and "| SF11 " in table and "| SF2 " not in table
    assert str(tmp_path / "patterns.csv") in capsys.readouterr().out


def test_validate_exits_one_when_a_pattern_does_not_hold(tmp_path, capsys, monkeypatch):
    # SF3 with its mechanism switched off (the file's mechanism_off) does not hold
    off = dict(load_definition("SF3").mechanism_off)
    monkeypatch.setitem(patterns.PATTERNS, "SF3", partial(patterns.check_sf3, **off))
    assert main(["validate", "--quick", "--patterns", "SF3", "--out", str(tmp_path)]) == 1
    assert "do not hold: SF3" in capsys.readouterr().err


def test_unknown_pattern_is_one_clear_error(tmp_path, capsys):
    assert main(["validate", "--patterns", "SF99", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "SF99" in err and "Traceback" not in err


def test_every_pattern_has_an_experiment_file_with_quick_and_full_seeds():
    for pattern in PATTERNS:
        defn = load_definition(pattern)
        assert defn.id == pattern and defn.statement and defn.measured
        assert 0 < defn.n_seeds["quick"] <= defn.n_seeds["full"]


def test_an_unwritable_output_folder_fails_before_any_run(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["validate", "--patterns", "SF1", "--out", str(blocker / "out")]) == 2
    captured = capsys.readouterr()
    assert "cannot create the folder" in captured.err and "SF1 " not in captured.out
