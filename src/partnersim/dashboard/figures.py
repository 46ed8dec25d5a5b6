"""The dashboard's figures: the trust network and the time series of one model, each a
persistent matplotlib figure updated in place every month and encoded to PNG.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from partnersim import outputs
from partnersim.params import SECTORS

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

    def __init__(self, model: Any, width: float = 5.6, height: float = 4.8, dpi: int = 80,
                 label_size: float = 9):
        """A network figure of ``width`` x ``height`` inches; agency names in ``label_size``
        points (the presentation view uses larger type, with more room around the discs)."""
        super().__init__(width, height, dpi)
        staff = model.staff
        self.agency = np.asarray(staff.agency, dtype=int)
        self.pos = stable_layout(self.agency, np.asarray(staff.level) == 0, seed=0)
        ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        room = 1.0 + 0.045 * max(label_size - 9, 0)  # long names at large sizes fit
        ax.set_xlim(-2.05 * room, 2.05 * room)
        ax.set_ylim(-1.75 * room, 1.75 * room)
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
                    fontsize=label_size, color=AGENCY_COLOURS[a % 5], fontweight="bold")
        ax.legend(loc="lower left", fontsize=label_size - 1, frameon=False, handletextpad=0.2)
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


COMPACT_LEGEND = 4
"""Panels of this many measures or more get a small three-column legend and thinner lines."""


def legend(panel: str, name: str) -> str:
    """A measure's legend in its panel: its declared label (``outputs.label``), less the
    panel's title where the label starts with it ("capacity, strategic" reads "strategic"
    in the "Capacity" panel)."""
    text = outputs.label(name)
    prefix = panel.lower() + ", "
    return text[len(prefix):] if text.lower().startswith(prefix) else text


def is_unit_panel(measures: Sequence[str]) -> bool:
    """True when every measure of a panel is declared in [0, 1]: its axis always shows 0 to 1."""
    return all(outputs.OUTPUTS[m].unit == "0-1" for m in measures)


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
    """The time series of one model: one panel per ``outputs.PANELS`` entry (title -> monthly
    measures), lines updated in place, events marked."""

    def __init__(self, horizon: int, width: float = 7.2, height: float = 5.0, dpi: int = 80):
        super().__init__(width, height, dpi)
        self.panels = tuple(outputs.PANELS.items())
        axes = self.fig.subplots(math.ceil(len(self.panels) / 2), 2, sharex=True, squeeze=False)
        self.fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.08, hspace=0.38,
                                 wspace=0.22)
        self.axes = list(axes.ravel())
        for spare in self.axes[len(self.panels):]:  # an odd number of panels
            spare.remove()
        self.axes = self.axes[: len(self.panels)]
        self.horizon = max(int(horizon), 1)
        self.lines: dict[str, Any] = {}
        self.columns: tuple[str, ...] = ()
        self.event_artists: list[Any] = []
        self.events_drawn: tuple[tuple[int, str], ...] = ()
        self.ylims: dict[int, tuple[float, float]] = {}
        for ax, (title, _) in zip(self.axes, self.panels, strict=True):
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
        for ax, (title, measures) in zip(self.axes, self.panels, strict=True):
            compact = len(measures) >= COMPACT_LEGEND
            shown = [m for m in measures if m in columns]
            for m in shown:
                (self.lines[m],) = ax.plot([], [], lw=1.1 if compact else 1.4,
                                           label=legend(title, m))
            if compact and shown:
                ax.legend(fontsize=6, ncol=3, loc="upper left", framealpha=0.7, borderpad=0.3)
            elif len(shown) > 1:
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
        for ax, (_, measures) in zip(self.axes, self.panels, strict=True):
            lo, hi = math.inf, -math.inf
            for col, line in self.lines.items():
                if line.axes is not ax:
                    continue
                y = frame[col].to_numpy(dtype=float)
                line.set_data(months, y)
                finite = y[np.isfinite(y)]
                if finite.size:
                    lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
            limits.append(self._limits(len(limits), lo, hi, is_unit_panel(measures)))
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
