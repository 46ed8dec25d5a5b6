"""A facilitated workshop session: participants who play the agencies, round by round.

One ``Workshop`` per server, shared by every browser session: the facilitator's key and the
room's join code, who holds which agency, the rounds (a quarter each: the participants
choose, then the model runs three months with their choices), the timer, events the
facilitator triggers, pause and end, and the session log. Every action checks, here on
the server, who asks: facilitator actions need the facilitator's key (compared in
constant time); a participant acts through the seat token they were given on joining,
which names their agency, so they can set and see only their own agency's choices.
Wrong codes and keys are slowed (``Limiter``). Nothing a participant types is used as a
file path: names are shown, never written as paths (the results folder is named by the
facilitator's scenario and the time).

No Solara here: the pages (``workshop_page``) call these methods; tests call them directly.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from partnersim.dashboard.session import LIVE_INTERVENTIONS, run_seed
from partnersim.inputs.scenarios import Scenario
from partnersim.model.partnership import PartnershipModel
from partnersim.model.state import AGENCY_CHOICES
from partnersim.params import SECTORS

ROUND_MONTHS = 3
"""Months the model runs for each round (a quarter)."""

DEFAULT_ROUNDS = 8
"""Rounds in a workshop unless the facilitator asks for others (two years of the model)."""

DEFAULT_ROUND_SECONDS = 240
"""The round timer's default: four minutes to talk and choose."""

AGENCY_NAMES: tuple[str, ...] = ("NHS acute trust", "NHS primary care", "Council social work",
                                 "Voluntary sector", "Community organisations")
"""The agencies participants can take, in the model's agency order (``params.SECTORS``)."""

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Join-code characters: no 0/O or 1/I to misread from a projector."""

CODE_LENGTH = 6

NAME_LENGTH = 40
"""Longest participant name kept (a label on screen, never a path)."""

PHASES = ("lobby", "open", "between", "ended")
"""``lobby``: joining, no round yet; ``open``: a round is open for choices; ``between``: the
round has run, the facilitator opens the next; ``ended``: the debrief."""

assert len(AGENCY_NAMES) == len(SECTORS)


class RefusedError(Exception):
    """An action the server refuses: wrong key or code, not allowed now, or slowed down.
    The message is written for the person who asked."""


@dataclass(frozen=True)
class Choice:
    """One agency's decisions for a round (the model's ``AGENCY_CHOICES``).

    Attributes:
        relationship_time: the agency's share of time for relationships.
        meeting_attendance: 1 sends everyone who would come to the joint meeting, 0 no one.
        widen_communication: True passes the partnership's news on to all the agency's staff.
        task_backing: True backs joint tasks with other agencies.
    """

    relationship_time: float
    meeting_attendance: float = 1.0
    widen_communication: bool = False
    task_backing: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            _, low, high = AGENCY_CHOICES[f.name]
            value = float(getattr(self, f.name))
            if not (math.isfinite(value) and low <= value <= high):
                raise RefusedError(f"{f.name.replace('_', ' ')} must be between {low:g} and "
                                   f"{high:g}")

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


@dataclass
class Seat:
    """An agency's seat: who holds it (a participant's name) and their current token."""

    agency: int
    name: str = ""
    token: str = ""
    connected: bool = False
    joined: float = 0.0


class Limiter:
    """Slows repeated failures: after the n-th wrong try from one client, that client waits
    ``base * 2**(n-1)`` seconds (at most ``longest``) before the server checks another;
    and when ``room_limit`` failures from anyone came within a minute, every client waits.

    Args:
        clock: seconds (monotonic); tests pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, base: float = 1.0,
                 longest: float = 60.0, room_limit: int = 20) -> None:
        self.clock = clock
        self.base, self.longest, self.room_limit = base, longest, room_limit
        self.failures: dict[str, int] = {}
        self.blocked_until: dict[str, float] = {}
        self.recent: list[float] = []

    def check(self, client: str) -> None:
        """Refuse when ``client`` (or the room) must still wait."""
        now = self.clock()
        self.recent = [t for t in self.recent if now - t < 60.0]
        wait = self.blocked_until.get(client, 0.0) - now
        if len(self.recent) >= self.room_limit:
            wait = max(wait, 60.0 - (now - self.recent[0]))
        if wait > 0:
            raise RefusedError(f"too many wrong tries: wait {math.ceil(wait)} s and try again")

    def failed(self, client: str) -> None:
        now = self.clock()
        n = self.failures.get(client, 0) + 1
        self.failures[client] = n
        self.blocked_until[client] = now + min(self.longest, self.base * 2 ** (n - 1))
        self.recent.append(now)

    def succeeded(self, client: str) -> None:
        self.failures.pop(client, None)
        self.blocked_until.pop(client, None)


@dataclass
class RoundRecord:
    """What one round did: the choices applied per agency and where each came from."""

    number: int
    month_from: int
    month_to: int
    applied: dict[int, Choice | None]  # None: the agency follows the partnership
    source: dict[int, str]  # "submitted", "carried" (last round's) or "partnership"


@dataclass
class Workshop:
    """The shared state of one facilitated session (see the module docstring).

    Attributes:
        scenario: the scenario the model is built from (its parameters, seed, interventions).
        rounds: how many rounds the session has (fewer if the model's horizon is reached).
        round_months: months run per round.
        clock: monotonic seconds (tests pass their own).
    """

    scenario: Scenario
    rounds: int = DEFAULT_ROUNDS
    round_months: int = ROUND_MONTHS
    clock: Callable[[], float] = time.monotonic
    facilitator_key: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    join_code: str = field(
        default_factory=lambda: "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.round_months < 1:
            raise ValueError("a workshop needs at least one round of at least one month")
        self.lock = threading.RLock()
        self.model = self._new_model(self.scenario.params)
        self.rounds = min(self.rounds, self.model.horizon // self.round_months)
        if self.rounds < 1:
            raise ValueError(f"the scenario's horizon ({self.model.horizon} months) is "
                             f"shorter than one round ({self.round_months} months)")
        self.seats = [Seat(a) for a in range(len(AGENCY_NAMES))]
        self.phase = "lobby"
        self.round = 0  # the round open or last run (0: none yet)
        self.paused = False
        self.deadline: float | None = None  # the clock's time when choices close
        self.left_when_paused: float | None = None
        self.pending: dict[int, Choice] = {}  # this round's submissions, by agency
        self.history: list[RoundRecord] = []
        self.choice_log: list[dict[str, Any]] = []  # every submission
        self.state_log: list[dict[str, Any]] = []  # every agency's state after each round
        self.triggered: list[tuple[int, str]] = []  # (month, event key) the facilitator set off
        self.refusals: list[str] = []  # refused attempts, for the facilitator to see
        self.limiter = Limiter(self.clock)
        self.started = self.clock()
        self.version = 0  # changes whenever anything shown changes (pages poll it)
        self.debrief: Any = None  # set by ``end``
        self._record_state(round_number=0)

    # --- who asks --------------------------------------------------------------------

    def _touch(self) -> None:
        self.version += 1

    def is_facilitator(self, key: str | None, client: str = "") -> bool:
        """True for the facilitator's key; a wrong key counts as a failure for ``client``."""
        with self.lock:
            self.limiter.check(f"key:{client}")
            ok = bool(key) and secrets.compare_digest(str(key), self.facilitator_key)
            if ok:
                self.limiter.succeeded(f"key:{client}")
            else:
                self.limiter.failed(f"key:{client}")
                self.refusals.append("a page asked for the console without the facilitator's key")
                self._touch()
            return ok

    def _facilitator(self, key: str | None) -> None:
        if not (key and secrets.compare_digest(str(key), self.facilitator_key)):
            self.refusals.append("a facilitator action was refused: not the facilitator's key")
            self._touch()
            raise RefusedError("only the facilitator can do that")

    def _seat_of(self, token: str | None) -> Seat:
        for seat in self.seats:
            if token and seat.token and secrets.compare_digest(str(token), seat.token):
                return seat
        raise RefusedError("you are not in this workshop (join again with the code)")

    # --- joining ---------------------------------------------------------------------

    def join(self, code: str, agency: int, name: str, client: str) -> str:
        """Take (or take back) an agency's seat with the room's code; returns the seat token.

        A seat held by a connected participant can be taken back only under the same name
        (a participant whose page dropped out); a free seat by anyone with the code.

        Raises:
            RefusedError: a wrong code (slowed after repeats), the session has ended, no
                such agency, or the agency is taken.
        """
        with self.lock:
            self.limiter.check(f"join:{client}")
            if self.phase == "ended":
                raise RefusedError("this workshop has ended: its join code no longer works")
            given = str(code or "").strip().upper()
            if not secrets.compare_digest(given.encode(), self.join_code.encode()):
                self.limiter.failed(f"join:{client}")
                self.refusals.append("a wrong join code was tried")
                self._touch()
                raise RefusedError("that is not this workshop's code")
            self.limiter.succeeded(f"join:{client}")
            if not (isinstance(agency, int) and 0 <= agency < len(self.seats)):
                raise RefusedError("choose one of the agencies")
            label = " ".join(str(name or "").split())[:NAME_LENGTH]
            if not label:
                raise RefusedError("give your name (as the room knows you)")
            seat = self.seats[agency]
            if seat.connected and seat.name.casefold() != label.casefold():
                raise RefusedError(f"{AGENCY_NAMES[agency]} is taken by {seat.name}")
            seat.name, seat.token, seat.connected = label, secrets.token_urlsafe(18), True
            seat.joined = self.clock() - self.started
            self._touch()
            return seat.token

    def leave(self, token: str | None) -> None:
        """The participant's page closed: their seat waits for them (or someone) to rejoin."""
        with self.lock:
            for seat in self.seats:
                if token and seat.token == token:
                    seat.connected = False
                    self._touch()

    # --- the facilitator's actions -----------------------------------------------------

    def open_round(self, key: str | None, seconds: float = DEFAULT_ROUND_SECONDS) -> None:
        """Open the next round for choices, with the timer at ``seconds``."""
        with self.lock:
            self._facilitator(key)
            if self.phase not in ("lobby", "between"):
                raise RefusedError("a round can be opened only between rounds")
            if self.round >= self.rounds:
                raise RefusedError("every round has been played: end the workshop")
            self.round += 1
            self.phase = "open"
            self.pending = {}
            self.paused = False
            self.left_when_paused = None
            self.deadline = self.clock() + max(0.0, float(seconds))
            self._touch()

    def pause(self, key: str | None) -> None:
        """Pause (or resume) the round: the timer stops and choices wait."""
        with self.lock:
            self._facilitator(key)
            if self.phase != "open":
                raise RefusedError("only an open round can be paused")
            if self.paused:
                self.deadline = self.clock() + (self.left_when_paused or 0.0)
                self.paused, self.left_when_paused = False, None
            else:
                self.left_when_paused = self.seconds_left()
                self.paused = True
            self._touch()

    def add_time(self, key: str | None, seconds: float) -> None:
        """Give the room more (or, negative, less) time in this round."""
        with self.lock:
            self._facilitator(key)
            if self.phase != "open":
                raise RefusedError("no round is open")
            if self.paused:
                self.left_when_paused = max(0.0, (self.left_when_paused or 0.0) + seconds)
            elif self.deadline is not None:
                self.deadline = max(self.clock(), self.deadline + seconds)
            self._touch()

    def trigger(self, key: str | None, event: str) -> str:
        """Set off an event now (one of the dashboard's live interventions); returns its name."""
        with self.lock:
            self._facilitator(key)
            if self.phase == "ended":
                raise RefusedError("the workshop has ended")
            if event not in LIVE_INTERVENTIONS:
                raise RefusedError(f"unknown event {event!r}")
            label, factory = LIVE_INTERVENTIONS[event]
            month = int(self.model.month)
            try:
                self.model.apply_intervention(factory(self.model, month))
            except ValueError as exc:
                raise RefusedError(f"{label} is not possible now ({exc})") from None
            self.triggered.append((month, event))
            self._touch()
            return label

    def close_round(self, key: str | None) -> RoundRecord:
        """Close the open round and run it: each played agency's choice (this round's, else
        its last, else the partnership's), then ``round_months`` months of the model."""
        with self.lock:
            self._facilitator(key)
            if self.phase != "open":
                raise RefusedError("no round is open")
            applied: dict[int, Choice | None] = {}
            source: dict[int, str] = {}
            last = self.history[-1].applied if self.history else {}
            for a in range(len(self.seats)):
                if a in self.pending:
                    applied[a], source[a] = self.pending[a], "submitted"
                elif last.get(a) is not None:
                    applied[a], source[a] = last[a], "carried"
                else:
                    applied[a], source[a] = None, "partnership"
                _apply_choice(self.model, a, applied[a])
            start = int(self.model.month)
            for _ in range(self.round_months):
                if not self.model.running:
                    break
                self.model.step()
            record = RoundRecord(self.round, start, int(self.model.month), applied, source)
            self.history.append(record)
            self.pending = {}  # kept in the record; the next round starts with none
            self._record_state(round_number=self.round)
            self.phase = "between"
            self.deadline = None
            self.paused = False
            self._touch()
            return record

    def end(self, key: str | None, summarise: Callable[[Workshop], Any]) -> Any:
        """End the session: the join code stops working, no more choices; returns the debrief
        ``summarise(self)`` makes (``debrief.make_debrief``: the room's path beside the
        default policy and the best fixed share, on the same seeds), kept as ``debrief``."""
        with self.lock:
            self._facilitator(key)
            if self.phase == "ended":
                return self.debrief
            self.phase = "ended"
            self.deadline = None
            for seat in self.seats:
                seat.token = ""  # seats end with the session
            self.debrief = summarise(self)
            self._touch()
            return self.debrief

    # --- the participants' actions -----------------------------------------------------

    def submit(self, token: str | None, choice: Choice) -> None:
        """A participant's choice for their own agency this round (they may change it until
        the round closes)."""
        with self.lock:
            seat = self._seat_of(token)
            if self.phase != "open":
                raise RefusedError("no round is open for choices")
            if self.paused:
                raise RefusedError("the facilitator has paused the round")
            if self.seconds_left() <= 0:
                raise RefusedError("time is up for this round")
            self.pending[seat.agency] = choice
            self.choice_log.append({
                "round": self.round, "month": int(self.model.month),
                "agency": SECTORS[seat.agency], "participant": seat.name,
                "seconds": round(self.clock() - self.started, 1), **choice.as_dict()})
            self._touch()

    # --- what each may see -------------------------------------------------------------

    def seconds_left(self) -> float:
        """Seconds until choices close in the open round (0 when none is open)."""
        if self.phase != "open":
            return 0.0
        if self.paused:
            return float(self.left_when_paused or 0.0)
        return max(0.0, (self.deadline or 0.0) - self.clock())

    def public_view(self) -> dict[str, Any]:
        """What everyone may see: phase, round, timer, who holds which agency (names only),
        who has chosen this round (not what), the month and the events."""
        with self.lock:
            return {
                "phase": self.phase, "round": self.round, "rounds": self.rounds,
                "paused": self.paused, "seconds_left": self.seconds_left(),
                "month": int(self.model.month),
                "seats": [{"agency": AGENCY_NAMES[s.agency], "name": s.name,
                           "connected": s.connected, "chosen": s.agency in self.pending}
                          for s in self.seats],
                "events": [(m, LIVE_INTERVENTIONS[k][0]) for m, k in self.triggered],
            }

    def participant_view(self, token: str | None) -> dict[str, Any]:
        """A participant's own agency: its name, this round's choice (if made), its choices
        in past rounds and its state after each round. Other agencies' choices are not in it."""
        with self.lock:
            seat = self._seat_of(token)
            a = seat.agency
            return {
                "agency": a, "agency_name": AGENCY_NAMES[a], "name": seat.name,
                "pending": self.pending.get(a),
                "past": [(r.number, r.applied[a], r.source[a]) for r in self.history],
                "state": [row for row in self.state_log if row["agency"] == SECTORS[a]],
            }

    def facilitator_view(self, key: str | None) -> dict[str, Any]:
        """Everything, for the facilitator: the public view plus every agency's choice this
        round, the join code and refused attempts."""
        with self.lock:
            self._facilitator(key)
            view = self.public_view()
            view["join_code"] = self.join_code
            view["pending"] = {AGENCY_NAMES[a]: c for a, c in self.pending.items()}
            view["refusals"] = list(self.refusals[-5:])
            return view

    # --- the log -------------------------------------------------------------------------

    def _record_state(self, round_number: int) -> None:
        """Each agency's state now (after a round, or at the start): its choice in effect and
        what its members do and feel, with the partnership's measures beside it."""
        m = self.model
        frame = m.measures_frame()
        last = frame.iloc[-1] if len(frame) else None
        s = m.staff
        record = self.history[-1] if self.history and round_number else None
        for a, sector in enumerate(SECTORS):
            mine = s.agency == a
            choice = record.applied[a] if record else None
            row: dict[str, Any] = {
                "round": round_number, "month": int(m.month), "agency": sector,
                "participant": self.seats[a].name,
                "choice_source": record.source[a] if record else "partnership",
            }
            for name in AGENCY_CHOICES:
                row[name] = float(m.agency_choices.values(name, m.levers)[a])
            row["choice_made"] = choice is not None
            row["relationship_time_spent"] = float(s.phi[mine].mean())
            row["attendance"] = float(s.attendance[mine].mean())
            row["informed"] = float(s.info[mine].mean())
            row["commitment"] = float(s.commitment[mine].mean())
            row["trust_held"] = float(last[f"trust_{sector}"]) if last is not None else math.nan
            for measure in ("trust_across", "output", "small_wins_cumulative", "health"):
                row[measure] = float(last[measure]) if last is not None else math.nan
            self.state_log.append(row)

    def log_tables(self) -> dict[str, pd.DataFrame]:
        """The session log: ``choices`` (every submission), ``rounds`` (each agency's choice
        in effect and state after each round), ``events`` (what the facilitator set off) and
        ``monthly`` (the room's monthly measures)."""
        with self.lock:
            choice_cols = ["round", "month", "agency", "participant", "seconds",
                           *AGENCY_CHOICES]
            return {
                "choices": pd.DataFrame(self.choice_log, columns=choice_cols),
                "rounds": pd.DataFrame(self.state_log),
                "events": pd.DataFrame(
                    [{"month": mo, "event": k, "label": LIVE_INTERVENTIONS[k][0]}
                     for mo, k in self.triggered], columns=["month", "event", "label"]),
                "monthly": self.model.measures_frame(),
            }

    def _new_model(self, params: Any) -> PartnershipModel:
        """The session's model from month 0: its scenario's seed and interventions, these
        parameters, no Mesa table (the live room and every replay start alike)."""
        m = PartnershipModel(rng=run_seed(self.scenario.seed),
                             interventions=self.scenario.interventions, params=params)
        m.collect_mesa = False
        return m

    def replay_model(self, share: float | None = None, *, room: bool = False) -> PartnershipModel:
        """The session's model run again from the start to where the room is, on the same
        seed with the same events at the same months: with the room's choices (``room``),
        with every agency at the partnership's policy (default), or with every agency at one
        fixed relationship-time ``share``."""
        p = self.scenario.params
        if share is not None:
            p = p.model_copy(update={"relationship_time": float(share)})
        m = self._new_model(p)
        events: dict[int, list[str]] = {}
        for month, key in self.triggered:
            events.setdefault(month, []).append(key)
        choices: dict[int, RoundRecord] = {r.month_from: r for r in self.history} if room else {}
        end = int(self.model.month)
        while int(m.month) < end and m.running:
            month = int(m.month)
            for key in events.get(month, []):
                m.apply_intervention(LIVE_INTERVENTIONS[key][1](m, month))
            if month in choices:
                for a, choice in choices[month].applied.items():
                    _apply_choice(m, a, choice)
            m.step()
        return m


@dataclass
class Hosted:
    """The workshop a server hosts, where its results go and the command that started it."""

    workshop: Workshop
    out_dir: str
    command: str = ""
    writer: Any = None  # ``debrief.LogWriter`` of the session's folder, from the first round on
    results: Any = None  # that folder, once the debrief is written there


_HOSTED: list[Hosted] = []  # the one workshop of this server process (set by ``host``)


def host(hosted: Hosted) -> None:
    """Make ``hosted`` the workshop this server process serves (one per server)."""
    _HOSTED[:] = [hosted]


def hosted() -> Hosted:
    """The workshop this server process serves.

    Raises:
        RuntimeError: when none was set (the page was served without ``partnersim workshop``).
    """
    if not _HOSTED:
        raise RuntimeError("no workshop is hosted here: start one with 'partnersim workshop'")
    return _HOSTED[0]


def _apply_choice(model: PartnershipModel, agency: int, choice: Choice | None) -> None:
    """Put an agency's choice for a round into a model (None: it follows the partnership),
    the same way in the live room and in its replay."""
    for name in AGENCY_CHOICES:
        model.set_agency_choice(agency, name, None if choice is None else getattr(choice, name))
