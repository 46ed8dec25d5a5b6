"""``partnersim validate``: the quick validation runs in CI, writes its table and fails on a
pattern that does not hold."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from partnersim.cli import main
from partnersim.errors import InputError
from partnersim.inputs import patterns as pattern_files
from partnersim.inputs.patterns import KINDS, load_definition
from partnersim.run import storage
from partnersim.validation.cases import IN_PROCESS
from partnersim.validation.checks import CHECKS, MASTER_SEEDS, master_seeds
from partnersim.validation.validate import COLUMNS, refuse_other_table, validate, write_results

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_validation_writes_a_table_naming_every_pattern(tmp_path, capsys):
    # at the files' master seeds only: tests/test_patterns.py judges every pattern at all
    # of them against the record; this is the command's table of every pattern
    status = main(["validate", "--quick", "--master-seeds", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    table = (tmp_path / "patterns.md").read_text()
    csv = (tmp_path / "patterns.csv").read_text()
    for pattern in CHECKS:
        assert f"| {pattern} " in table and f"\n{pattern}," in csv
        assert pattern in out
    rows = pd.read_csv(tmp_path / "patterns.csv")
    assert list(rows["pattern"]) == list(CHECKS)
    assert list(rows.columns) == list(COLUMNS)
    assert set(rows["kind"]) == set(KINDS) and (rows["master_seeds"] == 1).all()
    assert (rows["holds"] == (rows["held_at"] == 1)).all()
    # the verdicts the record holds (a pattern recorded as failing may fail here too)
    recorded = pd.read_csv(ROOT / "results" / "validation" / "patterns.csv",
                           usecols=["pattern", "holds"]).set_index("pattern")["holds"]
    lost = [p for p, held in rows.set_index("pattern")["holds"].items()
            if recorded[p] and not held]
    assert not lost, f"patterns recorded as holding that do not hold: {lost}"
    assert status == (0 if rows["holds"].all() else 1)


def test_validate_runs_a_chosen_subset_and_exits_zero_when_all_hold(tmp_path, capsys):
    status = main(["validate", "--quick", "--patterns", "SF1,sf11", "--workers", "1",
                   "--no-progress", "--out", str(tmp_path)])
    assert status == 0
    table = (tmp_path / "patterns.md").read_text()
    assert "| SF1 " in table and "| SF11 " in table and "| SF2 " not in table
    assert "| kind |" in table and "| held at master seeds |" in table
    assert "| SF11 Weak trust-tenure relation (negative control) | emergent |" in table
    assert f"| {MASTER_SEEDS}/{MASTER_SEEDS} | yes |" in table
    out = capsys.readouterr().out
    assert str(tmp_path / "patterns.csv") in out
    assert "SF1   mechanism  holds" in out
    assert f"held at {MASTER_SEEDS}/{MASTER_SEEDS} master seeds" in out
    rows = pd.read_csv(tmp_path / "patterns.csv").set_index("pattern")
    assert rows.loc["SF1", "kind"] == "mechanism" and rows.loc["SF11", "kind"] == "emergent"
    assert rows.loc["SF1", "role"] == "mechanism check"
    assert rows.loc["SF11", "role"] == "calibration target"  # C6 was made so that it passes
    details = json.loads((tmp_path / "details.json").read_text())
    seeds = master_seeds(load_definition("SF11").seed)
    assert details["SF11"]["master_seeds"] == seeds and details["SF11"]["held_at"] == len(seeds)
    assert list(details["SF11"]["by_master_seed"]) == [str(m) for m in seeds]
    # the reported effect is the one at the file's master seed
    assert details["SF11"]["effect"] == details["SF11"]["by_master_seed"][str(seeds[0])]["effect"]


def test_master_seeds_on_the_command_line_are_recorded_and_checked(tmp_path, capsys):
    argv = ["validate", "--quick", "--patterns", "SF11", "--master-seeds", "2", "--executor",
            "serial", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    rows = pd.read_csv(tmp_path / "patterns.csv")
    assert rows["master_seeds"].tolist() == [2] and rows["held_at"].tolist() == [2]
    manifest = json.loads((tmp_path / "runs_quick" / "manifest.json").read_text())
    assert "--master-seeds 2" in json.dumps(manifest)
    capsys.readouterr()
    assert main([*argv[:5], "0", *argv[6:]]) == 2
    err = capsys.readouterr().err
    assert "--master-seeds" in err and "positive" in err and err.count("\n") == 1


def test_a_table_judged_at_another_number_of_master_seeds_is_another_validation(tmp_path):
    write_results(validate(["SF11"], quick=True, options=IN_PROCESS, master_seeds=1), tmp_path)
    assert pd.read_csv(tmp_path / "patterns.csv")["master_seeds"].tolist() == [1]
    refuse_other_table(tmp_path, ["SF11"], quick=True, overwrite=False, master_seeds=1)
    with pytest.raises(InputError, match="holds the results of another validation"):
        refuse_other_table(tmp_path, ["SF11"], quick=True, overwrite=False)


def test_validate_exits_one_when_a_pattern_does_not_hold(tmp_path, capsys, monkeypatch):
    # SF3's pattern file with its mechanism switched off (the file's mechanism_off in its
    # params) does not hold
    shipped = pattern_files.SHIPPED_PATTERNS / "sf3.toml"
    off = "".join(f"{k} = {json.dumps(v)}\n" for k, v in load_definition("SF3").mechanism_off.items())
    folder = tmp_path / "patterns"
    folder.mkdir()
    (folder / "sf3.toml").write_text(shipped.read_text().replace("[params]\n", f"[params]\n{off}"))
    monkeypatch.setattr(pattern_files, "SHIPPED_PATTERNS", folder)
    assert load_definition("SF3").params["success_confidence"] == 0.0
    out = tmp_path / "out"
    assert main(["validate", "--quick", "--patterns", "SF3", "--master-seeds", "1", "--out",
                 str(out), "--no-progress"]) == 1
    assert "do not hold: SF3" in capsys.readouterr().err


def test_a_rerun_resumes_the_kept_runs_and_other_work_needs_overwrite(tmp_path, capsys):
    argv = ["validate", "--quick", "--patterns", "SF11", "--master-seeds", "1", "--executor",
            "serial", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    runs = tmp_path / "runs_quick"
    first = (tmp_path / "patterns.csv").read_text()
    shards = sorted(p.name for p in (runs / "runs").iterdir())
    assert main(argv) == 0  # the same validation: nothing to compute
    assert (tmp_path / "patterns.csv").read_text() == first
    assert sorted(p.name for p in (runs / "runs").iterdir()) == shards
    assert len(json.loads((runs / "manifest.json").read_text())["sessions"]) == 2
    capsys.readouterr()
    other = ["validate", "--quick", "--patterns", "SF11,SF13", "--master-seeds", "1",
             "--executor", "serial", "--no-progress", "--out", str(tmp_path)]
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
        assert defn.id == pattern and defn.statement and defn.measured and defn.kind in KINDS
        assert 0 < defn.n_seeds["quick"] <= defn.n_seeds["full"]


def test_an_unwritable_output_folder_fails_before_any_run(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["validate", "--patterns", "SF1", "--out", str(blocker / "out")]) == 2
    captured = capsys.readouterr()
    assert "cannot create the folder" in captured.err and "SF1 " not in captured.out


def test_runs_kept_from_other_code_are_not_reused(tmp_path, capsys, monkeypatch):
    argv = ["validate", "--quick", "--patterns", "SF11", "--master-seeds", "1", "--executor",
            "serial", "--no-progress", "--out", str(tmp_path)]
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
    quick = ["validate", "--quick", "--patterns", "SF11", "--master-seeds", "1", "--executor",
             "serial", "--no-progress", "--out", str(tmp_path)]
    assert main(quick) == 2
    err = capsys.readouterr().err
    assert "holds the results of another validation (14 pattern(s))" in err
    assert ": --out: " in err and "--overwrite" in err and err.count("\n") == 1
    assert (tmp_path / "patterns.csv").read_bytes() == (record / "patterns.csv").read_bytes()
    assert not (tmp_path / "runs_quick").exists()
    assert main([*quick, "--overwrite"]) == 0
    assert list(pd.read_csv(tmp_path / "patterns.csv")["pattern"]) == ["SF11"]


def test_an_unknown_pattern_writes_nothing(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["validate", "--patterns", "SF99", "--out", str(out)]) == 2
    assert "unknown pattern 'SF99'" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- --posterior

SMALL_CALIBRATION = """\
name = "tiny"
seed = 3
replicates = 1

[model]
n_staff = 20
horizon_months = 24

[parameters]
trust_forgetting = { lower = 0.005, upper = 0.05 }

[abc]
population = 12
adaptive_population = false
generations = 2
ppc_draws = 0

[truth]
seed = 4
replicates = 4
params = { trust_forgetting = 0.02 }

[[target]]
name = "trust"
measure = "trust_across"
months = [0, 23]
"""


@pytest.fixture(scope="module")
def tiny_posterior(tmp_path_factory):
    from partnersim.calibration.calibrate import calibrate

    folder = tmp_path_factory.mktemp("cal")
    (folder / "tiny.toml").write_text(SMALL_CALIBRATION)
    calibrate(folder / "tiny.toml", folder / "out", IN_PROCESS, figures=False, progress=None)
    return folder / "out"


def test_posterior_draws_are_resampled_by_weight_with_a_fixed_seed(tiny_posterior):
    from partnersim.inputs.posterior import load_posterior

    post = load_posterior(tiny_posterior)
    assert post.names == ("trust_forgetting",) and post.calibration == "tiny"
    a, b = post.draws(40, seed=9), post.draws(40, seed=9)
    assert a == b and post.draws(5, seed=9) == a[:5] and post.draws(40, seed=10) != a
    particles = set(post.particles["trust_forgetting"])
    assert all(d["trust_forgetting"] in particles for d in a)
    # a particle with all the weight is the only one drawn
    heavy = post.particles.assign(weight=0.0)
    heavy.loc[3, "weight"] = 1.0
    only = dataclasses.replace(post, particles=heavy).draws(10, seed=1)
    assert {d["trust_forgetting"] for d in only} == {heavy.loc[3, "trust_forgetting"]}


def test_validate_posterior_checks_each_draw_with_the_patterns_paired_seeds(
        tiny_posterior, tmp_path, capsys):
    out = tmp_path / "post"
    argv = ["validate", "--posterior", str(tiny_posterior), "--patterns", "SF11", "--quick",
            "--draws", "3", "--draw-seed", "5", "--executor", "serial", "--no-progress",
            "--out", str(out)]
    assert main(argv) == 0
    summary = pd.read_csv(out / "posterior_patterns.csv")
    assert summary.loc[0, "pattern"] == "SF11" and summary.loc[0, "draws"] == 3
    assert summary.loc[0, "role"] == "calibration target"
    assert 0 <= summary.loc[0, "share_low"] <= summary.loc[0, "share_held"] \
        <= summary.loc[0, "share_high"] <= 1
    per_draw = pd.read_parquet(out / "posterior_draws.parquet")
    assert list(per_draw["draw"]) == [-1, 0, 1, 2]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "posterior validation" and manifest["draw_seed"] == 5
    assert manifest["posterior"]["calibration"] == "tiny" and len(manifest["values"]) == 3
    assert "--posterior" in manifest["command"]
    # the runs: the defaults, then each draw, on the same paired seeds; each draw's value of
    # the calibrated parameter reaches every run of its check
    specs = storage.load_specs(out / "runs_quick")
    n = load_definition("SF11").n_seeds["quick"]
    assert len(specs) == 4 * n
    seeds = specs["seed"].to_numpy().reshape(4, n)
    assert (seeds == seeds[0]).all()
    forgetting = specs["trust_forgetting"].to_numpy().reshape(4, n)
    assert np.isnan(forgetting[0]).all()  # the declared default: not overridden
    for k, values in enumerate(manifest["values"]):
        assert (forgetting[k + 1] == values["trust_forgetting"]).all()
    assert per_draw.loc[per_draw["draw"] == 0, "trust_forgetting"].item() == \
        manifest["values"][0]["trust_forgetting"]
    out_text = capsys.readouterr().out
    assert "SF11" in out_text and "held at" in out_text and "at the defaults" in out_text
    # a rerun resumes the kept runs: same tables
    assert main(argv) == 0, capsys.readouterr().err
    assert pd.read_csv(out / "posterior_patterns.csv").equals(summary)


def test_the_api_validates_at_a_posterior_and_calibrates(tiny_posterior):
    from partnersim import api

    checks, values = api.validate(["SF11"], posterior=tiny_posterior, draws=2, quick=True,
                                  options=IN_PROCESS)
    assert [c.pattern for c in checks] == ["SF11"] and len(checks[0].draws) == 2
    assert values == api.load_posterior(tiny_posterior).draws(2, seed=api.DRAW_SEED)
    assert api.calibrate.__module__ == "partnersim.calibration.calibrate"


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p, "not a calibration folder (no such folder)"),
    (lambda p: (p.mkdir(), p)[1], "not a calibration folder (no readable manifest.json"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text('{"kind": "run"}'), p)[2],
     "not a calibration folder: a results folder of another kind (run)"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text(
        '{"kind": "calibration", "complete": false}'), p)[2], "the calibration is not complete"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text(
        '{"kind": "calibration", "complete": true}'), p)[2], "cannot read posterior.parquet"),
])
def test_a_folder_that_is_not_a_calibration_is_one_line_exit_2_nothing_written(
        tmp_path, capsys, make, message):
    folder = make(tmp_path / "cal")
    out = tmp_path / "post"
    assert main(["validate", "--posterior", str(folder), "--patterns", "SF11",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and str(folder) in err
    assert not out.exists()


def test_draws_without_a_posterior_are_refused(tmp_path, capsys):
    assert main(["validate", "--draws", "3", "--out", str(tmp_path / "x")]) == 2
    assert "--draws: applies only with --posterior" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "message"), [
    (["--patterns", ""], "--patterns: expected comma-separated pattern ids"),
    (["--patterns", " , "], "--patterns: expected comma-separated pattern ids"),
    (["--robustness", "0"], "--robustness: expected a positive number of points, got 0"),
    (["--robustness", "-3"], "--robustness: expected a positive number of points, got -3"),
])
def test_bad_validate_options_are_refused_before_any_run(tmp_path, capsys, option, message):
    # an empty pattern list had validated every pattern, a robustness of 0 had run the
    # ordinary validation and -3 had failed inside numpy
    out = tmp_path / "x"
    assert main(["validate", "--quick", *option, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not out.exists()


def test_a_negative_draw_seed_is_refused_before_any_run(tiny_posterior, tmp_path, capsys):
    out = tmp_path / "post"
    assert main(["validate", "--posterior", str(tiny_posterior), "--draw-seed", "-1",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--draw-seed: -1 is outside the bounds [0," in err
    assert not out.exists()


# --------------------------------------------------------------------------- robustness


def test_robustness_samples_every_assumption_and_literature_parameter_over_its_full_range():
    from partnersim.params import PARAMETERS
    from partnersim.validation.robustness import ROBUSTNESS_EXCLUDE, robustness_sample

    names, values = robustness_sample(64, seed=3)
    expected = [n for n, s in PARAMETERS.items() if s.provenance in ("A", "L")
                and s.type in ("int", "float") and n not in ROBUSTNESS_EXCLUDE]
    assert names == expected and "synergy_max" in names and "capacity_decay" in names
    for k, name in enumerate(names):
        spec = PARAMETERS[name]
        span = spec.upper - spec.lower
        col = values[:, k]
        assert spec.lower <= col.min() < spec.lower + 0.05 * span, name
        assert spec.upper - 0.05 * span < col.max() <= spec.upper, name


def test_a_robustness_point_sits_beneath_each_patterns_own_conditions(tmp_path):
    from partnersim.validation.robustness import robustness, robustness_sample

    table = robustness(1, seed=5, patterns=["SF14"], runs_dir=tmp_path, options=IN_PROCESS)
    names, values = robustness_sample(1, seed=5)
    assert list(table["pattern"]) == ["SF14"]
    specs = storage.load_specs(tmp_path / "point_000")
    strong = specs[specs["scenario"] == "SF14:strong"]
    assert set(strong["leadership"]) == {0.8}  # the condition's value, not the sample's
    k = names.index("synergy_max")  # a parameter SF14 does not set: the sample's value
    assert set(specs["synergy_max"]) == {float(values[0, k])}
    assert table.loc[0, "synergy_max"] == float(values[0, k])


def _posterior_with(folder, particles: pd.DataFrame):
    folder.mkdir()
    (folder / "manifest.json").write_text('{"kind": "calibration", "complete": true}')
    particles.to_parquet(folder / "posterior.parquet")
    return folder


@pytest.mark.parametrize(("particles", "message"), [
    (pd.DataFrame({"trust_forgetting": [0.01, 0.02], "weight": [1.5, -0.5]}),
     "weights must be finite, non-negative and not all zero"),
    (pd.DataFrame({"trust_forgetting": [0.01, 7.0], "weight": [0.5, 0.5]}),
     "a particle is outside the declared bounds"),
])
def test_a_posterior_with_impossible_particles_is_refused(tmp_path, particles,
                                                          message):
    from partnersim.inputs.posterior import load_posterior

    folder = _posterior_with(tmp_path / "cal", particles)
    with pytest.raises(InputError, match=message):
        load_posterior(folder)
