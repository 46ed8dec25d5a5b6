"""partnersim as an EMA Workbench model (study.ema): experiments, optimisation, bad input."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from partnersim.errors import InputError
from partnersim.model.simulate import simulate
from partnersim.outputs import COST_OUTPUT, SUMMARIES
from partnersim.params import PARAMETERS
from partnersim.seeding import replicate_seeds
from partnersim.study.ema import DEFAULT_LEVERS, default_uncertainties, ema_model

with warnings.catch_warnings():  # its optional ipyparallel evaluator
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    from ema_workbench import (
        ArrayOutcome,
        BooleanParameter,
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
        Sample,
        ScalarOutcome,
        SequentialEvaluator,
        optimize,
        perform_experiments,
    )

SMALL = {"n_staff": 40, "horizon_months": 24}
UNCERTAIN = ["leadership", "trust_gain_rate", "decision_rule"]
LEVERS = ["relationship_time", "joint_chair"]
OUTCOMES = ["cumulative_output", "cost_total", "reached_trust", "trust_across"]


def _experiments(model):
    with SequentialEvaluator(model) as evaluator:
        return perform_experiments(model, scenarios=3, policies=2, evaluator=evaluator,
                                   uncertainty_sampling_kwargs={"rng": 1},
                                   lever_sampling_kwargs={"rng": 2})


@pytest.fixture(scope="module")
def design():
    model = ema_model(UNCERTAIN, LEVERS, OUTCOMES, base=SMALL, replicates=2, seed=5)
    return model, *_experiments(model)


def test_perform_experiments_returns_the_declared_outcomes(design):
    _, experiments, outcomes = design
    assert len(experiments) == 6
    assert experiments["policy"].nunique() == 2 and experiments["scenario"].nunique() == 3
    assert list(outcomes) == OUTCOMES
    for name in ("cumulative_output", "cost_total", "reached_trust"):
        assert outcomes[name].shape == (6,)
        assert np.isfinite(outcomes[name]).all()
    assert outcomes["trust_across"].shape == (6, SMALL["horizon_months"])  # monthly
    assert set(np.unique(outcomes["reached_trust"])) <= {0.0, 0.5, 1.0}  # share of 2 runs
    # the sampled values are within the declared bounds and choices
    for name in ("leadership", "trust_gain_rate", "relationship_time"):
        spec = PARAMETERS[name]
        assert experiments[name].between(spec.lower, spec.upper).all()
    assert set(experiments["decision_rule"]) <= set(PARAMETERS["decision_rule"].choices)


def test_an_experiment_is_the_mean_of_its_replicates_run_by_simulate(design):
    _, experiments, outcomes = design
    row = experiments.iloc[4]
    params = {**SMALL, **{k: row[k] for k in (*UNCERTAIN, *LEVERS)}}
    params = {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}
    params["decision_rule"] = str(params["decision_rule"])
    params["joint_chair"] = bool(params["joint_chair"])
    runs = [simulate(params, s) for s in replicate_seeds(5, 2)]
    expected = np.mean([r.summary["cumulative_output"] for r in runs])
    assert outcomes["cumulative_output"][4] == pytest.approx(expected, rel=1e-12)
    cost = np.mean([r.summary["cost_money_total"] + r.summary["cost_time_total"] for r in runs])
    assert outcomes["cost_total"][4] == pytest.approx(cost, rel=1e-12)
    trust = np.mean([r.timeseries["trust_across"].to_numpy() for r in runs], axis=0)
    np.testing.assert_allclose(outcomes["trust_across"][4], trust, rtol=1e-12)


def test_experiments_repeat_exactly(design):
    model, experiments, outcomes = design
    again_experiments, again = _experiments(ema_model(UNCERTAIN, LEVERS, OUTCOMES, base=SMALL,
                                                      replicates=2, seed=5))
    ids = ["scenario", "policy"]  # EMA numbers samples by a counter over the session
    pd.testing.assert_frame_equal(again_experiments.drop(columns=ids),
                                  experiments.drop(columns=ids))
    for name in OUTCOMES:
        np.testing.assert_array_equal(again[name], outcomes[name])


def test_parameters_and_outcomes_follow_the_declarations():
    model = ema_model(base=SMALL)
    assert [p.name for p in model.levers] == list(DEFAULT_LEVERS)
    assert [u.name for u in model.uncertainties] == list(default_uncertainties())
    assert all(PARAMETERS[n].provenance == "A" for n in default_uncertainties())
    assert "n_staff" not in default_uncertainties() and "leadership" not in default_uncertainties()
    kinds = {
        "float": RealParameter, "int": IntegerParameter, "bool": BooleanParameter,
        "choice": CategoricalParameter,
    }
    for p in [*model.uncertainties, *model.levers]:
        spec = PARAMETERS[p.name]
        assert type(p) is kinds[spec.type], p.name
        if spec.is_numeric:
            assert (p.lower_bound, p.upper_bound) == (spec.lower, spec.upper)
    outcomes = {o.name: o for o in model.outcomes}
    assert list(outcomes) == [*SUMMARIES, COST_OUTPUT]
    assert outcomes["cumulative_output"].kind == ScalarOutcome.MAXIMIZE
    assert outcomes["cost_total"].kind == ScalarOutcome.MINIMIZE
    assert outcomes["time_to_trust_months"].kind == ScalarOutcome.MINIMIZE
    assert {c.name: c.value for c in model.constants} == SMALL
    function = pickle.loads(pickle.dumps(model.function))  # process-pool evaluators pickle it
    assert function.outcomes == model.function.outcomes
    narrow = ema_model({"leadership": (0.2, 0.5), "decision_rule": ["majority", "consensus"]},
                       {"relationship_time": (0.0, 0.4)}, ["output"], base=SMALL)
    lead, rule = narrow.uncertainties
    assert (lead.lower_bound, lead.upper_bound) == (0.2, 0.5)
    assert [c.value for c in rule.categories] == ["majority", "consensus"]
    assert isinstance(narrow.outcomes[0], ArrayOutcome)


def test_a_short_optimisation_runs(tmp_path):
    model = ema_model(["leadership"], ["relationship_time", "capacity_budget"],
                      ["cumulative_output", "cost_total"], base=SMALL)
    with SequentialEvaluator(model) as evaluator:
        archive, convergence = optimize(model, nfe=40, searchover="levers",
                                        evaluator=evaluator, epsilons=[5.0, 50.0], rng=42,
                                        reference=Sample(leadership=0.6),
                                        filename="archive.tar.gz", directory=tmp_path)
    assert len(archive) >= 1
    assert archive["relationship_time"].between(0.0, 0.6).all()
    assert archive["capacity_budget"].between(0.0, 100.0).all()
    # a Pareto front: no member is beaten on both objectives by another
    out, cost = archive["cumulative_output"].to_numpy(), archive["cost_total"].to_numpy()
    for i in range(len(archive)):
        assert not ((out > out[i]) & (cost < cost[i])).any()
    assert convergence["nfe"].iloc[-1] >= 40


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"uncertainties": ["leadrship"]},
     "ema_model uncertainties: leadrship: unknown parameter (did you mean 'leadership'?)"),
    ({"levers": ["relationship_tme"]},
     "ema_model levers: relationship_tme: unknown parameter (did you mean 'relationship_time'?)"),
    ({"outcomes": ["cumulative_outptu"]},
     "ema_model outcomes: cumulative_outptu: unknown output (did you mean 'cumulative_output'?)"),
    ({"uncertainties": ["leadership"], "levers": ["leadership"]},
     "ema_model: leadership: is both an uncertainty and a lever; name it once"),
    ({"uncertainties": {"leadership": (0.5, 1.5)}},
     "ema_model uncertainties: leadership: expected (lower, upper) with 0.0 <= lower < upper "
     "<= 1.0 (index 0-1), got (0.5, 1.5)"),
    ({"levers": {"decision_rule": ["unanimity"]}},
     "ema_model levers: decision_rule: expected some of majority, supermajority, consensus, "
     "got ['unanimity']"),
    ({"base": {"n_staff": 5}},
     "ema_model base: n_staff: 5 is outside the bounds [10, 20000] (persons)"),
    ({"replicates": 0}, "ema_model: replicates: expected at least 1, got 0"),
])
def test_bad_names_and_ranges_are_one_line_input_errors(kwargs, message):
    with pytest.raises(InputError) as info:
        ema_model(**kwargs)
    assert str(info.value) == message
    assert "\n" not in str(info.value)
