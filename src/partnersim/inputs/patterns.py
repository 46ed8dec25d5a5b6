"""Pattern files: reading one validation pattern's seeded experiment (``data/patterns/sfN.toml``).

A pattern file holds the experiment that tests one pattern of DESIGN.md section 3: its
conditions (parameter overrides and interventions), the quick and full seed counts, the
master seed, the check's other settings, the text for tables and docs, and the overrides
that switch its mechanism off. The files ship with the package, so ``partnersim validate``
works from an installed wheel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partnersim.errors import InputError
from partnersim.inputs.toml import (
    MAX_REPLICATES,
    SHIPPED_PATTERNS,
    check_int,
    check_keys,
    read_toml,
)
from partnersim.model.interventions import parse_interventions
from partnersim.params import make_params
from partnersim.seeding import MAX_SEED

KEYS: tuple[str, ...] = ("id", "title", "statement", "measured", "anchors", "seed",
                         "n_seeds", "mechanism_off", "params", "conditions", "settings")
"""The keys of a pattern file."""

RENAMED_KEYS: dict[str, str] = {"master_seed": "seed"}
"""Keys renamed since pattern files were first written: old -> new."""

REQUIRED: tuple[str, ...] = ("id", "seed", "n_seeds")
"""Keys every pattern file must have."""


@dataclass(frozen=True)
class PatternDefinition:
    """One pattern's seeded experiment, read from ``data/patterns/sfN.toml``.

    Attributes:
        id: pattern id ("SF3").
        title, statement, measured, anchors: text for tables and docs.
        seed: the master seed; replicate i has the same seed in every condition.
        n_seeds: {"quick": n, "full": n}.
        params: overrides applied to every condition.
        conditions: condition name -> {"params": {...}, "interventions": [...]}.
        settings: the check's other numbers (months, windows, thresholds).
        mechanism_off: overrides that switch the pattern's mechanism off (tests).
    """

    id: str
    title: str
    statement: str
    measured: str
    anchors: str
    seed: int
    n_seeds: Mapping[str, int]
    params: Mapping[str, Any]
    conditions: Mapping[str, Mapping[str, Any]]
    settings: Mapping[str, Any]
    mechanism_off: Mapping[str, Any]

    def condition(self, name: str, overrides: Mapping[str, Any]) -> tuple[dict, tuple]:
        """Parameters (file base, condition, then ``overrides``) and interventions."""
        cond = self.conditions.get(name, {})
        params = {**self.params, **cond.get("params", {}), **overrides}
        return params, tuple(cond.get("interventions", ()))


def load_definition(pattern: str, directory: Path | None = None) -> PatternDefinition:
    """Read one pattern's file (``sfN.toml`` in ``directory``, default the shipped ones).

    Raises:
        InputError: naming the file, the key and its line: a missing or malformed file, an
            unknown or missing key, an unknown parameter or a value outside its bounds, an
            intervention that is not valid (an old key, a month past the horizon), seed
            counts that are not positive integers.
    """
    doc = read_toml((directory or SHIPPED_PATTERNS) / f"{pattern.lower()}.toml", what="pattern")
    data, source = doc.data, doc.source
    with doc.located():
        for key in data:
            if key in RENAMED_KEYS:
                raise InputError(f"renamed to {RENAMED_KEYS[key]!r}", source=source, key=key)
        check_keys(data, KEYS, source=source, list_choices=True)
        for key in REQUIRED:
            if key not in data:
                raise InputError("missing; every pattern file names its id, seed and "
                                 "n_seeds (quick and full)", source=source, key=key)
        check_keys(data["n_seeds"], ("quick", "full"), source=source, prefix="n_seeds")
        n_seeds = {k: check_int(data["n_seeds"].get(k), 1, MAX_REPLICATES, source=source,
                                key=f"n_seeds.{k}") for k in ("quick", "full")}
        seed = check_int(data["seed"], 0, MAX_SEED, source=source, key="seed")
        conditions = dict(data.get("conditions", {}))
        tables = {"params": data.get("params", {}),
                  "mechanism_off": data.get("mechanism_off", {})}
        for name, cond in conditions.items():
            check_keys(cond, ("params", "interventions"), source=source,
                       prefix=f"conditions.{name}")
        for prefix in tables:  # known parameters, values inside their bounds
            try:
                make_params(tables[prefix])
            except InputError as exc:
                raise exc.rekeyed(source=source, prefix=prefix) from None
        for name, cond in conditions.items():  # values and interventions, as a run takes them
            where = f"conditions.{name}"
            try:
                params = make_params({**tables["params"], **cond.get("params", {})})
                parse_interventions(list(cond.get("interventions", [])),
                                    horizon_months=params.horizon_months)
            except InputError as exc:
                raise exc.rekeyed(source=source, prefix=where if exc.key and
                                  exc.key.startswith("interventions") else f"{where}.params"
                                  ) from None
    return PatternDefinition(
        id=data["id"], title=data.get("title", ""), statement=data.get("statement", ""),
        measured=data.get("measured", ""), anchors=data.get("anchors", ""),
        seed=seed, n_seeds=n_seeds, params=dict(data.get("params", {})),
        conditions=conditions, settings=dict(data.get("settings", {})),
        mechanism_off=dict(data.get("mechanism_off", {})))
