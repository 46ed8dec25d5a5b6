"""Hypothesis invariants over random valid parameters: state in range, no NaN, staff conserved."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnersim.model.agents import StaffMember
from partnersim.model.partnership import PartnershipModel
from partnersim.params import PARAMETERS

FIXED = {"n_staff": 40, "horizon_months": 24}


def _strategy(spec):
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "choice":
        return st.sampled_from(spec.choices)
    if spec.type == "int":
        return st.integers(int(spec.lower), int(spec.upper))
    return st.floats(spec.lower, spec.upper, allow_nan=False)


PARAMS = st.fixed_dictionaries(
    {name: _strategy(spec) for name, spec in PARAMETERS.items() if name not in FIXED})

INTERVENTIONS = st.lists(st.sampled_from([
    {"kind": "chair_leaves"}, {"kind": "champion_leaves", "count": 2},
    {"kind": "budget_cut", "share": 1.0}, {"kind": "pressure_surge", "extra": 2.0},
    {"kind": "ground_rules", "ground_rules": 1.0}, {"kind": "champions", "n_champions_senior": 3},
    {"kind": "communication", "communication_mode": "two_way", "message_volume": 30.0},
    {"kind": "member_leaves", "count": 5},
]), max_size=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=PARAMS, interventions=INTERVENTIONS, seed=st.integers(0, 2**32),
       months=st.lists(st.integers(0, 23), min_size=3, max_size=3))
def test_state_stays_in_range_and_staff_are_conserved(params, interventions, seed, months):
    ivs = [dict(iv, month=m) for iv, m in zip(interventions, months, strict=False)]
    model = PartnershipModel(rng=seed, interventions=ivs, **FIXED, **params)
    while model.running:
        model.step()
        s, t = model.staff, model.ties
        for name in ("commitment", "info", "position", "capacity", "phi", "ability",
                     "honesty", "propensity", "attendance"):
            values = getattr(s, name)
            assert np.all(np.isfinite(values)), name
            assert values.min() >= 0.0 and values.max() <= 1.0, name
        assert np.all((t.trust >= 0) & (t.trust <= 1.0 - t.damage + 1e-12))
        assert np.all((t.damage >= 0) & (t.damage <= 1)) and np.all(t.familiarity <= 1)
        assert np.all((model.capacity_stocks >= 0) & (model.capacity_stocks <= 1))
        assert 0.0 <= model.chair_presence <= 1.0
        assert len(model.agents_by_type[StaffMember]) == FIXED["n_staff"]
    table = model.measures_frame()
    optional = {"info_core", "info_periphery", "decision_delay", "decision_equity"}
    for column in table.columns:
        values = table[column].to_numpy()
        if column in optional:  # undefined in a month with no core or no decision
            values = values[~np.isnan(values)]
        assert np.all(np.isfinite(values)), column
    assert all(np.isfinite(float(v)) for v in model.summary().values())
