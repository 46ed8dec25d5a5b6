"""Interventions and shocks: data from scenario files, applied by the model at the start of a month.

A lever sets one or more of the partnership's live lever values. Its keys are the
names of the parameters it sets, with the parameters' declared bounds (read from
``partnersim.params.PARAMETERS``): ``{kind = "ground_rules", month = 0, ground_rules =
1.0}``; with ``end_month`` the previous values come back at that month. Shocks are
events at one month; their keys (``count``, ``share``, ``extra``) are not parameters.
Costs are charged by the model each month from its state (budget, champions, chairs,
staff time) plus the one-off costs recorded here (ground-rules and vision work).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from partnersim.errors import InputError, unknown
from partnersim.outputs import MONTHLY
from partnersim.params import PARAMETERS, Params, make_params

if TYPE_CHECKING:
    from partnersim.model.partnership import PartnershipModel

RENAMED_KINDS: dict[str, str] = {"leader_leaves": "chair_leaves"}
"""Intervention kinds renamed since files were first written: old -> new."""

RENAMED_KEYS: dict[str, dict[str, str]] = {
    "leadership": {"strength": "leadership"},
    "champions": {"senior": "n_champions_senior", "operational": "n_champions_operational"},
    "resources": {"budget": "capacity_budget", "earmark": "budget_earmark"},
    "ground_rules": {"strength": "ground_rules"},
    "communication": {"mode": "communication_mode", "volume": "message_volume",
                      "widen": "widen_communication"},
    "vision": {"clarity": "vision_clarity"},
    "relationship_time": {"share": "relationship_time"},
    "decision_rule": {"rule": "decision_rule"},
}
"""Intervention keys renamed to the parameters they set: kind -> {old key: new key}."""


def _bounds(name: str) -> Any:
    """The declared bounds of parameter ``name`` as a field constraint."""
    spec = PARAMETERS[name]
    return Field(ge=spec.lower, le=spec.upper)


def _lever(name: str, default: Any = None) -> Any:
    """A field that sets parameter ``name``, with its declared bounds and meaning."""
    spec = PARAMETERS[name]
    return Field(default, ge=spec.lower, le=spec.upper,
                 description=f"{spec.description} ({spec.unit})")


# the choice parameters' own types, so an intervention offers exactly their choices
_Earmark = Params.model_fields["budget_earmark"].annotation
_Mode = Params.model_fields["communication_mode"].annotation
_Rule = Params.model_fields["decision_rule"].annotation


class _Base(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    UNDOABLE: ClassVar[bool] = True
    """Whether ``end_month`` means something: false for a kind that acts once (an
    appointment, a departure), which refuses it rather than ignore it."""

    month: int = Field(ge=0, description="Month (0-based) at whose start it applies.")
    end_month: int | None = Field(None, ge=1, description="Month at which a lever is undone.")

    @model_validator(mode="after")
    def _end_after_start(self) -> _Base:
        if self.end_month is not None and not self.UNDOABLE:
            raise ValueError(f"end_month: a {self.kind} intervention acts once and cannot be "  # type: ignore[attr-defined]
                             "undone")
        if self.end_month is not None and self.end_month <= self.month:
            raise ValueError(f"end_month {self.end_month} must be after month {self.month}")
        return self

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        """The live lever values this intervention sets: its keys that are parameters, when
        given (empty for pure events)."""
        values = {k: getattr(self, k) for k in type(self).model_fields if k in PARAMETERS}
        return {k: v for k, v in values.items() if v is not None}

    def label(self) -> str:
        """A short label for charts and event lists."""
        return self.kind.replace("_", " ")  # type: ignore[attr-defined]

    def as_table(self) -> dict[str, Any]:
        """The intervention as a scenario file's table: ``kind`` and ``month`` first, keys left
        unset omitted (what manifests, specs tables and written scenario files record)."""
        values = self.model_dump(exclude_none=True)
        return {"kind": values.pop("kind"), "month": values.pop("month"), **values}

    def apply(self, model: PartnershipModel) -> None:
        """Act on the model at the start of ``month``."""
        model.set_levers(self.lever_values(model), undo_at=self.end_month)


class Leadership(_Base):
    """Set leadership strength, joint chairs or the chair's stability."""

    kind: Literal["leadership"]
    leadership: float | None = _lever("leadership")
    joint_chair: bool | None = _lever("joint_chair")
    p_chair_leaves: float | None = _lever("p_chair_leaves")


class Champions(_Base):
    """Appoint champions at senior and/or operational level, by number."""

    UNDOABLE = False
    kind: Literal["champions"]
    n_champions_senior: int = _lever("n_champions_senior", 0)
    n_champions_operational: int = _lever("n_champions_operational", 0)

    def apply(self, model: PartnershipModel) -> None:
        model.appoint_champions(self.n_champions_senior, self.n_champions_operational)


class Resources(_Base):
    """Set the capacity-building budget, optionally earmarked."""

    kind: Literal["resources"]
    capacity_budget: float = _lever("capacity_budget", ...)
    budget_earmark: _Earmark = _lever("budget_earmark", "none")  # type: ignore[valid-type]

    def label(self) -> str:
        earmarked = "" if self.budget_earmark == "none" else f" ({self.budget_earmark})"
        return f"budget {self.capacity_budget:g}k/month{earmarked}"


class GroundRules(_Base):
    """Introduce a code of conduct of the given strength."""

    kind: Literal["ground_rules"]
    ground_rules: float = _lever("ground_rules", 1.0)

    def apply(self, model: PartnershipModel) -> None:
        gain = max(0.0, self.ground_rules - model.levers["ground_rules"])
        model.charge_one_off(gain * model.p.ground_rules_cost)
        super().apply(model)


class Communication(_Base):
    """Change the communication mode, volume, reach or relevance filtering."""

    kind: Literal["communication"]
    communication_mode: _Mode | None = _lever("communication_mode")  # type: ignore[valid-type]
    message_volume: float | None = _lever("message_volume")
    widen_communication: bool | None = _lever("widen_communication")
    relevance_filter: float | None = _lever("relevance_filter")


class Vision(_Base):
    """Shared-definitions work: raise the clarity of the vision."""

    kind: Literal["vision"]
    vision_clarity: float = _lever("vision_clarity", ...)

    def apply(self, model: PartnershipModel) -> None:
        gain = max(0.0, self.vision_clarity - model.levers["vision_clarity"])
        model.charge_one_off(gain * model.p.vision_work_cost)
        super().apply(model)


class RelationshipTime(_Base):
    """Set the policy share of time on relationships, fixed or as a schedule.

    A schedule is a list of ``[month, share]`` pairs in absolute months; each
    share holds from its month until the next.
    """

    kind: Literal["relationship_time"]
    relationship_time: float | None = _lever("relationship_time")
    schedule: list[tuple[int, Annotated[float, _bounds("relationship_time")]]] | None = None

    @field_validator("schedule", mode="before")
    @classmethod
    def _pairs_as_tuples(cls, value: Any) -> Any:
        # TOML arrays arrive as lists; strict mode would reject them as tuples
        if isinstance(value, list):
            return [tuple(p) if isinstance(p, list) else p for p in value]
        return value

    @model_validator(mode="after")
    def _share_or_schedule(self) -> RelationshipTime:
        if (self.relationship_time is None) == (self.schedule is None):
            raise ValueError("give exactly one of 'relationship_time' or 'schedule'")
        if self.schedule is not None:
            months = [m for m, _ in self.schedule]
            if months != sorted(months) or len(set(months)) != len(months):
                raise ValueError("schedule months must be strictly increasing")
            if months[0] < self.month:
                raise ValueError("schedule must not start before 'month'")
            if self.end_month is not None:
                raise ValueError("end_month: a schedule sets each share in turn; end it with "
                                 "a last (month, share) pair")
        return self

    def last_month(self) -> int:
        return self.schedule[-1][0] if self.schedule else self.month

    def apply(self, model: PartnershipModel) -> None:
        if self.relationship_time is not None:
            super().apply(model)
            return
        for month, share in self.schedule or []:
            model.set_levers_at(month, {"relationship_time": share})


class DecisionRule(_Base):
    """Change how agenda items pass."""

    kind: Literal["decision_rule"]
    decision_rule: _Rule = _lever("decision_rule", ...)  # type: ignore[valid-type]


class ChairLeaves(_Base):
    """Shock: a chair leaves (the longest-serving one when there are two)."""

    UNDOABLE = False
    kind: Literal["chair_leaves"]

    def apply(self, model: PartnershipModel) -> None:
        model.remove_chair()


class ChampionLeaves(_Base):
    """Shock: champions leave the partnership (chosen at random among champions)."""

    UNDOABLE = False
    kind: Literal["champion_leaves"]
    count: int = Field(1, ge=1, le=100)

    def apply(self, model: PartnershipModel) -> None:
        model.remove_champions(self.count)


class MemberLeaves(_Base):
    """Shock: ordinary members (not chairs or champions) leave, chosen at random."""

    UNDOABLE = False
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


SIGNPOSTS: tuple[str, ...] = (*MONTHLY, "output_vs_alone")
"""What an adaptive rule may watch: any monthly measure (``outputs.MONTHLY``) of the month
before, or ``output_vs_alone``, that month's ``output / output_alone`` (below 1: the
partners delivered less together than they would have alone)."""


class RelationshipTimeRule(_Base):
    """An adaptive rule: from ``month`` on, at the start of each month, look at a signpost of
    the month before and set the relationship-time share when a trigger holds.

    The trigger is ``measure < below`` or ``measure > above`` (exactly one); while it holds
    the share is ``relationship_time``, otherwise ``otherwise`` (or left as it is when ``otherwise`` is
    not given). Several rules act in the order given, so a later rule overrides an earlier
    one in the same month. The rule reads only the model's own monthly table: it draws
    nothing at random, so runs that differ only in their rules keep common random numbers.
    It acts from ``month`` (at least 1: month 0 has no month before) until ``end_month``
    (exclusive, if given), after which the share stays as the rule left it.
    """

    kind: Literal["relationship_time_rule"]
    measure: str = Field(description="The signpost: a monthly measure or output_vs_alone.")
    below: float | None = None
    above: float | None = None
    relationship_time: float = _lever("relationship_time", ...)
    otherwise: float | None = _lever("relationship_time")

    @model_validator(mode="after")
    def _one_trigger(self) -> RelationshipTimeRule:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one trigger: 'below' or 'above'")
        if self.month < 1:
            raise ValueError("a rule reads the month before: 'month' must be at least 1")
        return self

    def lever_values(self, model: PartnershipModel) -> dict[str, Any]:
        return {}

    def label(self) -> str:
        return f"rule on {self.measure.replace('_', ' ')}"

    def triggered(self, value: float) -> bool:
        """The trigger holds for a signpost value (never for a missing, NaN, value)."""
        return bool(value < self.below) if self.below is not None else bool(value > self.above)

    def apply(self, model: PartnershipModel) -> None:
        model.watch(self)

    def adapt(self, model: PartnershipModel) -> None:
        """Act at the start of the current month (the model calls it every month once the
        rule is applied)."""
        if self.end_month is not None and model.month >= self.end_month:
            return
        value = model.measured(self.measure, model.month - 1)
        share = self.relationship_time if self.triggered(value) else self.otherwise
        if share is not None and share != model.levers["relationship_time"]:
            model.set_levers({"relationship_time": share})
            model.events.append((model.month, f"relationship time {share:.0%} "
                                              f"({self.measure} {value:.3g})"))


_CLASSES: tuple[type[_Base], ...] = (
    Leadership, Champions, Resources, GroundRules, Communication, Vision, RelationshipTime,
    RelationshipTimeRule, DecisionRule, ChairLeaves, ChampionLeaves, MemberLeaves, BudgetCut, PressureSurge)

INTERVENTION_KINDS: dict[str, type[_Base]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in _CLASSES
}
"""Every intervention by its ``kind``, in the order the docs list them."""

Intervention = Annotated[Union[_CLASSES], Field(discriminator="kind")]  # noqa: UP007
"""Any one intervention, told apart by its ``kind``."""

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
        if "kind" not in item:
            raise InputError(f"missing; expected one of {', '.join(INTERVENTION_KINDS)}",
                             source=source, key=f"{where}.kind")
        kind = item["kind"]
        if kind in RENAMED_KINDS:
            raise InputError(f"kind {kind!r} renamed to {RENAMED_KINDS[kind]!r}",
                             source=source, key=f"{where}.kind")
        if kind not in INTERVENTION_KINDS:
            raise unknown("intervention kind", str(kind), INTERVENTION_KINDS, source=source,
                          key=f"{where}.kind", show_name=True, list_choices=True)
        allowed = INTERVENTION_KINDS[kind].model_fields
        if kind == "relationship_time_rule" and isinstance(item.get("measure"), str) and (
                item["measure"] not in SIGNPOSTS):
            raise unknown("measure", item["measure"], SIGNPOSTS, source=source,
                          key=f"{where}.measure", show_name=True)
        for key in item:
            if key in RENAMED_KEYS.get(kind, {}):
                raise InputError(f"renamed to {RENAMED_KEYS[kind][key]!r}", source=source,
                                 key=f"{where}.{key}")
            if key not in allowed:
                raise unknown(f"key for a {kind} intervention", key, allowed, source=source,
                              key=f"{where}.{key}")
        try:
            iv = _ADAPTER.validate_python(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = err["loc"][1:]  # after the kind
            key = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
            if len(loc) == 1 and loc[0] in PARAMETERS and loc[0] in item:
                try:  # a parameter's key: the parameter's own message, bounds and unit
                    make_params({loc[0]: item[loc[0]]})
                except InputError as bad:
                    raise bad.rekeyed(source=source, key=key) from None
            if not loc:  # a rule across keys (schedule order, end after start)
                raise InputError(err["msg"].removeprefix("Value error, "), source=source,
                                 key=where) from None
            if err["type"] == "missing":
                raise InputError(f"missing: a {kind} intervention needs it", source=source,
                                 key=key) from None
            raise InputError(f"{err['msg']} (got {err.get('input')!r})", source=source,
                             key=key) from None
        # each month the intervention names, under the key that names it: an end month
        # may be the horizon itself (undone as the run ends)
        months = [("month", iv.month, horizon_months)]
        if iv.end_month is not None:
            months.append(("end_month", iv.end_month, horizon_months + 1))
        if isinstance(iv, RelationshipTime) and iv.schedule:
            months.append(("schedule", iv.last_month(), horizon_months))
        for key, month, limit in months:
            if month >= limit:
                raise InputError(
                    f"month {month} is past the horizon ({horizon_months} months, last month "
                    f"{horizon_months - 1})", source=source, key=f"{where}.{key}")
        parsed.append(iv)
    return tuple(parsed)
