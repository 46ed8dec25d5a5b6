"""The workshop dashboard: a Solara page of Mesa SolaraViz parts and partnersim components.

What is here: controls generated from the parameter declarations (grouped by
lever), the trust network, the time series with interventions marked, a
plain-language status line, live intervention buttons, and loading and saving
scenario files. What is not here: model rules or measures; every number shown
comes from the model (``levers``, ``events``, ``measures_frame()``, the staff
and tie arrays).

Each browser session gets its own model: all state is created inside the
``Page`` component (``solara.use_reactive``/``use_memo``), never at module level.
Mesa's ``ModelController`` supplies Step, Play and Reset; Reset rebuilds the
model as ``PartnershipModel(**kwargs)`` from this session's pending settings.

Serve it with ``partnersim dashboard`` (see ``partnersim.dashboard.server``).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import force_update, update_counter

from partnersim.dashboard.server import SCENARIO_ENV
from partnersim.errors import InputError
from partnersim.inputs.scenarios import (
    MAX_SEED,
    Scenario,
    dump_scenario,
    load_scenario,
    make_scenario,
    parse_scenario,
)
from partnersim.model.interventions import (
    BudgetCut,
    ChampionLeaves,
    Communication,
    GroundRules,
    LeaderLeaves,
    PressureSurge,
    Resources,
    parse_interventions,
)
from partnersim.model.partnership import PartnershipModel
from partnersim.model.stages import effective_leadership
from partnersim.params import PARAMETERS, SECTORS, ParamSpec, make_params
from partnersim.seeding import replicate_seeds

# ----------------------------------------------------------------------------------
# controls from the parameter declarations

GROUP_TITLES: dict[str, str] = {
    "structure": "Structure",
    "leadership": "Leadership",
    "champions": "Champions",
    "resources": "Resources",
    "ground_rules": "Ground rules",
    "communication": "Communication",
    "vision": "Vision and shared definitions",
    "relationship_time": "Time for relationships",
    "decision_rule": "Decision rule",
    "starting_conditions": "Starting conditions",
    "trust": "Trust",
    "meeting": "Meetings",
    "joint_work": "Joint work and small wins",
    "record": "Partnership record and confidence",
    "commitment": "Commitment",
    "turnover": "Turnover",
    "capacity": "Capacity",
    "delivery": "Service delivery",
    "health": "Population health",
    "costs": "Costs",
}
"""Readable titles of the lever groups, in the order the dashboard shows them."""

_WORDS = {"p": "chance", "n": "number of", "gbp": "GBP"}


@dataclass(frozen=True)
class Control:
    """One dashboard control generated from a parameter declaration.

    Attributes:
        name: the parameter's name (also the model keyword and the TOML key).
        kind: ``"int"``, ``"float"``, ``"bool"`` or ``"choice"``.
        label: readable label with the unit.
        default: the declared default.
        lower: declared lower bound (numeric kinds).
        upper: declared upper bound (numeric kinds).
        step: slider step (numeric kinds).
        choices: the allowed values (choice kind).
        description: the declaration's one-line description.
    """

    name: str
    kind: str
    label: str
    default: Any
    lower: float | None = None
    upper: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""


def readable_label(spec: ParamSpec) -> str:
    """A slider label a workshop can read: words from the name, then the unit.

    >>> readable_label(PARAMETERS["p_chair_leaves"])
    'Chance chair leaves (per month)'
    """
    words = spec.name.split("_")
    if words[0] in _WORDS:
        words[0] = _WORDS[words[0]]
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    if spec.unit in ("flag", "choice"):
        return text
    return f"{text} ({spec.unit})"


def _nice_step(lower: float, upper: float) -> float:
    """A round slider step giving about 100 to 200 positions over the range."""
    span = upper - lower
    if span <= 0:
        return 1.0
    raw = span / 100
    mag = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * mag:
            return float(mult * mag)
    return float(10 * mag)


def make_control(spec: ParamSpec) -> Control:
    """The control for one declared parameter, with the declared bounds."""
    common = {"name": spec.name, "kind": spec.type, "label": readable_label(spec),
              "default": spec.default, "description": spec.description}
    if spec.type == "int":
        return Control(**common, lower=spec.lower, upper=spec.upper, step=1)
    if spec.type == "float":
        if spec.lower is None or spec.upper is None:
            raise ValueError(f"{spec.name}: a float parameter needs declared bounds")
        return Control(**common, lower=spec.lower, upper=spec.upper,
                       step=_nice_step(spec.lower, spec.upper))
    if spec.type == "choice":
        return Control(**common, choices=spec.choices)
    return Control(**common)


def controls_by_group(specs: dict[str, ParamSpec] | None = None) -> dict[str, list[Control]]:
    """Controls for every declared parameter, grouped by lever in ``GROUP_TITLES`` order.

    Groups the titles do not know come last, titled from their names, so a new
    lever group shows up without a change here.
    """
    specs = PARAMETERS if specs is None else specs
    groups: dict[str, list[Control]] = {g: [] for g in GROUP_TITLES}
    for spec in specs.values():
        groups.setdefault(spec.group, []).append(make_control(spec))
    return {g: cs for g, cs in groups.items() if cs}


def group_title(group: str) -> str:
    """Readable title of a lever group."""
    return GROUP_TITLES.get(group, group.replace("_", " ").capitalize())


def coerce_value(control: Control, value: Any) -> Any:
    """Coerce a widget's value to the parameter's declared type, clipped to its bounds.

    Sliders send floats for integer parameters and text boxes send strings; the
    model validates strictly, so values are converted here.

    Raises:
        InputError: for a value that cannot be read as the declared type.
    """
    try:
        if control.kind == "int":
            out: Any = int(round(float(value)))
        elif control.kind == "float":
            out = float(value)
        elif control.kind == "bool":
            out = value.strip().lower() in ("1", "true", "yes", "on") if isinstance(
                value, str) else bool(value)
            return out
        else:
            out = str(value)
            if control.choices and out not in control.choices:
                raise ValueError(out)
            return out
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a valid {control.kind}", key=control.name) from None
    if control.lower is not None:
        out = max(out, type(out)(control.lower))
    if control.upper is not None:
        out = min(out, type(out)(control.upper))
    return out


def coerce_seed(text: Any) -> int:
    """Read the seed box (a string in the browser) as a whole number in [0, 2**63 - 1].

    Raises:
        InputError: when the text is not such a number.
    """
    if isinstance(text, bool):
        raise InputError(f"{text!r} is not a whole number", key="seed")
    if isinstance(text, int):
        value = text
    else:
        raw = str(text).strip() if text is not None else ""
        try:
            value = int(raw)  # exact, however many digits
        except ValueError:
            try:
                number = float(raw)  # "4.0" or "1e3"
            except ValueError:
                raise InputError(f"{text!r} is not a whole number", key="seed") from None
            if not number.is_integer():
                raise InputError(f"{text!r} is not a whole number", key="seed") from None
            value = int(number)
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"{value} is outside [0, {MAX_SEED}]", key="seed")
    return value


def format_value(control: Control, value: Any) -> str:
    """Short text for a control's current value."""
    if control.kind == "float":
        return f"{value:.4g}"
    if control.kind == "bool":
        return "on" if value else "off"
    return str(value)


# ----------------------------------------------------------------------------------
# scenarios: what the dashboard loads and saves (files read and written by partnersim.inputs.scenarios)


def default_scenario() -> Scenario:
    """The scenario a session starts from when no file is given: every default, one run."""
    return make_scenario(name="dashboard",
                         question="What happens to this partnership over time?")


def read_scenario(path: Path | str, text: str | None = None) -> Scenario:
    """Read and validate a scenario file, or the text of an uploaded one.

    Raises:
        InputError: naming the file, the key and what was expected.
    """
    if text is None:
        return load_scenario(path)
    return parse_scenario(text, source=str(path), default_name=_safe_name(Path(path).stem))


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "scenario"
    return name[:60]


def saved_scenario(
    base: Scenario,
    values: dict[str, Any],
    seed: int,
    applied: Sequence[Any],
    month: int,
) -> Scenario:
    """The scenario that reproduces a dashboard run as its replicate 0.

    Args:
        base: the scenario the run was loaded from (its scheduled interventions,
            replicates and question are kept).
        values: the parameter values the running model was built with.
        seed: the master seed the running model was built with.
        applied: live interventions applied to the running model, with their months.
        month: the month the run has reached (recorded in the description).

    Live interventions go before scheduled ones of the same month, because a
    button pressed at month m acts before month m's scheduled interventions,
    which the model applies at the start of month m's step.
    """
    horizon = int(values.get("horizon_months", PARAMETERS["horizon_months"].default))
    order = [(iv.month, 0, i, iv) for i, iv in enumerate(applied)]
    # scheduled interventions past a shortened horizon never acted: a file cannot hold them
    order += [(iv.month, 1, i, iv) for i, iv in enumerate(base.interventions)
              if _fits_horizon(iv, horizon)]
    ivs = tuple(iv for *_, iv in sorted(order, key=lambda t: t[:3]))
    name = base.name if base.name.endswith("-dashboard") else f"{base.name[:60]}-dashboard"
    return make_scenario(
        name=name,
        question=base.question or "What happened in the workshop run?",
        description=(f"Saved from the partnersim dashboard at month {month}: the settings "
                     "of the run on screen and every intervention applied, with its month. "
                     "Replicate 0 reproduces the dashboard's run."),
        params=make_params(values),
        interventions=ivs,
        replicates=base.replicates,
        seed=seed,
        measures=base.measures,
    )


def _fits_horizon(iv: Any, horizon: int) -> bool:
    try:
        parse_interventions([iv.model_dump(exclude_none=True)], horizon_months=horizon)
    except InputError:
        return False
    return True


def scenario_files(extra: Sequence[Path] = ()) -> list[Path]:
    """Scenario files the load menu offers: any given, then ``scenarios/*.toml`` here."""
    found = list(extra)
    folder = Path.cwd() / "scenarios"
    if folder.is_dir():
        found += sorted(folder.glob("*.toml"))
    seen: set[Path] = set()
    out = []
    for p in found:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            out.append(p)
    return out


# ----------------------------------------------------------------------------------
# the model, seen from the dashboard


def run_seed(master: int) -> int:
    """The seed of replicate 0 of a scenario with this master seed: what the dashboard shows,
    so that ``partnersim run`` on a saved file reproduces the dashboard's run as replicate 0."""
    return replicate_seeds(master, 1)[0]


def model_kwargs(values: dict[str, Any], seed: int, interventions: Sequence[Any]) -> dict[str, Any]:
    """Keyword arguments that build the model (what Mesa's Reset passes to the class)."""
    return {**values, "rng": run_seed(seed), "interventions": tuple(interventions)}


class SessionModel(PartnershipModel):
    """``PartnershipModel`` with a lock, so that a button pressed while the model plays in
    Mesa's worker thread acts between two months, never inside one, and a figure is never
    drawn from half-updated arrays. The rules are the parent's; nothing else differs."""

    def __init__(self, **kwargs: Any) -> None:
        self.lock = threading.RLock()
        super().__init__(**kwargs)

    def step(self) -> None:
        """One month, holding the lock."""
        with self.lock:
            super().step()

    def apply_intervention(self, intervention: Any) -> None:
        """Apply an intervention now, holding the lock."""
        with self.lock:
            super().apply_intervention(intervention)


# Mesa's Reset rebuilds the model as type(model)(**kwargs) and checks the keywords
# against the signature: keep the parent's explicit one.
SessionModel.__init__.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    PartnershipModel.__init__)


def model_lock(model: Any) -> Any:
    """The model's lock (a no-op context for models without one)."""
    return getattr(model, "lock", None) or contextlib.nullcontext()


def build_model(values: dict[str, Any], seed: int, interventions: Sequence[Any]) -> Any:
    """A new model from parameter values, a master seed and scheduled interventions."""
    return SessionModel(**model_kwargs(values, seed, interventions))


LIVE_INTERVENTIONS: dict[str, tuple[str, Callable[[Any, int], Any]]] = {
    "chair_leaves": ("The chair leaves", lambda m, t: LeaderLeaves(kind="leader_leaves", month=t)),
    "champion_leaves": ("A champion leaves",
                        lambda m, t: ChampionLeaves(kind="champion_leaves", month=t, count=1)),
    "ground_rules": ("Introduce ground rules",
                     lambda m, t: GroundRules(kind="ground_rules", month=t, strength=1.0)),
    "two_way": ("Two-way communication",
                lambda m, t: Communication(kind="communication", month=t, mode="two_way")),
    "budget_cut": ("Cut budget by half", lambda m, t: BudgetCut(kind="budget_cut", month=t,
                                                                share=0.5)),
    "budget_add": ("Add £10k a month budget", lambda m, t: Resources(
        kind="resources", month=t,
        budget=float(min(1000.0, m.levers["capacity_budget"] + 10.0)),
        earmark=m.levers.get("budget_earmark", "none"))),
    "pressure_surge": ("Pressure surge",
                       lambda m, t: PressureSurge(kind="pressure_surge", month=t, extra=0.5)),
}
"""The live buttons: key -> (label, factory of the intervention at the current month)."""


def status_line(model: Any) -> str:
    """A plain-language sentence on where the partnership is, e.g.
    ``"Month 14: trust across agencies is rising (0.42)."``"""
    frame = model.measures_frame()
    month = int(model.month)
    if month == 0 or len(frame) < 2 or "trust_across" not in frame:
        return f"Month {month}: the partnership is forming. Press Step or ▶ to run it."
    across = frame["trust_across"].to_numpy(dtype=float)
    now, before = across[-1], across[max(0, len(across) - 4)]
    change = now - before
    trend = "rising" if change > 0.005 else "falling" if change < -0.005 else "holding steady"
    text = f"Month {month}: trust across agencies is {trend} ({now:.2f})"
    if "output" in frame and len(frame) >= 4:
        out = frame["output"].to_numpy(dtype=float)
        d = out[-1] - out[-4]
        scale = max(abs(out[-4]), 1e-9)
        if abs(d) / scale > 0.01:
            text += f"; service output is {'up' if d > 0 else 'down'} {abs(d) / scale:.0%}"
            text += " on three months ago"
    if not model.running:
        text += ". The run has ended"
    return text + "."


def lever_summary(model: Any) -> str:
    """The live levers a facilitator changes with the buttons, in one line.

    Leadership is shown as the model acts on it (``effective_leadership``): after
    the chair leaves it drops and recovers while a new chair settles in.
    """
    lv = model.levers
    in_effect = effective_leadership(model)
    if abs(in_effect - lv["leadership"]) < 0.005:
        parts = [f"leadership {in_effect:.2f}"]
    else:
        parts = [f"leadership {in_effect:.2f} of {lv['leadership']:.2f} "
                 "(a new chair is settling in)"]
    parts.append("joint chairs" if lv.get("joint_chair") else "one chair")
    if "ground_rules" in lv:
        parts.append(f"ground rules {lv['ground_rules']:.2f}")
    if "communication_mode" in lv:
        parts.append(f"communication {str(lv['communication_mode']).replace('_', '-')}")
    if "capacity_budget" in lv:
        parts.append(f"budget £{lv['capacity_budget']:.0f}k/month")
    if "service_pressure" in lv:
        parts.append(f"service pressure {lv['service_pressure']:.2f}")
    champions = int(np.count_nonzero(model.staff.champion))
    parts.append(f"{champions} champion{'s' if champions != 1 else ''}")
    return "Levers now: " + ", ".join(parts)


# ----------------------------------------------------------------------------------
# renderers: a persistent matplotlib figure per model, updated in place each step

AGENCY_COLOURS = ("#1f77b4", "#17becf", "#d62728", "#2ca02c", "#ff7f0e")
"""Node colours by sector, in ``SECTORS`` order."""

MAX_EDGES = 1200
"""The network shows at most this many ties, the most trusting first (keeps a step fast)."""

MIN_EDGE_TRUST = 0.05
"""Ties below this trust are not drawn."""


def stable_layout(agency: np.ndarray, senior: np.ndarray, seed: int = 0) -> np.ndarray:
    """Node positions that depend only on each slot's agency and level, so they never jump.

    Agencies sit on a circle; each agency's staff fill a sunflower (phyllotaxis)
    disc around its centre, senior staff innermost, with a little seeded
    jitter so that rows do not line up. Computed once per model and reused.

    Args:
        agency: agency index per staff slot.
        senior: True for senior staff.
        seed: seed of the jitter.

    Returns:
        An ``(n, 2)`` array of positions.
    """
    rng = np.random.default_rng(seed)
    n = agency.size
    pos = np.zeros((n, 2))
    n_agencies = int(agency.max()) + 1 if n else 0
    golden = math.pi * (3 - math.sqrt(5))
    for a in range(n_agencies):
        idx = np.flatnonzero(agency == a)
        if idx.size == 0:
            continue
        order = idx[np.lexsort((idx, ~senior[idx]))]  # seniors first, then by slot
        k = np.arange(order.size)
        r = 0.42 * np.sqrt((k + 0.5) / max(order.size, 1))
        theta = k * golden
        angle = 2 * math.pi * a / max(n_agencies, 1) + math.pi / 2
        centre = np.array([math.cos(angle), math.sin(angle)])
        pos[order, 0] = centre[0] + r * np.cos(theta)
        pos[order, 1] = centre[1] + r * np.sin(theta)
    return pos + rng.normal(0.0, 0.008, size=pos.shape)


class _BlitFigure:
    """A matplotlib figure whose static parts are rendered once and whose data artists are
    drawn over a cached copy of them (blitting), encoded straight to PNG.

    A full draw of a six-panel figure costs about 100 ms, mostly ticks, labels and
    legends that do not change from month to month; restoring the cached pixels and
    drawing only the data artists costs a fraction of that. Subclasses call
    ``_frame(key, dynamic)``: when ``key`` (what the static parts depend on, e.g.
    axis limits) changes, the background is drawn again.
    """

    def __init__(self, width: float, height: float, dpi: int):
        self.fig = Figure(figsize=(width, height), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self._background: Any = None
        self._key: Any = None

    def _frame(self, key: Any, dynamic: Sequence[Any]) -> bytes:
        if key != self._key or self._background is None:
            for artist in dynamic:
                artist.set_visible(False)
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
            for artist in dynamic:
                artist.set_visible(True)
        else:
            self.canvas.restore_region(self._background)
        for artist in dynamic:
            artist.axes.draw_artist(artist)
        rgba = np.asarray(self.canvas.buffer_rgba())
        buf = io.BytesIO()
        PIL.Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()


class NetworkPlot(_BlitFigure):
    """The trust network of one model: positions fixed at creation, artists updated in place."""

    def __init__(self, model: Any, width: float = 5.6, height: float = 4.8, dpi: int = 80):
        super().__init__(width, height, dpi)
        staff = model.staff
        self.agency = np.asarray(staff.agency, dtype=int)
        self.pos = stable_layout(self.agency, np.asarray(staff.level) == 0, seed=0)
        ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        ax.set_xlim(-2.05, 2.05)
        ax.set_ylim(-1.75, 1.75)
        ax.set_aspect("equal")
        self.ax = ax
        self.edges = LineCollection([], cmap="RdYlGn", linewidths=0.5, zorder=1)
        self.edges.set_clim(0.0, 1.0)
        ax.add_collection(self.edges)
        self.nodes = ax.scatter([], [], s=18, zorder=2, linewidths=0)
        self.champions = ax.scatter([], [], s=70, marker="*", c="black", zorder=3,
                                    label="champion")
        self.chairs = ax.scatter([], [], s=130, marker="s", facecolors="none",
                                 edgecolors="black", linewidths=1.6, zorder=4, label="chair")
        n_ag = int(self.agency.max()) + 1 if self.agency.size else 0
        for a in range(n_ag):
            angle = 2 * math.pi * a / max(n_ag, 1) + math.pi / 2
            c, s_ = math.cos(angle), math.sin(angle)
            # just outside the agency's disc, anchored away from it (data artists are drawn
            # over the background, so a label inside the disc would be hidden by nodes)
            ax.text(1.46 * c, 1.46 * s_,
                    SECTORS[a].replace("_", " ") if a < len(SECTORS) else f"agency {a}",
                    ha="right" if c < -0.3 else "left" if c > 0.3 else "center",
                    va="bottom" if s_ > 0.3 else "top" if s_ < -0.3 else "center",
                    fontsize=9, color=AGENCY_COLOURS[a % 5], fontweight="bold")
        ax.legend(loc="lower left", fontsize=8, frameon=False, handletextpad=0.2)
        self.shown = 0
        self.total = 0

    def _positions(self, n: int) -> np.ndarray:
        if n > self.pos.shape[0]:  # slots added since the layout was made: place them once
            agency = np.concatenate([self.agency, np.zeros(n - self.agency.size, dtype=int)])
            extra = stable_layout(agency, np.zeros(n, dtype=bool), seed=1)[self.pos.shape[0]:]
            self.pos = np.vstack([self.pos, extra])
            self.agency = agency
        return self.pos[:n]

    def render(self, model: Any) -> bytes:
        """Update the artists from the model's arrays and return a PNG."""
        staff, ties = model.staff, model.ties
        agency = np.asarray(staff.agency, dtype=int)
        pos = self._positions(agency.size)
        trust = np.asarray(ties.trust, dtype=float)
        src, dst = np.asarray(ties.src), np.asarray(ties.dst)
        keep = np.flatnonzero(trust >= MIN_EDGE_TRUST)
        if keep.size > MAX_EDGES:
            keep = keep[np.argpartition(trust[keep], -MAX_EDGES)[-MAX_EDGES:]]
        keep = keep[np.argsort(trust[keep], kind="stable")]  # strongest drawn on top
        t = trust[keep]
        self.edges.set_segments(np.stack([pos[src[keep]], pos[dst[keep]]], axis=1))
        self.edges.set_array(t)
        self.edges.set_linewidths(0.3 + 2.2 * t)
        self.nodes.set_offsets(pos)
        self.nodes.set_facecolors(np.array(AGENCY_COLOURS)[agency % len(AGENCY_COLOURS)])
        champ = np.flatnonzero(np.asarray(staff.champion, dtype=bool))
        self.champions.set_offsets(pos[champ] if champ.size else np.empty((0, 2)))
        chairs = np.asarray(getattr(model, "chairs", ()), dtype=int)
        chairs = chairs[(chairs >= 0) & (chairs < agency.size)]
        self.chairs.set_offsets(pos[chairs] if chairs.size else np.empty((0, 2)))
        self.shown, self.total = int(keep.size), int(trust.size)
        return self._frame(None, (self.edges, self.nodes, self.champions, self.chairs))


SERIES_PANELS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Trust and leadership", (("trust_within", "trust within agencies"),
                              ("trust_across", "trust across agencies"),
                              ("leadership", "leadership"))),
    ("Information", (("info_core", "core members"), ("info_periphery", "periphery"))),
    ("Capacity", (("capacity_*", ""),)),
    ("Small wins (total)", (("small_wins_total", "small wins"),)),
    ("Service output", (("output", "output"),)),
    ("Population health", (("health", "indicator"),)),
)
"""Time-series panels: title and (column, legend) pairs; ``capacity_*`` means every
capacity column."""

_UNIT_PANELS = ("trust_within", "info_core", "capacity_*")
"""Panels of measures in [0, 1]: their axis always shows 0 to 1."""


def nice_limits(lo: float, hi: float) -> tuple[float, float]:
    """Axis limits rounded outward to round tick values, so they change only now and then
    (each change redraws the background) rather than with every new month."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0.0, 1.0
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    ticks = MaxNLocator(nbins=4).tick_values(lo, hi)
    return float(ticks[0]), float(ticks[-1])


class SeriesPlot(_BlitFigure):
    """The time series of one model: six panels, lines updated in place, events marked."""

    def __init__(self, horizon: int, width: float = 7.2, height: float = 5.0, dpi: int = 80):
        super().__init__(width, height, dpi)
        axes = self.fig.subplots(3, 2, sharex=True)
        self.fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.08, hspace=0.38,
                                 wspace=0.22)
        self.axes = list(axes.ravel())
        self.horizon = max(int(horizon), 1)
        self.lines: dict[str, Any] = {}
        self.columns: tuple[str, ...] = ()
        self.event_artists: list[Any] = []
        self.events_drawn: tuple[tuple[int, str], ...] = ()
        self.ylims: dict[int, tuple[float, float]] = {}
        for ax, (title, _) in zip(self.axes, SERIES_PANELS, strict=True):
            ax.set_title(title, fontsize=9, pad=3)
            ax.set_xlim(0, self.horizon)
            ax.set_ylim(0.0, 1.0)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.25)
        for ax in self.axes[-2:]:
            ax.set_xlabel("month", fontsize=8)

    def _limits(self, i: int, lo: float, hi: float, unit: bool) -> tuple[float, float]:
        """Axis limits that only ever widen, with headroom, so that the background (ticks,
        labels) is redrawn a handful of times per run rather than every month."""
        current = self.ylims.get(i, (0.0, 1.0) if unit else None)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return current or (0.0, 1.0)
        if current is not None and current[0] <= lo and hi <= current[1]:
            return current
        span = max(hi - lo, 0.1 * max(abs(lo), abs(hi)), 1e-6)
        low = lo - 0.25 * span
        new = nice_limits(low if lo < 0 else max(0.0, low), hi + 0.5 * span)
        if unit:
            new = (min(new[0], 0.0) if lo < 0 else 0.0, max(new[1], 1.0) if hi > 1 else 1.0)
        if current is not None:
            new = (min(new[0], current[0]), max(new[1], current[1]))
        self.ylims[i] = new
        return new

    def _make_lines(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        for ax, (_, series) in zip(self.axes, SERIES_PANELS, strict=True):
            for col, legend in series:
                if col == "capacity_*":
                    cap = [c for c in columns if c.startswith("capacity_")]
                    for c in cap:
                        (self.lines[c],) = ax.plot([], [], lw=1.1,
                                                   label=c.removeprefix("capacity_"))
                    if cap:
                        ax.legend(fontsize=6, ncol=3, loc="upper left", framealpha=0.7,
                                  borderpad=0.3)
                elif col in columns:
                    (self.lines[col],) = ax.plot([], [], lw=1.4, label=legend)
            if len(series) > 1 and series[0][0] != "capacity_*":
                ax.legend(fontsize=6.5, loc="lower right", framealpha=0.7, borderpad=0.3)

    def render(self, model: Any) -> bytes:
        """Update the lines and event markers from the model and return a PNG."""
        frame = model.measures_frame()
        if tuple(frame.columns) != self.columns:
            for line in self.lines.values():
                line.remove()
            self.lines = {}
            self._make_lines(list(frame.columns))
        months = frame["month"].to_numpy(dtype=float) if "month" in frame else np.arange(
            len(frame), dtype=float)
        limits = []
        for ax, (_, series) in zip(self.axes, SERIES_PANELS, strict=True):
            lo, hi = math.inf, -math.inf
            for col, line in self.lines.items():
                if line.axes is not ax:
                    continue
                y = frame[col].to_numpy(dtype=float)
                line.set_data(months, y)
                finite = y[np.isfinite(y)]
                if finite.size:
                    lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
            limits.append(self._limits(len(limits), lo, hi, series[0][0] in _UNIT_PANELS))
        events = tuple((int(m), str(label)) for m, label in getattr(model, "events", ()))
        key = (tuple(limits), events, self.columns)
        if key != self._key:
            for ax, lim in zip(self.axes, limits, strict=True):
                ax.set_ylim(*lim)
            if events != self.events_drawn:
                self._draw_events(events)
        return self._frame(key, tuple(self.lines.values()))

    def _draw_events(self, events: tuple[tuple[int, str], ...]) -> None:
        for artist in self.event_artists:
            artist.remove()
        self.event_artists = []
        for ax_i, ax in enumerate(self.axes):
            for month, label in events:
                self.event_artists.append(ax.axvline(month, color="0.25", lw=0.9, ls="--"))
                if ax_i < 2:  # labels on the top row only, so the panels stay readable
                    self.event_artists.append(ax.text(
                        month, 0.97, f" {label}", transform=ax.get_xaxis_transform(),
                        rotation=90, va="top", ha="right", fontsize=6.5, color="0.15"))
        self.events_drawn = events


# ----------------------------------------------------------------------------------
# components


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
    from ipyvuetify.extra import FileInput

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
    scenario = _initial_scenario()
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
    files = solara.use_memo(lambda: scenario_files(_cli_scenario()), [])
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


def _cli_scenario() -> list[Path]:
    env = os.environ.get(SCENARIO_ENV)
    return [Path(env)] if env else []


def _initial_scenario() -> Scenario:
    paths = _cli_scenario()
    return read_scenario(paths[0]) if paths else default_scenario()
