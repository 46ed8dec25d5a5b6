"""Scenario files: the shipped scenarios, validation of bad input, and TOML round trips."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from partnersim import outputs
from partnersim.errors import InputError
from partnersim.inputs.scenarios import (
    DEFAULT_SEED,
    Scenario,
    dump_scenario,
    load_scenario,
    make_scenario,
    parse_scenario,
)
from partnersim.model.interventions import INTERVENTION_KINDS
from partnersim.params import DEFAULTS, make_params

SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "scenarios"
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
    "leader_leaves": "leader_leaves",
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


def test_leader_leaves_in_year_two() -> None:
    scn = load_scenario(SCENARIOS_DIR / "leader_leaves.toml")
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
            {"kind": "communication", "month": 1, "mode": "two_way", "widen": True},
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
    with pytest.raises(InputError, match=r"r.toml: --replicates: 0 is outside the bounds"):
        scn.with_replicates(0)


# --------------------------------------------------------------------------- bad input


BAD = [
    # (id, file text, fragments the one-line message must contain)
    ("malformed", 'name = "x"\nquestion = "unterminated\nreplicates = 3\n',
     ["malformed TOML", "line 2"]),
    ("unknown_top_key", "replicats = 3\n", ["replicats", "did you mean 'replicates'"]),
    ("parameter_at_top_level", "leadership = 0.5\n", ["leadership", "[params]"]),
    ("unknown_param", "[params]\nleadrship = 0.5\n", ["params.leadrship",
                                                      "did you mean 'leadership'"]),
    ("out_of_bounds", "[params]\nleadership = 1.5\n", ["params.leadership", "[0.0, 1.0]"]),
    ("wrong_type", '[params]\nn_staff = "many"\n', ["params.n_staff", "expected int"]),
    ("float_for_int", "[params]\nn_staff = 60.0\n", ["params.n_staff", "expected int"]),
    ("bad_choice", '[params]\ndecision_rule = "unanimity"\n',
     ["params.decision_rule", "majority, supermajority, consensus"]),
    ("replicates_type", 'replicates = "20"\n', ["replicates", "expected an integer"]),
    ("replicates_bounds", "replicates = 0\n", ["replicates", "bounds [1,"]),
    ("seed_negative", "seed = -1\n", ["seed", "bounds [0,"]),
    ("unknown_kind", '[[interventions]]\nkind = "groundrules"\nmonth = 1\n',
     ["interventions[0].kind", "did you mean 'ground_rules'"]),
    ("unknown_intervention_key", '[[interventions]]\nkind = "ground_rules"\nmonth = 1\n'
     "strenght = 1.0\n", ["interventions[0].strenght", "did you mean 'strength'"]),
    ("intervention_bounds", '[[interventions]]\nkind = "ground_rules"\nmonth = 1\n'
     "strength = 2.0\n", ["interventions[0].strength", "less than or equal to 1"]),
    ("past_horizon", '[params]\nhorizon_months = 24\n[[interventions]]\nkind = "vision"\n'
     "month = 24\nclarity = 0.8\n", ["interventions[0].month", "past the horizon"]),
    ("end_past_horizon", '[params]\nhorizon_months = 24\n[[interventions]]\n'
     'kind = "pressure_surge"\nmonth = 3\nend_month = 40\n',
     ["interventions[0].month", "past the horizon"]),
    ("bad_name", 'name = "../escape"\n', ["name", "short name"]),
    ("params_not_table", "params = 3\n", ["params", "table"]),
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
        "leadership": {"strength": 0.9, "joint_chair": True},
        "champions": {"senior": 2, "operational": 3},
        "resources": {"budget": 10.0, "earmark": "voluntary"},
        "ground_rules": {"strength": 0.5},
        "communication": {"mode": "two_way", "volume": 4.0},
        "vision": {"clarity": 0.7},
        "relationship_time": {"share": 0.25},
        "decision_rule": {"rule": "supermajority"},
        "leader_leaves": {},
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
