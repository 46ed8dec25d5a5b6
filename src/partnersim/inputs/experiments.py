"""Experiment files (``experiments/*.toml``): loading and validating a sweep or sensitivity study.

An experiment file is data only (read by :mod:`partnersim.inputs.toml`). A shipped
experiment can be named without a path (``grid_time_vs_resources``), from any folder.
Its layout::

    # What question this experiment answers.
    name = "sobol_relationship_time"   # optional; defaults to the file's stem
    question = "..."                   # optional, shown in reports
    model = "partnersim"               # or "package.module:function" (any model)
    scenario = "../scenarios/baseline.toml"   # base scenario, relative to this file
                                              # (or a shipped scenario's name: "baseline")
    design = "sobol"       # grid | latin | sobol | morris | fast | rbd_fast | pawn | delta
    sample_size = 256      # sobol: base N (a power of 2); morris: trajectories;
                           # fast: runs per parameter and curve set; latin, rbd_fast,
                           # pawn, delta: runs
    replicates = 2         # runs per design point (seeds shared by every point)
    seed = 20261126        # master seed: design, replicate seeds, bootstraps
    posterior = "results/calibration/central"   # optional (or the base scenario's): replicate
                           # r of every design point draws the calibrated parameters from
                           # this calibration's posterior (the same draw at every point)
    outputs = ["cumulative_output", "trust_across_final"]   # end-of-run outputs to analyse
                                            # (columns of the runs table)
    measures = ["trust_across", "output"]   # monthly measures to keep (columns of the
                                            # timeseries table; for sensitivity, analysed
                                            # year by year)

    [params]               # fixed values on top of the scenario (keyword arguments
    n_staff = 200          # for another model)

    [vary]                 # the parameters that vary
    relationship_time = {}                       # over its declared bounds
    resources = { range = [0.5, 1.5] }          # over a narrower range
    decision_rule = { values = ["majority", "consensus"] }   # over listed values
    capacity_budget = { range = [0, 60], levels = 4 }        # grid: 4 levels

    [vary_all]             # optional: every numeric parameter with these tags
    provenance = ["A"]
    exclude = ["n_staff"]

    [options]              # method options (SALib's names), all optional
    num_levels = 4         # morris grid levels
    M = 4                  # fast and rbd_fast interference factor
    fast_curves = 4        # fast: independent search-curve sets (CIs from their spread)
    S = 10                 # pawn slices
    second_order = false   # sobol second-order indices
    num_resamples = 200    # bootstrap resamples for confidence intervals
    conf_level = 0.95
    levels = 5             # grid levels of a numeric parameter without values
    period_months = 12     # time-resolved indices: one value per period (a year)
    convergence_tolerance = 0.05   # largest change of an index between the two
                                   # largest sample sizes for "converged"
    ci_tolerance = 0.1     # largest CI half-width at the full sample for "converged"

For partnersim's model, parameter names, types and default ranges come from
``partnersim.params.PARAMETERS``; a range must lie inside the declared bounds.
For another model every varied parameter needs a ``range`` or ``values``, and
may say ``type = "int" | "float" | "bool" | "choice"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from partnersim.designs import DESIGNS, NOT_SUPPORTED, check_sample_size
from partnersim.errors import InputError, unknown
from partnersim.inputs.posterior import Posterior
from partnersim.inputs.scenarios import (
    check_measures,
    check_names,
    check_outputs,
    check_params_table,
    check_posterior,
    load_scenario,
)
from partnersim.inputs.toml import (
    MAX_REPLICATES,
    SHIPPED_EXPERIMENTS,
    SHIPPED_SCENARIOS,
    check_int,
    check_keys,
    check_name,
    find_input,
    read_toml,
)
from partnersim.model.interventions import parse_interventions
from partnersim.params import PARAMETERS, make_params
from partnersim.run.specs import PARTNERSIM_MODEL, model_name, resolve_model
from partnersim.seeding import DEFAULT_SEED, MAX_SEED

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "name", "question", "description", "model", "scenario", "design", "sample_size",
    "replicates", "seed", "outputs", "measures", "params", "vary", "vary_all", "options",
    "posterior",
)

OPTION_DEFAULTS: dict[str, Any] = {
    "num_levels": 4,
    "M": 4,
    "fast_curves": 4,
    "S": 10,
    "second_order": False,
    "num_resamples": 200,
    "conf_level": 0.95,
    "levels": 5,
    "period_months": 12,
    "convergence_tolerance": 0.05,
    "ci_tolerance": 0.1,
}

DEFAULT_EXPERIMENT_REPLICATES = 1
"""Replicates per design point of an experiment that does not say how many."""

MAX_SAMPLE_SIZE = 10_000_000
FACTOR_TYPES: tuple[str, ...] = ("float", "int", "bool", "choice")


@dataclass(frozen=True)
class Factor:
    """A parameter that varies, and how design values map onto it.

    SALib samples every factor on a continuous interval (``salib_bounds``);
    ``value`` maps a sample onto the parameter:

    * ``float``: the sample itself, on ``[lower, upper]``;
    * ``int``: sampled on ``[lower, upper + 1)`` and floored, so each integer
      gets an equal share of the interval;
    * ``bool``: sampled on ``[0, 1]``; ``True`` from 0.5 up;
    * ``choice`` (a choice parameter, or any parameter with ``values``): sampled
      on ``[0, k)`` for ``k`` values and floored to an index into ``values``.

    On a grid the values are used directly: ``values``, or ``levels`` evenly
    spaced values over ``[lower, upper]`` (integers rounded, duplicates dropped).
    """

    name: str
    type: str
    lower: float | None = None
    upper: float | None = None
    values: tuple[Any, ...] | None = None
    levels: int | None = None

    @property
    def salib_bounds(self) -> list[float]:
        """The interval SALib samples for this factor."""
        if self.values is not None:
            return [0.0, float(len(self.values))]
        if self.type == "int":
            return [float(self.lower), float(self.upper) + 1.0]  # type: ignore[arg-type]
        if self.type == "bool":
            return [0.0, 1.0]
        return [float(self.lower), float(self.upper)]  # type: ignore[arg-type]

    def value(self, x: float) -> Any:
        """Map one continuous design value onto the parameter (a plain Python value)."""
        if self.values is not None:
            return self.values[min(int(math.floor(x)), len(self.values) - 1)]
        if self.type == "int":
            return min(int(math.floor(x)), int(self.upper))  # type: ignore[arg-type]
        if self.type == "bool":
            return bool(x >= 0.5)
        # SALib scales as lower + u * (upper - lower): rounding can step an ulp outside
        return min(max(float(x), float(self.lower)), float(self.upper))  # type: ignore[arg-type]

    def grid_values(self, default_levels: int) -> tuple[Any, ...]:
        """The factor's values on a full grid."""
        if self.values is not None:
            return self.values
        if self.type == "bool":
            return (False, True)
        n = self.levels or default_levels
        lo, hi = float(self.lower), float(self.upper)  # type: ignore[arg-type]
        if n == 1:
            raw = [lo]
        else:
            raw = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
        if self.type == "int":
            out: list[Any] = []
            for v in raw:
                iv = int(round(v))
                if iv not in out:
                    out.append(iv)
            return tuple(out)
        return tuple(raw)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment.

    Attributes:
        name: Identifier; the default results folder is ``results/<name>``.
        question: The question it answers.
        model: ``None`` for partnersim's model, else ``"package.module:function"``.
        design: A name in ``partnersim.designs.DESIGNS``.
        sample_size: Size parameter of the design (see the module docstring);
            ``None`` for a grid.
        replicates: Runs per design point.
        seed: Master seed.
        factors: The varied parameters, in file order.
        base_params: Fixed parameter values (scenario ``[params]`` then the
            experiment's ``[params]``).
        interventions: The base scenario's interventions (partnersim's model).
        outputs: End-of-run outputs to analyse (empty: every output of the runs).
        measures: Monthly measures to keep and analyse by period; ``None`` keeps none.
        options: Method options (``OPTION_DEFAULTS`` filled in).
        source: The file it came from.
        text: The file's text.
        scenario_source: The base scenario file, if any.
        scenario_text: Its text.
        posterior: The calibration whose posterior replicate r draws its calibrated
            parameters from (the file's ``posterior``, else the base scenario's), or None.
    """

    name: str
    question: str
    model: str | None
    design: str
    sample_size: int | None
    replicates: int
    seed: int
    factors: tuple[Factor, ...]
    base_params: Mapping[str, Any]
    interventions: tuple[Any, ...] = ()
    outputs: tuple[str, ...] = ()
    measures: tuple[str, ...] | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: dict(OPTION_DEFAULTS))
    source: str | None = None
    text: str = field(default="", repr=False, compare=False)
    scenario_source: str | None = None
    scenario_text: str = field(default="", repr=False, compare=False)
    posterior: Posterior | None = None

    def replicate_bases(self, seeds: Sequence[int]) -> list[dict[str, float]]:
        """Per replicate seed, the calibrated values beneath ``base_params`` and the design's
        values: none without a posterior; else draw r of ``len(seeds)`` from it (resampled
        with ``seeds[0]``), the same at every design point (paired, like the seeds)."""
        if self.posterior is None:
            return [{} for _ in seeds]
        return self.posterior.replicate_draws(seeds)

    @property
    def is_partnersim(self) -> bool:
        """The experiment runs partnersim's own model."""
        return _runs_partnersim(self.model)

    @property
    def names(self) -> list[str]:
        """Names of the varied parameters."""
        return [f.name for f in self.factors]

    def problem(self) -> dict[str, Any]:
        """The SALib problem: names and sampled intervals of the factors."""
        return {"num_vars": len(self.factors), "names": self.names,
                "bounds": [f.salib_bounds for f in self.factors]}

    def with_overrides(self, *, sample_size: int | None = None, replicates: int | None = None,
                       seed: int | None = None) -> Experiment:
        """The same experiment with a command-line override (validated: a bad ``--replicates``
        or ``--seed`` is named alone, the file not being at fault; a bad ``--sample-size``
        with the file, whose design sets what it may be)."""
        exp = self
        if replicates is not None:
            exp = replace(exp, replicates=check_int(replicates, 1, MAX_REPLICATES,
                                                    source=None, key="--replicates"))
        if seed is not None:
            exp = replace(exp, seed=check_int(seed, 0, MAX_SEED, source=None,
                                              key="--seed"))
        if sample_size is not None:
            if exp.design == "grid":
                raise InputError("a grid has no sample size (its size is the product of "
                                 "the levels)", source=exp.source, key="--sample-size")
            n = check_int(sample_size, 1, MAX_SAMPLE_SIZE, source=exp.source,
                          key="--sample-size")
            check_sample_size(exp.design, n, exp.options, source=exp.source,
                              key="--sample-size")
            exp = replace(exp, sample_size=n)
        return exp


def _runs_partnersim(model: str | None) -> bool:
    """``model`` (``None`` or ``"package.module:function"``) is partnersim's own model."""
    return model_name(model) == PARTNERSIM_MODEL


# --------------------------------------------------------------------------- loading


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file, or a shipped experiment by name.

    Args:
        path: A ``.toml`` file; or the name of a shipped experiment
            (``grid_time_vs_resources``), used when no such file is in the working folder.

    Raises:
        InputError: one line naming the file, the line and the key: missing file (for a
            bare name, with the shipped names), malformed TOML, unknown key (with the likely
            intended one), unknown parameter, a range outside the declared bounds, a design
            SALib does not support, a sample size the method cannot use (saying what it
            needs), a bad scenario.
    """
    found = find_input(path, shipped=SHIPPED_EXPERIMENTS, what="experiment")
    doc = read_toml(found, what="experiment")
    with doc.located():
        exp = experiment_from_dict(doc.data, source=doc.source, default_name=found.stem,
                                   base_dir=found.parent)
    return replace(exp, text=doc.text)


def experiment_from_dict(data: Mapping[str, Any], *, source: str | None = None,
                         default_name: str = "experiment",
                         base_dir: Path | None = None) -> Experiment:
    """Validate an experiment given as a dict with the file's layout."""
    check_keys(data, TOP_LEVEL_KEYS, source=source)
    name = check_name(data.get("name", default_name), source=source)
    question = _string(data.get("question", ""), source, "question")

    model_ref = data.get("model", "partnersim")
    if not isinstance(model_ref, str):
        raise InputError("expected 'partnersim' or 'package.module:function'", source=source,
                         key="model")
    model: str | None = None if model_ref == "partnersim" else model_ref
    resolve_model(model, source=source, key="model")
    is_ps = _runs_partnersim(model)

    design = data.get("design")
    if design is None:
        raise InputError(f"missing; expected one of {', '.join(DESIGNS)}", source=source,
                         key="design")
    if not isinstance(design, str) or design not in DESIGNS:
        why = NOT_SUPPORTED.get(str(design))
        if why is None:
            raise unknown("design", str(design), DESIGNS, source=source, key="design",
                          show_name=True, list_choices=True)
        raise InputError(f"design {design!r} is not supported ({why}); expected one of "
                         f"{', '.join(DESIGNS)}", source=source, key="design")

    options = dict(OPTION_DEFAULTS)
    raw_options = data.get("options", {})
    if not isinstance(raw_options, dict):
        raise InputError("expected a table", source=source, key="options")
    check_keys(raw_options, OPTION_DEFAULTS, source=source, prefix="options", what="option")
    for key, value in raw_options.items():
        options[key] = _check_option(key, value, source)

    replicates = check_int(data.get("replicates", DEFAULT_EXPERIMENT_REPLICATES), 1,
                           MAX_REPLICATES, source=source, key="replicates")
    seed = check_int(data.get("seed", DEFAULT_SEED), 0, MAX_SEED, source=source, key="seed")

    # base: scenario then inline params
    base: dict[str, Any] = {}
    interventions: tuple[Any, ...] = ()
    scenario_source = None
    scenario_text = ""
    posterior: Posterior | None = None
    if "scenario" in data:
        if not is_ps:
            raise InputError("a base scenario needs partnersim's model; give fixed values "
                             "under [params]", source=source, key="scenario")
        scn_path = data["scenario"]
        if not isinstance(scn_path, str):
            raise InputError("expected a path to a scenario .toml file, or a shipped "
                             "scenario's name", source=source, key="scenario")
        try:
            full = find_input(scn_path, shipped=SHIPPED_SCENARIOS, what="scenario",
                              base_dir=base_dir or Path("."))
        except InputError as exc:  # say which file names the missing one
            raise InputError(str(exc), source=source, key="scenario") from None
        scn = load_scenario(full)
        base.update(scn.overrides)
        posterior = scn.posterior
        interventions = tuple(scn.interventions)
        scenario_source, scenario_text = str(full), scn.text
    inline = check_params_table(data.get("params", {}), source=source,
                                what="fixed parameter values")
    for key in inline:
        if not is_ps and not key.isidentifier():
            raise InputError("not a valid keyword name", source=source, key=f"params.{key}")
    base.update(inline)
    if is_ps:
        try:
            make_params(base, source=source)
        except InputError as exc:  # in the file, a parameter's key is params.<name>
            raise exc.rekeyed(key=f"params.{exc.key}" if exc.key in inline
                              else "params") from None

    if "posterior" in data:
        if not is_ps:
            raise InputError("a posterior is a calibration of partnersim's model; another "
                             "model cannot draw from it", source=source, key="posterior")
        posterior = check_posterior(data["posterior"], source)

    factors = _factors(data, source, is_ps, options)
    if not factors:
        raise InputError("no parameters to vary; add a [vary] table", source=source,
                         key="vary")
    if is_ps and interventions:
        horizons = [int(base.get("horizon_months", PARAMETERS["horizon_months"].default))]
        for f in factors:
            if f.name == "horizon_months":
                horizons.append(int(min(f.grid_values(1) if f.values else [f.lower])))
        try:
            parse_interventions([iv.as_table() for iv in interventions],
                                horizon_months=min(horizons), source=scenario_source)
        except InputError as exc:
            raise InputError(f"the base scenario's interventions do not fit the shortest "
                             f"horizon sampled ({exc})", source=source,
                             key="vary.horizon_months") from None

    sample_size: int | None = None
    if design == "grid":
        if "sample_size" in data:
            raise InputError("a grid has no sample size (its size is the product of the "
                             "levels); remove it", source=source, key="sample_size")
    else:
        sample_size = check_int(data.get("sample_size", DESIGNS[design].default_sample_size),
                                1, MAX_SAMPLE_SIZE, source=source, key="sample_size")
        check_sample_size(design, sample_size, options, source=source, key="sample_size")

    outputs = check_outputs(data.get("outputs", []), source=source, declared=is_ps)
    measures_raw = data.get("measures")
    measures = None if measures_raw is None else check_measures(
        measures_raw, source=source, declared=is_ps, outputs_key="outputs")
    return Experiment(name=name, question=question, model=model, design=design,
                      sample_size=sample_size, replicates=replicates, seed=seed,
                      factors=tuple(factors), base_params=dict(base),
                      interventions=interventions, outputs=outputs, measures=measures,
                      options=options, source=source, scenario_source=scenario_source,
                      scenario_text=scenario_text, posterior=posterior)


def _factors(data: Mapping[str, Any], source: str | None, is_ps: bool,
             options: Mapping[str, Any]) -> list[Factor]:
    vary = data.get("vary", {})
    if not isinstance(vary, dict):
        raise InputError("expected a table of parameters", source=source, key="vary")
    factors: dict[str, Factor] = {}
    if "vary_all" in data:
        if not is_ps:
            raise InputError("only partnersim's declared parameters can be selected by tag",
                             source=source, key="vary_all")
        factors.update(_vary_all(data["vary_all"], source))
    for name, table in vary.items():
        key = f"vary.{name}"
        if not isinstance(table, dict):
            raise InputError("expected a table, e.g. {} or { range = [lo, hi] }",
                             source=source, key=key)
        factors[name] = (_ps_factor(name, table, source) if is_ps
                         else _generic_factor(name, table, source))
    for f in factors.values():
        if f.type != "choice" and f.values is None and f.lower == f.upper and f.type != "bool":
            raise InputError("range is a single value; fix it under [params] instead",
                             source=source, key=f"vary.{f.name}")
    return list(factors.values())


def _vary_all(table: Any, source: str | None) -> dict[str, Factor]:
    if not isinstance(table, dict):
        raise InputError("expected a table with 'provenance' (and 'exclude')", source=source,
                         key="vary_all")
    check_keys(table, ("provenance", "exclude"), source=source, prefix="vary_all")
    tags = table.get("provenance", ["A"])
    tags = [tags] if isinstance(tags, str) else tags
    if not isinstance(tags, list) or not all(t in ("E", "L", "A") for t in tags):
        raise InputError("expected provenance tags among 'E', 'L', 'A'", source=source,
                         key="vary_all.provenance")
    exclude = check_names(table.get("exclude", []), what="parameter", source=source,
                          key="vary_all.exclude")
    for i, name in enumerate(exclude):
        if name not in PARAMETERS:
            raise unknown("parameter", name, PARAMETERS, source=source,
                          key=f"vary_all.exclude[{i}]", show_name=True)
    return {s.name: Factor(s.name, s.type, s.lower, s.upper)
            for s in PARAMETERS.values()
            if s.is_numeric and s.provenance in tags and s.name not in exclude}


_FACTOR_KEYS = ("range", "values", "levels", "type")


def _check_factor_keys(name: str, table: Mapping[str, Any], source: str | None,
                       allowed: Sequence[str]) -> None:
    check_keys(table, allowed, source=source, prefix=f"vary.{name}")
    if "range" in table and "values" in table:
        raise InputError("give either range or values, not both", source=source,
                         key=f"vary.{name}")
    if "levels" in table:
        check_int(table["levels"], 1, 10_000, source=source, key=f"vary.{name}.levels")


def _ps_factor(name: str, table: Mapping[str, Any], source: str | None) -> Factor:
    if name not in PARAMETERS:
        raise unknown("parameter", name, PARAMETERS, source=source, key=f"vary.{name}")
    spec = PARAMETERS[name]
    _check_factor_keys(name, table, source, ("range", "values", "levels"))
    key = f"vary.{name}"
    if "values" in table:
        return Factor(name, spec.type, values=_values(
            table["values"], source, f"{key}.values",
            lambda v: _check_value(spec, v, source, f"{key}.values")))
    if spec.type == "choice":
        return Factor(name, "choice", values=tuple(spec.choices or ()))
    if spec.type == "bool":
        if "range" in table:
            raise InputError("a flag has no range; use values = [false, true]", source=source,
                             key=f"{key}.range")
        return Factor(name, "bool")
    lo, hi = spec.lower, spec.upper
    if "range" in table:
        lo, hi = _range(table["range"], source, f"{key}.range")
        if lo < spec.lower or hi > spec.upper:
            raise InputError(f"range [{lo}, {hi}] is outside the declared bounds "
                             f"[{spec.lower}, {spec.upper}] ({spec.unit})", source=source,
                             key=f"{key}.range")
        if spec.type == "int" and (lo != int(lo) or hi != int(hi)):
            raise InputError(f"{name} is an integer; expected whole-number bounds",
                             source=source, key=f"{key}.range")
    if spec.type == "int":
        lo, hi = int(lo), int(hi)
    return Factor(name, spec.type, lo, hi, levels=table.get("levels"))


def _values(value: Any, source: str | None, key: str,
            check: Callable[[Any], Any] | None = None) -> tuple[Any, ...]:
    """A factor's ``values``: a non-empty list, each value passed through ``check`` (which
    may convert it), none repeated."""
    if not isinstance(value, list) or not value:
        raise InputError("expected a non-empty list of values", source=source, key=key)
    checked = tuple(value if check is None else (check(v) for v in value))
    if len(set(checked)) != len(checked):
        raise InputError("values repeat", source=source, key=key)
    return checked


def _check_value(spec: Any, value: Any, source: str | None, key: str) -> Any:
    if spec.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    try:
        make_params({spec.name: value})
    except InputError as exc:
        raise exc.rekeyed(source=source, key=key) from None
    return value


def _generic_factor(name: str, table: Mapping[str, Any], source: str | None) -> Factor:
    key = f"vary.{name}"
    if not name.isidentifier():
        raise InputError("not a valid keyword name", source=source, key=key)
    _check_factor_keys(name, table, source, _FACTOR_KEYS)
    typ = table.get("type")
    if typ is not None and typ not in FACTOR_TYPES:
        raise unknown("type", str(typ), FACTOR_TYPES, source=source, key=f"{key}.type",
                      show_name=True, list_choices=True)
    if "values" in table:
        return Factor(name, typ or "choice",
                      values=_values(table["values"], source, f"{key}.values"))
    if typ == "bool":
        return Factor(name, "bool")
    if "range" not in table:
        raise InputError("another model's parameter needs a range or values",
                         source=source, key=key)
    lo, hi = _range(table["range"], source, f"{key}.range")
    typ = typ or "float"
    if typ == "choice":
        raise InputError("a choice needs values", source=source, key=key)
    if typ == "int":
        if lo != int(lo) or hi != int(hi):
            raise InputError("expected whole-number bounds for an int", source=source,
                             key=f"{key}.range")
        lo, hi = int(lo), int(hi)
    return Factor(name, typ, lo, hi, levels=table.get("levels"))


def _range(value: Any, source: str | None, key: str) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise InputError("expected [lower, upper]", source=source, key=key)
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise InputError(f"expected finite lower <= upper, got [{value[0]}, {value[1]}]",
                         source=source, key=key)
    return lo, hi


def _string(value: Any, source: str | None, key: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {value!r}", source=source, key=key)
    return value


def _check_option(key: str, value: Any, source: str | None) -> Any:
    where = f"options.{key}"
    if key == "second_order":
        if not isinstance(value, bool):
            raise InputError("expected true or false", source=source, key=where)
        return value
    if key in ("conf_level", "convergence_tolerance", "ci_tolerance"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise InputError(f"expected a number between 0 and 1, got {value!r}",
                             source=source, key=where)
        return float(value)
    if key == "num_levels":
        v = check_int(value, 2, 100, source=source, key=where)
        if v % 2:
            raise InputError(f"morris needs an even number of levels, got {v}",
                             source=source, key=where)
        return v
    return check_int(value, 1, 1_000_000, source=source, key=where)
