"""Scenario files: loading, validating and writing the TOML for one partnership and its options.

A scenario file is data only (parsed with :mod:`tomllib`; nothing in it is
executed or unpickled). Its layout::

    # What question this scenario answers.
    name = "ground_rules"              # optional; defaults to the file's stem
    question = "Do ground rules ...?"  # shown in reports
    description = "..."                # optional, longer
    replicates = 20                    # runs, replicate i seeded the same in every scenario
    seed = 20261126                    # master seed
    measures = ["trust_across", ...]   # optional: monthly measures to keep

    [params]                           # overrides of the declared defaults
    horizon_months = 120
    prior_familiarity = 0.8

    [[interventions]]                  # levers and shocks, DESIGN.md 2.3
    kind = "ground_rules"
    month = 0
    strength = 1.0

Every key is the parameter's own name (``partnersim params`` lists them).
Bad input raises :class:`~partnersim.errors.InputError` with one line naming
the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from partnersim import outputs
from partnersim.errors import InputError, did_you_mean
from partnersim.model.interventions import parse_interventions
from partnersim.params import DEFAULTS, PARAMETERS, Params, make_params

DEFAULT_REPLICATES = 20
"""Replicates of a scenario that does not say how many."""

DEFAULT_SEED = 20261126
"""Master seed shared by every shipped scenario, so that ``compare`` pairs their runs."""

MAX_REPLICATES = 100_000
MAX_SEED = 2**63 - 1

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "name",
    "question",
    "description",
    "replicates",
    "seed",
    "measures",
    "params",
    "interventions",
)
"""The keys a scenario file may hold at its top level."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


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
        measures: Monthly measures to keep, or ``None`` for all.
        source: The file it came from, if any.
        text: The file's text (or the TOML written by :func:`dump_scenario`).
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
        return [_intervention_dict(iv) for iv in self.interventions]

    def with_replicates(self, replicates: int) -> Scenario:
        """The same scenario with the replicate count given on the command line (validated;
        an error names ``--replicates``, not the file's key)."""
        n = _check_int(replicates, "--replicates", 1, MAX_REPLICATES, self.source)
        return _replace(self, replicates=n)


def _replace(scn: Scenario, **changes: Any) -> Scenario:
    from dataclasses import replace

    return replace(scn, **changes)


# --------------------------------------------------------------------------- loading


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: A ``.toml`` file.

    Returns:
        The validated :class:`Scenario`; ``name`` defaults to the file's stem.

    Raises:
        InputError: one line naming the file and the key: missing file,
            malformed TOML (with line and column), unknown key (with the likely
            intended key), wrong type, value out of bounds (with the bounds),
            unknown intervention kind, a month past the horizon.
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputError("scenario file not found", source=source)
    if not path.is_file():
        raise InputError("not a file (expected a scenario .toml file)", source=source)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                         source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=source) from None
    return parse_scenario(text, source=source, default_name=path.stem)


def parse_scenario(text: str, *, source: str | None = None,
                   default_name: str = "scenario") -> Scenario:
    """Validate scenario TOML given as text (see :func:`load_scenario`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = " ".join(str(exc).split())
        raise InputError(f"malformed TOML: {msg}", source=source) from None
    scn = scenario_from_dict(data, source=source, default_name=default_name)
    return _replace(scn, text=text)


def scenario_from_dict(data: Mapping[str, Any], *, source: str | None = None,
                       default_name: str = "scenario") -> Scenario:
    """Validate a scenario given as a dict with the file's layout."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            if key in PARAMETERS:
                hint = f" ('{key}' is a parameter: put it under [params])"
            else:
                hint = did_you_mean(key, TOP_LEVEL_KEYS + tuple(PARAMETERS))
            raise InputError(f"unknown key{hint}; expected one of {', '.join(TOP_LEVEL_KEYS)}",
                             source=source, key=key)
    overrides = data.get("params", {})
    if not isinstance(overrides, dict):
        raise InputError("expected a table of parameter overrides ([params])",
                         source=source, key="params")
    for key, value in overrides.items():
        if isinstance(value, dict | list):
            raise InputError(f"expected a single value, got a {type(value).__name__}",
                             source=source, key=f"params.{key}")
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
        replicates=data.get("replicates", DEFAULT_REPLICATES),
        seed=data.get("seed", DEFAULT_SEED),
        measures=data.get("measures"),
        source=source,
        _prefix_params=True,
    )


def make_scenario(
    *,
    name: str,
    params: Params | Mapping[str, Any] | None = None,
    interventions: Sequence[Any] = (),
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    question: str = "",
    description: str = "",
    measures: Sequence[str] | None = None,
    source: str | None = None,
    _prefix_params: bool = False,
) -> Scenario:
    """Build a validated scenario from Python values.

    Args:
        name: Identifier (letters, digits, ``_``, ``-``, ``.``); names the results folder.
        params: A full ``Params`` (only values that differ from the declared
            defaults are kept as overrides) or a mapping of overrides.
        interventions: Intervention objects or dicts with the file's layout.
        replicates: Number of runs, at least 1.
        seed: Master seed, a non-negative integer below 2**63.
        question: The question the scenario answers.
        description: Longer free text.
        measures: Monthly measures to keep, or ``None`` for all.
        source: Where it came from, used in error messages.

    Returns:
        The scenario; its ``text`` is the TOML :func:`dump_scenario` writes.

    Raises:
        InputError: as :func:`load_scenario`.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InputError(
            f"expected a short name of letters, digits, '_', '-' or '.', got {name!r}",
            source=source, key="name")
    for key, value in (("question", question), ("description", description)):
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {value!r}", source=source, key=key)
    n = _check_int(replicates, "replicates", 1, MAX_REPLICATES, source)
    s = _check_int(seed, "seed", 0, MAX_SEED, source)

    if isinstance(params, Params):
        overrides = {k: v for k, v in params.model_dump().items() if v != DEFAULTS[k]}
        full = params
    else:
        overrides = dict(params or {})
        try:
            full = make_params(overrides, source=source)
        except InputError as exc:
            if _prefix_params and exc.key:
                raise InputError(_strip(str(exc), source, exc.key),
                                 source=source, key=f"params.{exc.key}") from None
            if _prefix_params:
                # pydantic-path errors carry the key inside the message: "name: ..."
                msg = _strip(str(exc), source, None)
                raise InputError(msg if msg.startswith("params.") else f"params.{msg}",
                                 source=source) from None
            raise

    items = [iv if isinstance(iv, dict) else _intervention_dict(iv) for iv in interventions]
    parsed = parse_interventions(items, horizon_months=full.horizon_months, source=source)

    kept: tuple[str, ...] | None = None
    if measures is not None:
        kept = _check_measures(measures, source)

    scn = Scenario(name=name, question=question, description=description,
                   overrides=_freeze(overrides), params=full, interventions=parsed,
                   replicates=n, seed=s, measures=kept, source=source)
    return _replace(scn, text=dump_scenario(scn))


def _strip(message: str, source: str | None, key: str | None) -> str:
    """Remove the 'source: key: ' prefix InputError adds, to re-key the message."""
    for part in (source, key):
        if part and message.startswith(f"{part}: "):
            message = message[len(part) + 2:]
    return message


def _freeze(d: Mapping[str, Any]) -> Mapping[str, Any]:
    from types import MappingProxyType

    return MappingProxyType(dict(d))


def _check_int(value: Any, key: str, lo: int, hi: int, source: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"expected an integer, got {value!r}", source=source, key=key)
    if not lo <= value <= hi:
        raise InputError(f"{value} is outside the bounds [{lo}, {hi}]", source=source, key=key)
    return value


def known_measures() -> tuple[str, ...] | None:
    """Names of the monthly measures the model can record, or None if unknown."""
    return outputs.MONTHLY


def _check_measures(measures: Any, source: str | None) -> tuple[str, ...]:
    if isinstance(measures, str) or not isinstance(measures, Sequence):
        raise InputError(f"expected a list of measure names, got {measures!r}",
                         source=source, key="measures")
    known = known_measures()
    out = []
    for i, m in enumerate(measures):
        if not isinstance(m, str):
            raise InputError(f"expected a measure name, got {m!r}", source=source,
                             key=f"measures[{i}]")
        if known is not None and m not in known:
            raise InputError(f"unknown measure {m!r}{did_you_mean(m, known)}",
                             source=source, key=f"measures[{i}]")
        out.append(m)
    if len(set(out)) != len(out):
        raise InputError("a measure is listed twice", source=source, key="measures")
    return tuple(out)


def _intervention_dict(iv: Any) -> dict[str, Any]:
    if isinstance(iv, BaseModel):
        d = iv.model_dump(exclude_none=True)
    else:
        d = dict(iv)
    # kind and month first, so files read naturally
    ordered = {"kind": d.pop("kind"), "month": d.pop("month")}
    ordered.update(d)
    return ordered


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
