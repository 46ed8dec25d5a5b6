"""One or more tests per monthly stage, mostly degenerate settings with known outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from partnersim.model import stages
from partnersim.model.partnership import PartnershipModel
from partnersim.model.simulate import simulate
from partnersim.model.state import CAREER, MonthEvents

SMALL = {"n_staff": 80, "horizon_months": 36}


def month_of(model: PartnershipModel, *names: str) -> MonthEvents:
    ev = MonthEvents()
    for name in names:
        getattr(stages, name)(model, ev)
    return ev


# 1 allocate time
def test_no_relationship_time_policy_means_no_relationship_time():
    model = PartnershipModel(rng=1, relationship_time=0.0, leadership=1.0, **SMALL)
    month_of(model, "allocate_time")
    assert np.all(model.staff.phi == 0.0)


def test_unmet_demand_cuts_relationship_time_only_when_staff_respond():
    for response, expect_cut in ((1.0, True), (0.0, False)):
        model = PartnershipModel(rng=1, pressure_time_response=response, **SMALL)
        month_of(model, "allocate_time")
        before = model.staff.phi.copy()
        model.unmet_demand[:] = 0.5
        month_of(model, "allocate_time")
        assert np.all(model.staff.phi < before) == expect_cut
        assert np.all(model.staff.phi == before) == (not expect_cut)


# 2 meet
def test_no_relationship_time_no_meetings_no_trust_growth():
    result = simulate({**SMALL, "relationship_time": 0.0, "p_turnover": 0.0, "p_chair_leaves": 0.0},
                      seed=2)
    ts = result.timeseries
    assert (ts["contacts"] == 0).all() and (ts["n_ties"] == 0).all()
    # trust is the prior between strangers throughout: it never grows
    assert ts["trust_across"].max() == pytest.approx(ts["trust_across"].iloc[0])
    assert (ts["small_wins"] == 0).all()


def test_meetings_create_reciprocal_ties_at_prior_trust():
    model = PartnershipModel(rng=3, agency_familiarity_gain=0.0, **SMALL)
    ev = month_of(model, "allocate_time", "meet")
    t = model.ties
    assert len(ev.pairs_i) > 0 and len(t) > 0
    assert np.all(t.find(t.dst, t.src) >= 0)  # every tie has its reverse
    np.testing.assert_allclose(t.trust, stages.initial_trust(model, t.src, t.dst))
    assert np.all(np.diff(t.key) > 0)  # sorted, unique


def test_champions_bridge_agencies():
    def cross_share(model: PartnershipModel) -> float:
        ev = month_of(model, "allocate_time", "meet")
        champions = model.staff.champion[ev.pairs_i]
        ag = model.staff.agency
        cross = ag[ev.pairs_i] != ag[ev.pairs_j]
        return cross[champions].mean(), cross[~champions].mean()

    shares = [cross_share(PartnershipModel(rng=s, n_staff=200, n_champions_operational=20,
                                           horizon_months=12)) for s in range(5)]
    champ, others = np.mean(shares, axis=0)
    assert champ > others + 0.2


def test_ground_rules_raise_first_meeting_trust():
    plain = PartnershipModel(rng=1, **SMALL)
    rules = PartnershipModel(rng=1, ground_rules=1.0, **SMALL)
    src, dst = np.array([0, 1, 2]), np.array([70, 60, 50])
    gain = stages.initial_trust(rules, src, dst) - stages.initial_trust(plain, src, dst)
    np.testing.assert_allclose(gain, rules.p.trust_weight_institution)


def test_agencies_whose_members_meet_become_familiar():
    model = PartnershipModel(rng=3, prior_familiarity=0.1, **SMALL)
    before = model.agencies.familiarity.copy()
    month_of(model, "allocate_time", "meet")
    after = model.agencies.familiarity
    off = ~np.eye(len(after), dtype=bool)
    assert np.all(after[off] >= before[off]) and np.any(after[off] > before[off])
    np.testing.assert_array_equal(np.diag(after), np.diag(before))
    np.testing.assert_allclose(after, after.T)


# 3 communicate
def test_uptake_is_an_inverted_u_in_volume():
    peak = stages.uptake(8.0, 8.0, 0.0)
    assert peak == pytest.approx(1.0)
    assert stages.uptake(2.0, 8.0, 0.0) < peak and stages.uptake(30.0, 8.0, 0.0) < peak
    assert stages.uptake(0.0, 8.0, 0.0) == 0.0
    # filtering irrelevant messages relieves overload
    assert stages.uptake(20.0, 8.0, 1.0) > stages.uptake(20.0, 8.0, 0.0)


@pytest.mark.parametrize("lever", [{"widen_communication": True},
                                   {"communication_mode": "two_way"}])
def test_widening_and_two_way_raise_peripheral_information(lever):
    def periphery(**kw):
        r = [simulate({**SMALL, **kw}, seed=s).summary["info_periphery_final"] for s in range(4)]
        return np.mean(r)

    assert periphery(**lever) > periphery() + 0.05


# 4 deliberate
def test_clear_vision_without_culture_pull_converges_definitions():
    model = PartnershipModel(rng=1, vision_clarity=1.0, culture_pull=0.0, vision_pull=0.2,
                             **SMALL)
    model.staff.info[:] = 1.0
    start = stages.shared_understanding(model)
    for _ in range(60):
        month_of(model, "deliberate")
    assert stages.shared_understanding(model) > 0.95 > start


def test_no_vision_and_narrow_confidence_keep_definitions_apart():
    model = PartnershipModel(rng=1, vision_clarity=0.0, confidence_bound=0.02, **SMALL)
    start = stages.shared_understanding(model)
    for _ in range(24):
        month_of(model, "allocate_time", "meet", "deliberate")
    assert stages.shared_understanding(model) == pytest.approx(start, abs=0.05)


# 5 joint work
def test_no_joint_tasks_no_wins():
    ts = simulate({**SMALL, "p_joint_task": 0.0}, seed=1).timeseries
    assert ts["joint_tasks"].sum() == 0 and ts["small_wins_cumulative"].iloc[-1] == 0


def test_leadership_raises_task_success():
    def wins_per_task(leadership):
        w = t = 0
        for s in range(4):
            ts = simulate({**SMALL, "leadership": leadership}, seed=s).timeseries
            w, t = w + ts["small_wins"].sum(), t + ts["joint_tasks"].sum()
        return w / t

    assert wins_per_task(1.0) > wins_per_task(0.0) + 0.1


def test_forced_first_task_outcome():
    for outcome in (True, False):
        model = PartnershipModel(rng=1, **SMALL)
        model.force_first_task = outcome
        model.run()
        assert model.first_task_success is outcome


# 6 trust
def _dyad(**params):
    model = PartnershipModel(rng=1, n_staff=20, horizon_months=12, **params)
    model.ties.add(np.array([0, 0]), np.array([1, 2]), np.array([0.5, 0.5]),
                   np.array([0.5, 0.5]), 0)
    return model


@pytest.mark.parametrize("ratio", [2.0, 3.0, 4.0])
def test_losses_are_faster_than_gains_by_the_loss_ratio(ratio):
    model = _dyad(trust_loss_ratio=ratio)
    stages.apply_signals(model, np.array([0, 1]), np.array([0.4, -0.4]), np.ones(2))
    gain, loss = model.ties.trust[0] - 0.5, 0.5 - model.ties.trust[1]
    assert loss / gain == pytest.approx(ratio)


def test_reputation_damage_caps_trust():
    model = _dyad()
    model.ties.damage[0] = 0.4
    for _ in range(200):
        stages.apply_signals(model, np.array([0]), np.array([1.0]), np.ones(1))
    assert model.ties.trust[0] == pytest.approx(0.6, abs=1e-6)
    assert model.ties.trust[0] <= 0.6


def test_power_gap_slows_the_low_power_sides_gains():
    model = PartnershipModel(rng=1, n_staff=100, horizon_months=12, power_gap=0.8)
    ag = model.staff.agency
    low, high = int(np.flatnonzero(ag == 4)[0]), int(np.flatnonzero(ag == 0)[0])
    model.ties.add(np.array([low, high]), np.array([high, low]), np.array([0.5, 0.5]),
                   np.array([0.5, 0.5]), 0)
    rows = model.ties.find(np.array([low, high]), np.array([high, low]))
    stages.apply_signals(model, rows, np.array([0.5, 0.5]), np.ones(2))
    gain_low, gain_high = model.ties.trust[rows] - 0.5
    assert gain_low == pytest.approx(gain_high * (1 - model.p.power_gain_damping * 0.8))


def test_no_noise_and_no_shocks_trust_climbs_toward_the_ceiling_for_competent_partners():
    result = simulate({**SMALL, "misreading_noise": 0.0, "p_hidden_agenda": 0.0,
                       "overrule_signal": 0.0, "p_turnover": 0.0, "performance_standard": 0.2,
                       "trust_forgetting": 0.0},
                      seed=1)
    ts = result.timeseries
    assert ts["trust_within"].iloc[-1] > ts["trust_within"].iloc[0] + 0.05


def test_without_new_evidence_trust_relaxes_toward_the_prior():
    model = PartnershipModel(rng=1, **SMALL)
    model.ties.add(np.array([0]), np.array([1]), np.array([0.9]), np.array([0.5]), 0)
    prior = float(stages.initial_trust(model, np.array([0]), np.array([1]))[0])
    stages.update_trust(model, MonthEvents())  # a month in which the pair does not meet
    after = float(model.ties.trust[0])
    assert prior < after < 0.9
    assert np.isclose(0.9 - after, model.p.trust_forgetting * (0.9 - prior))


# 7 commitment
def test_members_below_the_threshold_disengage_and_take_no_part():
    model = PartnershipModel(rng=1, **SMALL)
    model.staff.commitment[:10] = 0.0
    ev = month_of(model, "allocate_time", "meet", "communicate", "deliberate", "joint_work",
                  "update_trust")
    stages.update_commitment(model, ev)
    assert not model.staff.engaged[:10].any()
    month_of(model, "allocate_time")
    assert np.all(model.staff.phi[:10] == 0.0)


def test_career_motivated_members_gain_more_commitment_from_a_win():
    gained = {}
    for boost in (0.0, 1.0):
        model = PartnershipModel(rng=1, career_win_boost=boost, **SMALL)
        ev = month_of(model, "allocate_time", "meet", "communicate", "deliberate",
                      "joint_work", "update_trust")
        ev.wins = 1
        before = model.staff.commitment.copy()
        stages.update_commitment(model, ev)
        gained[boost] = model.staff.commitment - before
    career = model.staff.motive == CAREER
    assert career.any() and (~career).any()
    assert np.all(gained[1.0][career] > gained[0.0][career])
    assert np.array_equal(gained[1.0][~career], gained[0.0][~career])


# 8 decide
def test_consensus_is_slower_than_majority():
    def delay(rule):
        return np.mean([simulate({**SMALL, "decision_rule": rule}, seed=s)
                        .summary["decision_delay_mean"] for s in range(4)])

    assert delay("consensus") > delay("majority")


def test_being_overruled_lowers_trust_in_more_powerful_members():
    def low_to_high(signal):
        return np.mean([simulate({**SMALL, "overrule_signal": signal, "power_gap": 0.8},
                                 seed=s).summary["trust_low_to_high_final"] for s in range(4)])

    assert low_to_high(1.0) < low_to_high(0.0)


# 9 turnover
def test_no_turnover_keeps_everyone():
    model = PartnershipModel(rng=1, p_turnover=0.0, p_chair_leaves=0.0, **SMALL)
    agents = list(model.staff_agents)
    tenure = model.staff.tenure.copy()
    model.run()
    assert model.staff_agents == agents
    np.testing.assert_array_equal(model.staff.tenure, tenure + SMALL["horizon_months"])


def test_newcomers_have_no_ties_and_low_capacity():
    model = PartnershipModel(rng=1, **SMALL)
    for _ in range(12):
        model.step()
    rows = np.array([3, 40])
    model.replace_members(rows)
    t = model.ties
    assert not np.isin(t.src, rows).any() and not np.isin(t.dst, rows).any()
    assert np.all(model.staff.tenure[rows] == 0)
    assert np.all(model.staff.capacity[rows] < 0.5)


def test_leadership_recovers_after_a_chair_leaves():
    model = PartnershipModel(rng=1, p_chair_leaves=0.0, **SMALL)
    model.remove_chair()
    presence = [model.chair_presence]
    for _ in range(24):
        model.step()
        presence.append(model.chair_presence)
    assert presence[0] == 0.0 and np.all(np.diff(presence) > 0) and presence[-1] > 0.8


# 10 capacity
def test_without_budget_or_work_capacity_stocks_decay():
    model = PartnershipModel(rng=1, learning_rate=0.0, **SMALL)
    start = model.capacity_stocks.copy()
    for _ in range(12):
        month_of(model, "build_capacity")
    assert np.all(model.capacity_stocks[start > 0] < start[start > 0])


def test_earmarked_budget_raises_the_target_sectors_capacity():
    none = simulate({**SMALL, "capacity_budget": 50.0}, seed=1).timeseries
    voluntary = simulate({**SMALL, "capacity_budget": 50.0, "budget_earmark": "voluntary"},
                         seed=1).timeseries
    assert voluntary["capacity_voluntary"].iloc[-1] > none["capacity_voluntary"].iloc[-1]
    assert voluntary["capacity_strategic"].iloc[-1] < none["capacity_strategic"].iloc[-1]


# 11 deliver and health
def test_without_relationship_time_output_is_what_partners_deliver_alone():
    ts = simulate({**SMALL, "relationship_time": 0.0}, seed=1).timeseries
    np.testing.assert_allclose(ts["output"], ts["output_alone"])
    np.testing.assert_allclose(ts["health_effect"], 0.0, atol=1e-12)


def test_health_kernel_is_a_distribution_with_the_requested_mean_lag():
    w = stages.health_kernel(48.0, 600)
    assert w.sum() == pytest.approx(1.0)
    assert np.dot(np.arange(600) + 0.5, w) == pytest.approx(48.0, rel=0.02)


def test_the_community_and_voluntary_stocks_support_those_members_participation():
    model = PartnershipModel(rng=1, **SMALL)
    low = model.staff.sector >= stages.LOW_POWER_SECTOR
    model.capacity_stocks[[stages.COMMUNITY_LEVEL, stages.VOLUNTARY_LEVEL]] = 0.0
    without = stages.participation(model)
    for level, sector in ((stages.COMMUNITY_LEVEL, stages.COMMUNITY),
                          (stages.VOLUNTARY_LEVEL, stages.VOLUNTARY)):
        model.capacity_stocks[level] = 1.0
        with_stock = stages.participation(model)
        of_sector = model.staff.sector == sector
        assert np.all(with_stock[of_sector] > without[of_sector])
        assert np.array_equal(with_stock[~of_sector], without[~of_sector])
        model.capacity_stocks[level] = 0.0
    assert np.all(without[~low] == 1.0)


def test_community_capacity_changes_community_attendance():
    # the community stock's support: off (participation_support 0) vs on, same seeds
    base = {"n_staff": 120, "horizon_months": 60, "capacity_budget": 40.0,
            "budget_earmark": "community"}
    on = [simulate(base, seed=s).timeseries["active_community"].iloc[-24:].mean()
          for s in range(4)]
    off = [simulate({**base, "participation_support": 0.0}, seed=s)
           .timeseries["active_community"].iloc[-24:].mean() for s in range(4)]
    assert all(a > b for a, b in zip(on, off, strict=True))


def test_voluntary_capacity_narrows_the_voluntary_agencys_power_gap():
    model = PartnershipModel(rng=1, voluntary_power_equalisation=1.0, **SMALL)
    gap = model.p.power_gap
    model.capacity_stocks[stages.VOLUNTARY_LEVEL] = 1.0
    month_of(model, "build_capacity")  # the stock stays near 1 after a month's decay
    stock = model.capacity_stocks[stages.VOLUNTARY_LEVEL]
    assert model.agencies.power[stages.VOLUNTARY] == pytest.approx(1.0 - gap * (1.0 - stock))
    assert model.agencies.power[stages.COMMUNITY] == pytest.approx(1.0 - gap)


def test_voluntary_capacity_changes_decision_equity():
    base = {"n_staff": 120, "horizon_months": 60, "capacity_budget": 40.0,
            "budget_earmark": "voluntary", "power_gap": 0.8}
    equal = [simulate({**base, "voluntary_power_equalisation": 1.0}, seed=s)
             .summary["decision_equity_mean"] for s in range(4)]
    unequal = [simulate({**base, "voluntary_power_equalisation": 0.0}, seed=s)
               .summary["decision_equity_mean"] for s in range(4)]
    assert np.mean(equal) > np.mean(unequal)


def _output_with_pulse(share: float, pulse_month: int, seed: int, extra: float = 0.06):
    """Monthly output of a run whose relationship-time share is ``share``, raised by
    ``extra`` for the one month ``pulse_month`` (extra 0: no pulse)."""
    model = PartnershipModel(rng=seed, relationship_time=share, horizon_months=60)
    model.collect_mesa = False
    while model.running:
        if model.month == pulse_month and extra:
            model.set_levers({"relationship_time": share + extra}, undo_at=pulse_month + 1)
        model.step()
    return model.measures_frame()["output"].to_numpy()


@pytest.mark.parametrize("share", [0.0, 0.02, 0.1, 0.2, 0.4])
def test_a_pulse_of_relationship_time_costs_output_that_month_and_returns_only_later(share):
    # relationship time is an investment: its month's output falls (the time is taken from
    # delivery), and what it builds (ties, trust, joint arrangements) is in place only
    # from the next month on
    for seed in range(3):
        base = _output_with_pulse(share, 24, seed, extra=0.0)
        pulse = _output_with_pulse(share, 24, seed)
        assert np.array_equal(pulse[:24], base[:24])
        assert pulse[24] < base[24]
    # ... and it does build something: later months differ
    assert not np.array_equal(pulse[25:], base[25:])


def test_integration_draws_on_last_months_stocks_not_this_months_share():
    model = PartnershipModel(rng=3, **SMALL)
    for _ in range(12):
        model.step()
    integration, net = model.integration.copy(), model.net_synergy
    assert np.all(integration <= model.capacity_stocks[stages.OPERATIONAL_LEVEL] + 1e-12)
    assert integration.max() > 0.0 and net != 0.0
    ev = MonthEvents()
    for name in ("allocate_time", "meet", "communicate", "deliberate", "joint_work",
                 "update_trust", "update_commitment", "decide", "turnover", "build_capacity"):
        getattr(stages, name)(model, ev)
    integration = model.integration.copy()  # a leaver's successor starts with none
    stages.deliver(model, ev)
    s, ag = model.staff, model.agencies
    time = 1.0 - s.phi
    expected = np.sum(time * ag.resources[s.agency] * (1.0 + integration * net))
    assert ev.output == pytest.approx(expected, rel=1e-12)


def test_a_disengaged_member_reengages_only_clear_of_the_threshold():
    # hysteresis: engaged members stay engaged down to the threshold; disengaged ones come
    # back only above threshold + REENGAGE_MARGIN (commitment held still here)
    threshold = 0.3
    c = np.array([0.32, 0.32, threshold + stages.REENGAGE_MARGIN + 0.02, 0.2])
    engaged = np.array([True, False, False, True])
    n = len(c)
    stages._commit(c, engaged, np.zeros(n), np.zeros(n, dtype=np.int64), 0.0, False,
                   np.zeros(n), np.zeros(n), 0.1, np.zeros(1), np.zeros(n, dtype=np.int64),
                   np.zeros(n, dtype=np.int64), 0.0, 0.0, 0.0, 0.0, 0.0, threshold)
    assert engaged.tolist() == [True, False, True, False]


def test_the_evaluator_compares_the_last_twelve_months_of_its_window():
    from partnersim.model.measures import EVALUATION_WINDOW_MONTHS, _detectable

    window = 36
    effect = np.zeros(60)
    # an effect only in the window's last 12 months is found; one only in the month
    # before them, or only after the window, is not
    effect[window - EVALUATION_WINDOW_MONTHS: window] = 1.0
    assert _detectable(effect, 0.1, window)
    before = np.zeros(60)
    before[window - EVALUATION_WINDOW_MONTHS - 1] = 12.0
    after = np.zeros(60)
    after[window:] = 1.0
    assert not _detectable(before, 0.1, window) and not _detectable(after, 0.1, window)
    assert not _detectable(effect[: window - 1], 0.1, window)  # the window is not over


def test_chairs_leave_with_their_own_hazard():
    # at the defaults a chair's hazard equals their sector's, so whole runs cannot tell
    draws = np.full(4, 0.05)
    tenure = np.zeros(4, dtype=np.int64)
    leavers = stages._leavers(draws, tenure, np.zeros(4, dtype=np.int64), np.full(6, 0.01),
                              np.array([True, False, True, False]), 0.5)
    assert leavers.tolist() == [0, 2] and tenure.tolist() == [1, 1, 1, 1]
    assert stages._leavers(draws, tenure, np.zeros(4, dtype=np.int64), np.full(6, 0.5),
                           np.array([True, False, False, False]), 0.0).tolist() == [1, 2, 3]
