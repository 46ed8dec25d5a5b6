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
from ipyvuetify.extra import FileInput
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import force_update, update_counter

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
    build_model,
    cli_scenario,
    initial_scenario,
    lever_summary,
    model_kwargs,
    model_lock,
    read_scenario,
    saved_scenario,
    scenario_files,
    status_line,
)
from partnersim.errors import InputError
from partnersim.inputs.scenarios import Scenario, dump_scenario


@solara.component
def NetworkView(model: Any) -> None:
    """The trust network, redrawn after every step or intervention."""
    count = update_counter.get()  # changes after every step and intervention
    plot = solara.use_memo(lambda: NetworkPlot(model), [model])

    def draw() -> bytes:
        with model_lock(model):
            return plot.render(model)

    # redrawn when the model changes, not when the page re-renders for a slider
    png = solara.use_memo(draw, [model, count])
    with solara.Card("Trust network", margin=0):
        solara.Image(png, format="png", width="100%", classes=["partnersim-network"])
        solara.Text(f"{len(model.staff.agency)} staff in "
                    f"{len(set(model.staff.agency.tolist()))} agencies; {plot.shown} of "
                    f"{plot.total} ties shown (month {int(model.month)}). Nodes: staff, "
                    "coloured by agency; ★ champion; □ chair. Edges: ties, greener and "
                    "thicker with more trust.",
                    style={"font-size": "12px", "color": "#555"})


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
    play_interval = solara.use_reactive(150)  # ms between months when playing
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    try:
        seed = coerce_seed(seed_text.value)
    except InputError:
        seed = built.value[1]
    pending = model_kwargs(values.value, seed, scenario.value.interventions)

    def on_model_change() -> None:  # Mesa's Reset or a load built a new model
        applied.set(())
        built.set((dict(values.value), seed))

    solara.use_effect(on_model_change, [model.value])

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
    with solara.AppBar():
        solara.AppBarTitle("partnersim: partnership workshop")
    with solara.Sidebar():
        with solara.Card("Run", margin=0):
            ModelController(model, model_parameters=pending, play_interval=play_interval,
                            render_interval=render_interval, use_threads=use_threads)
        ScenarioPanel(on_load, save_text, f"{scenario.value.name}-dashboard.toml", files)
        with solara.Card("Model settings (apply on Reset)", margin=0):
            ParameterControls(values, seed_text, stale)
    with solara.Column(style={"padding": "8px"}):
        StatusView(model.value)
        InterventionPanel(model.value, on_applied)
        with solara.Columns([4, 5]):
            NetworkView(model.value)
            SeriesView(model.value)
