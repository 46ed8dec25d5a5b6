"""Interventions and shocks: data from scenario files, applied by the model at the start of a month.

A lever sets one or more of the partnership's live lever values (named exactly
as the parameters they override); with ``end_month`` the previous values come
back at that month. Shocks are events at one month. Costs are charged by the
model each month from its state (budget, champions, chairs, staff time) plus
the one-off costs recorded here (ground-rules and vision work).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from partnersim.errors import InputError, did_you_mean

if TYPE_CHECKING:
    from partnersim.model.partnership import PartnershipModel


class _Base(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    month: int = Field(ge=0, description="Month (0-based) at whose start it applies.")
    end_month: int | None = Field(None, ge=1, description="Month at which a lever is undone.")

    @model_validator(mode="after")
    def _end_after_start(self) -> _Base:
        if self.end_month is not None and self.end_month <= self.month:
            raise ValueError(f"end_month {self.end_month} must be after month {self.month}")
        return self

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        """The live lever values this intervention sets (empty for pure events)."""
        return {}

    def label(self) -> str:
        """A short label for charts and event lists."""
        return self.kind.replace("_", " ")  # type: ignore[attr-defined]

    def apply(self, model: PartnershipModel) -> None:
        """Act on the model at the start of ``month``."""
        model.set_levers(self.lever_values(model), undo_at=self.end_month)


class Leadership(_Base):
    """Set leadership strength, joint chairs or the chair's stability."""

    kind: Literal["leadership"]
    strength: float | None = Field(None, ge=0.0, le=1.0)
    joint_chair: bool | None = None
    p_chair_leaves: float | None = Field(None, ge=0.0, le=0.1)

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        values = {"leadership": self.strength, "joint_chair": self.joint_chair,
                  "p_chair_leaves": self.p_chair_leaves}
        return {k: v for k, v in values.items() if v is not None}


class Champions(_Base):
    """Appoint champions at senior and/or operational level, by number."""

    kind: Literal["champions"]
    senior: int = Field(0, ge=0, le=40)
    operational: int = Field(0, ge=0, le=80)

    def apply(self, model: PartnershipModel) -> None:
        model.appoint_champions(self.senior, self.operational)


class Resources(_Base):
    """Set the capacity-building budget, optionally earmarked."""

    kind: Literal["resources"]
    budget: float = Field(ge=0.0, le=1000.0, description="GBP k per month")
    earmark: Literal["none", "voluntary", "community"] = "none"

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {"capacity_budget": self.budget, "budget_earmark": self.earmark}

    def label(self) -> str:
        earmarked = "" if self.earmark == "none" else f" ({self.earmark})"
        return f"budget {self.budget:g}k/month{earmarked}"


class GroundRules(_Base):
    """Introduce a code of conduct of the given strength."""

    kind: Literal["ground_rules"]
    strength: float = Field(1.0, ge=0.0, le=1.0)

    def apply(self, model: PartnershipModel) -> None:
        gain = max(0.0, self.strength - model.levers["ground_rules"])
        model.charge_one_off(gain * model.p.ground_rules_cost)
        super().apply(model)

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {"ground_rules": self.strength}


class Communication(_Base):
    """Change the communication mode, volume, reach or relevance filtering."""

    kind: Literal["communication"]
    mode: Literal["broadcast", "two_way"] | None = None
    volume: float | None = Field(None, ge=0.0, le=30.0)
    widen: bool | None = None
    relevance_filter: float | None = Field(None, ge=0.0, le=1.0)

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        values = {"communication_mode": self.mode, "message_volume": self.volume,
                  "widen_communication": self.widen, "relevance_filter": self.relevance_filter}
        return {k: v for k, v in values.items() if v is not None}


class Vision(_Base):
    """Shared-definitions work: raise the clarity of the vision."""

    kind: Literal["vision"]
    clarity: float = Field(ge=0.0, le=1.0)

    def apply(self, model: PartnershipModel) -> None:
        gain = max(0.0, self.clarity - model.levers["vision_clarity"])
        model.charge_one_off(gain * model.p.vision_work_cost)
        super().apply(model)

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {"vision_clarity": self.clarity}


class RelationshipTime(_Base):
    """Set the policy share of time on relationships, fixed or as a schedule.

    A schedule is a list of ``[month, share]`` pairs in absolute months; each
    share holds from its month until the next.
    """

    kind: Literal["relationship_time"]
    share: float | None = Field(None, ge=0.0, le=0.6)
    schedule: list[tuple[int, Annotated[float, Field(ge=0.0, le=0.6)]]] | None = None

    @field_validator("schedule", mode="before")
    @classmethod
    def _pairs_as_tuples(cls, value: Any) -> Any:
        # TOML arrays arrive as lists; strict mode would reject them as tuples
        if isinstance(value, list):
            return [tuple(p) if isinstance(p, list) else p for p in value]
        return value

    @model_validator(mode="after")
    def _share_or_schedule(self) -> RelationshipTime:
        if (self.share is None) == (self.schedule is None):
            raise ValueError("give exactly one of 'share' or 'schedule'")
        if self.schedule is not None:
            months = [m for m, _ in self.schedule]
            if months != sorted(months) or len(set(months)) != len(months):
                raise ValueError("schedule months must be strictly increasing")
            if months[0] < self.month:
                raise ValueError("schedule must not start before 'month'")
        return self

    def last_month(self) -> int:
        return self.schedule[-1][0] if self.schedule else self.month

    def apply(self, model: PartnershipModel) -> None:
        if self.share is not None:
            super().apply(model)
            return
        for month, share in self.schedule or []:
            model.set_levers_at(month, {"relationship_time": share})

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {"relationship_time": self.share}


class DecisionRule(_Base):
    """Change how agenda items pass."""

    kind: Literal["decision_rule"]
    rule: Literal["majority", "supermajority", "consensus"]

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {"decision_rule": self.rule}


class LeaderLeaves(_Base):
    """Shock: a chair leaves (the longest-serving one when there are two)."""

    kind: Literal["leader_leaves"]

    def apply(self, model: PartnershipModel) -> None:
        model.remove_chair()


class ChampionLeaves(_Base):
    """Shock: champions leave the partnership (chosen at random among champions)."""

    kind: Literal["champion_leaves"]
    count: int = Field(1, ge=1, le=100)

    def apply(self, model: PartnershipModel) -> None:
        model.remove_champions(self.count)


class MemberLeaves(_Base):
    """Shock: ordinary members (not chairs or champions) leave, chosen at random."""

    kind: Literal["member_leaves"]
    count: int = Field(1, ge=1, le=100)

    def apply(self, model: PartnershipModel) -> None:
        model.remove_random_members(self.count)


class BudgetCut(_Base):
    """Shock: cut the capacity-building budget by a share."""

    kind: Literal["budget_cut"]
    share: float = Field(0.5, ge=0.0, le=1.0)

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {"capacity_budget": model.levers["capacity_budget"] * (1.0 - self.share)}

    def label(self) -> str:
        return f"budget cut {self.share:.0%}"


class PressureSurge(_Base):
    """Shock: service demand rises by ``extra`` (in units of what agencies deliver alone)."""

    kind: Literal["pressure_surge"]
    extra: float = Field(0.5, ge=0.0, le=2.0)

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {"service_pressure": model.levers["service_pressure"] + self.extra}


Intervention = Annotated[
    Leadership | Champions | Resources | GroundRules | Communication | Vision
    | RelationshipTime | DecisionRule | LeaderLeaves | ChampionLeaves | MemberLeaves
    | BudgetCut | PressureSurge,
    Field(discriminator="kind"),
]

INTERVENTION_KINDS: dict[str, type[_Base]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (Leadership, Champions, Resources, GroundRules, Communication, Vision,
                RelationshipTime, DecisionRule, LeaderLeaves, ChampionLeaves, MemberLeaves,
                BudgetCut, PressureSurge)
}

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Intervention)


def parse_interventions(
    items: list[dict[str, Any]], *, horizon_months: int, source: str | None = None
) -> tuple[Any, ...]:
    """Validate intervention tables from a scenario file.

    Raises:
        InputError: naming the source, the intervention's position and what was expected.
    """
    parsed = []
    for i, item in enumerate(items):
        where = f"interventions[{i}]"
        if not isinstance(item, dict):
            raise InputError("expected a table with 'kind' and 'month'", source=source, key=where)
        kind = item.get("kind")
        if kind not in INTERVENTION_KINDS:
            hint = did_you_mean(str(kind), INTERVENTION_KINDS)
            raise InputError(
                f"unknown intervention kind {kind!r}{hint}; expected one of "
                f"{', '.join(INTERVENTION_KINDS)}", source=source, key=f"{where}.kind")
        allowed = INTERVENTION_KINDS[kind].model_fields
        for key in item:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                raise InputError(f"unknown key for a {kind} intervention{hint}",
                                 source=source, key=f"{where}.{key}")
        try:
            iv = _ADAPTER.validate_python(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"][1:]) or "value"
            raise InputError(f"{err['msg']} (got {err.get('input')!r})", source=source,
                             key=f"{where}.{loc}") from None
        last = max(iv.month, iv.end_month or 0,
                   iv.last_month() if isinstance(iv, RelationshipTime) else 0)
        if last >= horizon_months + (1 if iv.end_month is not None else 0):
            raise InputError(
                f"month {last} is past the horizon ({horizon_months} months, last month "
                f"{horizon_months - 1})", source=source, key=f"{where}.month")
        parsed.append(iv)
    return tuple(parsed)
