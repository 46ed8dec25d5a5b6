"""Figures of scenario discovery: PRIM's trade-off curve and the chosen box's limits.

Each ``plot_x(result, ..., ax=None) -> Axes`` draws a ``study.discovery.PrimResult`` on the
given Axes, or on a new Agg-rendered figure (``plots.new_axes``) when ``ax`` is None, as
the other figure modules of ``present`` do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm

from partnersim.present.plots import new_axes

if TYPE_CHECKING:
    from partnersim.study.discovery import PrimResult


def plot_prim_tradeoff(result: PrimResult, ax: Axes | None = None) -> Axes:
    """PRIM's peeling trajectory: coverage against density, one point per candidate box,
    coloured by the number of restricted dimensions; the chosen box ringed and labelled."""
    ax = ax if ax is not None else new_axes((5.6, 4.4))
    t = result.trajectory
    top = max(int(t["res_dim"].max()), 1)
    cmap = colormaps["viridis"].resampled(top + 1)
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
    points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap=cmap, norm=norm,
                        s=22, zorder=2)
    bar = ax.figure.colorbar(points, ax=ax, ticks=range(top + 1))
    bar.set_label("restricted dimensions")
    ax.scatter([result.coverage], [result.density], s=160, facecolors="none",
               edgecolors="crimson", linewidths=1.6, zorder=3)
    ax.annotate(f"box {result.chosen}\ncoverage {result.coverage:.0%}, "
                f"density {result.density:.0%}",
                (result.coverage, result.density), xytext=(-10, -28),
                textcoords="offset points", ha="right", fontsize=8, color="crimson")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage (share of the futures in question that the box holds)")
    ax.set_ylabel("density (share of the box's futures in question)")
    ax.set_title(_wrap(result.question), fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def plot_box_limits(result: PrimResult, x: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The chosen box's limits on each restricted dimension, as a share of the dimension's
    range in ``x`` (the futures it was found in), with the limits and their quasi-p-values
    written at the ends; a categorical dimension lists the categories the box keeps."""
    limits = result.limits
    ax = ax if ax is not None else new_axes((6.4, 1.0 + 0.6 * max(len(limits), 1)))
    if limits.empty:
        ax.text(0.5, 0.5, "no restriction: the box is every future", ha="center",
                va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    for k, row in enumerate(limits.itertuples(index=False)):
        y = len(limits) - 1 - k
        ax.plot([0, 1], [y, y], color="0.8", lw=6, solid_capstyle="butt", zorder=1)
        if row.categories is not None and not _isnan(row.categories):
            kept = ", ".join(str(c) for c in row.categories)
            qp = "" if _isnan(row.qp_lower) else f" (qp {row.qp_lower:.1g})"
            ax.text(0.5, y + 0.18, f"{kept}{qp}", ha="center", va="bottom", fontsize=8)
            continue
        lo_x, hi_x = float(x[row.uncertainty].min()), float(x[row.uncertainty].max())
        span = hi_x - lo_x or 1.0
        a, b = (row.lower - lo_x) / span, (row.upper - lo_x) / span
        ax.plot([a, b], [y, y], color="tab:blue", lw=6, solid_capstyle="butt", zorder=2)
        for end, value, qp, align in ((a, row.lower, row.qp_lower, "left"),
                                      (b, row.upper, row.qp_upper, "right")):
            if _isnan(qp):
                continue
            ax.text(end, y + 0.18, f"{value:.3g} (qp {qp:.1g})", ha=align, va="bottom",
                    fontsize=8)
        ax.text(0, y - 0.22, f"{lo_x:.3g}", ha="left", va="top", fontsize=7, color="0.4")
        ax.text(1, y - 0.22, f"{hi_x:.3g}", ha="right", va="top", fontsize=7, color="0.4")
    ax.set_yticks(range(len(limits)))
    ax.set_yticklabels([u.replace("_", " ") for u in limits["uncertainty"]][::-1])
    ax.set_ylim(-0.7, len(limits) - 0.3)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.5, 1])
    ax.set_xticklabels(["lowest", "middle", "highest"])
    ax.set_xlabel("share of each uncertainty's range in the futures")
    ax.set_title(_wrap(f"{result.question}: box {result.chosen}, coverage "
                       f"{result.coverage:.0%}, density {result.density:.0%}"), fontsize=10)
    return ax


def _isnan(v: object) -> bool:
    return isinstance(v, float) and np.isnan(v)


def _wrap(text: str, width: int = 60) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return "\n".join([*lines, line])
