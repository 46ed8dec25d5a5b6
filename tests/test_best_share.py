"""The best-share study: its harness model and the shipped experiment over the assumptions."""

from __future__ import annotations

import pytest

from partnersim.inputs.experiments import load_experiment
from partnersim.model.state import LEVERS
from partnersim.params import PARAMETERS
from partnersim.study.best_share import SHARES, best_share

SMALL = {"n_staff": 80, "horizon_months": 60}

STUDIED_GROUPS = ("trust", "meeting", "vision", "communication", "joint_work", "capacity",
                  "resources", "delivery", "relationship_time")
"""The parameter groups of the stocks relationship time builds, of synergy and of delivery."""
LEFT_OUT = {"trust_threshold", "p_reach_widened", "two_way_gain", "two_way_time_cost"}
"""Parameters of those groups the experiment leaves out, each for the reason its file gives."""


def test_without_returns_from_what_relationships_build_no_share_beats_none():
    result = best_share(seed=3, **SMALL, synergy_max=0.0, coordination_cost=0.0)
    assert result["best_share"] == result["best_share_last_year"] == 0.0
    assert result["gain_over_none"] == result["gain_over_none_last_year"] == 0.0


def test_with_leadership_and_a_budget_a_modest_share_pays_in_the_long_run():
    result = best_share(seed=3, n_staff=120, leadership=0.9, capacity_budget=40.0)
    assert 0.0 < result["best_share_last_year"] < max(SHARES)
    assert result["gain_over_none_last_year"] > 0.0


def test_the_share_is_best_shares_to_set():
    with pytest.raises(ValueError, match="sets relationship_time itself"):
        best_share(seed=1, relationship_time=0.1)


def test_the_shipped_experiment_varies_every_studied_assumption_over_its_declared_range():
    exp = load_experiment("best_share")
    expected = {n for n, s in PARAMETERS.items() if s.group in STUDIED_GROUPS
                and s.provenance in ("A", "L") and s.is_numeric and n not in LEVERS} - LEFT_OUT
    assert set(exp.names) == expected
    for factor in exp.factors:
        spec = PARAMETERS[factor.name]
        assert factor.salib_bounds == ([spec.lower, spec.upper + 1] if spec.type == "int"
                                       else [spec.lower, spec.upper]), factor.name
