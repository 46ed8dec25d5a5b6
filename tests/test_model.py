"""PartnershipModel as a Mesa model: construction, agents, determinism, interventions."""

from __future__ import annotations

import inspect
import multiprocessing

import mesa
import numpy as np
import pandas as pd
import pytest

from partnersim.errors import InputError
from partnersim.model import partnership
from partnersim.model.agents import Agency, Level, StaffMember
from partnersim.model.interventions import parse_interventions
from partnersim.model.partnership import PartnershipModel
from partnersim.model.simulate import simulate
from partnersim.outputs import MONTHLY, SUMMARIES
from partnersim.params import PARAMETERS, SECTORS, make_params

SMALL = {"n_staff": 60, "horizon_months": 24}


def test_agents_are_mesa_agents_viewing_the_arrays():
    model = PartnershipModel(rng=1, **SMALL)
    staff = model.agents_by_type[StaffMember]
    agencies = model.agents_by_type[Agency]
    assert len(staff) == 60 and len(agencies) == len(SECTORS)
    senior = staff.select(lambda a: a.level is Level.SENIOR)
    assert 0 < len(senior) < len(staff)
    member = staff.to_list()[5]
    model.staff.commitment[member.row] = 0.123
    assert member.commitment == pytest.approx(0.123)
    assert member.agency.sector.value == SECTORS[model.staff.agency[member.row]]
    assert {a.sector.value for a in agencies} == set(SECTORS)


def test_explicit_keyword_signature_for_solaraviz():
    sig = inspect.signature(PartnershipModel.__init__)
    kinds = {p.kind for name, p in sig.parameters.items() if name != "self"}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}
    assert set(PARAMETERS) <= set(sig.parameters)
    assert sig.parameters["leadership"].default == PARAMETERS["leadership"].default


def test_unknown_or_out_of_bounds_parameter_is_an_input_error():
    with pytest.raises(InputError, match="did you mean 'leadership'"):
        PartnershipModel(rng=1, leadershp=0.5)
    with pytest.raises(InputError, match=r"bounds \[0.0, 1.0\]"):
        PartnershipModel(rng=1, leadership=1.5)
    with pytest.raises(InputError, match="integration_time_scale: removed: integrated work now "
                       "draws on the stocks"):
        PartnershipModel(rng=1, integration_time_scale=0.1)


def test_same_seed_identical_monthly_table_and_different_seeds_differ():
    a = simulate(SMALL, seed=7).timeseries
    b = simulate(SMALL, seed=7).timeseries
    c = simulate(SMALL, seed=8).timeseries
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a.equals(c)


def test_run_produces_every_measure_and_summary():
    result = simulate(SMALL, seed=3)
    assert list(result.timeseries.columns) == ["month", *MONTHLY]
    assert len(result.timeseries) == SMALL["horizon_months"]
    assert set(result.summary) == set(SUMMARIES)
    for name in SUMMARIES:
        assert np.isfinite(float(result.summary[name])), name


def test_datacollector_and_batch_run_work():
    previous = multiprocessing.get_start_method(allow_none=True)
    model = PartnershipModel(rng=2, **SMALL).run()
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == SMALL["horizon_months"]
    np.testing.assert_allclose(df["output"].to_numpy(), model.measures_frame()["output"])
    rows = mesa.batch_run(PartnershipModel, {"n_staff": 40, "horizon_months": 12},
                          number_processes=1, rng=[1, 2], max_steps=20,
                          display_progress=False)
    # batch_run forces the "spawn" start method for the whole process: put it back
    multiprocessing.set_start_method(previous, force=True)
    assert len(rows) == 2 and all("trust_across" in r for r in rows)


def test_staff_conserved_through_heavy_turnover():
    model = PartnershipModel(rng=4, n_staff=80, horizon_months=36, p_turnover=0.06)
    before = np.bincount(model.staff.agency)
    model.run()
    assert len(model.agents_by_type[StaffMember]) == 80
    assert np.array_equal(np.bincount(model.staff.agency), before)
    assert model.staff.tenure.min() < 36  # newcomers arrived
    assert {a.row for a in model.agents_by_type[StaffMember]} == set(range(80))


def test_a_newcomer_has_a_new_agent_and_the_leavers_is_removed():
    model = PartnershipModel(rng=1, **SMALL)
    before = {a.row: a for a in model.agents_by_type[StaffMember]}
    model.replace_members(np.array([3, 7]))
    after = {a.row: a for a in model.agents if isinstance(a, StaffMember)}
    assert set(after) == set(range(60))
    assert after[3] is not before[3] and after[7] is not before[7]
    assert {after[3].unique_id, after[7].unique_id}.isdisjoint(
        a.unique_id for a in before.values())
    assert all(after[r] is before[r] for r in before if r not in (3, 7))
    assert before[3] not in model.agents and before[7] not in model.agents
    assert model.staff_agents[3] is after[3]


def test_interventions_apply_at_their_month_and_levers_undo():
    ivs = [{"kind": "ground_rules", "month": 3, "ground_rules": 1.0},
           {"kind": "pressure_surge", "month": 5, "end_month": 8, "extra": 0.5}]
    model = PartnershipModel(rng=5, interventions=ivs, **SMALL)
    seen = []
    while model.running:
        model.step()
        seen.append((model.levers["ground_rules"], model.levers["service_pressure"]))
    # after step k the levers stand as they will at the start of month k + 1 (a lever
    # undone at end_month is restored then); interventions due at k + 1 apply when it starts
    assert seen[2] == (0.0, 1.0) and seen[3] == (1.0, 1.0)
    assert seen[4][1] == 1.0 and seen[5][1] == 1.5 and seen[6][1] == 1.5 and seen[7][1] == 1.0
    costs = model.measures_frame()["cost_money"]
    assert costs.iloc[3] == pytest.approx(model.p.ground_rules_cost)
    assert costs.iloc[2] == 0.0


def test_relationship_time_schedule():
    ivs = [{"kind": "relationship_time", "month": 2, "schedule": [[2, 0.3], [6, 0.05]]}]
    model = PartnershipModel(rng=5, interventions=ivs, **SMALL)
    shares = []
    while model.running:
        model.step()
        shares.append(model.levers["relationship_time"])
    assert shares[1] == 0.15 and shares[2] == 0.3 and shares[4] == 0.3 and shares[5] == 0.05


def test_live_intervention_acts_now_and_is_recorded():
    model = PartnershipModel(rng=6, **SMALL)
    for _ in range(4):
        model.step()
    model.apply_intervention({"kind": "chair_leaves"})
    assert model.chair_presence == 0.0
    assert (4, "chair leaves") in model.events
    assert len(model.chairs) == 1  # a successor is in post
    model.apply_intervention({"kind": "communication", "communication_mode": "two_way"})
    assert model.levers["communication_mode"] == "two_way"
    assert model.interventions[-1].month == 4


def test_joint_chair_halves_the_loss_of_a_chair():
    single = PartnershipModel(rng=1, **SMALL)
    joint = PartnershipModel(rng=1, joint_chair=True, **SMALL)
    assert len(joint.chairs) == 2
    single.remove_chair()
    joint.remove_chair()
    assert single.chair_presence == 0.0 and joint.chair_presence == 0.5


def test_going_down_to_one_chair_keeps_nhs_acutes_even_after_a_replacement():
    model = PartnershipModel(rng=1, joint_chair=True, p_chair_leaves=0.0, **SMALL)
    acute, social_work = model.chairs
    assert model.staff.agency[[acute, social_work]].tolist() == [0, 2]
    model.replace_members(np.array([acute]), stream="shocks")  # acute's chair leaves
    new_acute = model.chairs[0]
    assert model.staff.agency[new_acute] == 0 and model.chairs[1] == social_work
    model.set_levers({"joint_chair": False})  # the second chair, social work's, stands down
    assert model.chairs == [new_acute]


def test_newcomers_of_a_month_0_shock_are_not_founders():
    # they join before anyone has met: no personal familiarity from their agencies' past
    model = PartnershipModel(rng=4, interventions=[
        {"kind": "member_leaves", "month": 0, "count": 12}], **SMALL)
    model.step()
    s, t = model.staff, model.ties
    newcomers = np.flatnonzero(~s.founder)
    assert len(newcomers) >= 12 and not s.founder[newcomers].any()
    theirs = np.isin(t.src, newcomers) | np.isin(t.dst, newcomers)
    assert theirs.any() and (~theirs).any()
    # a first meeting's familiarity is 0 for a newcomer, the agencies' for founders; one
    # month's meeting then adds familiarity_gain of the gap
    gain = model.p.familiarity_gain
    assert np.allclose(t.familiarity[theirs], gain)
    assert (t.familiarity[~theirs] > gain).all()


def test_champion_and_member_shocks():
    model = PartnershipModel(rng=3, n_champions_senior=2, n_champions_operational=4, **SMALL)
    assert model.staff.champion.sum() == 6
    model.remove_champions(2)
    assert model.staff.champion.sum() == 4
    model.remove_random_members(3)
    assert model.staff.champion.sum() == 4
    assert len(model.agents_by_type[StaffMember]) == 60


def test_validated_params_are_used_as_they_are(monkeypatch):
    """A run given validated parameters and parsed interventions (as the runner gives them)
    gives the same result as one given overrides and dicts, and validates nothing again."""
    overrides = {"horizon_months": 24, "leadership": 0.8}
    ivs = [{"kind": "budget_cut", "month": 2}]
    by_overrides = simulate(overrides, seed=3, interventions=ivs)
    params = make_params(overrides)
    parsed = parse_interventions(ivs, horizon_months=24)

    def no_second_validation(*args, **kwargs):
        raise AssertionError("validated again")

    monkeypatch.setattr(partnership, "make_params", no_second_validation)
    monkeypatch.setattr(partnership, "parse_interventions", no_second_validation)
    validated = simulate(params, seed=3, interventions=parsed)
    assert validated.summary == by_overrides.summary
    pd.testing.assert_frame_equal(validated.timeseries, by_overrides.timeseries)
    with pytest.raises(TypeError, match="either params"):
        PartnershipModel(rng=1, params=params, leadership=0.3)


def test_measures_frame_keeps_the_measures_asked_for_in_their_order():
    model = PartnershipModel(rng=3, horizon_months=14)
    model.run()
    full = model.measures_frame()
    chosen = model.measures_frame(["output", "trust_across"])
    pd.testing.assert_frame_equal(chosen, full[["month", "output", "trust_across"]])
    with pytest.raises(KeyError, match="not monthly measures: outptu"):
        model.measures_frame(["output", "outptu"])
