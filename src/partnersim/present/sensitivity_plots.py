"""Plots of sensitivity tables: indices with CIs, convergence, time-resolved maps, Morris mu*-sigma.

Every function takes a stored, tidy table (as written by
``sensitivity.write_analysis``) and an optional ``Axes``, and returns the
``Axes`` it drew on (new axes sit on their own Agg ``Figure``: no pyplot, no
global backend state). Nothing here runs a model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from partnersim.study.sensitivity import Analysis

_ORDER = {"sobol": ("S1", "ST"), "fast": ("S1", "ST"), "rbd_fast": ("S1",),
          "delta": ("delta", "S1"), "pawn": ("median",), "morris": ("mu_star",)}


def _ax(ax: Axes | None, size: tuple[float, float] = (7, 4)) -> Axes:
    """The given axes, or new ones on an Agg figure (no pyplot, no global backend state)."""
    if ax is None:
        fig = Figure(figsize=size, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
    return ax


def _pick(df: pd.DataFrame, column: str, value: Any | None) -> tuple[pd.DataFrame, Any]:
    if value is None:
        value = df[column].iloc[0]
    return df[df[column] == value], value


def plot_indices(df: pd.DataFrame, output: str | None = None, method: str | None = None,
                 ax: Axes | None = None) -> Axes:
    """Bars of an output's main indices per parameter, with CI error bars.

    Args:
        df: The indices table (``output, method, param, index, value, conf``).
        output: Which output (default: the first).
        method: Which method (default: the first for that output).
        ax: Axes to draw on.
    """
    sub, output = _pick(df, "output", output)
    sub, method = _pick(sub, "method", method)
    n_params = sub["param"].nunique()
    ax = _ax(ax, (max(7.0, 0.28 * n_params + 2), 4.5))  # room for every parameter's name
    kinds = [k for k in _ORDER.get(method, ()) if k in set(sub["index"])] or [
        sub["index"].iloc[0]]
    wide = sub[sub["index"].isin(kinds)].pivot_table(index="param", columns="index",
                                                     values=["value", "conf"], sort=False)
    wide = wide.sort_values(("value", kinds[-1]), ascending=False)
    x = np.arange(len(wide))
    width = 0.8 / len(kinds)
    for i, k in enumerate(kinds):
        conf = wide[("conf", k)].to_numpy() if ("conf", k) in wide.columns else None
        ax.bar(x + (i - (len(kinds) - 1) / 2) * width, wide[("value", k)], width,
               yerr=None if conf is None or np.all(np.isnan(conf)) else conf, capsize=2,
               label=k)
    ax.set_xticks(x, wide.index, rotation=60, ha="right", fontsize=8)
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_ylabel("index")
    ax.set_title(f"{output}: {method} indices (bars: CI)")
    ax.legend()
    return ax


def plot_convergence(df: pd.DataFrame, output: str | None = None, method: str | None = None,
                     index: str | None = None, ax: Axes | None = None,
                     max_params: int = 8) -> Axes:
    """An index against sample size per parameter, with shaded CIs (the top parameters).

    Args:
        df: The convergence table (``output, method, n, param, index, value, conf``).
        output: Which output (default: the first).
        method: Which method (default: the first).
        index: Which index (default: the method's main one, e.g. ``ST``).
        ax: Axes to draw on.
        max_params: Parameters drawn, largest index at full size first.
    """
    ax = _ax(ax)
    sub, output = _pick(df, "output", output)
    sub, method = _pick(sub, "method", method)
    if index is None:
        index = _ORDER.get(method, (sub["index"].iloc[0],))[-1]
    sub = sub[sub["index"] == index]
    last = sub[sub["n"] == sub["n"].max()].sort_values("value", ascending=False)
    for param in last["param"].head(max_params):
        p = sub[sub["param"] == param].sort_values("n")
        line = ax.plot(p["n"], p["value"], marker="o", label=param)[0]
        if p["conf"].notna().any():
            ax.fill_between(p["n"], p["value"] - p["conf"], p["value"] + p["conf"],
                            color=line.get_color(), alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sample size")
    ax.set_ylabel(index)
    ax.set_title(f"{output}: convergence of {method} {index}")
    ax.legend(fontsize=7)
    return ax


def plot_time_indices(df: pd.DataFrame, measure: str | None = None, index: str | None = None,
                      ax: Axes | None = None) -> Axes:
    """Heat map of an index of a measure, parameters by period (year).

    Args:
        df: The time-indices table (``measure, period, method, param, index, value, conf``).
        measure: Which monthly measure (default: the first).
        index: Which index (default: ``ST`` if present, else the first).
        ax: Axes to draw on.
    """
    sub, measure = _pick(df, "measure", measure)
    ax = _ax(ax, (7, max(3.0, 0.3 * sub["param"].nunique() + 1.5)))
    if index is None:
        index = "ST" if "ST" in set(sub["index"]) else sub["index"].iloc[0]
    sub = sub[sub["index"] == index]
    grid = sub.pivot_table(index="param", columns="period", values="value", sort=False)
    grid = grid.loc[grid.mean(axis=1).sort_values(ascending=False).index]
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis", vmin=0,
                   vmax=max(1e-9, float(np.nanmax(grid.to_numpy()))))
    ax.set_yticks(range(len(grid)), grid.index, fontsize=8)
    ax.set_xticks(range(len(grid.columns)), [str(int(p) + 1) for p in grid.columns])
    ax.set_xlabel("period (year)")
    ax.set_title(f"{measure}: {index} by period")
    ax.figure.colorbar(im, ax=ax, label=index)
    return ax


def plot_morris(df: pd.DataFrame, output: str | None = None, ax: Axes | None = None,
                label_top: int = 10) -> Axes:
    """Morris screening: mu* (with CI) against sigma per parameter.

    Args:
        df: The indices table with Morris rows (``mu_star``, ``sigma``).
        output: Which output (default: the first).
        ax: Axes to draw on.
        label_top: Label the parameters with the largest mu*.
    """
    ax = _ax(ax, (6, 5))
    sub = df[df["method"] == "morris"]
    sub, output = _pick(sub, "output", output)
    wide = sub.pivot_table(index="param", columns="index", values="value", sort=False)
    conf = sub[sub["index"] == "mu_star"].set_index("param")["conf"].reindex(wide.index)
    ax.errorbar(wide["mu_star"], wide["sigma"], xerr=conf.to_numpy(), fmt="o", ms=4,
                capsize=2)
    top = wide["mu_star"].sort_values(ascending=False).index[:label_top]
    for param in top:
        ax.annotate(param, (wide.loc[param, "mu_star"], wide.loc[param, "sigma"]),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    lim = float(np.nanmax(wide[["mu_star", "sigma"]].to_numpy())) * 1.05 or 1.0
    ax.plot([0, lim], [0, lim], color="0.6", lw=0.7, ls="--")
    ax.set_xlabel("mu* (mean |elementary effect|)")
    ax.set_ylabel("sigma (spread of effects)")
    ax.set_title(f"{output}: Morris screening")
    return ax


def plot_sweep(points: pd.DataFrame, x: str, output: str, hue: str | None = None,
               ax: Axes | None = None) -> Axes:
    """A sweep's point means of an output against one parameter, a line per level of another.

    Error bars are 95% normal intervals of the replicate mean (1.96 sd / sqrt(runs)).

    Args:
        points: The points table of a sweep (parameter values, ``runs_ok``,
            ``<output>_mean``, ``<output>_sd``).
        x: Parameter on the horizontal axis.
        output: End-of-run output.
        hue: Parameter whose levels get one line each (optional).
        ax: Axes to draw on.
    """
    ax = _ax(ax)
    groups = [(None, points)] if hue is None else list(points.groupby(hue, sort=True))
    for level, sub in groups:
        sub = sub.sort_values(x)
        err = 1.96 * sub[f"{output}_sd"] / np.sqrt(sub["runs_ok"].clip(lower=1))
        ax.errorbar(sub[x], sub[f"{output}_mean"], yerr=err, marker="o", ms=3, capsize=2,
                    label=None if hue is None else f"{hue} = {level}")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{output} (mean of replicates)")
    ax.set_title(f"{output} against {x}")
    if hue is not None:
        ax.legend(fontsize=7)
    return ax


def save_sweep(points: pd.DataFrame, factors: list[str], outputs: list[str],
               plot_dir: str | Path) -> dict[str, Path]:
    """For a sweep over one or two parameters: ``plot_sweep`` of each output, as PNG."""
    out = Path(plot_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    if not 1 <= len(factors) <= 2:
        return files
    x = factors[0]
    hue = factors[1] if len(factors) == 2 else None
    for output in outputs:
        if f"{output}_mean" not in points.columns:
            continue
        ax = plot_sweep(points, x, output, hue)
        path = out / f"{_slug(f'sweep_{output}')}.png"
        ax.figure.savefig(path, dpi=110)
        files[f"sweep_{output}"] = path
    return files


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def save_all(analysis: Analysis, plot_dir: str | Path) -> dict[str, Path]:
    """Draw every plot of an analysis into ``plot_dir`` as PNG; return name -> path."""
    out = Path(plot_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def save(ax: Axes, name: str) -> None:
        path = out / f"{_slug(name)}.png"
        ax.figure.savefig(path, dpi=110)
        files[name] = path

    for (output, method), _ in analysis.indices.groupby(["output", "method"], sort=False):
        if method == "morris":
            save(plot_morris(analysis.indices, output), f"morris_{output}")
        save(plot_indices(analysis.indices, output, method), f"indices_{output}_{method}")
    conv = analysis.convergence
    if len(conv):
        for (output, method), _ in conv.groupby(["output", "method"], sort=False):
            save(plot_convergence(conv, output, method), f"convergence_{output}_{method}")
    ti = analysis.time_indices
    if len(ti):
        for (measure, index), _ in ti.groupby(["measure", "index"], sort=False):
            save(plot_time_indices(ti, measure, index), f"time_{measure}_{index}")
    return files
