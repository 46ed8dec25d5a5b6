"""Figures and tables of the relationship-time study (docs/findings.md) from stored results.

Reads only the results folders that ``experiments/tradeoff/run_all.sh`` writes under
``results/tradeoff/runs/`` and writes small PNGs and CSVs to ``results/tradeoff/``:

* ``optimum_by_context.png`` and ``optima.csv``: output over the run (relative to the
  partners working alone) and the health indicator against the relationship-time share,
  one panel per context factor (horizon, budget, turnover, leadership, familiarity,
  pressure); the best share on the grid and the shares within 1% of the best.
* ``worse_before_better.png``: paired difference in monthly output after raising the
  share from 5% to 20% at month 24.
* ``capability_trap.png``: relationship time, cross-agency trust and output with and
  without a three-year surge of pressure that then returns to normal.
* ``best_share.png``, ``best_share.csv`` and ``best_share_indices.csv``: the distribution
  of the best share across the assumptions (``experiments/best_share.toml``) and the
  parameters that move it (first-order and delta indices with 95% intervals).
* ``sobol_share_over_time.png``: time-resolved Sobol' indices of yearly output.

Run: ``.venv/bin/python experiments/tradeoff/figures.py`` (after run_all.sh's runs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from partnersim.run.storage import load_runs

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "results" / "tradeoff" / "runs"
OUT = ROOT / "results" / "tradeoff"
DPI = 72

CONTEXTS = {
    "horizon": ("horizon_months", "horizon (months)"),
    "resources": ("capacity_budget", "capacity budget (GBP k/month)"),
    "turnover": ("p_turnover", "staff turnover (per month)"),
    "leadership": ("leadership", "leadership strength"),
    "familiarity": ("prior_familiarity", "prior familiarity"),
    "pressure": ("service_pressure", "service pressure (demand/capacity)"),
}
NEAR = 0.01
"""Shares whose mean output is within 1% of the best are reported as near-optimal."""


def _save(fig: Figure, name: str) -> Path:
    path = OUT / name
    fig.savefig(path, dpi=DPI)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT)}  ({size // 1024} KB)")
    return path


def optimum_table() -> pd.DataFrame:
    rows = []
    for key, (param, _label) in CONTEXTS.items():
        runs = load_runs(RUNS / f"share_by_{key}")
        runs = runs[runs["status"] == "ok"]
        for level, grp in runs.groupby(param):
            for output in ("output_vs_alone", "health_effect_final"):
                means = grp.groupby("relationship_time")[output].mean()
                best = float(means.idxmax())
                span = means.max() - means.min()
                near = means.index[means >= means.max() - NEAR * abs(means.max())] \
                    if output == "output_vs_alone" else \
                    means.index[means >= means.max() - 0.05 * span]
                rows.append({"context": key, "parameter": param, "level": level,
                             "output": output, "best_share": best,
                             "near_best_low": float(near.min()),
                             "near_best_high": float(near.max()),
                             "value_at_best": float(means.max()),
                             "value_at_zero": float(means.get(0.0, np.nan))})
    return pd.DataFrame(rows)


def plot_optimum(output: str, ylabel: str, name: str) -> None:
    fig = Figure(figsize=(10.5, 6.2))
    axes = fig.subplots(2, 3).ravel()
    for ax, (key, (param, label)) in zip(axes, CONTEXTS.items(), strict=True):
        runs = load_runs(RUNS / f"share_by_{key}")
        runs = runs[runs["status"] == "ok"]
        levels = sorted(runs[param].unique())
        colours = [f"C{i}" for i in range(len(levels))]
        for level, colour in zip(levels, colours, strict=True):
            g = runs[runs[param] == level].groupby("relationship_time")[output]
            mean, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
            ax.fill_between(mean.index, lo, hi, color=colour, alpha=0.15, lw=0)
            ax.plot(mean.index, mean.values, "-o", ms=3, color=colour, label=f"{level:g}")
            best = mean.idxmax()
            ax.plot([best], [mean.max()], "*", ms=11, color=colour, mec="k", mew=0.5)
        if output == "output_vs_alone":
            ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("share of time on relationships", fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False, title=param, title_fontsize=7)
    fig.suptitle(f"{ylabel} against the relationship-time share (stars: best share; bands: "
                 "5-95% of runs)", fontsize=10)
    fig.tight_layout()
    _save(fig, name)


def _tidy_timeseries(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "timeseries.parquet")


def plot_worse_before_better() -> None:
    ts = _tidy_timeseries(RUNS / "raise_share")
    wide = ts.pivot_table(index=["seed", "month"], columns="scenario", values="output")
    stay, raised = "stay_at_5pct", "raise_to_20pct_at_24"
    diff = (wide[raised] - wide[stay]) / wide[stay]
    g = diff.groupby(level="month")
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.subplots()
    ax.fill_between(g.mean().index, g.quantile(0.05), g.quantile(0.95), alpha=0.2, lw=0)
    ax.plot(g.mean().index, g.mean().values, lw=1.5, label="mean paired difference")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(24, color="k", ls="--", lw=0.8)
    ax.text(25, ax.get_ylim()[0] * 0.9, "share raised\n5% -> 20%", fontsize=8, va="bottom")
    cross = g.mean().loc[24:]
    later = cross[cross > 0]
    if len(later):
        ax.axvline(later.index[0], color="C2", ls=":", lw=1)
        ax.text(later.index[0] + 1, ax.get_ylim()[0] * 0.5,
                f"break-even\nmonth {later.index[0]}", fontsize=8, color="C2")
    ax.set_xlabel("month")
    ax.set_ylabel("monthly output, relative difference")
    ax.set_title("Worse before better: raising relationship time (same seeds, 5-95% band)",
                 fontsize=10)
    fig.tight_layout()
    _save(fig, "worse_before_better.png")


def plot_trap() -> None:
    ts = _tidy_timeseries(RUNS / "trap")
    ts = ts.assign(output_ratio=ts["output"] / ts["output_alone"])
    fig = Figure(figsize=(10.5, 3.4))
    axes = fig.subplots(1, 3)
    panels = (("relationship_time_spent", "share of time on relationships"),
              ("trust_across", "cross-agency trust"),
              ("output_ratio", "output / output alone"))
    for ax, (measure, label) in zip(axes, panels, strict=True):
        for scen, colour in (("trap_calm", "C0"), ("trap_surge", "C3")):
            g = ts[ts["scenario"] == scen].groupby("month")[measure]
            ax.fill_between(g.mean().index, g.quantile(0.05), g.quantile(0.95), color=colour,
                            alpha=0.15, lw=0)
            ax.plot(g.mean().index, g.mean().values, color=colour, lw=1.3,
                    label={"trap_calm": "no surge", "trap_surge": "surge"}[scen]
                    if measure == "relationship_time_spent" else None)
        ax.axvspan(12, 48, color="orange", alpha=0.08)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("month", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle("Capability trap? Demand up by half in months 12-48 (shaded), then back "
                 "to normal", fontsize=10)
    fig.tight_layout()
    _save(fig, "capability_trap.png")


def plot_sobol() -> None:
    folder = RUNS / "sobol_share_over_time"
    path = next(p for p in (folder / "time_indices.parquet",
                            folder / "analysis" / "time_indices.parquet") if p.exists())
    df = pd.read_parquet(path)
    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    for ax, measure in zip(axes, ("output", "trust_across"), strict=True):
        sub = df[(df["measure"] == measure) & (df["index"] == "ST")]
        for i, (param, grp) in enumerate(sub.groupby("param")):
            grp = grp.sort_values("period")
            year = grp["period"] + 1
            lw = 2.2 if param == "relationship_time" else 1.0
            ax.plot(year, grp["value"], "-o", ms=3, lw=lw, color=f"C{i}", label=param)
            ax.fill_between(year, grp["value"] - grp["conf"], grp["value"] + grp["conf"],
                            color=f"C{i}", alpha=0.12, lw=0)
        ax.set_title(f"total Sobol' index, yearly mean {measure}", fontsize=9)
        ax.set_xlabel("year", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, frameon=False, loc="lower center", ncol=6)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _save(fig, "sobol_share_over_time.png")


BEST_SHARE_OUTPUTS = (("best_share", "over ten years"),
                      ("best_share_last_year", "in the last year (long run)"))
"""The best-share experiment's outputs: the best share for the whole run and the long run."""


def best_share_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """How often each share is best across the sampled assumptions, and the first-order
    (S1) and delta indices (with 95% interval half-widths) of the best share, by output and
    index, largest first. The figure shows S1: on this zero-inflated, discrete output the
    delta index sits at a bias floor (0.05-0.16 for every parameter; docs/validation.md)."""
    folder = RUNS / "best_share"
    points = pd.read_parquet(folder / "points.parquet")
    dist = pd.DataFrame({label: points[f"{output}_mean"].value_counts(normalize=True)
                         for output, label in BEST_SHARE_OUTPUTS}).fillna(0.0)
    dist.index.name = "share"
    dist = dist.sort_index().reset_index()
    idx = pd.read_parquet(folder / "indices.parquet")
    idx = idx[(idx["method"] == "delta") & idx["output"].isin([o for o, _ in BEST_SHARE_OUTPUTS])]
    idx = idx[["output", "index", "param", "value", "conf"]].sort_values(
        ["output", "index", "value"], ascending=[True, False, False])
    return dist, idx


def plot_best_share(dist: pd.DataFrame, idx: pd.DataFrame) -> None:
    fig = Figure(figsize=(11, 3.8))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.2, 1.2]})
    width = 0.02
    for k, (_, label) in enumerate(BEST_SHARE_OUTPUTS):
        axes[0].bar(dist["share"] + (k - 0.5) * width, dist[label], width=width,
                    color=f"C{k}", label=label)
    axes[0].set_xlabel("best share of time on relationships", fontsize=8)
    axes[0].set_ylabel("share of sampled assumption settings", fontsize=8)
    axes[0].legend(fontsize=7, frameon=False)
    for ax, (output, label) in zip(axes[1:], BEST_SHARE_OUTPUTS, strict=True):
        top = idx[(idx["output"] == output) & (idx["index"] == "S1")].head(10).iloc[::-1]
        ax.barh(top["param"], top["value"], xerr=top["conf"], color="C7", alpha=0.8)
        ax.set_title(f"first-order index S1 of the best share {label}", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].tick_params(labelsize=7)
    fig.tight_layout()
    _save(fig, "best_share.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    table = optimum_table()
    table.to_csv(OUT / "optima.csv", index=False, float_format="%.4g")
    print(f"{(OUT / 'optima.csv').relative_to(ROOT)}")
    plot_optimum("output_vs_alone", "output over the run / working alone",
                 "optimum_by_context.png")
    plot_optimum("health_effect_final", "health effect at the end of the run",
                 "health_by_context.png")
    if (RUNS / "raise_share").exists():
        plot_worse_before_better()
    if (RUNS / "trap").exists():
        plot_trap()
    if (RUNS / "best_share" / "indices.parquet").exists():
        dist, idx = best_share_tables()
        dist.to_csv(OUT / "best_share.csv", index=False, float_format="%.4g")
        idx.to_csv(OUT / "best_share_indices.csv", index=False, float_format="%.4g")
        plot_best_share(dist, idx)
    if (RUNS / "sobol_share_over_time").exists():
        plot_sobol()


if __name__ == "__main__":
    main()
