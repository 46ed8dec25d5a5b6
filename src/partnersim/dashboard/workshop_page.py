"""The workshop's pages, which Solara serves for ``partnersim workshop``: the participants'
page (join with the room's code, choose for your agency each round, your agency's view) at
``/``, and the facilitator's console at ``/facilitator?key=...``; both show the shared
network and curves, and the debrief at the end.

One ``Workshop`` (``workshop.hosted()``) is shared by every browser session on the server;
each page keeps only who it is (a seat token, or the facilitator's key from its address)
in its own state, and every action goes through the ``Workshop``'s methods, which check
on the server who asks. Pages learn of changes by polling the workshop's version a few
times a second.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import solara
import solara.widgets

from partnersim.dashboard.charts import Style, series_spec
from partnersim.dashboard.debrief import Debrief, LogWriter, make_debrief, new_results_folder
from partnersim.dashboard.figures import NetworkPlot
from partnersim.dashboard.session import LIVE_INTERVENTIONS
from partnersim.dashboard.workshop import (
    AGENCY_NAMES,
    DEFAULT_ROUND_SECONDS,
    Choice,
    Hosted,
    RefusedError,
    Workshop,
    hosted,
)
from partnersim.errors import InputError
from partnersim.model.state import AGENCY_CHOICES
from partnersim.params import SECTORS

SHARED_MEASURES = ("trust_across", "output")
"""The curves everyone sees."""

ATTENDANCE_OPTIONS = {"Send everyone who can come": 1.0, "Send about half": 0.5,
                      "Send no one": 0.0}

POLL_SECONDS = 0.2
"""How often a page looks for changes (a round run, a choice made, the timer)."""

CURVE_STYLE = Style(width=460, height=110, font=15)

CSS = """
.partnersim-ws h1 { font-size: 28px; margin: 4px 0; }
.partnersim-ws .big { font-size: 22px; }
.partnersim-timer { font-size: 32px; font-weight: bold; }
.partnersim-code { font-size: 40px; letter-spacing: 6px; font-weight: bold; }
table.ws { border-collapse: collapse; font-size: 16px; }
table.ws td, table.ws th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; }
"""


# ----------------------------------------------------------------------------------
# shared pieces


class _NetworkCache:
    """The network image of the shared model, drawn once per month and event for every page
    (a room of pages would otherwise each draw it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: Any = None
        self.png = b""
        self.plot: NetworkPlot | None = None

    def get(self, w: Workshop) -> bytes:
        with w.lock, self.lock:
            key = (id(w), int(w.model.month), len(w.model.events))
            if key != self.key:
                if self.plot is None or self.key is None or self.key[0] != id(w):
                    self.plot = NetworkPlot(w.model, width=6.0, height=4.8, dpi=90)
                self.png, self.key = self.plot.render(w.model), key
            return self.png


NETWORK = _NetworkCache()


def use_workshop_changes(w: Workshop) -> Callable[[], None]:
    """Re-render when the workshop changes or the timer moves on a second (polled). Returns
    ``refresh``: a page's own action calls it, so that the change it made is drawn in the
    action's render and the poll, finding it drawn, does not render the page again."""
    seen, set_seen = solara.use_state((w.version, int(w.seconds_left())))

    def poll(cancel: threading.Event) -> None:
        last = None
        while not cancel.is_set():
            now = (w.version, int(w.seconds_left()))
            if now != last:
                last = now
                set_seen(now)
            cancel.wait(POLL_SECONDS)

    solara.use_thread(poll, [w], intrusive_cancel=False)
    del seen
    return lambda: set_seen((w.version, int(w.seconds_left())))


def _clock(seconds: float) -> str:
    s = int(seconds + 0.999)
    return f"{s // 60}:{s % 60:02d}"


def _phase_line(view: dict[str, Any]) -> str:
    if view["phase"] == "lobby":
        return "Waiting for the facilitator to open the first round."
    if view["phase"] == "open":
        paused = " (paused)" if view["paused"] else ""
        return f"Round {view['round']} of {view['rounds']} is open: choose for your agency{paused}."
    if view["phase"] == "between":
        return (f"Round {view['round']} of {view['rounds']} has run: the partnership is at "
                f"month {view['month']}.")
    return "The workshop has ended: the debrief."


def _shared(w: Workshop) -> None:
    with w.lock:
        month, n_events = int(w.model.month), len(w.model.events)
    SharedView(w, month, n_events)


@solara.component
def SharedView(w: Workshop, month: int, n_events: int) -> None:
    """The shared network and curves everyone sees, at ``month`` with ``n_events`` of the
    model's events (arguments, so that the view redraws when they change)."""
    png = solara.use_memo(lambda: NETWORK.get(w), [month, n_events])

    def spec() -> dict[str, Any]:
        with w.lock:
            frame = w.model.measures_frame()
            events = list(w.model.events)
        return series_spec(frame, SHARED_MEASURES, events, w.rounds * w.round_months,
                           CURVE_STYLE, run="the room")

    chart = solara.use_memo(spec, [month, n_events])
    with solara.Row(style={"flex-wrap": "wrap", "gap": "12px"}):
        with solara.Div(style={"width": "540px"}):
            solara.Image(png, format="png", width="100%", classes=["partnersim-network"])
            solara.Text(f"Month {month}: staff coloured by agency; greener, thicker ties hold "
                        "more trust.", style={"font-size": "14px", "color": "#555"})
        with solara.Div(classes=["partnersim-curves"]):
            solara.widgets.VegaLite.element(spec=chart)


def _table(header: list[str], rows: list[list[str]], cls: str) -> None:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    solara.HTML(tag="table", unsafe_innerHTML=f"<tr>{head}</tr>{body}", classes=["ws", cls])


def _describe(choice: Choice | None) -> str:
    if choice is None:
        return "the partnership's policy"
    parts = [f"{choice.relationship_time:.0%} time for relationships",
             {1.0: "sent everyone", 0.5: "sent about half", 0.0: "sent no one"}.get(
                 choice.meeting_attendance, f"sent {choice.meeting_attendance:.0%}"),
             "shared news with all staff" if choice.widen_communication else "news to attendees",
             "backed joint tasks" if choice.task_backing else "did not back joint tasks"]
    return ", ".join(parts)


@solara.component
def DebriefView(d: Debrief) -> None:
    """The debrief: the paths compared, each agency's choices, what they did to trust."""
    with solara.Div(classes=["partnersim-debrief"]):
        solara.HTML(tag="h1", unsafe_innerHTML="Debrief")
        for sentence in d.sentences():
            solara.Text(sentence, style={"display": "block", "font-size": "18px"})
        solara.Image(d.figures["paths"], format="png", width="900px",
                     classes=["partnersim-debrief-paths"])
        solara.Image(d.figures["choices"], format="png", width="1100px")
        rows = [[str(int(r["round"])), AGENCY_NAMES[SECTORS.index(r["agency"])],
                 str(r["participant"]), f"{r['relationship_time']:.2f}",
                 f"{r['meeting_attendance']:.1f}", "yes" if r["widen_communication"] else "no",
                 "yes" if r["task_backing"] else "no", str(r["choice_source"])]
                for _, r in d.choices.iterrows()]
        _table(["round", "agency", "who", "time for relationships", "attendance",
                "news to all", "backed tasks", "choice"], rows, "partnersim-debrief-choices")


# ----------------------------------------------------------------------------------
# the participants


@solara.component
def JoinForm(w: Workshop, code: str, on_joined: Callable[[str], None]) -> None:
    """Join with the room's code: your name and the agency you play."""
    code_text = solara.use_reactive(code)
    name = solara.use_reactive("")
    view = w.public_view()
    labels = [f"{AGENCY_NAMES[i]}" + (f" (taken by {s['name']})" if s["connected"] else "")
              for i, s in enumerate(view["seats"])]
    agency = solara.use_reactive(labels[0])
    error = solara.use_reactive("")

    def join() -> None:
        try:
            index = labels.index(agency.value) if agency.value in labels else 0
            token = w.join(code_text.value, index, name.value, client=solara.get_session_id())
        except RefusedError as exc:
            error.set(str(exc))
            return
        error.set("")
        on_joined(token)

    with solara.Card("Join the workshop", classes=["partnersim-join"]):
        solara.InputText("Code", value=code_text, continuous_update=True)
        solara.InputText("Your name", value=name, continuous_update=True)
        solara.Select("Your agency", values=labels, value=agency, classes=["partnersim-agency"])
        solara.Button("Join", on_click=join, color="primary", classes=["partnersim-join-go"])
        if error.value:
            solara.Error(error.value, classes=["partnersim-error"])


@solara.component
def ChoiceForm(w: Workshop, token: str, pending: Choice | None, last: Choice | None) -> None:
    """This round's choice for your agency."""
    start = pending or last or Choice(relationship_time=float(
        w.model.levers["relationship_time"]))
    share = solara.use_reactive(start.relationship_time)
    attend = solara.use_reactive(next(k for k, v in ATTENDANCE_OPTIONS.items()
                                      if v == start.meeting_attendance))
    widen = solara.use_reactive(bool(start.widen_communication))
    back = solara.use_reactive(bool(start.task_backing))
    error = solara.use_reactive("")
    low, high = AGENCY_CHOICES["relationship_time"][1:]

    def submit() -> None:
        try:
            w.submit(token, Choice(relationship_time=round(float(share.value), 2),
                                   meeting_attendance=ATTENDANCE_OPTIONS[attend.value],
                                   widen_communication=bool(widen.value),
                                   task_backing=bool(back.value)))
        except RefusedError as exc:
            error.set(str(exc))
            return
        error.set("")

    with solara.Card("Your agency's choice this round", classes=["partnersim-choice"]):
        with solara.Div(classes=["partnersim-share-slider"]):
            solara.SliderFloat("Share of time for relationships", value=share, min=low,
                               max=high, step=0.05)
        solara.Text(f"{share.value:.0%} of working time", classes=["partnersim-share"])
        solara.Select("The joint meeting", values=list(ATTENDANCE_OPTIONS), value=attend,
                      classes=["partnersim-attendance"])
        solara.Checkbox(label="Share the partnership's news with all our staff", value=widen)
        solara.Checkbox(label="Back joint tasks with other agencies", value=back)
        solara.Button("Submit our choice", on_click=submit, color="primary",
                      classes=["partnersim-submit"])
        if pending is not None:
            solara.Success(f"Your choice is in: {_describe(pending)}. You can change it until "
                           "the round closes.", classes=["partnersim-chosen"])
        if error.value:
            solara.Error(error.value, classes=["partnersim-error"])


@solara.component
def OwnAgencyView(view: dict[str, Any]) -> None:
    """Your agency over the rounds: its choice and how its staff fared."""
    rows = [[str(row["round"]), str(row["month"]), f"{row['relationship_time']:.2f}",
             f"{row['relationship_time_spent']:.2f}", f"{row['attendance']:.2f}",
             f"{row['informed']:.2f}",
             "" if row["trust_held"] != row["trust_held"] else f"{row['trust_held']:.2f}"]
            for row in view["state"]]
    with solara.Card(f"{view['agency_name']}: your agency", classes=["partnersim-own"]):
        _table(["round", "month", "time chosen", "time spent", "attendance", "informed",
                "trust held"], rows, "partnersim-own-table")


@solara.component
def ParticipantPage(w: Workshop, code: str) -> None:
    use_workshop_changes(w)
    token = solara.use_reactive("")

    def leave_when_closed() -> Callable[[], None]:
        return lambda: w.leave(token.value)

    solara.use_effect(leave_when_closed, [])
    view = w.public_view()
    # the shared view stays in one place of the page whatever is above it: a chart widget
    # replaced within its 100 ms redraw delay fails in the browser (its spec is gone)
    with solara.Div(classes=["partnersim-ws"]):
        _participant_top(w, view, token, code)
    _shared(w)


def _participant_top(w: Workshop, view: dict[str, Any], token: solara.Reactive[str],
                     code: str) -> None:
    if view["phase"] == "ended" and w.debrief is not None:
        DebriefView(w.debrief)
        return
    if not token.value:
        JoinForm(w, code, token.set)
        return
    try:
        mine = w.participant_view(token.value)
    except RefusedError as exc:  # the seat was taken back from another page
        solara.Error(str(exc), classes=["partnersim-error"])
        solara.Button("Join again", on_click=lambda: token.set(""))
        return
    solara.HTML(tag="h1", unsafe_innerHTML=html.escape(
        f"{mine['agency_name']}, played by {mine['name']}"), classes=["partnersim-you"])
    with solara.Row(style={"align-items": "center", "gap": "24px"}):
        solara.Text(_phase_line(view), classes=["partnersim-phase", "big"])
        if view["phase"] == "open":
            solara.Text(_clock(view["seconds_left"]), classes=["partnersim-timer"])
    if view["phase"] == "open":
        last = mine["past"][-1][1] if mine["past"] else None
        ChoiceForm(w, token.value, mine["pending"], last).key(f"round-{view['round']}")
    OwnAgencyView(mine)


# ----------------------------------------------------------------------------------
# the facilitator


@solara.component
def FacilitatorConsole(served: Hosted, key: str) -> None:
    refresh = use_workshop_changes(served.workshop)
    w = served.workshop
    view = w.facilitator_view(key)
    minutes = solara.use_reactive(DEFAULT_ROUND_SECONDS / 60)
    event_labels = {label: k for k, (label, _) in LIVE_INTERVENTIONS.items()}
    event = solara.use_reactive("The chair leaves")
    message = solara.use_reactive("")
    error = solara.use_reactive("")

    def act(do: Callable[[], Any], done: str = "") -> Callable[[], None]:
        def run() -> None:
            try:
                result = do()
            except (RefusedError, InputError) as exc:
                error.set(str(exc))
                return
            error.set("")
            message.set(done.format(result=result) if done else "")
            refresh()
        return run

    def writer() -> LogWriter:
        with w.lock:
            if served.writer is None:
                folder = new_results_folder(served.out_dir, w.scenario.name)
                served.writer = LogWriter(w, folder, command=served.command)
            return served.writer

    def close() -> Any:
        record = w.close_round(key)
        writer().save()  # the log so far, kept on disk after every round (in the background)
        return record

    def end() -> str:
        d = w.end(key, make_debrief)
        # not holding the workshop's lock: ``final`` waits for log writes, which take it
        served.results = writer().final(d)
        return str(served.results)

    with solara.Div(classes=["partnersim-ws", "partnersim-console"]):
        solara.HTML(tag="h1", unsafe_innerHTML="Facilitator's console")
        with solara.Row(style={"align-items": "center", "gap": "24px"}):
            solara.Text("Join code:", classes=["big"])
            solara.Text(view["join_code"], classes=["partnersim-code"],
                        style={"text-decoration": "line-through"} if view["phase"] == "ended"
                        else {})
            if view["phase"] == "ended":
                solara.Text("(no longer valid)", classes=["big"])
            solara.Text(_phase_line(view).replace("choose for your agency", "agencies choose"),
                        classes=["partnersim-phase", "big"])
            solara.Text(_clock(view["seconds_left"]) if view["phase"] == "open" else "",
                        classes=["partnersim-timer"])
        rows = [[s["agency"], s["name"] or "(no one)",
                 ("here" if s["connected"] else "dropped out") if s["name"] else "",
                 ("chosen: " + _describe(view["pending"][s["agency"]]))
                 if s["agency"] in view["pending"] else ""]
                for s in view["seats"]]
        _table(["agency", "who", "", "this round"], rows, "partnersim-seats")
        phase = view["phase"]
        # every control is always there, enabled when it applies: replacing widgets when the
        # phase changes costs a round's redraw more than the round itself
        between = phase in ("lobby", "between") and view["round"] < view["rounds"]
        opened = phase == "open"
        if phase != "ended":
            with solara.Row(style={"align-items": "center", "gap": "8px", "flex-wrap": "wrap"}):
                with solara.Div(style={"width": "220px"}):
                    solara.SliderFloat("Minutes for the round", value=minutes, min=1, max=15,
                                       step=1, disabled=not between)
                solara.Button(f"Open round {min(view['round'] + 1, view['rounds'])}",
                              color="primary", disabled=not between,
                              on_click=act(lambda: w.open_round(key, minutes.value * 60)),
                              classes=["partnersim-open-round"])
                solara.Button("Resume" if view["paused"] else "Pause", disabled=not opened,
                              on_click=act(lambda: w.pause(key)), classes=["partnersim-pause"])
                solara.Button("+1 minute", disabled=not opened,
                              on_click=act(lambda: w.add_time(key, 60)))
                solara.Button("Close the round and run it", color="primary", disabled=not opened,
                              on_click=act(close,
                                           "Round run: months {result.month_from} to "
                                           "{result.month_to}."),
                              classes=["partnersim-close-round"])
                solara.Select("Event", values=list(event_labels), value=event,
                              style={"max-width": "240px"}, classes=["partnersim-event"])
                solara.Button("Set off the event", on_click=act(
                    lambda: w.trigger(key, event_labels[event.value]), "{result} (now)."),
                    classes=["partnersim-trigger"])
                solara.Button("End the workshop", color="error", outlined=True,
                              on_click=act(end, "Results written to {result}"),
                              classes=["partnersim-end"])
        solara.Text(message.value, classes=["partnersim-message", "big"],
                    style={"color": "#1b5e20", "display": "block"})
        solara.Text(error.value, classes=["partnersim-error", "big"],
                    style={"color": "#b71c1c", "display": "block"})
        if view["refusals"]:
            solara.Text("Refused: " + view["refusals"][-1], classes=["partnersim-refusals"],
                        style={"color": "#a00"})
    with solara.Div():  # the shared view stays in one place (see ParticipantPage)
        if phase == "ended" and w.debrief is not None:
            if served.results is not None:
                solara.Text(f"Results: {served.results}", classes=["partnersim-results"])
            DebriefView(w.debrief)
    _shared(w)


@solara.component
def FacilitatorPage(served: Hosted, key: str) -> None:
    def check() -> str:
        try:
            return "" if served.workshop.is_facilitator(key, solara.get_session_id()) else (
                "Refused: this console needs the facilitator's link.")
        except RefusedError as exc:
            return f"Refused: {exc}."

    refused = solara.use_memo(check, [key])
    if refused:
        solara.Error(refused, classes=["partnersim-refused"])
        return
    FacilitatorConsole(served, key)


def _query(name: str) -> str:
    values = parse_qs(solara.use_router().search or "").get(name) or [""]
    return values[0]


@solara.component
def ParticipantRoute() -> None:
    """``/``: the participants' page (``?code=`` fills in the room's code)."""
    solara.Title("partnersim workshop")  # the browser tab's name
    ParticipantPage(hosted().workshop, _query("code"))


@solara.component
def FacilitatorRoute() -> None:
    """``/facilitator?key=...``: the facilitator's console."""
    solara.Title("partnersim workshop: facilitator")
    FacilitatorPage(hosted(), _query("key"))


@solara.component
def Layout(children: list[Any] = []) -> None:  # noqa: B006 - Solara's layout signature
    """Every page: the workshop's styles, no navigation between the pages."""
    solara.Style(CSS)
    solara.Column(children=children, style={"padding": "12px"})


routes = [
    solara.Route(path="/", component=ParticipantRoute, layout=Layout),
    solara.Route(path="facilitator", component=FacilitatorRoute),
]
"""The pages Solara serves: the participants' at ``/``, the console at ``/facilitator``."""
