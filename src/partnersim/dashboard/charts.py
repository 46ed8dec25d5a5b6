"""Interactive charts (Vega-Lite) for the presentation view and the what-if fork.

Each chart is a Vega-Lite specification, written here as a dict from a model's monthly
measures (Altair builds the same specifications, but at 130-400 ms a chart, too slow to
redraw every month; see docs/decisions.md, "Interactive charts"):
one panel per chosen measure, the interventions marked (dashed rule and label) where they
happened, and hover values (the nearest month's value in a tooltip). A fork draws the run
with the intervention solid and the run without it dashed, and beside each panel the
difference (with minus without) around a zero line.

The specifications are Vega-Lite 5, because Solara's Vega-Lite widget (the one behind
``solara.FigureAltair``) loads Vega 5, Vega-Lite 5 and Vega-Embed 6 from the asset cache.
No Solara here: the page hands a specification to the widget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from partnersim import outputs
from partnersim.dashboard.session import ForkResult

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
"""The schema the specifications declare: the Vega-Lite major version the page loads."""

PRESENTATION_MEASURES: tuple[str, ...] = ("trust_across", "output", "health")
"""The curves the presentation view shows unless the facilitator picks others."""

RUN_COLOURS = ("#1f5fa8", "#c0392b")
"""The run with the intervention (or the run on screen), and the run without it."""

CURSOR_COLOUR = "#e67e22"
"""The month being replayed."""


@dataclass(frozen=True)
class Style:
    """Sizes of one chart: pixels for the plot area and the type.

    Attributes:
        width: width of one panel's plot area (pixels).
        height: height of one panel's plot area (pixels).
        font: size of axis labels, titles, legends and event labels (pixels).
    """

    width: int = 520
    height: int = 120
    font: int = 18


LARGE = Style()
"""The presentation view: type of at least 18 px, readable at 1280x720 on a projector."""


def measure_title(name: str) -> str:
    """A panel's title: the declared label and its unit, e.g. ``service output (staff-months)``."""
    spec = outputs.OUTPUTS[name]
    unit = "" if spec.unit in ("0-1", "") else f" ({spec.unit})"
    return f"{outputs.label(name)}{unit}"



def _round(x: float) -> float | None:
    """A value for the chart's data: 5 significant digits (smaller pages), None for NaN."""
    if not math.isfinite(x):
        return None
    return float(f"{x:.5g}")


def series_rows(frame: pd.DataFrame, measure: str, run: str,
                start: int | None = None) -> list[dict[str, Any]]:
    """The data of one measure of one run: ``{"month", "value", "run"}`` per month
    (from ``start`` on, when given)."""
    if measure not in frame or frame.empty:
        return []
    months = frame["month"].to_numpy(int)
    values = frame[measure].to_numpy(float)
    keep = months >= start if start is not None else np.ones(months.size, bool)
    return [{"month": int(m), "value": _round(v), "run": run}
            for m, v in zip(months[keep], values[keep], strict=True)]


def _events(events: Sequence[tuple[int, str]], horizon: int = 120,
            style: Style | None = None) -> list[dict[str, Any]]:
    """The events' data, each with the pixel height of its label (``y``): a label that would
    overlap the one before it goes on the next of three lines."""
    style = style or LARGE
    px_per_month = style.width / max(int(horizon), 1)
    rows: list[dict[str, Any]] = []
    ends = [-math.inf] * 3  # where the last label on each line ends (pixels)
    for m, label in sorted(((int(m), str(label)) for m, label in events), key=lambda e: e[0]):
        x = m * px_per_month
        line = next((i for i, end in enumerate(ends) if x >= end), len(rows) % 3)
        ends[line] = x + (len(label) + 1) * 0.55 * style.font
        rows.append({"month": m, "event": label, "y": line * (style.font + 4)})
    return rows


def _x(horizon: int, start: int = 0, title: bool = True) -> dict[str, Any]:
    return {"field": "month", "type": "quantitative", "title": "month" if title else None,
            "scale": {"domain": [int(start), max(int(horizon), int(start) + 1)]}}


def _panel(rows: list[dict[str, Any]], measure: str, events: list[dict[str, Any]],
           horizon: int, style: Style, runs: Sequence[str], label_events: bool,
           index: int, cursor: int | None = None, last: bool = True) -> dict[str, Any]:
    """One measure: a line per run (solid, then dashed), event rules (and labels), and the
    nearest month's values on hover."""
    colour = {"field": "run", "type": "nominal", "title": None,
              "scale": {"domain": list(runs), "range": list(RUN_COLOURS[: len(runs)])},
              "legend": {"orient": "top"} if len(runs) > 1 else None}
    dash = {"field": "run", "type": "nominal", "legend": None,
            "scale": {"domain": list(runs), "range": [[1, 0], [8, 5]][: len(runs)]}}
    x = _x(horizon, title=last)
    y = {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False}}
    hover = f"hover{index}"
    layers: list[dict[str, Any]] = [
        {"mark": {"type": "line", "strokeWidth": 3},
         "encoding": {"x": x, "y": y, "color": colour, "strokeDash": dash}},
        {"mark": {"type": "point", "filled": True, "size": 110},
         "params": [{"name": hover, "select": {
             "type": "point", "fields": ["month"], "nearest": True, "on": "mouseover",
             "clear": "mouseout"}}],
         "encoding": {
             "x": x, "y": y, "color": colour,
             "opacity": {"condition": {"param": hover, "empty": False, "value": 1},
                         "value": 0},
             "tooltip": [{"field": "run", "type": "nominal", "title": "run"},
                         {"field": "month", "type": "quantitative", "title": "month"},
                         {"field": "value", "type": "quantitative",
                          "title": measure_title(measure), "format": ".4~g"}]}},
    ]
    if events:
        layers.append({
            "data": {"values": events},
            "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#333", "strokeWidth": 2},
            "encoding": {"x": {"field": "month", "type": "quantitative"},
                         "tooltip": [{"field": "month", "type": "quantitative"},
                                     {"field": "event", "type": "nominal"}]}})
        if label_events:
            layers.append({
                "data": {"values": events},
                "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4,
                         "dy": 2, "fontSize": style.font, "color": "#222"},
                "encoding": {"x": {"field": "month", "type": "quantitative"},
                             "y": {"field": "y", "type": "quantitative", "scale": None},
                             "text": {"field": "event"}}})
    if cursor is not None:
        layers.append({"data": {"values": [{"month": int(cursor)}]},
                       "mark": {"type": "rule", "color": CURSOR_COLOUR, "strokeWidth": 4},
                       "encoding": {"x": {"field": "month", "type": "quantitative"}}})
    return {"data": {"values": rows}, "layer": layers, "width": style.width,
            "height": style.height,
            "title": {"text": measure_title(measure), "anchor": "start",
                      "fontSize": style.font + 2, "limit": style.width}}


def _difference_panel(rows: list[dict[str, Any]], horizon: int, style: Style,
                      fork_month: int, last: bool = True) -> dict[str, Any]:
    """With minus without for one measure, around a zero line, from the fork month on."""
    x = _x(horizon, fork_month, title=last)
    return {
        "layer": [
            {"data": {"values": rows},
             "mark": {"type": "area", "opacity": 0.35, "color": RUN_COLOURS[0],
                      "line": {"color": RUN_COLOURS[0], "strokeWidth": 2}},
             "encoding": {"x": x, "y": {"field": "difference", "type": "quantitative",
                                        "title": None},
                          "tooltip": [{"field": "month", "type": "quantitative"},
                                      {"field": "difference", "type": "quantitative",
                                       "title": "with − without", "format": "+.3~g"}]}},
            {"data": {"values": [{"zero": 0}]}, "mark": {"type": "rule", "color": "#333"},
             "encoding": {"y": {"field": "zero", "type": "quantitative"}}},
        ],
        "width": max(int(style.width * 0.55), 120), "height": style.height,
        "title": {"text": "with − without", "anchor": "start", "fontSize": style.font},
    }


def _spec(body: dict[str, Any], style: Style) -> dict[str, Any]:
    return {
        "$schema": VEGA_LITE_SCHEMA,
        **body,
        # SVG (crisp on a projector, its text findable by tests); no actions menu, whose
        # "Open in Vega Editor" would leave the room's computer
        "usermeta": {"embedOptions": {"actions": False, "renderer": "svg"}},
        "config": {
            "axis": {"labelFontSize": style.font, "titleFontSize": style.font,
                     "gridOpacity": 0.35},
            "legend": {"labelFontSize": style.font, "titleFontSize": style.font,
                       "symbolStrokeWidth": 3, "symbolSize": 300, "labelLimit": 400},
            "title": {"fontSize": style.font + 2},
            "view": {"stroke": None},
        },
    }


def series_spec(frame: pd.DataFrame, measures: Sequence[str], events: Sequence[tuple[int, str]],
                horizon: int, style: Style = LARGE, run: str = "this run",
                cursor: int | None = None) -> dict[str, Any]:
    """The presentation curves: one panel per measure, events marked, hover values.

    Args:
        frame: the run's monthly measures (``model.measures_frame()``).
        measures: the measures to draw, one panel each, in order.
        events: ``(month, label)`` of every intervention so far.
        horizon: the run's last month (the x axis always spans the whole run).
        style: sizes.
        run: the run's name in tooltips.
        cursor: the month being replayed, marked by a solid orange line.
    """
    ev = _events(events, horizon, style)
    panels = [_panel(series_rows(frame, m, run), m, ev, horizon, style, [run],
                     label_events=(i == 0), index=i, cursor=cursor,
                     last=(i == len(measures) - 1)) for i, m in enumerate(measures)]
    return _spec({"vconcat": panels, "spacing": 6}, style)


def fork_spec(fork: ForkResult, measures: Sequence[str], horizon: int,
              style: Style = LARGE) -> dict[str, Any]:
    """The what-if chart: per measure, both runs (solid with, dashed without) and their
    difference; the fork month and every intervention marked."""
    runs = fork.runs
    ev = _events(fork.events_with, horizon, style)
    diff = fork.difference(measures)
    rows = []
    for i, m in enumerate(measures):
        data = (series_rows(fork.with_frame, m, runs[0])
                + series_rows(fork.without_frame, m, runs[1]))
        d = diff[diff["measure"] == m]
        d_rows = [{"month": int(mo), "difference": _round(float(v))}
                  for mo, v in zip(d["month"], d["difference"], strict=True)]
        last = i == len(measures) - 1
        rows.append({"hconcat": [
            _panel(data, m, ev, horizon, style, runs, label_events=(i == 0), index=i,
                   last=last),
            _difference_panel(d_rows, horizon, style, fork.month, last=last)],
            "spacing": 16})
    return _spec({"vconcat": rows, "spacing": 6}, style)


def fork_summary(fork: ForkResult, measure: str) -> str:
    """One sentence on what the intervention did to one measure, in the room's words, e.g.
    ``"By month 119, trust across agencies is 0.691 with introduce ground rules and 0.47
    without (+0.221); worse before better: behind until month 20."``

    "Hardly any difference" is said when the runs never differ by 1% of the measure's
    largest size. Otherwise "worse before better" (or "better at first, then worse") is said
    when the difference, in the direction the declaration calls better, is clearly below
    zero (more than a tenth of its largest size) before it is clearly above zero and stays
    there at the end.
    """
    diff = fork.difference([measure])
    if diff.empty:
        return f"The runs have not gone on past month {fork.month} yet."
    d = diff["difference"].to_numpy(float)
    months = diff["month"].to_numpy(int)
    last = int(months[-1])
    a = float(fork.with_frame.set_index("month").loc[last, measure])
    b = float(fork.without_frame.set_index("month").loc[last, measure])
    text = (f"By month {last}, {outputs.label(measure)} is {a:.3g} with "
            f"{fork.label[0].lower()}{fork.label[1:]} and {b:.3g} without ({d[-1]:+.3g})")
    level = float(np.nanmax(np.abs(fork.without_frame[measure].to_numpy(float))))
    if float(np.nanmax(np.abs(d))) < 0.01 * max(level, 1e-12):
        return text + "; hardly any difference."
    better = outputs.OUTPUTS[measure].better
    if better == 0:
        return text + "."
    signed = d * better
    scale = max(float(np.nanmax(np.abs(signed))), 1e-12)
    behind, ahead = signed < -0.1 * scale, signed > 0.1 * scale
    if behind.any() and ahead.any():
        first_behind, first_ahead = int(np.argmax(behind)), int(np.argmax(ahead))
        if first_behind < first_ahead and signed[-1] > 0:
            text += f"; worse before better: behind until month {months[first_ahead]}"
        elif first_ahead < first_behind and signed[-1] < 0:
            text += f"; better at first, then worse from month {months[first_behind]}"
    return text + "."
