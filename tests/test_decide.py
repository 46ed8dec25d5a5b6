"""``partnersim decide``: adaptive rules in the model, the decision file, regret and
satisficing on a hand-checkable problem, the known-answer test, resuming, the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnersim.errors import InputError
from partnersim.model.interventions import parse_interventions
from partnersim.model.partnership import PartnershipModel
from partnersim.model.simulate import simulate

SMALL = {"n_staff": 40, "horizon_months": 24}


# --------------------------------------------------------------------------- adaptive rules


def _rule(**kw: object) -> dict[str, object]:
    return {"kind": "relationship_time_rule", "month": 1, "measure": "trust_across", **kw}


def test_a_rule_that_never_fires_leaves_the_run_identical() -> None:
    base = simulate(SMALL, seed=5)
    ruled = simulate(SMALL, seed=5, interventions=[_rule(below=-1.0, relationship_time=0.4)])
    pd.testing.assert_frame_equal(base.timeseries, ruled.timeseries)
    assert base.summary == ruled.summary


def test_a_rule_sets_the_share_each_month_from_the_month_before() -> None:
    base = simulate(SMALL, seed=5).timeseries["trust_across"]
    threshold = float(base.iloc[1:].median())  # the trigger holds in some months, not others
    model = PartnershipModel(rng=5, interventions=[
        _rule(below=threshold, relationship_time=0.3, otherwise=0.05, month=2)], **SMALL)
    start = model.levers["relationship_time"]
    fired = set()
    while model.running and model.month < SMALL["horizon_months"]:
        month = model.month
        before = model.measured("trust_across", month - 1)
        model.step()
        share = model.levers["relationship_time"]
        if month < 2:
            assert share == start  # the rule acts from its month
        else:
            fires = before < threshold
            fired.add(fires)
            assert share == (0.3 if fires else 0.05), month
    assert fired == {True, False}


def test_a_rule_on_output_relative_to_working_alone() -> None:
    model = PartnershipModel(rng=2, interventions=[
        _rule(measure="output_vs_alone", below=10.0, relationship_time=0.02)], **SMALL)
    model.step()
    model.step()
    ts = model.measures_frame()
    assert model.measured("output_vs_alone", 0) == pytest.approx(
        ts["output"].iloc[0] / ts["output_alone"].iloc[0])
    assert model.levers["relationship_time"] == 0.02


def test_rules_are_checked_when_read() -> None:
    with pytest.raises(InputError, match=r"interventions\[0\]\.measure: unknown measure "
                                         r"'trust_acros' \(did you mean 'trust_across'\?\)"):
        parse_interventions([_rule(measure="trust_acros", below=0.4, relationship_time=0.2)],
                            horizon_months=24)
    with pytest.raises(InputError, match="exactly one trigger"):
        parse_interventions([_rule(relationship_time=0.2)], horizon_months=24)
    with pytest.raises(InputError, match=r"relationship_time"):
        parse_interventions([_rule(below=0.4, relationship_time=0.95)], horizon_months=24)
    with pytest.raises(InputError, match="at least 1"):
        parse_interventions([_rule(below=0.4, relationship_time=0.2, month=0)],
                            horizon_months=24)


def test_rules_draw_nothing_at_random() -> None:
    a = simulate(SMALL, seed=9, interventions=[_rule(below=0.5, relationship_time=0.3)])
    b = simulate(SMALL, seed=9, interventions=[_rule(below=0.5, relationship_time=0.3)])
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert not np.array_equal(a.timeseries["output"], simulate(SMALL, seed=9).timeseries[
        "output"])
