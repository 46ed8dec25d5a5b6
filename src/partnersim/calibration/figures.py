"""Figures of a calibration: marginal and pairwise posteriors, diagnostics per generation,
posterior predictive checks. Each draws from the stored tables and saves a PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from partnersim.outputs import label
from partnersim.present.plots import new_grid, png_base64, save_figure

if TYPE_CHECKING:
    from partnersim.calibration.spec import Prior, Target

__all__ = ["plot_diagnostics", "plot_marginals", "plot_pairs", "plot_ppc", "plot_recovery",
           "png_base64"]

BINS = 20


def _quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> list[float]:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(q, cdf, v)) for q in qs]


def plot_marginals(post: pd.DataFrame, priors: Sequence[Prior], path: Path, *,
                   truth: Mapping[str, Any] | None = None) -> Path:
    """One panel per parameter: the weighted posterior histogram over the prior's range, its
    90% interval shaded, the prior's density dashed, the truth (if known) as a line."""
    axes = new_grid(len(priors), ncols=min(3, len(priors)))
    w = post["weight"].to_numpy()
    for ax, p in zip(axes, priors, strict=True):
        v = post[p.parameter].to_numpy()
        ax.hist(v, bins=np.linspace(p.lower, p.upper, BINS + 1), weights=w, density=True,
                color="tab:blue", alpha=0.7, label="posterior")
        ax.axhline(1.0 / (p.upper - p.lower), color="grey", ls="--", label="prior")
        q05, q95 = _quantiles(v, w, (0.05, 0.95))
        ax.axvspan(q05, q95, color="tab:blue", alpha=0.12, label="90% interval")
        if truth is not None and p.parameter in truth:
            ax.axvline(float(truth[p.parameter]), color="tab:red", label="truth")
        ax.set_xlim(p.lower, p.upper)
        ax.set_title(p.parameter, fontsize=9)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    return save_figure(axes[0], path)


def plot_pairs(post: pd.DataFrame, priors: Sequence[Prior], path: Path, *,
               truth: Mapping[str, Any] | None = None) -> Path:
    """Every pair of parameters: the particles, shaded by weight (the diagonal: marginals)."""
    k = len(priors)
    axes = new_grid(k * k, ncols=k, panel=(2.6, 2.3))
    w = post["weight"].to_numpy()
    shade = np.clip(w / w.max(), 0.08, 1.0)
    for i, py in enumerate(priors):
        for j, px in enumerate(priors):
            ax = axes[i * k + j]
            if i == j:
                ax.hist(post[px.parameter], bins=np.linspace(px.lower, px.upper, BINS + 1),
                        weights=w, color="tab:blue", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(post[px.parameter], post[py.parameter], s=6, c="tab:blue",
                           alpha=shade, linewidths=0)
                ax.set_ylim(py.lower, py.upper)
                if truth is not None and px.parameter in truth and py.parameter in truth:
                    ax.plot(float(truth[px.parameter]), float(truth[py.parameter]), "x",
                            color="tab:red", ms=8)
            ax.set_xlim(px.lower, px.upper)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(px.parameter, fontsize=7)
            if j == 0:
                ax.set_ylabel(py.parameter, fontsize=7)
    return save_figure(axes[0], path)


def plot_diagnostics(diag: pd.DataFrame, path: Path) -> Path:
    """Tolerance, acceptance rate and effective sample size per generation."""
    axes = new_grid(3, ncols=3, panel=(3.4, 2.6))
    panels = (("epsilon", "tolerance (log scale)", True),
              ("acceptance_rate", "acceptance rate", False), ("ess", "effective sample size",
                                                              False))
    for ax, (col, title, log) in zip(axes, panels, strict=True):
        ax.plot(diag["generation"], diag[col], "o-")
        if col == "ess":
            ax.plot(diag["generation"], diag["particles"], "--", color="grey",
                    label="particles")
            ax.legend(fontsize=7)
        if log and (diag[col] > 0).all():
            ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("generation", fontsize=8)
    return save_figure(axes[0], path)


def plot_ppc(draws: pd.DataFrame, targets: Sequence[Target], path: Path) -> Path:
    """Each target's summary at the posterior draws (histogram) beside the target (line)
    and its 90% uncertainty (band)."""
    axes = new_grid(len(targets), ncols=min(3, len(targets)), panel=(3.4, 2.6))
    for ax, t in zip(axes, targets, strict=True):
        ax.hist(draws[t.name].dropna(), bins=BINS, color="tab:blue", alpha=0.7,
                label="posterior draws")
        ax.axvline(t.value, color="tab:red", label="target")
        ax.axvspan(t.value - 1.645 * t.sd, t.value + 1.645 * t.sd, color="tab:red", alpha=0.1)
        ax.set_title(f"{label(t.measure)}\n({t.describe()})", fontsize=8)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    return save_figure(axes[0], path)


def plot_recovery(table: pd.DataFrame, path: Path) -> Path:
    """One panel per parameter: each truth (x) against its posterior median and 90% interval
    (y), the diagonal where they agree; a missed truth in red."""
    names = list(dict.fromkeys(table["parameter"]))
    axes = new_grid(len(names), ncols=min(3, len(names)), panel=(3.4, 3.2))
    for ax, name in zip(axes, names, strict=True):
        rows = table[table["parameter"] == name]
        for r in rows.itertuples():
            color = "tab:blue" if r.covered else "tab:red"
            ax.plot([r.truth, r.truth], [r.q05, r.q95], color=color, lw=2, alpha=0.7)
            ax.plot(r.truth, r.median, "o", color=color, ms=4)
        lo = float(min(rows["truth"].min(), rows["q05"].min()))
        hi = float(max(rows["truth"].max(), rows["q95"].max()))
        ax.plot([lo, hi], [lo, hi], ls="--", color="grey", lw=1)
        covered = int(rows["covered"].sum())
        ax.set_title(f"{name}: {covered}/{len(rows)} covered", fontsize=9)
        ax.set_xlabel("truth", fontsize=8)
        ax.set_ylabel("posterior median, 90% interval", fontsize=8)
    return save_figure(axes[0], path)
