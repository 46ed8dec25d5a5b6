"""The calibrate verb (issue 13): evidence files, bad input, the folder it writes, resuming from
pyabc's database, and recovery of known truths at a small scale."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from partnersim.calibration import smc
from partnersim.calibration.calibrate import calibrate
from partnersim.calibration.figures import plot_recovery
from partnersim.calibration.recovery import coverage_table, draw_truths, recovery
from partnersim.calibration.spec import load_calibration, read_targets
from partnersim.cli import main
from partnersim.errors import InputError
from partnersim.inputs import patterns
from partnersim.inputs.toml import SHIPPED_PATTERNS
from partnersim.run.options import RunOptions

ROOT = Path(__file__).resolve().parents[1]
SERIAL = RunOptions(executor="serial", progress=False)

SOURCE = ('source = { authors = "A. Author", year = 2020, title = "A study", '
          'where = "Table 2" }')

SMALL = """\
name = "small"
seed = 5
replicates = 1

[model]
n_staff = 20
horizon_months = 24

[parameters]
leadership = { lower = 0.1, upper = 0.9 }
information_decay = { lower = 0.05, upper = 0.6 }

[abc]
population = 25
adaptive_population = false
generations = 4
epsilon_quantile = 0.4
ppc_draws = 8

[truth]
seed = 11
replicates = 10
params = { leadership = 0.6, information_decay = 0.3 }

[[target]]
name = "leadership_in_effect"
measure = "effective_leadership"
months = [0, 23]

[[target]]
name = "informed"
measure = "info_core"
months = [0, 23]
"""


def write(tmp_path: Path, text: str, name: str = "cal.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def evidence_file(tmp_path: Path, target: str) -> Path:
    return write(tmp_path, f"""\
[parameters]
leadership = {{}}

[[target]]
{target}
""")


# --------------------------------------------------------------------------- evidence


def test_the_shipped_evidence_reads_and_every_entry_cites_its_table():
    targets, priors, _ = read_targets(ROOT / "calibration" / "targets.toml")
    assert [t.name for t in targets] == ["members_active_mature"]
    active = targets[0]
    assert (active.measure, active.months, active.value) == ("engaged", (60, 119), 0.79)
    assert "79 percent" in active.source.where and active.source.year == 2012
    turnover = priors["p_turnover"]
    assert "NHS Education for Scotland" in turnover.origin and "12,546" in turnover.origin
    # 9,922.8 of 161,153.4 WTE left in a year: the monthly hazard the lower bound comes from
    assert turnover.lower == pytest.approx(-np.log(1 - 9922.8 / 161153.4) / 12, abs=1e-4)


def test_an_evidence_prior_is_the_prior_of_a_parameter_calibrated_without_bounds(tmp_path):
    write(tmp_path, f"""\
[[prior]]
parameter = "p_turnover"
lower = 0.01
upper = 0.03
{SOURCE}
""", "evidence.toml")
    cal = load_calibration(write(tmp_path, f"""\
targets = "evidence.toml"
[parameters]
p_turnover = {{}}
leadership = {{ lower = 0.2, upper = 0.8 }}
[[target]]
name = "t"
measure = "trust_across_final"
value = 0.4
sd = 0.05
{SOURCE}
"""))
    by_name = {p.parameter: p for p in cal.priors}
    assert (by_name["p_turnover"].lower, by_name["p_turnover"].upper) == (0.01, 0.03)
    assert "A. Author" in by_name["p_turnover"].origin
    assert (by_name["leadership"].lower, by_name["leadership"].origin) == (0.2,
                                                                          "calibration file")


def test_an_interval_becomes_the_sd_of_a_normal_with_that_interval():
    text = f"""\
[parameters]
leadership = {{}}
[[target]]
name = "t"
measure = "trust_across"
months = [0, 11]
value = 0.4
interval = [0.3, 0.5]
{SOURCE}
"""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        cal = load_calibration(write(Path(d), text))
    assert cal.targets[0].sd == pytest.approx(0.1 / 1.6448536, rel=1e-6)
    assert cal.targets[0].months == (0, 11)


@pytest.mark.parametrize(("target", "key", "message"), [
    ('name = "t"\nmeasure = "trust_acros"\nmonths = [0, 5]\nvalue = 0.3\nsd = 0.1\n' + SOURCE,
     "target[0].measure", "unknown measure (did you mean 'trust_across'?)"),
    ('name = "t"\nmeasure = "trust_across"\nmonths = [0, 5]\nvalue = 0.3\nsd = 0.1',
     "target[0]", "a target needs its source"),
    ('name = "t"\nmeasure = "trust_across"\nmonths = [0, 5]\nvalue = 0.3\nsd = 0.1\n'
     'source = { authors = "X", year = 2020, title = "Y" }',
     "target[0].source", "needs 'where'"),
    ('name = "t"\nmeasure = "trust_across"\nmonths = [0, 5]\nvalue = 0.3\n' + SOURCE,
     "target[0]", "needs its uncertainty"),
    ('name = "t"\nmeasure = "trust_across_final"\nmonths = [0, 5]\nvalue = 0.3\nsd = 0.1\n'
     + SOURCE, "target[0].months", "takes no months"),
])
def test_a_bad_target_is_named_by_file_line_and_key(tmp_path, target, key, message):
    path = evidence_file(tmp_path, target)
    with pytest.raises(InputError) as err:
        load_calibration(path)
    assert err.value.key == key and message in err.value.message
    assert err.value.source == str(path) and err.value.line is not None


def pattern_target(pattern: str) -> str:
    return ('name = "t"\nmeasure = "trust_across"\nmonths = [0, 5]\nvalue = 0.3\nsd = 0.1\n'
            f'{SOURCE}\npattern = "{pattern}"')


def test_a_target_may_name_a_calibration_target_pattern(tmp_path):
    cal = load_calibration(evidence_file(tmp_path, pattern_target("SF8")))
    assert cal.targets[0].pattern == "SF8"


@pytest.mark.parametrize(("pattern", "message"), [
    ("SF1", "SF1 is a mechanism check, not a calibration target"),
    ("SF99", "no validation pattern 'SF99'"),
])
def test_a_target_naming_another_kind_of_pattern_is_refused(tmp_path, pattern, message):
    with pytest.raises(InputError) as err:
        load_calibration(evidence_file(tmp_path, pattern_target(pattern)))
    assert err.value.key == "target[0].pattern" and message in err.value.message


def test_calibration_never_reads_a_held_out_pattern(tmp_path, monkeypatch):
    # a copy of the shipped patterns in which SF8 is held out: the same target is refused
    folder = tmp_path / "patterns"
    folder.mkdir()
    for f in SHIPPED_PATTERNS.glob("sf*.toml"):
        text = f.read_text()
        if f.name == "sf8.toml":
            text = text.replace('role = "calibration target"', 'role = "held-out"')
        (folder / f.name).write_text(text)
    path = evidence_file(tmp_path, pattern_target("SF8"))
    monkeypatch.setattr(patterns, "SHIPPED_PATTERNS", folder)
    assert "SF8" in patterns.held_out_ids()
    with pytest.raises(InputError) as err:
        load_calibration(path)
    assert err.value.key == "target[0].pattern"
    assert "SF8 is a held-out pattern: calibration never reads one" in err.value.message
    assert err.value.line == 11


@pytest.mark.parametrize(("parameters", "key", "message"), [
    ("leadrship = {}", "parameters.leadrship", "did you mean 'leadership'"),
    ("leadership = { lower = -0.5 }", "parameters.leadership.lower",
     "outside the declared bounds [0.0, 1.0]"),
    ("leadership = { upper = 1.5 }", "parameters.leadership.upper", "outside the declared"),
    ("n_staff = {}", "parameters.n_staff", "only real-valued parameters"),
])
def test_bad_parameters_are_refused(tmp_path, parameters, key, message):
    path = write(tmp_path, f"""\
[parameters]
{parameters}
[[target]]
name = "t"
measure = "trust_across_final"
value = 0.4
sd = 0.1
{SOURCE}
""")
    with pytest.raises(InputError) as err:
        load_calibration(path)
    assert err.value.key == key and message in err.value.message


def test_the_cli_says_one_line_exits_2_and_writes_nothing(tmp_path, capsys):
    path = evidence_file(tmp_path, 'name = "t"\nmeasure = "trust_across"\nmonths = [0, 5]\n'
                                   'value = 0.3\nsd = 0.1')
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--executor", "serial"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"partnersim: error: {path}: line 4: target[0]: a target needs")
    assert not out.exists()


def test_a_target_past_the_horizon_is_refused_before_anything_is_written(tmp_path):
    path = write(tmp_path, SMALL.replace("months = [0, 23]\n\n[[target]]",
                                         "months = [0, 24]\n\n[[target]]"))
    with pytest.raises(InputError, match="past the horizon"):
        calibrate(path, tmp_path / "out", SERIAL, progress=None)
    assert not (tmp_path / "out").exists()


def test_an_unreadable_database_is_named_and_nothing_is_changed(tmp_path):
    path = write(tmp_path, SMALL)
    out = tmp_path / "out"
    out.mkdir()
    cal = load_calibration(path)
    (out / "manifest.json").write_text(json.dumps({"fingerprint": cal.fingerprint()}))
    (out / smc.HISTORY).write_bytes(b"this is not a database" * 100)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(InputError) as err:
        calibrate(path, out, SERIAL, progress=None)
    assert err.value.source == str(out / smc.HISTORY)
    assert "unreadable calibration database" in err.value.message
    assert sorted(p.name for p in out.iterdir()) == before


# --------------------------------------------------------------------------- a calibration


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cal")
    path = write(tmp, SMALL)
    out = tmp / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--executor", "serial",
                 "--no-progress"]) == 0
    return path, out


def test_the_folder_holds_posterior_diagnostics_checks_figures_summary(small_run):
    _, out = small_run
    for name in ("history.db", "posterior.parquet", "posterior_summary.csv", "diagnostics.csv",
                 "ppc.csv", "targets.csv", "summary.md", "summary.html", "manifest.json",
                 "figures/marginals.png", "figures/pairs.png", "figures/diagnostics.png",
                 "figures/ppc.png"):
        assert (out / name).is_file(), name
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns) == ["leadership", "information_decay", "weight", "generation"]
    assert post["weight"].sum() == pytest.approx(1.0) and (post["generation"] == 3).all()
    diag = pd.read_csv(out / "diagnostics.csv")
    assert list(diag["generation"]) == [0, 1, 2, 3]
    assert (diag["epsilon"].diff().dropna() <= 0).all()  # tolerances shrink
    assert ((diag["acceptance_rate"] > 0) & (diag["acceptance_rate"] <= 1)).all()
    assert ((diag["ess"] > 1) & (diag["ess"] <= diag["particles"] + 1e-9)).all()
    ppc = pd.read_csv(out / "ppc.csv")
    assert list(ppc["target"]) == ["leadership_in_effect", "informed"]
    assert (ppc["sim_q05"] <= ppc["sim_q95"]).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["kind"] == "calibration"
    assert manifest["command"].startswith("partnersim calibrate")
    assert manifest["inputs"][0]["text"] == SMALL and manifest["environment"]["pyabc"]
    assert "## Posterior predictive checks" in (out / "summary.md").read_text()


def test_the_posterior_narrows_around_the_truth(small_run):
    _, out = small_run
    summary = pd.read_csv(out / "posterior_summary.csv").set_index("parameter")
    # both measures respond strongly to their parameter: the intervals must be well inside
    # the prior's (ignoring the targets would leave them at about 1), the medians near the
    # truth (coverage itself is checked over several truths below)
    assert (summary["width_share"] < 0.75).all()
    span = summary["prior_upper"] - summary["prior_lower"]
    assert ((summary["median"] - summary["truth"]).abs() < 0.2 * span).all()


def test_a_rerun_of_a_complete_calibration_resumes_and_another_is_refused(small_run, capsys):
    path, out = small_run
    history_before = (out / "history.db").read_bytes()
    assert main(["calibrate", str(path), "--out", str(out), "--executor", "serial",
                 "--no-progress", "--no-figures"]) == 0
    assert "(4 resumed)" in capsys.readouterr().out
    assert (out / "history.db").read_bytes() == history_before  # no generation was added
    assert len(json.loads((out / "manifest.json").read_text())["sessions"]) == 2
    other = write(path.parent, SMALL.replace("seed = 5", "seed = 6"), "other.toml")
    assert main(["calibrate", str(other), "--out", str(out), "--executor", "serial"]) == 2
    assert "holds results of a different experiment" in capsys.readouterr().err


def test_the_history_resumes_from_its_last_complete_generation(tmp_path):
    cal = load_calibration(write(tmp_path, SMALL))
    cal = dataclasses.replace(cal, targets=tuple(
        dataclasses.replace(t, value=v, sd=s) for t, v, s in
        zip(cal.targets, (0.6, 0.61), (0.05, 0.013), strict=True)))
    cal = dataclasses.replace(cal, abc=dataclasses.replace(cal.abc, generations=2))
    one = dataclasses.replace(cal, abc=dataclasses.replace(cal.abc, generations=1))
    db = tmp_path / "history.db"
    smc.run(one, db, None)
    first = smc.open_history(db).get_distribution(m=0, t=0)[0].copy()
    history = smc.run(cal, db, None)  # as if killed after generation 0: one more
    assert history.max_t == 1
    again = history.get_distribution(m=0, t=0)[0]
    pd.testing.assert_frame_equal(first, again)  # the stored generations are kept as they were


# --------------------------------------------------------------------------- recovery


def test_parameters_are_recovered_at_several_truths(tmp_path):
    cal = load_calibration(write(tmp_path, SMALL))
    truths = draw_truths(cal, 3, seed=2)
    table = recovery(cal, truths, tmp_path / "recovery", SERIAL, truth_replicates=10)
    assert len(table) == 6
    coverage = coverage_table(table).set_index("parameter")
    # at most one miss in six 90% intervals, and every interval well inside the prior's
    assert int(coverage["covered"].sum()) >= 5, table.to_string()
    assert (table["width_share"] < 0.75).all(), table.to_string()
    assert plot_recovery(table, tmp_path / "recovery.png").stat().st_size > 0


def test_a_fixed_tolerance_schedule_sets_the_generations_and_must_decrease(tmp_path):
    base = SMALL.replace("generations = 4\nepsilon_quantile = 0.4\n", "@ABC@")
    cal = load_calibration(write(tmp_path, base.replace("@ABC@",
                                                        "epsilon_schedule = [3.0, 2, 0.5]\n")))
    assert (cal.abc.epsilon_schedule, cal.abc.generations) == ((3.0, 2.0, 0.5), 3)
    cal = cal.with_targets(tuple(dataclasses.replace(t, value=0.5, sd=0.1) for t in cal.targets))
    assert isinstance(smc.build(cal, None).eps, smc.pyabc.ListEpsilon)
    for bad, key in (("epsilon_schedule = [2.0, 3.0]\n", "abc.epsilon_schedule"),
                     ("epsilon_schedule = [3.0, 2.0]\ngenerations = 3\n", "abc.generations")):
        with pytest.raises(InputError) as err:
            load_calibration(write(tmp_path, base.replace("@ABC@", bad)))
        assert err.value.key == key
