"""The model's state: structural constants of the default partnership, the agencies' and
members' arrays, and what happened in a month (passed between the stages and to the measures).

Stages and measures read these; ``partnership.PartnershipModel`` owns one of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from partnersim.params import PARAMETERS

# Structural constants of the default CHP-like partnership (documented in docs/ODD.md).
SECTOR_SHARE = np.array([0.30, 0.25, 0.25, 0.12, 0.08])
"""Share of staff in each sector's agency (NHS acute, primary, social work, voluntary, community)."""
SECTOR_POWER_STATUTORY = np.array([1.0, 0.9, 0.9])
"""Decision power of the statutory agencies; voluntary and community hold 1 - power_gap."""
SECTOR_HORIZON = np.array([12.0, 24.0, 36.0, 12.0, 60.0])
"""Planning horizon (months) each sector works to (seed: different timescales)."""
SECTOR_PRESSURE = np.array([1.15, 1.0, 1.1, 0.85, 0.8])
"""Relative service-demand pressure on each sector."""
SECTOR_TURNOVER = np.array([1.0, 0.8, 1.4, 1.6, 1.2])
"""Relative turnover hazard of each sector."""
SECTOR_CULTURE = np.array([0.15, 0.35, 0.6, 0.8, 0.9])
"""Each sector's typical position on the shared problem definition (0-1)."""
VISION_POSITION = 0.5
"""The problem definition the stated vision points to."""
NHS_SAME_BOARD_FAMILIARITY = 0.25
"""Extra prior familiarity between the two NHS agencies (same health board)."""
WITHIN_AGENCY_FAMILIARITY = 0.7
"""Prior familiarity of colleagues in the same agency."""
MOTIVE_SHARE = np.array([0.5, 0.3, 0.2])
"""Share of members whose motive is service, career or position (seed: SCAN members)."""
MOTIVE_HONESTY = np.array([0.95, 0.75, 0.55])
"""Mean honesty about motives for each motive."""
CAREER = 1
"""The career motive's index (in ``MOTIVE_SHARE``, ``MOTIVE_HONESTY`` and ``Staff.motive``)."""

LEVERS: tuple[str, ...] = (
    "leadership", "joint_chair", "p_chair_leaves", "capacity_budget", "budget_earmark",
    "ground_rules", "communication_mode", "message_volume", "widen_communication",
    "relevance_filter", "vision_clarity", "relationship_time", "decision_rule",
    "service_pressure",
)
"""Parameters that interventions may change during a run; stages read them from ``model.levers``."""


@dataclass
class AgencyState:
    sector: np.ndarray
    power: np.ndarray
    resources: np.ndarray
    horizon: np.ndarray
    pressure: np.ndarray
    familiarity: np.ndarray  # agencies x agencies


@dataclass
class StaffState:
    """Per-member arrays; row i is member i (a newcomer takes over a leaver's row)."""

    agency: np.ndarray
    sector: np.ndarray  # the agency's sector (fixed: a newcomer joins the leaver's agency)
    level: np.ndarray
    motive: np.ndarray
    champion: np.ndarray
    ability: np.ndarray
    honesty: np.ndarray
    propensity: np.ndarray
    commitment: np.ndarray
    info: np.ndarray
    position: np.ndarray
    capacity: np.ndarray
    tenure: np.ndarray
    phi: np.ndarray
    engaged: np.ndarray
    attended: np.ndarray
    attendance: np.ndarray  # moving average of attendance: core vs periphery
    founder: np.ndarray  # present from the start (not a newcomer who took over a row)


@dataclass
class MonthEvents:
    """What happened this month, passed between the stages and to the measures."""

    pairs_i: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    pairs_j: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # tie rows of i -> j and j -> i for each meeting pair; valid until turnover (stage 9)
    # because no stage in between adds or drops ties
    rows_ij: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    rows_ji: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    tasks: int = 0
    wins: int = 0
    breaches: int = 0
    decisions: int = 0
    decision_delay: float = float("nan")
    decision_equity: float = float("nan")
    acceptability: float = float("nan")
    output: float = 0.0
    output_alone: float = 0.0
    synergy: float = 0.0
    synergy_index: float = 0.0
    understanding: float = 0.0  # shared understanding after deliberation
    understanding_now: float = 0.0  # ...and at the end of the month (after turnover)
    coordination_loss: float = 0.0
    tie_trust: Any = None  # stages.TieTrust: trust over the ties after turnover, from deliver
    # each member's mean trust in their contacts and their degree, after the trust update
    mean_trust: np.ndarray = field(default_factory=lambda: np.empty(0))
    degree: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # the joint tasks' trust signals: tie rows, signal in [-1, 1], weight
    task_signals: tuple = field(default_factory=lambda: (
        np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)))


AGENCY_CHOICES: dict[str, tuple[str | None, float, float]] = {
    "relationship_time": ("relationship_time", float(PARAMETERS["relationship_time"].lower or 0.0),
                          float(PARAMETERS["relationship_time"].upper or 1.0)),
    "meeting_attendance": (None, 0.0, 1.0),
    "widen_communication": ("widen_communication", 0.0, 1.0),
    "task_backing": (None, 0.0, 1.0),
}
"""What one agency may decide for itself (docs/ODD.md, 2.5): name -> (the partnership-wide
lever it overrides, or None for a choice that is 1 everywhere unless an agency sets it;
lowest and highest value). ``relationship_time``: the agency's share of time for
relationships (the lever's bounds); ``meeting_attendance``: how many of those who would
come to the joint meeting the agency sends (1 all, 0 none); ``widen_communication``: 1 when
the agency passes the partnership's news on to all its staff, 0 when only those who attended
hear it; ``task_backing``: 1 when the agency backs joint tasks its members take on with
another agency, 0 when it does not (a pair starts a task only if both agencies back it)."""


class AgencyChoices:
    """Per-agency overrides of the partnership-wide levers: each agency's choice of each
    ``AGENCY_CHOICES`` item, NaN where the agency has made none (it follows the partnership).

    A model with no choice made runs exactly as before: the stages read the per-agency
    values, which are then the lever's own value (or 1) for every agency.
    """

    def __init__(self, n_agencies: int) -> None:
        self.chosen = {name: np.full(n_agencies, np.nan) for name in AGENCY_CHOICES}
        # the last values() of each choice and the lever value it was built from: the
        # stages ask four times a month, and the answer changes only with a choice or lever
        self._values: dict[str, tuple[float, np.ndarray]] = {}

    def set(self, agency: int, name: str, value: float | bool | None) -> None:
        """Set one agency's choice (None: follow the partnership-wide value again).

        Raises:
            ValueError: for an unknown choice or agency, or a value outside its bounds.
        """
        if name not in AGENCY_CHOICES:
            raise ValueError(f"unknown agency choice {name!r}; expected one of "
                             f"{', '.join(AGENCY_CHOICES)}")
        row = self.chosen[name]
        self._values.pop(name, None)
        if not 0 <= agency < len(row):
            raise ValueError(f"agency {agency} does not exist (0 to {len(row) - 1})")
        if value is None:
            row[agency] = np.nan
            return
        _, low, high = AGENCY_CHOICES[name]
        number = float(value)
        if not low <= number <= high:
            raise ValueError(f"{name} must be between {low} and {high}, not {number}")
        row[agency] = number

    def values(self, name: str, levers: dict[str, Any]) -> np.ndarray:
        """Each agency's value of ``name`` in effect: its own choice, else the lever's value
        (or 1 for a choice with no partnership-wide lever). Shared until the choice or
        lever changes: do not modify it."""
        lever = AGENCY_CHOICES[name][0]
        default = float(levers[lever]) if lever is not None else 1.0
        cached = self._values.get(name)
        if cached is not None and cached[0] == default:
            return cached[1]
        row = self.chosen[name]
        values = np.where(np.isnan(row), default, row)
        self._values[name] = (default, values)
        return values

    def made(self) -> dict[str, dict[int, float]]:
        """The choices made so far: name -> {agency: value}."""
        return {name: {int(a): float(row[a]) for a in np.flatnonzero(~np.isnan(row))}
                for name, row in self.chosen.items()}
