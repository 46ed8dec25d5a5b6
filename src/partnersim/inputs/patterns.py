"""Pattern files: reading one validation pattern's seeded experiment (``data/patterns/sfN.toml``).

A pattern file holds the experiment that tests one pattern of DESIGN.md section 3: its
conditions (parameter overrides and interventions), the quick and full seed counts, the
master seed, the check's other settings, the text for tables and docs, and the overrides
that switch its mechanism off. The files ship with the package, so ``partnersim validate``
works from an installed wheel.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partnersim.errors import InputError

PATTERN_DIR = Path(__file__).resolve().parents[1] / "data" / "patterns"
"""The shipped pattern files (package data; one ``sfN.toml`` per pattern)."""

REQUIRED: tuple[str, ...] = ("id", "master_seed", "n_seeds")
"""Keys every pattern file must have."""


@dataclass(frozen=True)
class PatternDefinition:
    """One pattern's seeded experiment, read from ``data/patterns/sfN.toml``.

    Attributes:
        id: pattern id ("SF3").
        title, statement, measured, anchors: text for tables and docs.
        master_seed: master seed; replicate i has the same seed in every condition.
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
    master_seed: int
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
        InputError: the file is missing or is not valid TOML.
    """
    path = (directory or PATTERN_DIR) / f"{pattern.lower()}.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("pattern file not found", source=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML ({exc})", source=str(path)) from None
    for key in REQUIRED:
        if key not in data:
            raise InputError("missing; every pattern file names its id, master_seed and "
                             "n_seeds (quick and full)", source=str(path), key=key)
    return PatternDefinition(
        id=data["id"], title=data.get("title", ""), statement=data.get("statement", ""),
        measured=data.get("measured", ""), anchors=data.get("anchors", ""),
        master_seed=int(data["master_seed"]), n_seeds=dict(data["n_seeds"]),
        params=dict(data.get("params", {})), conditions=dict(data.get("conditions", {})),
        settings=dict(data.get("settings", {})), mechanism_off=dict(data.get("mechanism_off", {})))
