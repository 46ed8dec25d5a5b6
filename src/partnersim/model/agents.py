"""Mesa agents for agencies and staff: thin views onto rows of the model's arrays."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import mesa

from partnersim.params import LEVELS, SECTORS

if TYPE_CHECKING:
    from partnersim.model.partnership import PartnershipModel


class Sector(Enum):
    NHS_ACUTE = "nhs_acute"
    NHS_PRIMARY = "nhs_primary"
    SOCIAL_WORK = "social_work"
    VOLUNTARY = "voluntary"
    COMMUNITY = "community"


class Level(Enum):
    SENIOR = "senior"
    OPERATIONAL = "operational"


class Motive(Enum):
    """Why a member takes part (seed: career, position or influencing services)."""

    SERVICE = "service"
    CAREER = "career"
    POSITION = "position"


MOTIVES: tuple[Motive, ...] = (Motive.SERVICE, Motive.CAREER, Motive.POSITION)


class Agency(mesa.Agent):
    """A partner agency; its state is row ``index`` of ``model.agencies``."""

    model: PartnershipModel

    def __init__(self, model: PartnershipModel, index: int):
        super().__init__(model)
        self.index = index

    @property
    def sector(self) -> Sector:
        return Sector(SECTORS[self.model.agencies.sector[self.index]])

    @property
    def power(self) -> float:
        return float(self.model.agencies.power[self.index])

    @property
    def resources(self) -> float:
        return float(self.model.agencies.resources[self.index])

    @property
    def planning_horizon_months(self) -> float:
        return float(self.model.agencies.horizon[self.index])

    @property
    def pressure(self) -> float:
        return float(self.model.agencies.pressure[self.index] * self.model.levers["service_pressure"])

    @property
    def familiarity(self) -> dict[Sector, float]:
        """Prior familiarity with each other agency, by sector."""
        fam = self.model.agencies.familiarity[self.index]
        return {Sector(SECTORS[self.model.agencies.sector[k]]): float(fam[k])
                for k in range(len(fam)) if k != self.index}

    @property
    def staff(self) -> list[StaffMember]:
        return [a for a in self.model.staff_agents if a.agency is self]


class StaffMember(mesa.Agent):
    """A member of staff; their state is row ``row`` of ``model.staff``.

    When a member leaves, a newcomer takes over the same row, so rows (and the
    number of staff) are conserved; the next look at the model's agents removes
    the leaver's agent and gives the newcomer a new one.
    """

    model: PartnershipModel

    def __init__(self, model: PartnershipModel, row: int):
        super().__init__(model)
        self.row = row

    def _get(self, name: str):
        return getattr(self.model.staff, name)[self.row]

    @property
    def agency(self) -> Agency:
        return self.model.agency_agents[int(self._get("agency"))]

    @property
    def level(self) -> Level:
        return Level(LEVELS[int(self._get("level"))])

    @property
    def motive(self) -> Motive:
        return MOTIVES[int(self._get("motive"))]

    @property
    def champion(self) -> bool:
        return bool(self._get("champion"))

    @property
    def chair(self) -> bool:
        return self.row in self.model.chairs

    ability = property(lambda self: float(self._get("ability")))
    honesty = property(lambda self: float(self._get("honesty")))
    trust_propensity = property(lambda self: float(self._get("propensity")))
    commitment = property(lambda self: float(self._get("commitment")))
    information = property(lambda self: float(self._get("info")))
    position = property(lambda self: float(self._get("position")))
    capacity = property(lambda self: float(self._get("capacity")))
    tenure_months = property(lambda self: int(self._get("tenure")))
    relationship_time = property(lambda self: float(self._get("phi")))
    engaged = property(lambda self: bool(self._get("engaged")))

    def trust_in(self, other: StaffMember) -> float | None:
        """This member's trust in ``other``, or None if they have not met."""
        ties = self.model.ties
        row = ties.find([self.row], [other.row])[0]
        return None if row < 0 else float(ties.trust[row])
