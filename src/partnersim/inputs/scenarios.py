"""Scenario files: loading, validating and writing the TOML for one partnership and its options.

A scenario file is data only (read by :mod:`partnersim.inputs.toml`; nothing in it
is executed or unpickled). Its layout::

    # What question this scenario answers.
    name = "ground_rules"              # optional; defaults to the file's stem
    question = "Do ground rules ...?"  # shown in reports
    description = "..."                # optional, longer
    replicates = 20                    # runs, replicate i seeded the same in every scenario
    seed = 20261126                    # master seed
    measures = ["trust_across", ...]   # optional: the monthly measures to keep (columns
                                       # of the timeseries table; default all); every
                                       # end-of-run output is always kept
    posterior = "results/calibration/central"  # optional: a calibration folder (relative
                                       # to the current folder); replicate i draws the
                                       # calibrated parameters from its posterior

    [params]                           # overrides of the declared defaults
    horizon_months = 120
    prior_familiarity = 0.8

    [[interventions]]                  # levers and shocks, DESIGN.md 2.3
    kind = "ground_rules"
    month = 0
    ground_rules = 1.0                 # a lever's keys are the parameters it sets

With ``posterior``, each replicate's calibrated parameters are a draw from the calibration's
posterior (particles resampled by weight, ``inputs.posterior``), seeded by the replicate
seeds, so that scenarios compared on the same seeds get the same draws (paired); the file's
``[params]`` still apply on top. Answers then carry parameter uncertainty as well as seed
noise.

Every key is the parameter's own name (``partnersim params`` lists them). A shipped
scenario can be named without a path (``baseline``), from any folder. Bad input
raises :class:`~partnersim.errors.InputError` with one line naming the file, the
line and the key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from partnersim import outputs
from partnersim.errors import InputError, unknown
from partnersim.inputs.posterior import Posterior, load_posterior
from partnersim.inputs.toml import (
    MAX_REPLICATES,
    SHIPPED_SCENARIOS,
    TomlFile,
    check_int,
    check_name,
    find_input,
    parse_toml,
    read_toml,
)
from partnersim.model.interventions import parse_interventions
from partnersim.params import DEFAULTS, PARAMETERS, Params, make_params
from partnersim.seeding import DEFAULT_SEED, MAX_SEED

__all__ = ["DEFAULT_SCENARIO_REPLICATES", "RENAMED_MEASURES", "Scenario", "TOP_LEVEL_KEYS",
           "check_measures", "check_posterior", "check_names", "check_outputs", "check_params_table",
           "dump_scenario", "load_scenario", "make_scenario", "parse_scenario",
           "scenario_from_dict"]

DEFAULT_SCENARIO_REPLICATES = 20
"""Replicates of a scenario that does not say how many."""

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "name",
    "question",
    "description",
    "replicates",
    "seed",
    "measures",
    "posterior",
    "params",
    "interventions",
)
"""The keys a scenario file may hold at its top level."""

@dataclass(frozen=True)
class Scenario:
    """A validated scenario: one partnership, its interventions, replicates and seed.

    Build one with :func:`load_scenario` (from a file) or :func:`make_scenario`
    (from Python, e.g. a dashboard session); both validate everything.

    Attributes:
        name: Short identifier, used as the results folder name and in reports.
        question: The question this scenario answers (one sentence).
        description: Longer free text.
        overrides: The parameter overrides as written (name -> value).
        params: The full, validated parameter set (defaults plus overrides).
        interventions: Validated intervention objects, in file order.
        replicates: Number of runs (at least 1).
        seed: Master seed; replicate seeds come from ``seeding.replicate_seeds``.
        measures: The monthly measures to keep (timeseries columns), or ``None`` for all.
        source: The file it came from, if any.
        text: The file's text (or the TOML written by :func:`dump_scenario`).
        posterior: The calibration whose posterior the replicates draw their calibrated
            parameters from, or ``None`` (every replicate at ``params``).
    """

    name: str
    question: str
    description: str
    overrides: Mapping[str, Any]
    params: Params
    interventions: tuple[Any, ...]
    replicates: int
    seed: int
    measures: tuple[str, ...] | None = None
    source: str | None = None
    text: str = field(default="", compare=False, repr=False)
    posterior: Posterior | None = None

    @property
    def horizon_months(self) -> int:
        """The run length in months (the ``horizon_months`` parameter)."""
        return self.params.horizon_months

    @property
    def sha256(self) -> str:
        """SHA-256 of the scenario's text, recorded in manifests."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def intervention_dicts(self) -> list[dict[str, Any]]:
        """The interventions as plain dicts, as they would appear in TOML."""
        return [iv.as_table() for iv in self.interventions]

    def replicate_params(self, seeds: Sequence[int]) -> list[Params]:
        """The parameters of each replicate with these seeds: ``params`` for every one, or with
        a posterior, draw i of ``len(seeds)`` from it (resampled with ``seeds[0]``, so the
        same seeds give the same draws in every scenario naming the posterior, and replicate
        i's draw does not depend on the replicate count) beneath the file's overrides."""
        if self.posterior is None:
            return [self.params] * len(seeds)
        return [make_params({**draw, **self.overrides}, source=self.source)
                for draw in self.posterior.replicate_draws(seeds)]

    def with_replicates(self, replicates: int) -> Scenario:
        """The same scenario with the replicate count given on the command line (validated;
        an error names ``--replicates``, not the file, which is not at fault)."""
        n = check_int(replicates, 1, MAX_REPLICATES, source=None, key="--replicates")
        return replace(self, replicates=n)


# --------------------------------------------------------------------------- loading


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file, or a shipped scenario by name.

    Args:
        path: A ``.toml`` file; or the name of a shipped scenario (``baseline`` or
            ``baseline.toml``), used when no such file is in the working folder.

    Returns:
        The validated :class:`Scenario`; ``name`` defaults to the file's stem.

    Raises:
        InputError: one line naming the file, the line and the key: missing file (for
            a bare name, with the shipped names), malformed TOML, unknown key (with the
            likely intended key), a key renamed since (with its new name), wrong type,
            value out of bounds (with the bounds), unknown intervention kind, a month
            past the horizon.
    """
    found = find_input(path, shipped=SHIPPED_SCENARIOS, what="scenario")
    return _from_toml(read_toml(found, what="scenario"), default_name=found.stem)


def parse_scenario(text: str, *, source: str | None = None,
                   default_name: str = "scenario") -> Scenario:
    """Validate scenario TOML given as text (see :func:`load_scenario`)."""
    return _from_toml(parse_toml(text, source=source), default_name=default_name)


def _from_toml(doc: TomlFile, *, default_name: str) -> Scenario:
    with doc.located():
        scn = scenario_from_dict(doc.data, source=doc.source, default_name=default_name)
    return replace(scn, text=doc.text)


def scenario_from_dict(data: Mapping[str, Any], *, source: str | None = None,
                       default_name: str = "scenario") -> Scenario:
    """Validate a scenario given as a dict with the file's layout."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            if key in PARAMETERS:
                raise InputError(f"'{key}' is a parameter: put it under [params]",
                                 source=source, key=key)
            raise unknown("key", key, TOP_LEVEL_KEYS + tuple(PARAMETERS), source=source,
                          list_choices=TOP_LEVEL_KEYS)
    overrides = check_params_table(data.get("params", {}), source=source)
    interventions = data.get("interventions", [])
    if not isinstance(interventions, list):
        raise InputError("expected an array of tables ([[interventions]])",
                         source=source, key="interventions")
    return make_scenario(
        name=data.get("name", default_name),
        question=data.get("question", ""),
        description=data.get("description", ""),
        params=overrides,
        interventions=interventions,
        replicates=data.get("replicates", DEFAULT_SCENARIO_REPLICATES),
        seed=data.get("seed", DEFAULT_SEED),
        measures=data.get("measures"),
        source=source,
        posterior=check_posterior(data.get("posterior"), source),
        _params_key="params",
    )


def check_posterior(value: Any, source: str | None) -> Posterior | None:
    """The calibration folder a scenario or experiment names (``posterior``), read."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(f"expected the path of a calibration folder, got {value!r}",
                         source=source, key="posterior")
    return load_posterior(value, source=source, key="posterior")


def make_scenario(
    *,
    name: str,
    params: Params | Mapping[str, Any] | None = None,
    interventions: Sequence[Any] = (),
    replicates: int = DEFAULT_SCENARIO_REPLICATES,
    seed: int = DEFAULT_SEED,
    question: str = "",
    description: str = "",
    measures: Sequence[str] | None = None,
    source: str | None = None,
    posterior: Posterior | str | None = None,
    _params_key: str | None = None,
) -> Scenario:
    """Build a validated scenario from Python values.

    Args:
        name: Identifier (letters, digits, ``_``, ``-``, ``.``); names the results folder.
        params: A full ``Params`` (only values that differ from the declared
            defaults are kept as overrides) or a mapping of overrides.
        interventions: Intervention objects or dicts with the file's layout.
        replicates: Number of runs, at least 1.
        seed: Master seed, an integer in ``[0, MAX_SEED]``.
        question: The question the scenario answers.
        description: Longer free text.
        measures: The monthly measures to keep (timeseries columns), or ``None`` for all.
        source: Where it came from, used in error messages.
        posterior: A calibration folder (or a loaded posterior) whose posterior each
            replicate draws the calibrated parameters from.

    Returns:
        The scenario; its ``text`` is the TOML :func:`dump_scenario` writes.

    Raises:
        InputError: as :func:`load_scenario`.
    """
    check_name(name, source=source)
    for key, value in (("question", question), ("description", description)):
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {value!r}", source=source, key=key)
    n = check_int(replicates, 1, MAX_REPLICATES, source=source, key="replicates")
    s = check_int(seed, 0, MAX_SEED, source=source, key="seed")

    if isinstance(params, Params):
        overrides = {k: v for k, v in params.model_dump().items() if v != DEFAULTS[k]}
        full = params
    else:
        overrides = dict(params or {})
        try:
            full = make_params(overrides, source=source)
        except InputError as exc:  # in a file, a parameter's key is params.<name>
            raise exc.rekeyed(prefix=_params_key) from None

    # parsed interventions as their tables; anything else is checked as a file's entry
    items = [iv.as_table() if hasattr(iv, "as_table") else iv for iv in interventions]
    parsed = parse_interventions(items, horizon_months=full.horizon_months, source=source)

    kept: tuple[str, ...] | None = None
    if measures is not None:
        kept = check_measures(measures, source=source)

    if isinstance(posterior, str):
        posterior = check_posterior(posterior, source)
    scn = Scenario(name=name, question=question, description=description,
                   overrides=_freeze(overrides), params=full, interventions=parsed,
                   replicates=n, seed=s, measures=kept, source=source, posterior=posterior)
    return replace(scn, text=dump_scenario(scn))


def _freeze(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


def check_params_table(value: Any, *, source: str | None,
                       what: str = "parameter overrides") -> dict[str, Any]:
    """A file's ``[params]`` table: a table of single values (``what`` they are, for messages).

    Raises:
        InputError: ``params``: not a table; ``params.<name>``: a table or list as a value.
    """
    if not isinstance(value, dict):
        raise InputError(f"expected a table of {what} ([params])", source=source, key="params")
    for key, item in value.items():
        if isinstance(item, dict | list):
            raise InputError(f"expected a single value, got a {type(item).__name__}",
                             source=source, key=f"params.{key}")
    return value


RENAMED_MEASURES: dict[str, str] = {"relationship_time": "relationship_time_spent"}
"""Monthly measures renamed since files were first written: old -> new (the old name now
belongs to a parameter only)."""


def check_names(value: Any, *, what: str, source: str | None, key: str) -> tuple[str, ...]:
    """A list of distinct names (``what`` says of what, for messages)."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InputError(f"expected a list of {what}s, got {value!r}", source=source, key=key)
    for i, name in enumerate(value):
        if not isinstance(name, str):
            raise InputError(f"expected the name of a {what}, got {name!r}", source=source,
                             key=f"{key}[{i}]")
    for i, name in enumerate(value):
        if name in value[:i]:
            raise InputError(f"{name!r} is listed twice", source=source, key=f"{key}[{i}]")
    return tuple(value)


def check_measures(value: Any, *, source: str | None, key: str = "measures",
                   declared: bool = True, outputs_key: str | None = None) -> tuple[str, ...]:
    """The monthly measures a file keeps (``measures``): columns of the timeseries table.

    Args:
        value: The list as written.
        source: The file.
        key: Its key.
        declared: Check the names against partnersim's declared monthly measures (not for
            another model's outputs).
        outputs_key: Where the file lists end-of-run outputs, if it does.

    Raises:
        InputError: not a list of names; an end-of-run output, a renamed or unknown name.
    """
    names = check_names(value, what="monthly measure", source=source, key=key)
    for i, m in enumerate(names if declared else ()):
        where = f"{key}[{i}]"
        if m in outputs.MONTHLY:
            continue
        if m in RENAMED_MEASURES:
            raise InputError(f"renamed to {RENAMED_MEASURES[m]!r} ({m!r} is the policy "
                             "parameter)", source=source, key=where)
        if m in outputs.SUMMARIES:
            hint = (f"list it under {outputs_key}" if outputs_key
                    else "every run keeps all end-of-run outputs")
            raise InputError(f"{m!r} is an end-of-run output, not a monthly measure ({hint})",
                             source=source, key=where)
        raise unknown("monthly measure", m, outputs.MONTHLY, source=source, key=where,
                      show_name=True)
    return names


def check_outputs(value: Any, *, source: str | None, key: str = "outputs",
                  declared: bool = True) -> tuple[str, ...]:
    """The end-of-run outputs a file names (``outputs``): columns of the runs table.

    Raises:
        InputError: not a list of names; a monthly measure, or an unknown name.
    """
    names = check_names(value, what="end-of-run output", source=source, key=key)
    for i, o in enumerate(names if declared else ()):
        where = f"{key}[{i}]"
        if o in outputs.SUMMARIES:
            continue
        if o in outputs.MONTHLY or o in RENAMED_MEASURES:
            raise InputError(f"{o!r} is a monthly measure, not an end-of-run output (list it "
                             "under measures)", source=source, key=where)
        raise unknown("end-of-run output", o, outputs.SUMMARIES, source=source, key=where,
                      show_name=True)
    return names


# --------------------------------------------------------------------------- writing


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as TOML text that :func:`load_scenario` reads back to an equal scenario.

    The text opens with the scenario's question as a comment. Only parameter
    overrides are written, so the file stays short and later changes to
    defaults still apply to it, as they would to a hand-written file.
    """
    lines: list[str] = []
    if scenario.question:
        lines += [f"# {line}".rstrip() for line in scenario.question.splitlines()]
    lines.append("# Written by partnersim; run it with `partnersim run FILE`.")
    lines.append("")
    lines.append(f"name = {_toml_value(scenario.name)}")
    lines.append(f"question = {_toml_value(scenario.question)}")
    if scenario.description:
        lines.append(f"description = {_toml_value(scenario.description)}")
    lines.append(f"replicates = {scenario.replicates}")
    lines.append(f"seed = {scenario.seed}")
    if scenario.measures is not None:
        lines.append(f"measures = {_toml_value(list(scenario.measures))}")
    if scenario.posterior is not None:
        lines.append(f"posterior = {_toml_value(scenario.posterior.folder)}")
    lines.append("")
    lines.append("[params]")
    for key in PARAMETERS:  # declaration order, for stable diffs
        if key in scenario.overrides:
            lines.append(f"{key} = {_toml_value(scenario.overrides[key])}")
    for iv in scenario.intervention_dicts():
        lines.append("")
        lines.append("[[interventions]]")
        for key, value in iv.items():
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    """One TOML value: string, bool, int, float or (nested) array of these."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)  # shortest round-trip form; always has '.', 'e' or is inf/nan
        return text
    if isinstance(value, str):
        # JSON string escapes (\" \\ \n \t \uXXXX ...) are all valid TOML basic-string escapes
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value: {value!r}")
