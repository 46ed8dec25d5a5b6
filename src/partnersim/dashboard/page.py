"""The workshop dashboard's page: the Solara components and ``Page``, which Solara serves.

What is here: the layout of controls, the trust network, the time series with
interventions marked, the status line, the live intervention buttons, and loading
and saving scenario files. What is not here: model rules or measures (every number
shown comes from the model), controls' definitions (``controls``), the session's
scenario and model (``session``) and the figures (``figures``).

Each browser session gets its own model: all state is created inside the
``Page`` component (``solara.use_reactive``/``use_memo``), never at module level.
Mesa's ``ModelController`` supplies Step, Play and Reset; Reset rebuilds the
model as ``SessionModel(**kwargs)`` from this session's pending settings.

Serve it with ``partnersim dashboard`` (see ``partnersim.dashboard.server``, which
points Solara at this module by name).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import solara
import solara.widgets
from ipyvuetify.extra import FileInput
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import force_update, update_counter

from partnersim import outputs
from partnersim.dashboard.charts import (
    PRESENTATION_MEASURES,
    Style,
    fork_spec,
    fork_summary,
    measure_title,
    series_spec,
)
from partnersim.dashboard.controls import (
    Control,
    coerce_seed,
    coerce_value,
    controls_by_group,
    format_value,
    group_title,
)
from partnersim.dashboard.figures import NetworkPlot, SeriesPlot
from partnersim.dashboard.session import (
    LIVE_INTERVENTIONS,
    Fork,
    ForkResult,
    SessionModel,
    build_model,
    cli_scenario,
    initial_scenario,
    lever_summary,
    model_at,
    model_kwargs,
    model_lock,
    nearest_snapshot,
    read_scenario,
    saved_scenario,
    scenario_files,
    status_line,
)
from partnersim.errors import InputError
from partnersim.inputs.scenarios import Scenario, dump_scenario


@solara.component
def NetworkView(model: Any, replay: int | None = None, large: bool = False) -> None:
    """The trust network, redrawn after every step or intervention (or the network at a past
    month while replaying)."""
    count = update_counter.get()  # changes after every step and intervention
    plot = solara.use_memo(lambda: NetworkPlot(model, width=7.0, height=5.6, dpi=100,
                                               label_size=18) if large else NetworkPlot(model),
                           [model, large])

    def draw() -> tuple[bytes, Any]:
        with model_lock(model):
            shown = model_at(model, replay)
            return plot.render(shown), shown

    # redrawn when the model changes, not when the page re-renders for a slider
    png, shown = solara.use_memo(draw, [model, count, replay, large])
    if large:
        solara.Image(png, format="png", width="100%", classes=["partnersim-network"])
        return
    with solara.Card("Trust network", margin=0):
        solara.Image(png, format="png", width="100%", classes=["partnersim-network"])
        solara.Text(f"{len(shown.staff.agency)} staff in "
                    f"{len(set(shown.staff.agency.tolist()))} agencies; {plot.shown} of "
                    f"{plot.total} ties shown (month {int(shown.month)}). Nodes: staff, "
                    "coloured by agency; ★ champion; □ chair. Edges: ties, greener and "
                    "thicker with more trust.",
                    style={"font-size": "12px", "color": "#555"})


@solara.component
def VegaChart(spec: dict[str, Any], classes: Sequence[str] = ()) -> None:
    """A Vega-Lite chart (Solara's widget, with Vega from the offline asset cache)."""
    # hover values in type the room can read (Vega-Embed's tooltip is 11 px by default)
    solara.Style("#vg-tooltip-element { font-size: 18px !important; }")
    with solara.Div(classes=["partnersim-chart", *classes]):
        solara.widgets.VegaLite.element(spec=spec)


@solara.component
def CurvesView(model: Any, measures: Sequence[str], style: Style, replay: int | None,
               fork_result: ForkResult | None) -> None:
    """The chosen curves (interactive), or the what-if fork when there is one."""
    count = update_counter.get()

    def spec() -> dict[str, Any]:
        if fork_result is not None:
            return fork_spec(fork_result, measures, model.horizon, style)
        with model_lock(model):
            frame = model.measures_frame()
            events = list(model.events)
        return series_spec(frame, measures, events, model.horizon, style, cursor=replay)

    chart = solara.use_memo(spec, [model, count, tuple(measures), style, replay, fork_result])
    VegaChart(chart, classes=["partnersim-fork-chart"] if fork_result is not None
              else ["partnersim-curves"])


FORK_FIRST_MONTHS = 24
"""A what-if shows this many months at once, then runs on to the end in the background."""

FORK_CHUNK_MONTHS = 24
"""Months the background adds to a what-if between two redraws."""


@solara.component
def WhatIfPanel(model: Any, replay: int | None,
                fork_result: solara.Reactive[ForkResult | None], summary: bool = True) -> None:
    """"What if?": fork the run at the current month (or the month being replayed) with and
    without a chosen intervention, on the same random streams."""
    update_counter.get()
    labels = {label: key for key, (label, _) in LIVE_INTERVENTIONS.items()}
    choice = solara.use_reactive("Introduce ground rules")
    error = solara.use_reactive("")
    with model_lock(model):
        start = model_at(model, replay)
    month = int(start.month)

    running = solara.use_reactive(None)  # the fork being run on in the background

    def go() -> None:
        try:
            with model_lock(model):
                branches = Fork(start, labels[choice.value])
        except InputError as exc:
            error.set(str(exc))
            return
        error.set("")
        branches.extend(FORK_FIRST_MONTHS)  # on screen at once; the rest follows
        fork_result.set(branches.result())
        running.set(branches)

    def run_on(cancel: Any) -> None:
        branches = running.value
        while branches is not None and not branches.done and not cancel.is_set():
            branches.extend(FORK_CHUNK_MONTHS)
            shown = fork_result.value
            if shown is None or (shown.month, shown.key) != (branches.month, branches.key):
                return  # closed, or another what-if started
            fork_result.set(branches.result())

    solara.use_thread(run_on, [running.value])

    with solara.Row(style={"align-items": "center", "gap": "8px", "flex-wrap": "wrap"},
                    classes=["partnersim-whatif"]):
        solara.Select("What if…", value=choice.value, values=list(labels),
                      on_value=choice.set, style={"max-width": "260px"})
        solara.Button(f"What if? (from month {month})", on_click=go, color="primary",
                      outlined=True, classes=["partnersim-whatif-go"],
                      disabled=month >= model.horizon)  # nothing left to run
        if fork_result.value is not None:
            solara.Button("Close what-if", on_click=lambda: fork_result.set(None),
                          outlined=True, small=True)
    with solara.Div():
        if error.value:
            solara.Error(error.value, dense=True, classes=["partnersim-whatif-error"])
        elif fork_result.value is not None and summary:
            ForkSummary(fork_result.value)


@solara.component
def ForkSummary(result: ForkResult, size: str = "14px") -> None:
    """What the intervention did to trust across agencies and to service output, in words."""
    with solara.Div(classes=["partnersim-fork-summary"], style={"font-size": size}):
        for measure in ("trust_across", "output"):
            solara.Text(fork_summary(result, measure), style={"display": "block"})


@solara.component
def ReplayPanel(model: Any, replay: solara.Reactive[int | None]) -> None:
    """A timeline back to any past month: the network then, and a fork from there."""
    update_counter.get()
    now = int(model.month)
    if now == 0:
        solara.Text("Replay: run a few months to go back to one.",
                    style={"font-size": "13px", "color": "#555"})
        return
    value = now if replay.value is None else min(replay.value, now)

    def go_to(month: int) -> None:
        replay.set(None if month >= now else max(int(month), 0))

    with solara.Row(style={"align-items": "center", "gap": "8px"},
                    classes=["partnersim-replay"]):
        # buttons a step at a time, for a facilitator at a projector; the slider for a jump
        solara.Button("One month back", on_click=lambda: go_to(value - 1), outlined=True,
                      small=True, disabled=value == 0)
        with solara.Div(style={"min-width": "240px", "flex-grow": "1"}):
            solara.SliderInt("Look back to month", value=value, min=0, max=now, on_value=go_to)
        solara.Button("One month on", on_click=lambda: go_to(value + 1), outlined=True,
                      small=True, disabled=replay.value is None)
        solara.Button("Back to now", on_click=lambda: replay.set(None), outlined=True,
                      small=True, disabled=replay.value is None)
    if replay.value is not None:
        kept = int(nearest_snapshot(model, replay.value).month)
        solara.Text(f"Replaying month {kept} (the run is at month {now}): the network as it "
                    "was then; a what-if forks from here.",
                    classes=["partnersim-replaying"], style={"font-size": "13px"})


@solara.component
def SeriesView(model: Any) -> None:
    """Time series with every intervention marked where it happened."""
    count = update_counter.get()  # changes after every step and intervention
    horizon = getattr(getattr(model, "p", None), "horizon_months", 120)
    plot = solara.use_memo(lambda: SeriesPlot(horizon), [model])

    def draw() -> tuple[bytes, list[tuple[int, str]]]:
        with model_lock(model):
            return plot.render(model), list(getattr(model, "events", ()))

    # redrawn when the model changes, not when the page re-renders for a slider
    png, events = solara.use_memo(draw, [model, count])
    with solara.Card("Over time", margin=0):
        solara.Image(png, format="png", width="100%", classes=["partnersim-series"])
        if events:
            with solara.Div(classes=["partnersim-events"]):
                solara.Text("Marked on the charts: " + "; ".join(
                    f"month {m}: {label}" for m, label in events),
                    style={"font-size": "12px"})
        else:
            solara.Text("Interventions will be marked on the charts (dashed lines).",
                        style={"font-size": "12px", "color": "#555"})


@solara.component
def StatusView(model: Any) -> None:
    """The plain-language status line and the live levers."""
    update_counter.get()
    with model_lock(model):
        status, levers = status_line(model), lever_summary(model)
    with solara.Div(classes=["partnersim-status"]):
        solara.Text(status, style={"font-size": "18px", "font-weight": "500"})
    solara.Text(levers, classes=["partnersim-levers"],
                style={"font-size": "13px", "color": "#333"})


@solara.component
def PresentationHeader(model: Any, replay: int | None) -> None:
    """The month, the status sentence and the last event, in type a room can read."""
    update_counter.get()
    with model_lock(model):
        shown = model_at(model, replay)
        status = status_line(shown)
        events = list(shown.events)
    month = int(shown.month)
    with solara.Row(style={"align-items": "baseline", "gap": "20px", "flex-wrap": "wrap"}):
        solara.Text(f"Month {month}", classes=["partnersim-big-month"],
                    style={"font-size": "40px", "font-weight": "700", "line-height": "1.1"})
        if replay is not None and month < int(model.month):
            solara.Text(f"looking back (the run is at month {int(model.month)})",
                        style={"font-size": "22px", "color": "#a05a00"})
        last = f"Last event: month {events[-1][0]}, {events[-1][1]}." if events else (
            "No event yet.")
        solara.Text(last, classes=["partnersim-last-event"],
                    style={"font-size": "22px", "color": "#333"})
    with solara.Div(classes=["partnersim-status"]):
        solara.Text(status, style={"font-size": "24px", "font-weight": "500"})


PRESENTATION_STYLE = Style(width=520, height=78, font=18)
"""The presentation view's curves: three panels fit beside the network at 1280x720."""

FORK_STYLE = Style(width=330, height=62, font=18)
"""The presentation view's fork: each panel with its difference beside it."""


@solara.component
def PresentationView(model: Any, measures: solara.Reactive[tuple[str, ...]],
                     replay: solara.Reactive[int | None],
                     fork_result: solara.Reactive[ForkResult | None]) -> None:
    """For the projector: the network and two or three chosen curves, large."""
    with solara.Column(classes=["partnersim-presentation"], style={"font-size": "20px"}):
        PresentationHeader(model, replay.value)
        with solara.Columns([5, 7]):
            with solara.Column():
                NetworkView(model, replay.value, large=True)
            with solara.Column():
                if fork_result.value is not None:
                    ForkSummary(fork_result.value, size="18px")
                CurvesView(model, measures.value,
                           FORK_STYLE if fork_result.value is not None else PRESENTATION_STYLE,
                           replay.value, fork_result.value)
        WhatIfPanel(model, replay.value, fork_result, summary=False)
        ReplayPanel(model, replay)


@solara.component
def InterventionPanel(model: Any, on_applied: Callable[[Any], None]) -> None:
    """Buttons that act on the running model at the current month, without a reset."""
    update_counter.get()
    message = solara.use_reactive("")

    def press(key: str) -> None:
        label, factory = LIVE_INTERVENTIONS[key]
        with model_lock(model):  # between two months, even while the model plays
            if not model.running:
                message.set(f"{label}: the run has ended; press Reset to start again.")
                return
            iv = factory(model, int(model.month))
            try:
                model.apply_intervention(iv)
            except (InputError, ValueError) as exc:
                message.set(f"{label}: not possible now ({exc})")
                return
        on_applied(iv)
        message.set(f"Month {iv.month}: {label.lower()} — applied.")
        force_update()

    with solara.Card("Interventions now", margin=0):
        with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
            for key, (label, _) in LIVE_INTERVENTIONS.items():
                disabled = not model.running or (
                    key == "champion_leaves" and not np.any(np.asarray(model.staff.champion)))
                solara.Button(label, on_click=lambda key=key: press(key), disabled=disabled,
                              color="warning" if "leave" in key or "cut" in key
                              or "surge" in key else "success", outlined=True, small=True)
        if message.value:
            solara.Text(message.value, style={"font-size": "12px"})


@solara.component
def ParameterControls(
    values: solara.Reactive[dict[str, Any]],
    seed_text: solara.Reactive[str],
    stale: bool,
) -> None:
    """Controls generated from the declarations, one expansion panel per lever group.

    Only the open panel's controls are rendered, which keeps the page light.
    """
    groups = solara.use_memo(controls_by_group, [])
    open_panel = solara.use_reactive(None)
    seed_error = solara.use_reactive("")

    def set_value(control: Control, raw: Any) -> None:
        values.set({**values.value, control.name: coerce_value(control, raw)})

    def set_seed(text: str) -> None:
        try:
            coerce_seed(text)
        except InputError as exc:
            seed_error.set(str(exc))
        else:
            seed_error.set("")
        seed_text.set(text)

    solara.InputText("Seed", value=seed_text.value, on_value=set_seed, continuous_update=False)
    # messages sit in fixed containers: a child appearing before the panels would shift
    # their position in the tree and rebuild them, losing a slider's focus mid-change
    with solara.Div():
        if seed_error.value:
            solara.Error(seed_error.value, dense=True, classes=["partnersim-seed-error"])
    with solara.Div():
        if stale:
            solara.Warning("Settings changed: press Reset to start a run with them.",
                           dense=True, classes=["partnersim-stale"])
    names = list(groups)
    with solara.v.ExpansionPanels(v_model=open_panel.value, on_v_model=open_panel.set,
                                  accordion=True, flat=True):
        for i, group in enumerate(names):
            with solara.v.ExpansionPanel():
                solara.v.ExpansionPanelHeader(children=[group_title(group)])
                with solara.v.ExpansionPanelContent():
                    if open_panel.value == i:
                        for control in groups[group]:
                            _ControlWidget(control, values.value[control.name],
                                           lambda raw, c=control: set_value(c, raw))


def _ControlWidget(control: Control, value: Any, on_value: Callable[[Any], None]) -> None:
    """One control, its label (with the current value) above it, in a findable container."""
    with solara.Div(classes=["partnersim-param", f"partnersim-param-{control.name}"],
                    style={"margin-bottom": "4px"}):
        hint = {"font-size": "11px", "color": "#777", "line-height": "1.2"}
        if control.kind == "bool":
            solara.Checkbox(label=control.label, value=bool(value), on_value=on_value)
            solara.Text(control.description, style=hint)
            return
        if control.kind == "choice":
            solara.Select(control.label, value=str(value), values=list(control.choices or ()),
                          on_value=on_value)
            solara.Text(control.description, style=hint)
            return
        solara.Text(f"{control.label}: {format_value(control, value)}",
                    classes=["partnersim-param-label"],
                    style={"font-size": "13px", "color": "#333", "display": "block"})
        solara.Text(control.description, style={**hint, "display": "block"})
        lower = control.lower if control.lower is not None else 0
        upper = control.upper if control.upper is not None else max(100, 2 * value)
        if control.kind == "int":
            solara.SliderInt("", value=int(value), min=int(lower), max=int(upper), step=1,
                             on_value=on_value)
        else:
            solara.SliderFloat("", value=float(value), min=float(lower), max=float(upper),
                               step=float(control.step or 0.01), on_value=on_value)


@solara.component
def ScenarioUpload(on_file: Callable[[str, bytes], None]) -> Any:
    """A file chooser (click to browse, or drop a file on it) that passes the file's bytes on.

    Built like Solara's ``FileDrop`` but on ipyvuetify's ``FileInput``, which has a
    real ``<input type=file>``: a facilitator can browse to a file, and tests can set it.
    """
    file_info, set_file_info = solara.use_state(None)
    wired, set_wired = solara.use_state(None)
    widget_ref = solara.use_ref(None)
    element = FileInput.element(multiple=False, accept=".toml", show_progress=False,
                                on_file_info=set_file_info)

    def wire() -> None:
        if not file_info:
            return
        widget = widget_ref.current = solara.get_widget(element)
        widget.version += 1  # as Solara's FileDrop: re-arm the widget's reader
        widget.reset_stats()
        set_wired(widget.get_files())

    solara.use_effect(wire, [file_info])

    def read(cancel: Any) -> None:
        if wired:
            info = wired[0]
            data = info["file_obj"].read()
            widget_ref.current.clear()  # so the same file can be chosen again
            on_file(info["name"], data)

    result = solara.use_thread(read, [wired])
    if result.error:
        raise result.error
    return element


def _short_path(path: Path) -> str:
    """A file's path relative to the working folder when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@solara.component
def ScenarioPanel(
    on_load: Callable[[Scenario], None],
    save_text: Callable[[], str],
    save_name: str,
    files: Sequence[Path],
) -> None:
    """Load a scenario file (from the scenarios folder or this computer); save the current run."""
    shown = {_short_path(f): f for f in files}  # menu text -> file
    choice = solara.use_reactive(next(iter(shown), None))
    error = solara.use_reactive("")
    loaded = solara.use_reactive("")

    def load(loader: Callable[[], Scenario]) -> None:
        try:
            scenario = loader()
        except InputError as exc:
            error.set(str(exc))
            return
        error.set("")
        on_load(scenario)
        loaded.set(f"Loaded '{scenario.name}' ({scenario.source}).")

    def load_upload(name: str, data: bytes) -> None:
        def loader() -> Scenario:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("not a UTF-8 text file", source=name) from None
            return read_scenario(name, text)

        load(loader)

    with solara.Card("Scenario file", margin=0):
        if files:
            solara.Select("Scenario", value=choice.value, values=list(shown),
                          on_value=choice.set)
            solara.Button("Load", on_click=lambda: load(
                lambda: read_scenario(shown[choice.value])), outlined=True, small=True)
        solara.Text("…or open a scenario file (.toml):", style={"font-size": "13px"})
        ScenarioUpload(load_upload)
        with solara.Div():
            if error.value:
                solara.Error(error.value, dense=True, classes=["partnersim-load-error"])
            elif loaded.value:
                solara.Success(loaded.value, dense=True, classes=["partnersim-loaded"])
        solara.FileDownload(save_text, filename=save_name,
                            label="Save settings and interventions", mime_type="text/plain")


@dataclass(frozen=True)
class _Start:
    scenario: Scenario
    values: dict[str, Any]
    model: Any


def _start() -> _Start:
    scenario = initial_scenario()
    values = scenario.params.model_dump()
    return _Start(scenario, values, build_model(values, scenario.seed, scenario.interventions))


@solara.component
def Page() -> None:
    """The dashboard page: one model per browser session."""
    start = solara.use_memo(_start, [])
    values = solara.use_reactive(start.values)  # the controls' values (apply on Reset)
    seed_text = solara.use_reactive(str(start.scenario.seed))
    scenario = solara.use_reactive(start.scenario)  # the scenario loaded last
    model = solara.use_reactive(start.model)
    built = solara.use_reactive((start.values, start.scenario.seed))  # the model's settings
    applied = solara.use_reactive(())  # live interventions applied to the current model
    files = solara.use_memo(lambda: scenario_files(cli_scenario()), [])
    presenting = solara.use_reactive(False)  # the presentation view, or full controls
    measures = solara.use_reactive(PRESENTATION_MEASURES)  # the presentation's curves
    replay = solara.use_reactive(None)  # the past month on screen (None: now)
    fork_result = solara.use_reactive(None)  # the what-if shown, if any
    play_interval = solara.use_reactive(150)  # ms between months when playing
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    solara.Title("partnersim: partnership workshop")  # the browser tab's name
    try:
        seed = coerce_seed(seed_text.value)
    except InputError:
        seed = built.value[1]
    pending = model_kwargs(values.value, seed, scenario.value.interventions)

    def on_model_change() -> None:  # Mesa's Reset or a load built a new model
        applied.set(())
        replay.set(None)
        fork_result.set(None)
        built.set((dict(values.value), seed))

    solara.use_effect(on_model_change, [model.value])

    def stop_when_closed() -> Callable[[], None]:
        def stop() -> None:  # the page closed (its kernel ends): its run must not go on
            current = model.value
            if isinstance(current, SessionModel) and not current.stopped:
                could_go_on = current.running
                current.stop()
                if could_go_on:
                    print(f"partnersim dashboard: a page closed; its run stopped at month "
                          f"{int(current.month)}", flush=True)
        return stop

    solara.use_effect(stop_when_closed, [])

    def on_load(loaded: Scenario) -> None:
        new_values = loaded.params.model_dump()
        values.set(new_values)
        seed_text.set(str(loaded.seed))
        scenario.set(loaded)
        model.set(build_model(new_values, loaded.seed, loaded.interventions))

    def on_applied(iv: Any) -> None:
        applied.set((*applied.value, iv))

    def save_text() -> str:
        b_values, b_seed = built.value
        return dump_scenario(saved_scenario(scenario.value, b_values, b_seed, applied.value,
                                            int(model.value.month)))

    stale = (values.value, seed) != built.value
    with solara.Column(style={"padding": "8px"}):
        # the run's buttons sit first in both views, so switching view keeps them (and a
        # run that is playing) as they are
        with solara.Row(style={"align-items": "center", "gap": "16px"},
                        classes=["partnersim-run"]):
            with solara.Div(style={"min-width": "260px"}):
                ModelController(model, model_parameters=pending, play_interval=play_interval,
                                render_interval=render_interval, use_threads=use_threads)
            solara.Button("Full controls" if presenting.value else "Presentation view",
                          on_click=lambda: presenting.set(not presenting.value),
                          classes=["partnersim-view-toggle"], outlined=True, color="primary")
        if presenting.value:
            PresentationView(model.value, measures, replay, fork_result)
        else:
            StatusView(model.value)
            InterventionPanel(model.value, on_applied)
            with solara.Columns([4, 5]):
                NetworkView(model.value, replay.value)
                SeriesView(model.value)
            with solara.Card("What if? and replay", margin=0):
                WhatIfPanel(model.value, replay.value, fork_result)
                ReplayPanel(model.value, replay)
                CurvesView(model.value, measures.value, FULL_STYLE, replay.value,
                           fork_result.value)
    if not presenting.value:  # the projector gets the whole screen
        with solara.AppBar():
            solara.AppBarTitle("partnersim: partnership workshop")
        with solara.Sidebar():
            ScenarioPanel(on_load, save_text, f"{scenario.value.name}-dashboard.toml", files)
            with solara.Card("Curves for the presentation view", margin=0):
                MeasurePicker(measures)
            with solara.Card("Model settings (apply on Reset)", margin=0):
                ParameterControls(values, seed_text, stale)


FULL_STYLE = Style(width=420, height=90, font=13)
"""The what-if and replay curves in the full control view."""


@solara.component
def MeasurePicker(measures: solara.Reactive[tuple[str, ...]]) -> None:
    """Which two or three monthly measures the presentation view draws (one to four)."""
    titles = {measure_title(m): m for m in outputs.MONTHLY}
    chosen = [measure_title(m) for m in measures.value]

    def pick(new: list[str]) -> None:
        if 1 <= len(new) <= 4:
            measures.set(tuple(titles[t] for t in new))

    solara.SelectMultiple("Curves (one to four)", values=chosen, all_values=list(titles),
                          on_value=pick)
