"""Scenario files: the shipped scenarios, validation of bad input, and TOML round trips."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from partnersim import outputs
from partnersim.errors import InputError
from partnersim.inputs.scenarios import (
    Scenario,
    dump_scenario,
    load_scenario,
    make_scenario,
    parse_scenario,
)
from partnersim.model.interventions import INTERVENTION_KINDS, RENAMED_KEYS, parse_interventions
from partnersim.model.partnership import PartnershipModel
from partnersim.params import DEFAULTS, PARAMETERS, make_params
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.seeding import DEFAULT_SEED
from partnersim.study.compare import compare

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS_DIR = ROOT / "scenarios"
SHIPPED = sorted(SCENARIOS_DIR.glob("*.toml"))

LEVERS = {
    "resources": "resources",
    "ground_rules": "ground_rules",
    "joint_chair": "leadership",
    "champions": "champions",
    "two_way_communication": "communication",
    "vision": "vision",
    "more_relationship_time": "relationship_time",
    "less_relationship_time": "relationship_time",
    "consensus": "decision_rule",
    "chair_leaves": "chair_leaves",
    "budget_cut": "budget_cut",
    "pressure_surge": "pressure_surge",
}
STARTING_POINTS = {"familiar_partners", "unfamiliar_partners"}


# --------------------------------------------------------------------------- shipped files


def test_every_lever_shock_and_starting_point_is_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"baseline", *LEVERS, *STARTING_POINTS} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_loads_and_opens_with_its_question(path: Path) -> None:
    scn = load_scenario(path)
    assert scn.name == path.stem
    assert scn.question
    first = path.read_text().splitlines()[0]
    assert first.startswith("# Question:"), "each file opens with the question it answers"
    # shared master seed and replicate count: compare pairs them without overrides
    assert scn.seed == DEFAULT_SEED
    assert 10 <= scn.replicates <= 50


@pytest.mark.parametrize("name,kind", sorted(LEVERS.items()))
def test_lever_scenarios_use_the_intervention_kind(name: str, kind: str) -> None:
    scn = load_scenario(SCENARIOS_DIR / f"{name}.toml")
    assert kind in {iv.kind for iv in scn.interventions}
    assert dict(scn.overrides) == {}, "levers are interventions, not changed starting points"


def test_starting_points_differ_from_baseline_in_familiarity_only() -> None:
    base = load_scenario(SCENARIOS_DIR / "baseline.toml")
    known = load_scenario(SCENARIOS_DIR / "familiar_partners.toml")
    unknown = load_scenario(SCENARIOS_DIR / "unfamiliar_partners.toml")
    assert dict(base.overrides) == {} and base.interventions == ()
    assert set(known.overrides) == set(unknown.overrides) == {"prior_familiarity"}
    assert unknown.params.prior_familiarity < base.params.prior_familiarity
    assert known.params.prior_familiarity > base.params.prior_familiarity


def test_chair_leaves_in_year_two() -> None:
    scn = load_scenario(SCENARIOS_DIR / "chair_leaves.toml")
    (iv,) = scn.interventions
    assert 12 <= iv.month < 24


# --------------------------------------------------------------------------- round trip


def _without_source(s: Scenario) -> Scenario:
    return dataclasses.replace(s, source=None)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_dump_then_load_gives_the_same_scenario(path: Path) -> None:
    scn = load_scenario(path)
    again = parse_scenario(dump_scenario(scn), default_name="other")
    assert _without_source(again) == _without_source(scn)


def test_round_trip_of_awkward_values() -> None:
    scn = make_scenario(
        name="awkward-1.2",
        question='Does "quoting" \\ work?\nSecond line é ✓',
        description="tab\there",
        params={"horizon_months": 36, "leadership": 1e-05, "joint_chair": True,
                "decision_rule": "consensus", "n_staff": 60},
        interventions=[
            {"kind": "relationship_time", "month": 2, "schedule": [[2, 0.3], [12, 0.1]]},
            {"kind": "pressure_surge", "month": 6, "end_month": 30, "extra": 0.25},
            {"kind": "communication", "month": 1, "communication_mode": "two_way",
             "widen_communication": True},
        ],
        replicates=3, seed=2**63 - 1, measures=["trust_across", "output"],
    )
    text = dump_scenario(scn)
    tomllib.loads(text)  # valid TOML
    assert text.startswith('# Does "quoting"')
    assert _without_source(parse_scenario(text)) == scn


def test_make_scenario_from_params_keeps_only_changed_values() -> None:
    params = make_params({"ground_rules": 0.5, "horizon_months": 48})
    scn = make_scenario(name="live", params=params)
    assert dict(scn.overrides) == {"ground_rules": 0.5, "horizon_months": 48}
    assert scn.params == params
    assert load_scenario_text(scn.text).params == params


def load_scenario_text(text: str) -> Scenario:
    return parse_scenario(text, source="<text>")


def test_defaults_when_keys_are_missing(tmp_path: Path) -> None:
    f = tmp_path / "bare.toml"
    f.write_text("# Question: nothing set\n")
    scn = load_scenario(f)
    assert scn.name == "bare" and scn.seed == DEFAULT_SEED and scn.replicates >= 1
    assert scn.params.model_dump() == DEFAULTS and scn.measures is None


def test_measures_are_checked_against_the_model() -> None:
    ok = parse_scenario('measures = ["trust_across", "health"]')
    assert ok.measures == ("trust_across", "health")
    assert set(ok.measures) <= set(outputs.MONTHLY)
    with pytest.raises(InputError, match=r"measures\[1\].*did you mean 'trust_across'"):
        parse_scenario('measures = ["output", "trust_acros"]', source="m.toml")


def test_with_replicates_validates() -> None:
    scn = parse_scenario("replicates = 4", source="r.toml")
    assert scn.with_replicates(7).replicates == 7
    with pytest.raises(InputError, match=r"^--replicates: 0 is outside the bounds"):
        scn.with_replicates(0)


# --------------------------------------------------------------------------- bad input


BAD = [
    # (id, file text, fragments the one-line message must contain)
    ("malformed", 'name = "x"\nquestion = "unterminated\nreplicates = 3\n',
     ["line 2: malformed TOML", "column 25"]),
    ("unknown_top_key", "replicats = 3\n", ["replicats", "did you mean 'replicates'"]),
    ("parameter_at_top_level", "leadership = 0.5\n", ["leadership", "[params]"]),
    ("unknown_param", "# a comment\n\n[params]\nleadrship = 0.5\n",
     ["line 4: params.leadrship: unknown parameter (did you mean 'leadership'?)"]),
    ("out_of_bounds", "[params]\nleadership = 1.5\n", ["line 2: params.leadership",
                                                       "[0.0, 1.0]"]),
    ("wrong_type", '[params]\nn_staff = "many"\n', ["params.n_staff", "expected int"]),
    ("float_for_int", "[params]\nn_staff = 60.0\n", ["params.n_staff", "expected int"]),
    ("bad_choice", '[params]\ndecision_rule = "unanimity"\n',
     ["params.decision_rule", "majority, supermajority, consensus"]),
    ("replicates_type", 'replicates = "20"\n', ["replicates", "expected an integer"]),
    ("replicates_bounds", "replicates = 0\n", ["replicates", "bounds [1,"]),
    ("seed_negative", "seed = -1\n", ["seed", "bounds [0,"]),
    ("unknown_kind", '[[interventions]]\nkind = "groundrules"\nmonth = 1\n',
     ["interventions[0].kind", "did you mean 'ground_rules'"]),
    ("missing_kind", '[[interventions]]\nmonth = 1\n',
     ["interventions[0].kind: missing; expected one of leadership,"]),
    ("unknown_intervention_key", '[[interventions]]\nkind = "ground_rules"\nmonth = 1\n'
     "groundrules = 1.0\n", ["line 4: interventions[0].groundrules",
                              "did you mean 'ground_rules'"]),
    ("intervention_bounds", '[[interventions]]\nkind = "ground_rules"\nmonth = 1\n'
     "ground_rules = 2.0\n", ["line 4: interventions[0].ground_rules",
                               "outside the bounds [0.0, 1.0]"]),
    # an intervention's bounds are its parameter's: a budget of 1000 was allowed once
    ("intervention_parameter_bounds", '[[interventions]]\nkind = "resources"\nmonth = 1\n'
     "capacity_budget = 500.0\n", ["interventions[0].capacity_budget",
                                    "500.0 is outside the bounds [0.0, 100.0] (GBP k per month)"]),
    ("renamed_intervention_key", '[[interventions]]\nkind = "ground_rules"\nmonth = 1\n'
     "strength = 1.0\n", ["line 4: interventions[0].strength: renamed to 'ground_rules'"]),
    ("renamed_intervention_kind", '\n[[interventions]]\nkind = "leader_leaves"\nmonth = 1\n',
     ["line 3: interventions[0].kind: kind 'leader_leaves' renamed to 'chair_leaves'"]),
    ("renamed_measure", 'measures = ["trust_across", "relationship_time"]\n',
     ["line 1: measures[1]: renamed to 'relationship_time_spent'"]),
    ("output_as_measure", 'measures = ["cumulative_output"]\n',
     ["measures[0]", "an end-of-run output, not a monthly measure"]),
    ("past_horizon", '[params]\nhorizon_months = 24\n[[interventions]]\nkind = "vision"\n'
     "month = 24\nvision_clarity = 0.8\n", ["line 5: interventions[0].month",
                                       "past the horizon"]),
    ("end_past_horizon", '[params]\nhorizon_months = 24\n[[interventions]]\n'
     'kind = "pressure_surge"\nmonth = 3\nend_month = 40\n',
     ["line 6: interventions[0].end_month: month 40 is past the horizon"]),
    ("schedule_past_horizon", '[params]\nhorizon_months = 24\n[[interventions]]\n'
     'kind = "relationship_time"\nmonth = 0\nschedule = [[0, 0.1], [30, 0.2]]\n',
     ["line 6: interventions[0].schedule: month 30 is past the horizon"]),
    ("end_of_a_departure", '\n[[interventions]]\nkind = "champion_leaves"\nmonth = 3\n'
     'end_month = 9\n', ["interventions[0]", "a champion_leaves intervention acts once and "
                                           "cannot be undone"]),
    ("end_of_a_schedule", '\n[[interventions]]\nkind = "relationship_time"\nmonth = 0\n'
     'schedule = [[0, 0.1], [12, 0.2]]\nend_month = 24\n',
     ["interventions[0]", "a schedule sets each share in turn"]),
    ("bad_name", 'name = "../escape"\n', ["name", "short name"]),
    ("params_not_table", "params = 3\n", ["params", "table"]),
    ("intervention_not_table", "interventions = [1, 2]\n",
     ["line 1: interventions[0]", "expected a table with 'kind' and 'month'"]),
    ("intervention_as_list", 'interventions = [{kind = "chair_leaves", month = 10}, [5]]\n',
     ["interventions[1]", "expected a table with 'kind' and 'month'"]),
]


@pytest.mark.parametrize("text,fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_gives_one_line_naming_file_and_key(tmp_path: Path, text: str,
                                                      fragments: list[str]) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(InputError) as info:
        load_scenario(f)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(f))
    for frag in fragments:
        assert frag in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.toml: scenario file not found"):
        load_scenario(tmp_path / "nope.toml")


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin.toml"
    f.write_bytes(b'question = "caf\xe9"\n')
    with pytest.raises(InputError, match="not UTF-8"):
        load_scenario(f)


def test_every_intervention_kind_can_be_written_and_read() -> None:
    examples = {
        "leadership": {"leadership": 0.9, "joint_chair": True},
        "champions": {"n_champions_senior": 2, "n_champions_operational": 3},
        "resources": {"capacity_budget": 10.0, "budget_earmark": "voluntary"},
        "ground_rules": {"ground_rules": 0.5},
        "communication": {"communication_mode": "two_way", "message_volume": 4.0},
        "vision": {"vision_clarity": 0.7},
        "relationship_time": {"relationship_time": 0.25},
        "relationship_time_rule": {"measure": "trust_across", "below": 0.4,
                                   "relationship_time": 0.25},
        "decision_rule": {"decision_rule": "supermajority"},
        "chair_leaves": {},
        "champion_leaves": {"count": 1},
        "member_leaves": {"count": 2},
        "budget_cut": {"share": 0.5},
        "pressure_surge": {"extra": 0.3},
    }
    assert set(examples) == set(INTERVENTION_KINDS)
    items = [{"kind": k, "month": i + 1, **v} for i, (k, v) in enumerate(examples.items())]
    scn = make_scenario(name="all_kinds", interventions=items)
    again = parse_scenario(dump_scenario(scn))
    assert [iv.kind for iv in again.interventions] == list(examples)
    assert again.interventions == scn.interventions


# --------------------------------------------------------------------------- intervention keys


SHOCK_KEYS = {"kind", "month", "end_month", "schedule", "count", "share", "extra",
              "measure", "below", "above", "otherwise"}  # events' and rules' own keys
"""Keys of interventions that are not parameters (the schedule is a list of [month, share])."""


def test_intervention_keys_are_the_parameters_they_set_with_the_same_bounds() -> None:
    seen = set()
    for kind, cls in INTERVENTION_KINDS.items():
        for key, info in cls.model_fields.items():
            if key in SHOCK_KEYS:
                continue
            assert key in PARAMETERS, f"{kind}.{key} is not a parameter's name"
            seen.add(key)
            spec = PARAMETERS[key]
            bounds = {type(m).__name__: m for m in info.metadata}
            if spec.is_numeric:
                assert bounds["Ge"].ge == spec.lower and bounds["Le"].le == spec.upper, key
    assert {"leadership", "capacity_budget", "budget_earmark", "ground_rules",
            "communication_mode", "message_volume", "widen_communication", "vision_clarity",
            "relationship_time", "decision_rule", "n_champions_senior",
            "n_champions_operational"} <= seen


LEVER_EXAMPLES = [
    {"kind": "leadership", "leadership": 0.9, "joint_chair": True, "p_chair_leaves": 0.05},
    {"kind": "resources", "capacity_budget": 100.0, "budget_earmark": "community"},
    {"kind": "ground_rules", "ground_rules": 0.5},
    {"kind": "communication", "communication_mode": "two_way", "message_volume": 30.0,
     "widen_communication": True, "relevance_filter": 0.4},
    {"kind": "vision", "vision_clarity": 0.7},
    {"kind": "relationship_time", "relationship_time": 0.6},
    {"kind": "decision_rule", "decision_rule": "consensus"},
]


@pytest.mark.parametrize("lever", LEVER_EXAMPLES, ids=lambda d: d["kind"])
def test_a_lever_sets_the_parameters_named_by_its_keys(lever: dict) -> None:
    model = PartnershipModel(n_staff=20, horizon_months=12, rng=1)
    model.apply_intervention(dict(lever, month=0))
    for key, value in lever.items():
        if key != "kind":
            assert model.levers[key] == value, key


def test_champions_are_appointed_by_the_parameters_names() -> None:
    model = PartnershipModel(n_staff=200, horizon_months=12, rng=1)
    model.apply_intervention({"kind": "champions", "n_champions_senior": 3,
                              "n_champions_operational": 5})
    senior = model.staff.champion & (model.staff.level == 0)
    assert senior.sum() == 3 and model.staff.champion.sum() == 8


def test_the_chair_leaves_shock_removes_the_chair() -> None:
    model = PartnershipModel(n_staff=20, horizon_months=12, rng=1)
    (chair,) = model.chairs
    tenure = model.staff.tenure[chair]
    model.apply_intervention({"kind": "chair_leaves"})
    assert model.staff.tenure[chair] == 0 != tenure  # a newcomer took the seat


@pytest.mark.parametrize("kind,old,new", [
    (kind, old, new) for kind, keys in RENAMED_KEYS.items() for old, new in keys.items()])
def test_every_old_intervention_key_names_its_new_one(kind: str, old: str, new: str) -> None:
    with pytest.raises(InputError) as info:
        parse_scenario(f'[[interventions]]\nkind = "{kind}"\nmonth = 0\n{old} = 1\n',
                       source="old.toml")
    assert str(info.value) == f"old.toml: line 4: interventions[0].{old}: renamed to '{new}'"


SHIPPED_WITH_INTERVENTIONS = sorted(
    [*ROOT.joinpath("src/partnersim/data/patterns").glob("*.toml"),
     *ROOT.joinpath("experiments/tradeoff").glob("*.toml")])


@pytest.mark.parametrize("path", SHIPPED_WITH_INTERVENTIONS, ids=lambda p: p.stem)
def test_shipped_pattern_and_tradeoff_files_use_the_current_keys(path: Path) -> None:
    data = tomllib.loads(path.read_text())
    tables = [data, *data.get("conditions", {}).values()]
    for table in tables:
        parse_interventions(table.get("interventions", []), horizon_months=360,
                            source=str(path))
    if "design" not in data and "id" not in data:  # a scenario
        load_scenario(path)


# --------------------------------------------------------------------------- shipped by name


def test_a_shipped_scenario_is_found_by_name_from_any_folder(tmp_path: Path,
                                                             monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    by_name, by_file = load_scenario("ground_rules"), load_scenario("ground_rules.toml")
    shipped = load_scenario(SCENARIOS_DIR / "ground_rules.toml")
    assert by_name.text == by_file.text == shipped.text
    assert by_name.name == "ground_rules" and by_name.interventions == shipped.interventions


def test_a_file_in_the_working_folder_wins_over_a_shipped_one(tmp_path: Path,
                                                              monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline.toml").write_text("# Question: mine\nreplicates = 3\n")
    assert load_scenario("baseline").replicates == 3
    assert load_scenario("baseline.toml").replicates == 3


def test_an_unknown_name_lists_the_shipped_scenarios(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        load_scenario("basline")
    msg = str(info.value)
    assert msg.startswith("basline: scenario file not found")
    assert "(did you mean 'baseline'?)" in msg
    assert "shipped scenarios: baseline, budget_cut, chair_leaves," in msg
    with pytest.raises(InputError, match=r"^elsewhere/baseline\.toml: scenario file not found$"):
        load_scenario("elsewhere/baseline.toml")  # a path is never swapped for a shipped file


# --------------------------------------------------------------------------- posterior


def fake_posterior(folder: Path) -> Path:
    """A calibration folder as ``partnersim calibrate`` leaves it, with four particles."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(
        {"kind": "calibration", "complete": True, "calibration": "fake", "fingerprint": "f"}))
    pd.DataFrame({"leadership": [0.2, 0.4, 0.6, 0.8], "trust_forgetting": [0.01, 0.02, 0.03,
                                                                           0.04],
                  "weight": [0.1, 0.2, 0.3, 0.4], "generation": 2}).to_parquet(
        folder / "posterior.parquet")
    return folder


def posterior_scenario(tmp_path: Path, name: str = "a", extra: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\nreplicates = 6\nseed = 5\n'
                    f'posterior = "{tmp_path / "cal"}"\n{extra}\n'
                    "[params]\nn_staff = 20\nhorizon_months = 12\nleadership = 0.5\n")
    return path


def test_a_scenario_draws_each_replicates_calibrated_parameters_from_its_posterior(tmp_path):
    fake_posterior(tmp_path / "cal")
    scn = load_scenario(posterior_scenario(tmp_path))
    assert scn.posterior is not None and scn.posterior.names == ("leadership",
                                                                 "trust_forgetting")
    seeds = [11, 12, 13, 14, 15, 16]
    params = scn.replicate_params(seeds)
    drawn = [p.trust_forgetting for p in params]
    assert set(drawn) <= {0.01, 0.02, 0.03, 0.04} and len(set(drawn)) > 1
    assert all(p.leadership == 0.5 for p in params)  # the file's [params] win over a draw
    assert all(p.n_staff == 20 for p in params)
    # the same seeds give the same draws (a compared scenario is paired); replicate i's draw
    # does not depend on the count
    assert [p.trust_forgetting for p in scn.replicate_params(seeds)] == drawn
    assert [p.trust_forgetting for p in scn.replicate_params(seeds[:3])] == drawn[:3]
    # the scenario's text round-trips with its posterior
    again = parse_scenario(scn.text, source="dump.toml")
    assert again.posterior == scn.posterior
    # without a posterior, every replicate has the scenario's parameters
    plain = load_scenario(ROOT / "scenarios" / "baseline.toml")
    assert plain.replicate_params(seeds[:2]) == [plain.params, plain.params]


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "not a calibration folder (no such folder)"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text('{"kind": "sweep"}')),
     "not a calibration folder: a results folder of another kind (sweep)"),
])
def test_a_posterior_that_is_not_a_calibration_is_one_line_naming_the_file_and_key(
        tmp_path, make, message):
    make(tmp_path / "cal")
    path = posterior_scenario(tmp_path)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    text = str(err.value)
    assert text.startswith(f"{path}: line 4: posterior: {tmp_path / 'cal'}: {message}")
    assert "\n" not in text


def test_run_and_compare_carry_the_draws_paired_across_scenarios(tmp_path):
    fake_posterior(tmp_path / "cal")
    a = posterior_scenario(tmp_path, "a")
    b = posterior_scenario(tmp_path, "b")
    b.write_text(b.read_text().replace("leadership = 0.5", "leadership = 0.7"))
    serial = RunOptions(executor="serial", progress=False)
    cmp = compare([a, b], tmp_path / "cmp", serial, outputs=["trust_across_final"])
    specs = storage.load_specs(tmp_path / "cmp")
    by = {name: g.sort_values("replicate") for name, g in specs.groupby("scenario")}
    assert list(by["a"]["trust_forgetting"]) == list(by["b"]["trust_forgetting"])
    assert len(set(by["a"]["trust_forgetting"])) > 1
    assert set(by["a"]["leadership"]) == {0.5} and set(by["b"]["leadership"]) == {0.7}
    manifest = json.loads((tmp_path / "cmp" / "manifest.json").read_text())
    assert manifest["scenarios"][0]["posterior"]["calibration"] == "fake"
    assert len(cmp.differences)
    # a scenario without the posterior is not paired with one that has it
    plain = tmp_path / "plain.toml"
    plain.write_text('name = "plain"\nreplicates = 6\nseed = 5\n[params]\nn_staff = 20\n'
                     "horizon_months = 12\n")
    with pytest.raises(InputError) as err:
        compare([a, plain], tmp_path / "cmp2", serial)
    assert err.value.key == "posterior" and "not be paired" in err.value.message
    assert not (tmp_path / "cmp2").exists()
