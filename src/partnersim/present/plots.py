"""Figures over stored result tables: each ``plot_x(df, ..., ax=None) -> Axes``; no model runs here.

Every function takes a table as stored in a results folder (``runs``,
``timeseries``, or a comparison's ``differences`` / ``costs``) and draws on
the given Axes, or on a new figure when ``ax`` is None. New figures are plain
:class:`matplotlib.figure.Figure` objects rendered by the Agg canvas, so
nothing here touches pyplot's global state or needs a display; in a notebook,
show one with ``ax.figure`` or pass your own ``ax`` from ``plt.subplots()``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from partnersim.outputs import label

BAND = (5.0, 95.0)
"""Default percentile band across replicates in trajectory plots."""

TITLE_WIDTH = 44
"""Characters of a panel title that fit one line in the figure grids."""

PANEL = (4.6, 3.2)
"""Default width and height of one panel of a figure grid, in inches."""


def new_axes(figsize: tuple[float, float] = (6.4, 4.0)) -> Axes:
    """One Axes on a new Agg-rendered figure (no pyplot)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def new_grid(n: int, *, ncols: int = 2, panel: tuple[float, float] = PANEL) -> list[Axes]:
    """``n`` Axes in a grid on a new Agg-rendered figure; unused panels are hidden."""
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return axes[:n]


def _colors(n: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"] if n <= 10 else colormaps["tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _groups(df: pd.DataFrame, by: str | None) -> list[tuple[str, pd.DataFrame]]:
    if by is None or by not in df.columns:
        return [("", df)]
    return [(str(k), df[df[by] == k]) for k in pd.unique(df[by])]


# --------------------------------------------------------------------------- time series


def plot_trajectories(
    timeseries: pd.DataFrame,
    measure: str,
    *,
    by: str | None = "scenario",
    band: tuple[float, float] = BAND,
    ax: Axes | None = None,
) -> Axes:
    """Median trajectory of a monthly measure with a percentile band across replicates.

    Args:
        timeseries: Tidy table, one row per run and month, with ``month``,
            ``measure`` and (optionally) the ``by`` column.
        measure: Monthly measure to plot.
        by: Column whose values get one line each (``scenario``), or None.
        band: Lower and upper percentiles of the shaded band (default 5-95).
        ax: Axes to draw on.

    Returns:
        The Axes.
    """
    ax = ax or new_axes()
    groups = _groups(timeseries, by)
    for (name, g), color in zip(groups, _colors(len(groups)), strict=True):
        q = g.groupby("month")[measure].quantile([band[0] / 100, 0.5, band[1] / 100])
        q = q.unstack()
        months = q.index.to_numpy(dtype=float)
        ax.fill_between(months, q.iloc[:, 0], q.iloc[:, 2], color=color, alpha=0.2,
                        linewidth=0)
        ax.plot(months, q.iloc[:, 1], color=color, label=name or None, linewidth=1.8)
    ax.set_xlabel("month")
    ax.set_ylabel(label(measure))
    title = f"{label(measure)}: median, {band[0]:g}-{band[1]:g}% of runs"
    if len(title) > TITLE_WIDTH:  # a long label: the band on a line of its own
        title = title.replace(": median", "\nmedian")
    ax.set_title(title, fontsize=10)
    if len(groups) > 1:
        ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return ax


def plot_paired_trajectories(
    timeseries: pd.DataFrame,
    measure: str,
    *,
    reference: str,
    band: tuple[float, float] = BAND,
    ax: Axes | None = None,
) -> Axes:
    """Month-by-month paired difference (option minus reference, same seed) with a band.

    Shows when an option's effect appears, and whether it is worse before it
    is better. Needs ``scenario``, ``seed``, ``month`` and ``measure``.
    """
    ax = ax or new_axes()
    wide = timeseries.pivot_table(index=["seed", "month"], columns="scenario",
                                  values=measure, aggfunc="first")
    options = [s for s in pd.unique(timeseries["scenario"]) if s != reference]
    for name, color in zip(options, _colors(len(options)), strict=True):
        d = (wide[name] - wide[reference]).rename("d").reset_index()
        q = d.groupby("month")["d"].quantile([band[0] / 100, 0.5, band[1] / 100]).unstack()
        months = q.index.to_numpy(dtype=float)
        ax.fill_between(months, q.iloc[:, 0], q.iloc[:, 2], color=color, alpha=0.2,
                        linewidth=0)
        ax.plot(months, q.iloc[:, 1], color=color, label=name, linewidth=1.8)
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xlabel("month")
    ax.set_ylabel(f"difference in {label(measure)}")
    ax.set_title(f"{label(measure)} minus {reference} (paired seeds)", fontsize=10)
    if options:
        ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------- end of run


def plot_distribution(
    runs: pd.DataFrame,
    output: str,
    *,
    by: str | None = "scenario",
    ax: Axes | None = None,
) -> Axes:
    """An end-of-run output across replicates: a box per scenario with the runs as dots.

    Args:
        runs: The runs table (``output`` and, optionally, the ``by`` column).
        output: The end-of-run output to show.
        by: Column whose values get one box each (``scenario``), or None.
        ax: Axes to draw on.

    Returns:
        The Axes.
    """
    ax = ax or new_axes()
    groups = _groups(runs, by)
    data = [g[output].dropna().to_numpy(dtype=float) for _, g in groups]
    positions = np.arange(1, len(groups) + 1)
    ax.boxplot(data, positions=positions, widths=0.5, showfliers=False)
    jitter = np.linspace(-0.12, 0.12, num=max(len(d) for d in data) if data else 1)
    for pos, d, color in zip(positions, data, _colors(len(groups)), strict=True):
        ax.scatter(pos + jitter[: d.size], d, s=10, color=color, alpha=0.7, zorder=3)
    ax.set_xticks(positions, [name or output for name, _ in groups], rotation=20,
                  ha="right", fontsize=8)
    ax.set_ylabel(label(output))
    ax.set_title(label(output), fontsize=10)  # an end-of-run label says when it is taken
    ax.grid(alpha=0.3, axis="y")
    return ax


def plot_forest(
    differences: pd.DataFrame,
    output: str,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Forest plot of paired differences against the reference, with CIs, for one output.

    Args:
        differences: A comparison's differences table (``scenario``,
            ``output``, ``difference``, ``ci_low``, ``ci_high``, ``direction``).
        output: Which end-of-run output to show.
        ax: Axes to draw on.

    Returns:
        The Axes; intervals that exclude zero are drawn solid, others hollow.
    """
    ax = ax or new_axes()
    d = differences[differences["output"] == output].reset_index(drop=True)
    y = np.arange(len(d))[::-1]
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        solid = bool(r["ci_low"] > 0 or r["ci_high"] < 0)
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color="C0", linewidth=2)
        ax.plot([r["difference"]], [yi], marker="o", color="C0",
                markerfacecolor="C0" if solid else "white", markersize=7)
    ax.axvline(0.0, color="0.3", linewidth=0.8, linestyle="--")
    ax.set_yticks(y, list(d["scenario"]), fontsize=8)
    ref = d["reference"].iloc[0] if len(d) and "reference" in d else "reference"
    better = d["direction"].iloc[0] if len(d) and "direction" in d else "higher"
    ax.set_xlabel(f"minus {ref} ({better} is better)", fontsize=8)
    ax.set_title(label(output), fontsize=10)
    ax.set_ylim(-0.7, len(d) - 0.3)
    ax.grid(alpha=0.3, axis="x")
    return ax


def plot_cost_effect(
    costs: pd.DataFrame,
    outcome: str,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Cost-effect plane: effect gained (x, with CI) against incremental cost (y, with CI).

    Args:
        costs: A comparison's cost table (``scenario``, ``outcome``, ``effect``,
            ``effect_ci_low``/``high``, ``incremental_cost``, ``cost_ci_low``/``high``).
        outcome: Which outcome's effect to put on the x axis.
        ax: Axes to draw on.
    """
    ax = ax or new_axes()
    c = costs[costs["outcome"] == outcome]
    for (_, r), color in zip(c.iterrows(), _colors(len(c)), strict=True):
        xerr = [[r["effect"] - r["effect_ci_low"]], [r["effect_ci_high"] - r["effect"]]]
        yerr = [[r["incremental_cost"] - r["cost_ci_low"]],
                [r["cost_ci_high"] - r["incremental_cost"]]]
        ax.errorbar([r["effect"]], [r["incremental_cost"]], xerr=xerr, yerr=yerr, fmt="o",
                    color=color, capsize=3)
        # each point named beside it (a legend's marker can pass for another point)
        ax.annotate(r["scenario"], (r["effect"], r["incremental_cost"]), xytext=(6, 6),
                    textcoords="offset points", fontsize=8, color=color)
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.set_xlabel(f"gain in {label(outcome)}")
    ax.set_ylabel("incremental cost (GBP k)")
    ax.set_title("cost beside effect (up-right: pays more, gains more)", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------- output


def save_figure(ax_or_fig: Axes | Figure, path: str | Path, *, dpi: int = 110) -> Path:
    """Write a figure as PNG (parent folder must exist) and return the path."""
    fig = ax_or_fig.figure if isinstance(ax_or_fig, Axes) else ax_or_fig
    path = Path(path)
    fig.savefig(path, format="png", dpi=dpi)
    return path


def png_base64(path: str | Path) -> str:
    """A PNG file as base64 text, for embedding in HTML."""
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def available(df: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The names of ``names`` (measures or outputs) that are columns of ``df``, in order."""
    return [m for m in names if m in df.columns]


def save_grid(plot: Callable[..., Axes], df: pd.DataFrame, names: Sequence[str],
              path: str | Path, *, ncols: int = 2, panel: tuple[float, float] = PANEL,
              **options: Any) -> Path | None:
    """One panel per name in a grid: ``plot(df, name, ax=ax, **options)``, saved as PNG.

    Args:
        plot: A ``plot_x`` function of this module.
        df: The table it draws from.
        names: The measures or outputs, one panel each (e.g. ``available(df, wanted)``).
        path: The PNG file (its folder must exist).
        ncols: Panels per row.
        panel: Width and height of one panel, in inches.
        options: Passed on to ``plot`` (e.g. ``by=None``, ``reference=...``).

    Returns:
        The path, or None (nothing written) when there are no names or ``df`` is empty.
    """
    if not names or not len(df):
        return None
    axes = new_grid(len(names), ncols=ncols, panel=panel)
    for ax, name in zip(axes, names, strict=True):
        plot(df, name, ax=ax, **options)
    return save_figure(axes[0], path)
