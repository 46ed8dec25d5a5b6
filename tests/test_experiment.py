"""Experiment files: the shipped ones, parameter mapping, and every kind of bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from partnersim.designs import DESIGNS
from partnersim.errors import InputError
from partnersim.inputs.experiments import Factor, load_experiment
from partnersim.params import PARAMETERS
from partnersim.study.sensitivity import build_design, make_specs

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
SCENARIOS = ROOT / "scenarios"
PI = "3.141592653589793"


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_morris_screens_every_assumption_tagged_numeric_parameter():
    exp = load_experiment(EXPERIMENTS / "morris_assumptions.toml")
    tagged = {s.name for s in PARAMETERS.values() if s.provenance == "A" and s.is_numeric}
    assert set(exp.names) == tagged
    n_staff = next(f for f in exp.factors if f.name == "n_staff")
    assert (n_staff.lower, n_staff.upper) == (100, 400)
    assert exp.design == "morris" and exp.is_partnersim
    assert exp.text.startswith("# Question:")


def test_sobol_study_of_relationship_time():
    exp = load_experiment(EXPERIMENTS / "sobol_relationship_time.toml")
    assert exp.names == ["relationship_time", "resources", "leadership", "p_turnover",
                         "prior_familiarity", "ground_rules", "service_pressure",
                         "horizon_months"]
    rt = exp.factors[0]
    assert (rt.lower, rt.upper) == (PARAMETERS["relationship_time"].lower,
                                    PARAMETERS["relationship_time"].upper)
    assert {"cumulative_output", "output_vs_alone", "trust_across_final",
            "health_effect_final"} <= set(exp.outputs)
    assert exp.sample_size & (exp.sample_size - 1) == 0
    small = exp.with_overrides(sample_size=4, replicates=2)
    design = build_design(small)
    assert len(design.points) == 4 * (8 + 2)
    horizons = {p["horizon_months"] for p in design.points}
    assert all(isinstance(h, int) and 60 <= h <= 240 for h in horizons)


def test_grid_of_time_against_resources():
    exp = load_experiment(EXPERIMENTS / "grid_time_vs_resources.toml")
    design = build_design(exp)
    assert len(design.points) == 9 * 5
    assert {p["capacity_budget"] for p in design.points} == {0.0, 10.0, 25.0, 50.0, 100.0}
    specs = make_specs(exp.with_overrides(replicates=3), design)
    assert len(specs) == 135
    # replicate r shares its seed across points (common random numbers)
    assert len({s.seed for s in specs if s.replicate == 1}) == 1
    assert [s.run_id for s in specs] == list(range(135))


def test_base_scenario_params_and_interventions_are_carried(tmp_path):
    path = write(tmp_path, f"""
        scenario = "{SCENARIOS / 'ground_rules.toml'}"
        design = "latin"
        sample_size = 5
        [params]
        n_staff = 60
        [vary]
        leadership = {{ range = [0.2, 0.8] }}
    """)
    exp = load_experiment(path)
    assert exp.base_params["n_staff"] == 60
    assert exp.interventions and exp.interventions[0].kind == "ground_rules"
    specs = make_specs(exp, build_design(exp))
    assert all(0.2 <= s.params["leadership"] <= 0.8 for s in specs)
    assert specs[0].interventions == exp.interventions


def test_int_bool_and_choice_mapping():
    ints = Factor("n", "int", 2, 5)
    assert ints.salib_bounds == [2.0, 6.0]
    u = np.random.default_rng(0).uniform(2.0, 6.0, 40_000)
    counts = np.bincount([ints.value(x) for x in u])[2:]
    assert len(counts) == 4 and np.allclose(counts / counts.sum(), 0.25, atol=0.01)
    assert ints.value(6.0) == 5 and ints.value(2.0) == 2
    flag = Factor("f", "bool")
    assert (flag.value(0.49), flag.value(0.5)) == (False, True)
    choice = Factor("c", "choice", values=("majority", "supermajority", "consensus"))
    assert choice.salib_bounds == [0.0, 3.0]
    assert [choice.value(x) for x in (0.0, 0.99, 1.0, 2.5, 3.0)] == [
        "majority", "majority", "supermajority", "consensus", "consensus"]
    assert Factor("n", "int", 0, 10, levels=4).grid_values(5) == (0, 3, 7, 10)
    # SALib's scaling lower + u * (upper - lower) can overshoot by an ulp; never past bounds
    x = Factor("x", "float", 0.3, 0.9)
    assert 0.3 + 1.0 * (0.9 - 0.3) > 0.9 and x.value(0.3 + 1.0 * (0.9 - 0.3)) == 0.9


def test_declared_choice_and_bool_parameters_vary_over_their_options(tmp_path):
    exp = load_experiment(write(tmp_path, """
        design = "sobol"
        sample_size = 8
        [vary]
        decision_rule = {}
        joint_chair = {}
        n_agenda_items = { range = [1, 3] }
    """))
    points = build_design(exp).points
    assert {p["decision_rule"] for p in points} == set(PARAMETERS["decision_rule"].choices)
    assert {p["joint_chair"] for p in points} == {False, True}
    assert {p["n_agenda_items"] for p in points} <= {1, 2, 3}
    assert all(type(p["n_agenda_items"]) is int for p in points)


def test_overrides_are_validated():
    exp = load_experiment(EXPERIMENTS / "sobol_relationship_time.toml")
    with pytest.raises(InputError, match=r"--sample-size: sample size 100 cannot be used: "
                                         r"sobol needs a power of 2.*64 or 128"):
        exp.with_overrides(sample_size=100)
    with pytest.raises(InputError, match=r"^--replicates: 0 is outside the bounds"):
        exp.with_overrides(replicates=0)
    grid = load_experiment(EXPERIMENTS / "grid_time_vs_resources.toml")
    with pytest.raises(InputError, match="a grid has no sample size"):
        grid.with_overrides(sample_size=10)


def test_designs_are_seeded_and_reproducible():
    exp = load_experiment(EXPERIMENTS / "sobol_relationship_time.toml").with_overrides(
        sample_size=8)
    a, b = build_design(exp), build_design(exp)
    assert np.array_equal(a.raw, b.raw)
    c = build_design(exp.with_overrides(seed=1))
    assert not np.array_equal(a.raw, c.raw)


BAD = [
    # (file text, line in message, key in message, words in message)
    ('design = "sobol"\nsample_size = 8\n[vary]\nrelationship_tme = {}', 4,
     "vary.relationship_tme", "unknown parameter (did you mean 'relationship_time'?)"),
    ('design = "sobol"\nsample_size = 8\n[vary]\nrelationship_time = { range = [0.1, 0.9] }', 4,
     "vary.relationship_time.range", "outside the declared bounds [0.0, 0.6]"),
    # the lower end is checked too, and a reversed range is no range
    ('design = "sobol"\nsample_size = 8\n[vary]\nrelationship_time = { range = [-0.1, 0.5] }',
     4, "vary.relationship_time.range", "outside the declared bounds [0.0, 0.6]"),
    ('design = "sobol"\nsample_size = 8\n[vary]\nrelationship_time = { range = [0.5, 0.1] }', 4,
     "vary.relationship_time.range", "expected finite lower <= upper, got [0.5, 0.1]"),
    ('design = "sobel"\n[vary]\nleadership = {}', 1,
     "design", "unknown design 'sobel' (did you mean 'sobol'?); expected one of grid,"),
    ('design = "dgsm"\n[vary]\nleadership = {}', 1,
     "design", "not supported (DGSM needs derivative designs"),
    ('design = "sobol"\nsample_size = 100\n[vary]\nleadership = {}', 2,
     "sample_size", "sobol needs a power of 2 (the base sample of Sobol' points), e.g. 64 or 128"),
    ('design = "fast"\nsample_size = 50\n[vary]\nleadership = {}', 2,
     "sample_size", "needs more than 4*M^2 = 64 runs per parameter"),
    ('design = "pawn"\nsample_size = 10\n[vary]\nleadership = {}', 2,
     "sample_size", "pawn with S=10 slices needs at least 2*S = 20 runs"),
    ('design = "grid"\nsample_size = 10\n[vary]\nleadership = {}', 2,
     "sample_size", "a grid has no sample size"),
    ('desing = "sobol"\n[vary]\nleadership = {}', 1, "desing", "did you mean 'design'?"),
    ('design = "sobol"\nsample_size = 8\n[vary]\nleadership = {}\n[options]\nnum_level = 4', 6,
     "options.num_level", "unknown option (did you mean 'num_levels'?)"),
    ('design = "morris"\n[vary]\nleadership = {}\n[options]\nnum_levels = 3', 5,
     "options.num_levels", "even number of levels"),
    ('design = "sobol"\nsample_size = 8\noutputs = ["trust_acros_final"]\n[vary]\nleadership = {}',
     3, "outputs[0]", "unknown end-of-run output 'trust_acros_final' (did you mean "
     "'trust_across_final'?)"),
    ('design = "sobol"\nsample_size = 8\noutputs = ["trust_across"]\n[vary]\nleadership = {}', 3,
     "outputs[0]", "a monthly measure, not an end-of-run output (list it under measures)"),
    ('design = "sobol"\nsample_size = 8\nmeasures = ["cumulative_output"]\n[vary]\nleadership = {}',
     3, "measures[0]", "an end-of-run output, not a monthly measure (list it under outputs)"),
    ('design = "sobol"\nsample_size = 8\nmeasures = ["relationship_time"]\n[vary]\nleadership = {}',
     3, "measures[0]", "renamed to 'relationship_time_spent'"),
    ('design = "sobol"\nsample_size = 8\n[params]\nleadership = 3.0\n[vary]\nresources = {}', 4,
     "params.leadership", "outside the bounds [0.0, 1.0]"),
    ('design = "sobol"\nsample_size = 8\nscenario = "nowhere.toml"\n[vary]\nleadership = {}', 3,
     "scenario", "nowhere.toml: scenario file not found"),
    ('design = "sobol"\nsample_size = 8', None, "vary", "no parameters to vary"),
    ('design = "sobol"\nsample_size = 8\n[vary]\nn_staff = { range = [10.5, 20] }', 4,
     "vary.n_staff.range", "integer"),
    ('design = "grid"\n[vary]\ndecision_rule = { values = ["majority", "unanimity"] }', 3,
     "vary.decision_rule.values", "'unanimity' is not one of"),
    ('model = "partnersim.study.testfunctions:ishigami"\ndesign = "sobol"\nsample_size = 8\n'
     '[vary]\nx1 = {}', 5, "vary.x1", "needs a range or values"),
    ('model = "partnersim.nothing:here"\ndesign = "sobol"\n[vary]\nx1 = {range=[0,1]}', 1,
     "model", "cannot import model"),
    ('design = "sobol"\nsample_size = 8\n[vary]\nleadership = { range = [0.2] }', 4,
     "vary.leadership.range", "expected [lower, upper]"),
    ('design = "sobol"\n[vary\n', 2, None, "malformed TOML"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), BAD, ids=[b[3][:40] for b in BAD])
def test_bad_input_gives_one_line_naming_file_line_and_key(tmp_path, text, line, key, words):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_experiment(path)
    msg = str(err.value)
    assert "\n" not in msg
    where = [str(path), f"line {line}" if line else None, key]
    assert msg.startswith(": ".join(w for w in where if w) + ": ")
    assert words in msg


def test_interventions_past_the_shortest_sampled_horizon_are_refused(tmp_path):
    path = write(tmp_path, f"""
        scenario = "{SCENARIOS / 'chair_leaves.toml'}"
        design = "sobol"
        sample_size = 8
        [vary]
        horizon_months = {{ range = [12, 60] }}
    """)
    with pytest.raises(InputError, match="vary.horizon_months: the base scenario's "
                                         "interventions do not fit the shortest horizon"):
        load_experiment(path)


def test_missing_file_and_every_design_listed(tmp_path):
    with pytest.raises(InputError, match="experiment file not found"):
        load_experiment(tmp_path / "none.toml")
    assert set(DESIGNS) == {"grid", "latin", "sobol", "morris", "fast", "rbd_fast", "pawn",
                            "delta"}


def test_generic_model_factors(tmp_path):
    exp = load_experiment(write(tmp_path, f"""
        model = "partnersim.study.testfunctions:ishigami"
        design = "latin"
        sample_size = 30
        [params]
        noise_sd = 0.5
        [vary]
        x1 = {{ range = [-{PI}, {PI}] }}
        x2 = {{ range = [-{PI}, {PI}] }}
        x3 = {{ values = [0.0, 1.0], type = "choice" }}
    """))
    assert not exp.is_partnersim and exp.base_params == {"noise_sd": 0.5}
    pts = build_design(exp).points
    assert {p["x3"] for p in pts} == {0.0, 1.0}


def test_the_documented_example_is_a_valid_experiment(tmp_path):
    doc = (ROOT / "docs" / "experiments.md").read_text()
    block = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    block = block.replace('"../scenarios/baseline.toml"', f'"{SCENARIOS / "baseline.toml"}"')
    exp = load_experiment(write(tmp_path, block))
    assert exp.design == "sobol" and exp.replicates == 2
    assert {"relationship_time", "decision_rule", "capacity_budget"} <= set(exp.names)
    assert "n_staff" not in exp.names


def test_the_shipped_experiments_table_states_their_true_sizes():
    """docs/experiments.md's table: each design's parameter count and number of runs are the
    ones the files give today (a parameter added to a provenance group changes both)."""
    doc = (ROOT / "docs" / "experiments.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)\.toml` \|(.*)$", doc, re.M)}
    for name in ("morris_assumptions", "sobol_relationship_time", "grid_time_vs_resources"):
        exp = load_experiment(EXPERIMENTS / f"{name}.toml")
        runs = len(make_specs(exp, build_design(exp)))
        assert f"({runs:,} runs)" in rows[name], (name, runs)
    assert f"({len(load_experiment(EXPERIMENTS / 'morris_assumptions.toml').names)} with " \
        "`n_staff`)" in rows["morris_assumptions"]
    assert f"over the {len(load_experiment(EXPERIMENTS / 'best_share.toml').names)} A- and " \
        "L-tagged" in rows["best_share"]


def test_a_shipped_experiment_is_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = load_experiment("grid_time_vs_resources")
    assert exp.text == (EXPERIMENTS / "grid_time_vs_resources.toml").read_text()
    assert exp.scenario_text == (SCENARIOS / "baseline.toml").read_text()
    with pytest.raises(InputError) as err:
        load_experiment("grid_time_vs_resource")
    assert "(did you mean 'grid_time_vs_resources'?); shipped experiments: " in str(err.value)


def test_a_base_scenario_can_be_a_shipped_name(tmp_path):
    exp = load_experiment(write(tmp_path, """
        scenario = "vision"
        design = "latin"
        sample_size = 5
        [vary]
        leadership = {}
    """))
    assert [iv.kind for iv in exp.interventions] == ["vision"]
    assert exp.scenario_source == str(SCENARIOS.resolve() / "vision.toml")


# --------------------------------------------------------------------------- posterior


def _fake_calibration(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        '{"kind": "calibration", "complete": true, "calibration": "fake"}')
    pd.DataFrame({"trust_forgetting": [0.01, 0.02, 0.03, 0.04],
                  "weight": [0.25, 0.25, 0.25, 0.25]}).to_parquet(folder / "posterior.parquet")
    return folder


POSTERIOR_EXPERIMENT = """\
design = "latin"
sample_size = 3
replicates = 5
seed = 8
{posterior}
[params]
n_staff = 20
horizon_months = 12
[vary]
leadership = {{}}
"""


def test_each_replicate_draws_from_the_posterior_the_same_at_every_design_point(tmp_path):
    cal = _fake_calibration(tmp_path / "cal")
    exp = load_experiment(write(tmp_path, POSTERIOR_EXPERIMENT.format(
        posterior=f'posterior = "{cal}"')))
    specs = make_specs(exp, build_design(exp))
    by_point = {}
    for s in specs:
        by_point.setdefault(s.point, []).append(s.params["trust_forgetting"])
        assert s.params["n_staff"] == 20  # the experiment's own values stay
    draws = by_point[0]
    assert len(by_point) == 3 and all(v == draws for v in by_point.values())
    assert set(draws) <= {0.01, 0.02, 0.03, 0.04} and len(set(draws)) > 1
    # the leadership varied by the design is not overwritten by the posterior
    assert len({s.params["leadership"] for s in specs}) == 3


def test_an_experiment_inherits_its_base_scenarios_posterior(tmp_path):
    cal = _fake_calibration(tmp_path / "cal")
    (tmp_path / "base.toml").write_text(f'posterior = "{cal}"\n[params]\nn_staff = 20\n')
    exp = load_experiment(write(tmp_path, 'scenario = "base.toml"\n'
                                + POSTERIOR_EXPERIMENT.format(posterior="")))
    assert exp.posterior is not None and exp.posterior.calibration == "fake"
    assert exp.replicate_bases([1, 2]) == exp.posterior.draws(2, seed=1)


def test_a_posterior_for_another_model_or_not_a_calibration_is_refused(tmp_path):
    cal = _fake_calibration(tmp_path / "cal")
    other = ('model = "math:hypot"\ndesign = "latin"\nsample_size = 3\n'
             f'posterior = "{cal}"\n[vary]\nx = {{ range = [0, 1] }}\n')
    with pytest.raises(InputError) as err:
        load_experiment(write(tmp_path, other))
    assert err.value.key == "posterior" and "another model" in err.value.message
    with pytest.raises(InputError) as err:
        load_experiment(write(tmp_path, POSTERIOR_EXPERIMENT.format(
            posterior=f'posterior = "{tmp_path / "nothing"}"')))
    assert err.value.key == "posterior" and "not a calibration folder" in err.value.message
