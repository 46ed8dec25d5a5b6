"""``PartnershipModel``: construction from parameters, the monthly stage order, data collection."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd

from partnersim.model import measures, stages
from partnersim.model.agents import Agency, StaffMember
from partnersim.model.interventions import parse_interventions
from partnersim.model.network import Ties
from partnersim.model.numerics import compiled, open_stream, stream_handle
from partnersim.model.state import (
    LEVERS,
    MOTIVE_HONESTY,
    MOTIVE_SHARE,
    NHS_SAME_BOARD_FAMILIARITY,
    SECTOR_CULTURE,
    SECTOR_HORIZON,
    SECTOR_POWER_STATUTORY,
    SECTOR_PRESSURE,
    SECTOR_SHARE,
    WITHIN_AGENCY_FAMILIARITY,
    AgencyChoices,
    AgencyState,
    MonthEvents,
    StaffState,
)
from partnersim.outputs import MONTHLY
from partnersim.params import PARAMETERS, SECTORS, Params, make_params
from partnersim.seeding import MAX_SEED, named_streams


class PartnershipModel(mesa.Model):
    """A partnership of agencies and their staff, stepped month by month.

    Construct with keyword parameters named as in ``partnersim.params`` (any
    not given take their declared defaults; validated here), or with ``params``, a
    ``Params`` validated already (a scenario's, a run spec's); ``interventions`` (parsed
    intervention objects, used as they are, or dicts as in a scenario file) and ``rng``
    (the run's seed). ``step()`` runs the eleven monthly stages in their documented order.
    """

    def __init__(self, *, rng: int | None = None, interventions: Any = (),
                 params: Params | None = None, **overrides: Any) -> None:
        if params is not None and overrides:
            raise TypeError("give either params (a validated Params) or keyword overrides")
        seed = int(rng) if rng is not None else int(np.random.SeedSequence().entropy % (MAX_SEED + 1))
        super().__init__(rng=seed)
        self.seed = seed
        self.p: Params = params if params is not None else make_params(overrides)
        self.n = self.p.n_staff
        self.horizon = self.p.horizon_months
        self.streams = named_streams(seed)
        self.month = 0
        self.levers: dict[str, Any] = {k: getattr(self.p, k) for k in LEVERS}
        self._lever_changes: dict[int, list[dict[str, Any]]] = {}
        # what each agency decides for itself (the workshop's participants); none at first
        self.agency_choices = AgencyChoices(len(SECTORS))
        self.one_off_cost = 0.0
        self.events: list[tuple[int, str]] = []

        self._build_agencies()
        self._build_staff()
        self.ties = Ties(self.n)
        self.capacity_stocks = np.array([0.2, 0.2, 0.0, 0.2, 0.2, 0.2])  # no integrated services yet
        self.chairs: list[int] = []
        self._chair_flags: tuple[list[int], np.ndarray] = ([-1], np.zeros(self.n, dtype=bool))
        self.chair_presence = 1.0
        self._appoint_initial_roles()
        self.small_wins_total = 0
        self.months_since_win = 0
        # the partnership's visible record of small wins (share of joint tasks succeeding) and
        # members' confidence that it delivers; a new partnership has no record: undecided
        self.record = self.p.confidence_threshold
        self.confidence = 0.5
        self.first_task_success: bool | None = None
        self.force_first_task: bool | None = None  # validation hook (SF3): force the first outcome
        self.force_outcomes_until = 0  # ...and every joint-task outcome before this month
        self.agenda = np.empty((0, 3))  # pending items: position, age (months), new (1/0)
        self.unmet_demand = np.zeros(len(SECTORS))
        # what relationships have built, in place for the next month's delivery (``deliver``):
        # each member's integrated share of work, and synergy net of coordination losses
        self.integration = np.zeros(self.n)
        self.net_synergy = 0.0
        self.integration_gain = np.zeros(self.horizon)  # output / output alone - 1, by month
        self.health_noise = self.streams["health"].normal(0.0, self.p.health_noise, self.horizon)
        self.health_kernel = stages.health_kernel(self.p.health_lag_months, self.horizon)
        self.last_acceptability = 1.0

        self.interventions = tuple(
            parse_interventions([iv], horizon_months=self.horizon)[0] if isinstance(iv, dict)
            else iv for iv in interventions)
        self._scheduled: dict[int, list[Any]] = {}
        self._rules: list[Any] = []  # adaptive rules in force, called at the start of each month
        for iv in self.interventions:
            self._scheduled.setdefault(iv.month, []).append(iv)

        self._table = np.full((self.horizon, len(MONTHLY)), np.nan)
        self.datacollector = MonthlyCollector(model_reporters={
            name: partial(_current, k) for k, name in enumerate(MONTHLY)})
        # Mesa's DataCollector mirrors the model's own monthly table for Mesa tools
        # (batch_run, SolaraViz); code that reads measures_frame() may switch it off.
        self.collect_mesa = True
        self.running = True

    # --- construction ---------------------------------------------------------------

    def _build_agencies(self) -> None:
        p = self.p
        k = len(SECTORS)
        power = np.concatenate([SECTOR_POWER_STATUTORY, np.full(2, 1.0 - p.power_gap)])
        fam = np.full((k, k), p.prior_familiarity)
        fam[0, 1] = fam[1, 0] = min(1.0, p.prior_familiarity + NHS_SAME_BOARD_FAMILIARITY)
        np.fill_diagonal(fam, WITHIN_AGENCY_FAMILIARITY)
        self.agencies = AgencyState(
            sector=np.arange(k), power=power, resources=np.full(k, p.resources),
            horizon=SECTOR_HORIZON.copy(), pressure=SECTOR_PRESSURE.copy(), familiarity=fam)
        self.agency_agents = [Agency(self, a) for a in range(k)]

    def _build_staff(self) -> None:
        n = self.n
        counts = np.floor(SECTOR_SHARE * n).astype(int)
        counts[0] += n - counts.sum()
        agency = np.repeat(np.arange(len(SECTORS)), counts)
        rng = self.streams["population"]
        self.staff = StaffState(
            agency=agency,
            sector=self.agencies.sector[agency],
            level=np.ones(n, dtype=np.int64),
            motive=np.zeros(n, dtype=np.int64),
            champion=np.zeros(n, dtype=bool),
            ability=np.zeros(n), honesty=np.zeros(n), propensity=np.zeros(n),
            commitment=np.zeros(n), info=np.zeros(n), position=np.zeros(n),
            capacity=np.zeros(n), tenure=np.zeros(n, dtype=np.int64), phi=np.zeros(n),
            engaged=np.ones(n, dtype=bool), attended=np.zeros(n, dtype=bool),
            attendance=np.zeros(n), founder=np.ones(n, dtype=bool))
        # senior staff: the first senior_share of each agency
        for a in range(len(SECTORS)):
            rows = np.flatnonzero(agency == a)
            n_senior = max(1, int(round(self.p.senior_share * len(rows))))
            self.staff.level[rows[:n_senior]] = 0
        all_rows = np.arange(n)
        self._draw_members(all_rows, rng, newcomer=False)
        self.staff.tenure[:] = rng.integers(0, 120, n)
        # one Mesa agent per member, made when first looked at (``_sync_staff_agents``)
        self._staff_agents: list[StaffMember | None] = [None] * n
        self._new_members = np.ones(n, dtype=bool)  # rows whose member has no agent yet

    def _draw_members(self, rows: np.ndarray, rng: np.random.Generator, *, newcomer: bool) -> None:
        """Draw the personal attributes of (new) members in ``rows``."""
        s = self.staff
        newcomer_capacity = -1.0
        if newcomer:
            # (the mean of the operational and practice stocks, as numpy computes it)
            inherited = self.p.structure_transfer * (self.capacity_stocks[2] + self.capacity_stocks[3]) / 2.0
            newcomer_capacity = self.p.newcomer_capacity + inherited * (1.0 - self.p.newcomer_capacity)
        _draw(stream_handle(rng), rows, s.sector[rows], newcomer_capacity, s.motive,
              s.honesty, s.ability, s.propensity, s.commitment, s.info, s.position, s.capacity,
              s.champion, s.tenure, s.engaged, s.attendance, s.attended, s.phi)

    def _appoint_initial_roles(self) -> None:
        self._set_chairs(2 if self.p.joint_chair else 1)
        self.appoint_champions(self.p.n_champions_senior, self.p.n_champions_operational,
                               record=False)

    # --- roles and shocks (called by interventions and stages) -------------------------

    @property
    def staff_agents(self) -> list[StaffMember]:
        """The members' Mesa agents, row by row."""
        self._sync_staff_agents()
        return self._staff_agents

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's set of every agent (staff agents brought up to date first)."""
        self._sync_staff_agents()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.agent.AgentSet]:
        """Mesa's agents by type (staff agents brought up to date first)."""
        self._sync_staff_agents()
        return super().agents_by_type

    def _sync_staff_agents(self) -> None:
        """Give every member who joined since the last look a new Mesa agent, removing the
        agent of the member who left their row. Agents are made when looked at (through
        ``agents``, ``agents_by_type`` or ``staff_agents``), not at each departure: a
        run that never looks at them (the runner's) skips Mesa's per-agent bookkeeping,
        about 5% of a run."""
        if self._new_members.any():
            for r in np.flatnonzero(self._new_members):
                if self._staff_agents[r] is not None:
                    self._staff_agents[r].remove()
                self._staff_agents[r] = StaffMember(self, int(r))
            self._new_members[:] = False

    def chair_flags(self) -> np.ndarray:
        """Boolean mask of the members who chair the partnership (do not modify it: it is
        kept until the chairs change)."""
        if self._chair_flags[0] != self.chairs:
            flags = np.zeros(self.n, dtype=bool)
            flags[self.chairs] = True
            self._chair_flags = (list(self.chairs), flags)
        return self._chair_flags[1]

    def _senior_candidate(self, agency: int) -> int:
        s = self.staff
        rows = np.flatnonzero((s.agency == agency) & (s.level == 0))
        rows = rows[~self.chair_flags()[rows]]
        if len(rows) == 0:
            rows = np.flatnonzero(s.agency == agency)
        return int(rows[np.argmax(s.tenure[rows])])

    def _set_chairs(self, count: int) -> None:
        """Keep ``count`` chairs in post: NHS acute first, then council social work (a
        chair replaced while two are in post goes back in its place, so going down to one
        chair always keeps NHS acute's)."""
        for agency in (0, 2)[:count]:
            if not any(self.staff.agency[c] == agency for c in self.chairs):
                self.chairs.append(self._senior_candidate(agency))
        self.chairs.sort(key=lambda c: self.staff.agency[c] != 0)  # stable: acute first
        del self.chairs[count:]

    def appoint_champions(self, senior: int, operational: int, *, record: bool = True) -> None:
        """Make the longest-serving non-champion members champions, spread across agencies."""
        s = self.staff
        for level, count in ((0, senior), (1, operational)):
            pool = np.flatnonzero((s.level == level) & ~s.champion)
            pool = pool[~self.chair_flags()[pool]]
            # round-robin across agencies, longest tenure first
            order = np.lexsort((-s.tenure[pool], s.agency[pool]))
            pool = pool[order]
            rank = np.zeros(len(pool), dtype=np.int64)
            for a in range(len(SECTORS)):
                mask = s.agency[pool] == a
                rank[mask] = np.arange(mask.sum())
            pool = pool[np.lexsort((s.agency[pool], rank))]
            s.champion[pool[:count]] = True
        if record and senior + operational:
            self.events.append((self.month, f"{senior + operational} champions appointed"))

    def remove_chair(self) -> None:
        """Shock: the longest-serving chair leaves."""
        if self.chairs:
            chair = max(self.chairs, key=lambda r: self.staff.tenure[r])
            self.replace_members(np.array([chair]), stream="shocks")

    def remove_champions(self, count: int) -> None:
        """Shock: ``count`` champions, chosen at random, leave."""
        rows = np.flatnonzero(self.staff.champion)
        if len(rows):
            picked = self.streams["shocks"].choice(rows, size=min(count, len(rows)), replace=False)
            self.replace_members(np.sort(picked), stream="shocks")
            self.events.append((self.month, "champion leaves"))

    def remove_random_members(self, count: int) -> None:
        """Shock: ``count`` ordinary members (not chairs or champions) leave."""
        rows = np.flatnonzero(~self.staff.champion)
        rows = rows[~self.chair_flags()[rows]]
        picked = self.streams["shocks"].choice(rows, size=min(count, len(rows)), replace=False)
        self.replace_members(np.sort(picked), stream="shocks")
        self.events.append((self.month, "member leaves"))

    def replace_members(self, rows: np.ndarray, *, stream: str = "turnover") -> None:
        """Members in ``rows`` leave; newcomers of the same agency and level take their rows,
        their attributes drawn from ``stream`` (a shock's own stream keeps the ordinary
        turnover draws of a shocked run aligned with its paired run)."""
        if len(rows) == 0:
            return
        lost_chairs = [r for r in self.chairs if r in set(rows.tolist())]
        held, dropped = self.ties.remove_members(rows, self.staff.agency,
                                                   len(self.agencies.sector))
        stages.agencies_forget(self, held, dropped)  # organisational familiarity leaves too
        self._draw_members(rows, self.streams[stream], newcomer=True)
        self.staff.founder[rows] = False
        self.integration[rows] = 0.0  # a newcomer has no working relationships yet
        self._new_members[rows] = True  # their agents are replaced when next looked at
        if lost_chairs:
            # one chair leaving a single chair leaves the partnership leaderless; with two
            # chairs the other stays in post (seed: HAZ joint chair)
            share = len(lost_chairs) / max(1, len(self.chairs))
            self.chair_presence *= 1.0 - share
            self.chairs = [c for c in self.chairs if c not in lost_chairs]
            self._set_chairs(2 if self.levers["joint_chair"] else 1)
            self.events.append((self.month, "chair leaves"))

    # --- levers -------------------------------------------------------------------------

    def set_levers(self, values: dict[str, Any], *, undo_at: int | None = None) -> None:
        """Set live lever values now; with ``undo_at`` restore the previous values then."""
        if undo_at is not None:
            previous = {k: self.levers[k] for k in values}
            self._lever_changes.setdefault(undo_at, []).append(previous)
        for key, value in values.items():
            if key not in self.levers:
                raise KeyError(f"{key} is not a lever")
            self.levers[key] = value
        if "joint_chair" in values:
            self._set_chairs(2 if self.levers["joint_chair"] else 1)

    def set_levers_at(self, month: int, values: dict[str, Any]) -> None:
        """Schedule lever values for the start of ``month`` (now if it is this month)."""
        if month <= self.month:
            self.set_levers(values)
        else:
            self._lever_changes.setdefault(month, []).append(dict(values))

    def set_agency_choice(self, agency: int, name: str, value: float | bool | None) -> None:
        """One agency's own choice of a lever from now on (``state.AGENCY_CHOICES``; None:
        follow the partnership-wide value again).

        Raises:
            ValueError: for an unknown choice or agency, or a value outside its bounds.
        """
        self.agency_choices.set(agency, name, value)

    def watch(self, rule: Any) -> None:
        """Put an adaptive rule in force: its ``adapt(model)`` is called at the start of every
        month from now on (this month included), after the month's scheduled interventions."""
        self._rules.append(rule)

    def measured(self, name: str, month: int) -> float:
        """A monthly measure of a past ``month`` (NaN before month 0), or ``output_vs_alone``:
        that month's ``output / output_alone``; what adaptive rules read."""
        if month < 0 or month >= self.month:
            return float("nan")
        row = self._table[month]
        if name == "output_vs_alone":
            alone = row[MONTHLY.index("output_alone")]
            return float(row[MONTHLY.index("output")] / alone) if alone > 0 else float("nan")
        return float(row[MONTHLY.index(name)])

    def charge_one_off(self, cost: float) -> None:
        self.one_off_cost += cost

    def apply_intervention(self, intervention: Any) -> None:
        """Apply an intervention now, at the current month (the dashboard's live levers)."""
        if isinstance(intervention, dict):
            data = dict(intervention, month=self.month)
            intervention = parse_interventions([data], horizon_months=max(
                self.horizon, self.month + 1))[0]
        elif intervention.month != self.month:
            intervention = intervention.model_copy(update={"month": self.month})
        self.interventions = (*self.interventions, intervention)
        self._apply(intervention)

    def _apply(self, intervention: Any) -> None:
        intervention.apply(self)
        if intervention.kind not in ("chair_leaves", "champion_leaves", "member_leaves",
                                     "champions"):
            self.events.append((self.month, intervention.label()))

    # --- the month ----------------------------------------------------------------------

    def step(self) -> None:
        """One month: scheduled interventions, then the eleven stages, then the measures."""
        if self.month >= self.horizon:
            self.running = False
            return
        for iv in self._scheduled.get(self.month, []):
            self._apply(iv)
        for rule in self._rules:
            rule.adapt(self)
        ev = MonthEvents()
        stages.allocate_time(self, ev)
        stages.meet(self, ev)
        stages.communicate(self, ev)
        stages.deliberate(self, ev)
        stages.joint_work(self, ev)
        stages.update_trust(self, ev)
        stages.update_commitment(self, ev)
        stages.decide(self, ev)
        stages.turnover(self, ev)
        stages.build_capacity(self, ev)
        stages.deliver(self, ev)
        row = measures.measure(self, ev)
        self._table[self.month] = row
        if self.collect_mesa:
            self.datacollector.collect(self)
        self.one_off_cost = 0.0
        self.month += 1
        # levers due back at the start of the new month return now, so that anything
        # applied live during that month (the dashboard) acts on top of them
        for values in self._lever_changes.pop(self.month, []):
            self.set_levers(values)
        if self.month >= self.horizon:
            self.running = False

    def run(self) -> PartnershipModel:
        """Run to the horizon."""
        while self.running:
            self.step()
        return self

    # --- results ------------------------------------------------------------------------

    def measures_frame(self, measures: Sequence[str] | None = None) -> pd.DataFrame:
        """Monthly measures so far, one row per month: ``month``, then ``measures`` in that
        order (default: every one, in the order of ``outputs.MONTHLY``).

        Raises:
            KeyError: for a name that is not a monthly measure.
        """
        if measures is None:
            names, table = list(MONTHLY), self._table[: self.month]
        else:
            names = list(measures)
            unknown = [m for m in names if m not in MONTHLY]
            if unknown:
                raise KeyError(f"not monthly measures: {', '.join(unknown)}")
            table = self._table[: self.month, [MONTHLY.index(m) for m in names]]
        df = pd.DataFrame(table, columns=names)
        df.insert(0, "month", np.arange(self.month, dtype=np.int64))
        return df

    def summary(self) -> dict[str, Any]:
        """End-of-run outputs (valid once the run has reached its horizon)."""
        return measures.summarise(self)


@compiled
def _draw(stream, rows, sector, newcomer_capacity, motive, honesty, ability, propensity,
          commitment, info, position, capacity, champion, tenure, engaged, attendance, attended,
          phi):  # pragma: no cover - compiled
    """Set the attributes of the members in ``rows`` from draws from ``stream`` (a handle):
    motive (and honesty by motive), ability, trust propensity, commitment, a problem
    definition near their sector's culture and personal capacity: founding members' by
    sector; newcomers' (``newcomer_capacity`` >= 0) from that level, which the structures
    in place raise. Each attribute's draws are taken for all the rows in turn."""
    rng, m = open_stream(stream), len(rows)
    motive_draw, honesty_noise = rng.random(m), rng.normal(0.0, 0.05, m)
    ability_draw, propensity_draw = rng.beta(6.0, 4.0, m), rng.beta(5.0, 5.0, m)
    commitment_draw, position_noise = rng.uniform(0.45, 0.75, m), rng.normal(0.0, 0.06, m)
    capacity_noise = rng.normal(0.0, 0.03 if newcomer_capacity >= 0 else 0.1, m)
    ability[rows] = ability_draw
    propensity[rows] = propensity_draw
    commitment[rows] = commitment_draw
    motive_edges = np.cumsum(MOTIVE_SHARE)[:-1]
    for k in range(len(rows)):
        r = rows[k]
        motive[r] = np.searchsorted(motive_edges, motive_draw[k], side="right")
        honesty[r] = min(max(MOTIVE_HONESTY[motive[r]] + honesty_noise[k], 0.0), 1.0)
        info[r] = 0.0
        position[r] = min(max(SECTOR_CULTURE[sector[k]] + position_noise[k], 0.0), 1.0)
        if newcomer_capacity >= 0:
            capacity[r] = min(max(newcomer_capacity + capacity_noise[k], 0.0), 1.0)
        else:
            base = 0.45 if sector[k] <= 2 else (0.3 if sector[k] == 3 else 0.2)
            capacity[r] = min(max(base + capacity_noise[k], 0.0), 1.0)
        champion[r] = False
        tenure[r] = 0
        engaged[r] = True
        attendance[r] = 0.0
        attended[r] = False
        phi[r] = 0.0


class MonthlyCollector(mesa.DataCollector):
    """Mesa's DataCollector, filled from the row the model has just written to its own
    monthly table: the same values (Python floats) in the same ``model_vars``, without
    calling 55 reporters and deep-copying each float every month (``collect`` ran at
    about 80 us a month, the cost of a tenth of a month's stages). The reporters stay
    declared, for Mesa tools that read them; a reporter added later is collected as Mesa
    collects it."""

    def _ours(self) -> bool:
        """Only the model's own reporters are declared (none added since)."""
        return (list(self.model_reporters) == list(MONTHLY) and not self.agent_reporters
                and not self.agenttype_reporters)

    def collect(self, model: mesa.Model) -> None:
        table = getattr(model, "_table", None)
        if table is None or not self._ours():
            super().collect(model)
            return
        self._collection_steps.append(model.time)
        self._validated = True
        for values, value in zip(self.model_vars.values(), table[model.month].tolist(),
                                 strict=True):
            values.append(value)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """Mesa's table of the collected measures (the same frame), built as one block of
        floats rather than column by column from lists (5 ms to 0.2 ms a run)."""
        if not self._ours() or not self._collection_steps:
            return super().get_model_vars_dataframe()
        return pd.DataFrame(np.array(list(self.model_vars.values()), dtype=float).T,
                            columns=list(self.model_vars))


def _current(column: int, model: PartnershipModel) -> float:
    """A DataCollector model reporter: this month's value of one measure (collected before
    the month advances)."""
    return float(model._table[model.month, column])


def _explicit_signature() -> inspect.Signature:
    """Keyword-only parameters for every declared parameter, so Mesa's SolaraViz and
    ``mesa.batch_run`` see an explicit signature instead of ``**params``."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("rng", inspect.Parameter.KEYWORD_ONLY, default=None),
              inspect.Parameter("interventions", inspect.Parameter.KEYWORD_ONLY, default=()),
              inspect.Parameter("params", inspect.Parameter.KEYWORD_ONLY, default=None)]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=spec.default)
               for name, spec in PARAMETERS.items()]
    return inspect.Signature(params)


PartnershipModel.__init__.__signature__ = _explicit_signature()  # type: ignore[attr-defined]

__all__ = ["PartnershipModel"]
