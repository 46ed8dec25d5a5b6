"""The registry of designs and analysers (``partnersim.designs``) is the one source of method facts.

Every design it declares is accepted by an experiment file with its default sample size,
refuses the sizes it says it cannot use, and draws as many rows per unit of sample size as
it declares; every
analyser reports the indices it declares, its main indices among them, on the Ishigami
function (whose ranking is known: x3 alone has no effect).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from partnersim import designs
from partnersim.designs import ANALYSERS, DESIGNS, NOT_SUPPORTED
from partnersim.errors import InputError
from partnersim.inputs import experiments
from partnersim.inputs.experiments import experiment_from_dict
from partnersim.study import sensitivity as sens
from partnersim.study import testfunctions as T

PI = math.pi


def ishigami_experiment(design: str, **extra: object):
    data = {"model": "partnersim.study.testfunctions:ishigami", "design": design,
            "seed": 20261126, "outputs": ["y"], "options": {"num_resamples": 30},
            "vary": {f"x{i}": {"range": [-PI, PI]} for i in (1, 2, 3)}, **extra}
    return experiment_from_dict(data, source="test")


def test_the_rooms_read_the_registry_and_keep_no_copy_of_it():
    assert experiments.DESIGNS is DESIGNS and experiments.NOT_SUPPORTED is NOT_SUPPORTED
    assert experiments.check_sample_size is designs.check_sample_size
    for old in ("DEFAULT_SAMPLE_SIZE",):
        assert not hasattr(experiments, old)
    for old in ("ANALYSES", "MAIN_INDICES"):
        assert not hasattr(sens, old)


def test_every_design_names_known_analysers_and_nests_where_it_reports_convergence():
    assert not set(DESIGNS) & set(NOT_SUPPORTED)
    for name, method in DESIGNS.items():
        assert set(method.analysers) <= set(ANALYSERS), name
        if method.convergence_minimum is not None:
            assert method.unit_rows is not None, name
        assert (method.default_sample_size is None) == (method.needs is None), name
    for name, analyser in ANALYSERS.items():
        listed = [ix for ix, _ in analyser.indices]
        assert analyser.main and set(analyser.main) <= set(listed), name
        assert any(name in m.analysers for m in DESIGNS.values()), f"{name}: no design uses it"


@pytest.mark.parametrize("design", [d for d in DESIGNS if DESIGNS[d].default_sample_size])
def test_every_sized_design_is_accepted_by_a_file_and_refuses_a_size_it_cannot_use(design):
    exp = ishigami_experiment(design)
    assert exp.design == design and exp.sample_size == DESIGNS[design].default_sample_size
    with pytest.raises(InputError, match=f"test: sample_size: sample size 1 cannot be used: "
                                         f"{design} "):
        ishigami_experiment(design, sample_size=1)
    with pytest.raises(InputError, match="--sample-size: sample size 1 cannot be used"):
        exp.with_overrides(sample_size=1)


def test_the_grid_is_accepted_without_a_sample_size_and_an_unsupported_method_says_why():
    assert ishigami_experiment("grid").sample_size is None
    for name, why in NOT_SUPPORTED.items():
        with pytest.raises(InputError, match=f"design {name!r} is not supported") as err:
            ishigami_experiment(name)
        assert why and f"({why})" in str(err.value)


@pytest.mark.parametrize("design", list(DESIGNS))
def test_each_design_draws_and_nests_as_declared_and_its_analysers_report_their_indices(design):
    method = DESIGNS[design]
    exp = ishigami_experiment(design)
    drawn = sens.build_design(exp)
    k = len(exp.factors)
    if method.unit_rows is None:
        assert drawn.unit_rows == 0
    else:
        unit = method.unit_rows(k, exp.options)
        assert drawn.unit_rows == unit and len(drawn.raw) == exp.sample_size * unit
    y = np.array([T.ishigami(**p)["y"] for p in drawn.points])
    for name in method.analysers:
        analyser = ANALYSERS[name]
        df = sens.analyse_method(name, exp, drawn.raw, y, seed=7)
        listed = [ix for ix, _ in analyser.indices]
        assert list(dict.fromkeys(df["index"])) == listed, name
        for ix, conf in analyser.indices:
            rows = df[df["index"] == ix]
            assert list(rows["param"]) == exp.names, (name, ix)
            assert rows["value"].notna().all(), (name, ix)
            assert rows["conf"].notna().all() == (conf is not None), (name, ix)
        ranking = df[df["index"] == analyser.main[-1]].set_index("param")["value"]
        assert ranking.idxmax() != "x3", (name, ranking.to_dict())  # x3 alone: no effect
