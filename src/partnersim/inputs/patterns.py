"""Pattern files: reading one validation pattern's seeded experiment (``data/patterns/sfN.toml``).

A pattern file holds the experiment that tests one pattern of DESIGN.md section 3: its
conditions (parameter overrides and interventions), the quick and full seed counts, the
master seed, the check's other settings, the text for tables and docs, what kind of check it
is (``kind``: a mechanism check or an emergent pattern, with ``kind_reason``), the role its
evidence plays (``role``: a mechanism check, a calibration target or a held-out pattern, with
``role_reason``), and the overrides of its control (``mechanism_off``). The files ship with
the package, so ``partnersim validate`` works from an installed wheel.

A held-out pattern is evidence the model was never fitted to: calibration refuses to read one
(``partnersim.calibration.spec``: a target naming a held-out pattern is an input error), and
``partnersim validate --posterior`` checks the held-out patterns at posterior draws.
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

KEYS: tuple[str, ...] = ("id", "title", "statement", "measured", "anchors", "kind",
                         "kind_reason", "role", "role_reason", "seed", "n_seeds",
                         "mechanism_off", "params", "conditions", "settings")
"""The keys of a pattern file."""

RENAMED_KEYS: dict[str, str] = {"master_seed": "seed"}
"""Keys renamed since pattern files were first written: old -> new."""

REQUIRED: tuple[str, ...] = ("id", "kind", "kind_reason", "role", "role_reason", "seed",
                              "n_seeds")
"""Keys every pattern file must have."""

KINDS: dict[str, str] = {
    "mechanism": "a mechanism check: one equation does what the ODD says",
    "emergent": "an emergent pattern: no single equation writes it",
}
"""What a pattern's check tests (the file's ``kind``): kind -> its meaning in words. An
emergent pattern's ``mechanism_off`` control cuts an interaction it should arise from, not
the parameter that writes its result (docs/validation.md)."""

MECHANISM_CHECK = "mechanism check"
CALIBRATION_TARGET = "calibration target"
HELD_OUT = "held-out"
ROLES: dict[str, str] = {
    MECHANISM_CHECK: "tests that one equation does what the ODD says: verification, not "
                     "evidence that the model fits the world",
    CALIBRATION_TARGET: "the model was fitted to it (its parameters or mechanisms were changed "
                        "so that it passes, docs/validation.md C1-C12, or a calibration reads "
                        "it): evidence used, not evidence gained",
    HELD_OUT: "evidence the model was never fitted to: no calibration reads it and no change "
              "was made so that it passes",
}
"""The role a pattern's evidence plays (the file's ``role``): role -> its meaning in words. A
held-out pattern must be emergent (a mechanism check tests an equation, not a fit), and a
mechanism check must be of kind mechanism."""


@dataclass(frozen=True)
class PatternDefinition:
    """One pattern's seeded experiment, read from ``data/patterns/sfN.toml``.

    Attributes:
        id: pattern id ("SF3").
        title, statement, measured, anchors: text for tables and docs.
        kind: "mechanism" or "emergent" (``KINDS``); kind_reason: why, in one line.
        role: "mechanism check", "calibration target" or "held-out" (``ROLES``);
            role_reason: why, in one line.
        seed: the master seed; replicate i has the same seed in every condition.
        n_seeds: {"quick": n, "full": n}.
        params: overrides applied to every condition.
        conditions: condition name -> {"params": {...}, "interventions": [...]}.
        settings: the check's other numbers (months, windows, thresholds).
        mechanism_off: the control: overrides that switch the pattern's mechanism off (an
            emergent pattern's cut an interaction it should arise from; tests).
    """

    id: str
    title: str
    statement: str
    measured: str
    anchors: str
    kind: str
    kind_reason: str
    role: str
    role_reason: str
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


def held_out_ids(directory: Path | None = None) -> list[str]:
    """The ids of the held-out patterns among the files in ``directory`` (default: the
    shipped ones), in the order SF1, SF2, ..."""
    folder = directory or SHIPPED_PATTERNS
    names = sorted((p.stem for p in folder.glob("sf*.toml")),
                   key=lambda n: int(n[2:]) if n[2:].isdigit() else 10**6)
    return [d.id for d in (load_definition(n, folder) for n in names) if d.role == HELD_OUT]


def load_definition(pattern: str, directory: Path | None = None) -> PatternDefinition:
    """Read one pattern's file (``sfN.toml`` in ``directory``, default the shipped ones).

    Raises:
        InputError: naming the file, the key and its line: a missing or malformed file, an
            unknown or missing key, an unknown parameter or a value outside its bounds, an
            intervention that is not valid (an old key, a month past the horizon), seed
            counts that are not positive integers, a kind that is not one of ``KINDS``, a
            role that is not one of ``ROLES`` or does not fit the kind (a held-out pattern
            is emergent, a mechanism check of kind mechanism), or a kind_reason or
            role_reason that is not one line of text.
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
                raise InputError("missing; every pattern file names its id, kind (one of "
                                 f"{', '.join(KINDS)}), kind_reason, role (one of "
                                 f"{', '.join(repr(r) for r in ROLES)}), role_reason, seed and "
                                 "n_seeds (quick and full)", source=source, key=key)
        if data["kind"] not in KINDS:
            raise InputError(f"{data['kind']!r} is not a kind of pattern; expected one of "
                             f"{', '.join(KINDS)}", source=source, key="kind")
        reason = data["kind_reason"]
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason:
            raise InputError(f"expected one line of text saying why the pattern is "
                             f"{data['kind']}, got {reason!r}", source=source, key="kind_reason")
        role = data["role"]
        if role not in ROLES:
            raise InputError(f"{role!r} is not a role of a pattern; expected one of "
                             f"{', '.join(repr(r) for r in ROLES)}", source=source, key="role")
        if role == HELD_OUT and data["kind"] != "emergent":
            raise InputError("a held-out pattern must be emergent: a mechanism check tests an "
                             "equation, not a fit; expected role 'mechanism check'",
                             source=source, key="role")
        if role == MECHANISM_CHECK and data["kind"] != "mechanism":
            raise InputError("an emergent pattern is not a mechanism check; expected role "
                             f"{CALIBRATION_TARGET!r} or {HELD_OUT!r}", source=source,
                             key="role")
        role_reason = data["role_reason"]
        if not isinstance(role_reason, str) or not role_reason.strip() or "\n" in role_reason:
            raise InputError(f"expected one line of text saying why the pattern is a {role}, "
                             f"got {role_reason!r}", source=source, key="role_reason")
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
        kind=data["kind"], kind_reason=reason.strip(), role=role,
        role_reason=role_reason.strip(), seed=seed, n_seeds=n_seeds,
        params=dict(data.get("params", {})),
        conditions=conditions, settings=dict(data.get("settings", {})),
        mechanism_off=dict(data.get("mechanism_off", {})))
