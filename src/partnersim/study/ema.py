"""partnersim as an EMA Workbench model, for ``perform_experiments`` and its optimisers.

``ema_model()`` builds an ``ema_workbench.Model`` whose uncertainties and levers are made
from the parameter declarations (``params.PARAMETERS``: ``RealParameter``,
``IntegerParameter``, ``BooleanParameter`` or ``CategoricalParameter`` with the declared
bounds or choices, or narrower ones given here), whose constants are the base parameters,
and whose outcomes are the declared outputs (``outputs.OUTPUTS``): an end-of-run output is
a ``ScalarOutcome``, MAXIMIZE or MINIMIZE as the declared direction says (INFO when it has
none); a monthly measure is an ``ArrayOutcome`` (one value per month).

Each experiment runs ``model.simulate.simulate`` ``replicates`` times and reports the mean
over them (a yes/no output becomes the share of replicates). Seeds follow the project's
rule for common random numbers (``seeding.replicate_seeds``): replicate ``i`` of every
experiment runs with the same seed, derived from ``seed`` alone, so an experiment's result
depends only on its parameter values (not on its index, the evaluator, or the order the
experiments run in), and policies are compared in each future on the same random draws.

Example::

    from ema_workbench import perform_experiments
    from partnersim.study.ema import ema_model

    model = ema_model(["leadership", "trust_gain_rate"], ["relationship_time"],
                      ["cumulative_output", "cost_total"], base={"n_staff": 60})
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=4)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from partnersim.errors import InputError, unknown
from partnersim.model.simulate import simulate
from partnersim.outputs import COST_OUTPUT, MONTHLY, OUTPUTS, SUMMARIES
from partnersim.params import PARAMETERS, ParamSpec, make_params
from partnersim.seeding import DEFAULT_SEED, replicate_seeds
from partnersim.study.replicates import COST_MONEY_COLUMN, COST_TIME_COLUMN

with warnings.catch_warnings():  # its optional ipyparallel evaluator, which partnersim does not use
    warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
    from ema_workbench import (
        ArrayOutcome,
        BooleanParameter,
        CategoricalParameter,
        Constant,
        IntegerParameter,
        Model,
        RealParameter,
        ScalarOutcome,
    )

MODEL_NAME = "partnersim"
"""The EMA model's name (``experiments["model"]``)."""

DEFAULT_LEVERS: tuple[str, ...] = ("relationship_time", "capacity_budget", "ground_rules",
                                   "joint_chair")
"""Levers when none are named: the relationship-time share and the resources, ground rules
and joint chair it can be combined with (issue 14)."""

STRUCTURE_GROUP = "structure"
"""Parameters of this group (partnership size, seniority mix, horizon) are set through
``base``, not treated as uncertain by default."""

DEFAULT_OUTCOMES: tuple[str, ...] = (*SUMMARIES, COST_OUTPUT)
"""Outcomes when none are named: every end-of-run output and the total cost."""

Range = tuple[float, float] | Sequence[Any]


def default_uncertainties(levers: Iterable[str] = DEFAULT_LEVERS) -> tuple[str, ...]:
    """Every parameter declared as an assumption (provenance ``A``: the ones global
    sensitivity analysis explores), except the levers and the structure group."""
    levers = set(levers)
    return tuple(n for n, s in PARAMETERS.items()
                 if s.provenance == "A" and s.group != STRUCTURE_GROUP and n not in levers)


def ema_model(uncertainties: Sequence[str] | Mapping[str, Range | None] | None = None,
              levers: Sequence[str] | Mapping[str, Range | None] | None = None,
              outcomes: Sequence[str] | None = None, *,
              base: Mapping[str, Any] | None = None, replicates: int = 1,
              seed: int = DEFAULT_SEED, name: str = MODEL_NAME) -> Model:
    """partnersim as an ``ema_workbench.Model``.

    Args:
        uncertainties: Parameter names, or a mapping of names to a narrower range: ``(lower,
            upper)`` for a number, the allowed choices for a choice or flag, or None for the
            declared range. Default: :func:`default_uncertainties` of the levers.
        levers: The same, for the levers. Default: ``DEFAULT_LEVERS``.
        outcomes: Declared outputs: end-of-run ones (and ``cost_total``) become
            ``ScalarOutcome``s, monthly measures ``ArrayOutcome``s. Default:
            ``DEFAULT_OUTCOMES``.
        base: Overrides of the declared defaults for the other parameters (EMA constants),
            e.g. ``{"n_staff": 60, "horizon_months": 36}``.
        replicates: Runs per experiment; outcomes are their mean.
        seed: Master seed of the replicates' seeds.
        name: The model's name (a Python identifier, as EMA requires).

    Raises:
        InputError: an unknown parameter or output, a name both uncertain and a lever, a
            range outside the declared bounds, a bad base value, or replicates below 1.
    """
    if replicates < 1:
        raise InputError(f"expected at least 1, got {replicates!r}", source="ema_model",
                         key="replicates")
    lever_ranges = _ranges(DEFAULT_LEVERS if levers is None else levers, "levers")
    if uncertainties is None:
        uncertainties = default_uncertainties(lever_ranges)
    unc_ranges = _ranges(uncertainties, "uncertainties")
    both = [n for n in unc_ranges if n in lever_ranges]
    if both:
        raise InputError("is both an uncertainty and a lever; name it once",
                         source="ema_model", key=both[0])
    outcome_names = list(DEFAULT_OUTCOMES if outcomes is None else outcomes)
    allowed = (*SUMMARIES, COST_OUTPUT, *MONTHLY)
    for o in outcome_names:
        if o not in allowed:
            raise unknown("output", o, allowed, source="ema_model outcomes")
    base = dict(base or {})
    try:
        make_params(base)
    except InputError as exc:
        raise exc.rekeyed(source="ema_model base") from None
    monthly = [o for o in outcome_names if o in MONTHLY]
    function = PartnersimFunction(outcomes=tuple(outcome_names), monthly=tuple(monthly),
                                  seeds=tuple(replicate_seeds(seed, replicates)))
    model = Model(name, function=function)
    model.uncertainties = [_parameter(n, r) for n, r in unc_ranges.items()]
    model.levers = [_parameter(n, r) for n, r in lever_ranges.items()]
    model.constants = [Constant(k, v) for k, v in base.items()]
    model.outcomes = [_outcome(o) for o in outcome_names]
    return model


class PartnersimFunction:
    """The function EMA calls for one experiment: parameter values in, outcomes out.

    A class (not a closure) so process-pool evaluators can pickle it.
    """

    def __init__(self, *, outcomes: tuple[str, ...], monthly: tuple[str, ...],
                 seeds: tuple[int, ...]):
        self.outcomes = outcomes
        self.monthly = monthly
        self.seeds = seeds

    def __call__(self, **values: Any) -> dict[str, Any]:
        params = make_params({k: _plain(k, v) for k, v in values.items()},
                             source="ema experiment")
        totals: dict[str, Any] = {}
        for seed in self.seeds:
            run = simulate(params, seed, measures=list(self.monthly))
            summary = dict(run.summary)
            summary[COST_OUTPUT] = summary[COST_MONEY_COLUMN] + summary[COST_TIME_COLUMN]
            for o in self.outcomes:
                value = (run.timeseries[o].to_numpy(float) if o in self.monthly
                         else float(summary[o]))
                totals[o] = totals[o] + value if o in totals else value
        return {o: totals[o] / len(self.seeds) for o in self.outcomes}


def _plain(name: str, value: Any) -> Any:
    """An EMA-sampled value as the declared type (numpy scalars fail strict validation)."""
    spec = PARAMETERS.get(name)
    if spec is None:
        return value
    if spec.type == "float":
        return float(value)
    if spec.type == "int":
        return int(value)
    if spec.type == "bool":
        return bool(value)
    return str(value)


def _ranges(names: Sequence[str] | Mapping[str, Range | None], what: str
            ) -> dict[str, Range | None]:
    source = f"ema_model {what}"
    if isinstance(names, str):
        names = [names]
    items = names.items() if isinstance(names, Mapping) else ((n, None) for n in names)
    ranges: dict[str, Range | None] = {}
    for n, r in items:
        if n not in PARAMETERS:
            raise unknown("parameter", n, PARAMETERS, source=source)
        if r is not None:
            _check_range(PARAMETERS[n], r, source)
        ranges[n] = r
    return ranges


def _check_range(spec: ParamSpec, r: Range, source: str) -> None:
    if spec.is_numeric:
        ok = (len(r) == 2 and all(isinstance(v, int | float) for v in r)
              and spec.lower <= r[0] < r[1] <= spec.upper)  # type: ignore[operator]
        if not ok:
            raise InputError(f"expected (lower, upper) with {spec.lower} <= lower < upper <= "
                             f"{spec.upper} ({spec.unit}), got {r!r}", source=source,
                             key=spec.name)
        return
    allowed = (True, False) if spec.type == "bool" else spec.choices or ()
    if not r or any(v not in allowed for v in r):
        raise InputError(f"expected some of {', '.join(map(str, allowed))}, got {r!r}",
                         source=source, key=spec.name)


def _parameter(name: str, r: Range | None) -> Any:
    spec = PARAMETERS[name]
    if spec.type == "float":
        lo, hi = (spec.lower, spec.upper) if r is None else r
        return RealParameter(name, float(lo), float(hi))
    if spec.type == "int":
        lo, hi = (spec.lower, spec.upper) if r is None else r
        return IntegerParameter(name, int(lo), int(hi))
    if spec.type == "bool" and (r is None or set(r) == {True, False}):
        return BooleanParameter(name)
    choices = list(spec.choices or (True, False)) if r is None else list(r)
    return CategoricalParameter(name, choices)


def _outcome(name: str) -> Any:
    if name in MONTHLY:
        return ArrayOutcome(name)
    kind = {1: ScalarOutcome.MAXIMIZE, -1: ScalarOutcome.MINIMIZE}.get(
        OUTPUTS[name].better, ScalarOutcome.INFO)
    return ScalarOutcome(name, kind=kind)
