"""The decision report: regret and satisficing tables, scenario-discovery boxes in words, figures.

Like the comparison report (``present.report``), the HTML file embeds every figure as a
base64 PNG and carries its own CSS, so it opens offline; the Markdown summary holds the
same tables and links the PNG files beside it. Nothing here runs a model: it reads a
``study.decide.DecisionAnalysis`` built from stored tables.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from partnersim import __version__
from partnersim.outputs import label
from partnersim.present import discovery_plots, plots
from partnersim.present.report import _CSS, _ci, _html_table
from partnersim.present.text import fmt, md_table, pct
from partnersim.run.storage import FIGURES_DIR
from partnersim.stats import CI_LEVEL

if TYPE_CHECKING:  # present sits below study: the type for hints only
    from partnersim.study.decide import DecisionAnalysis

STABLE_SHARE = 0.5
"""An uncertainty restricted in at least this share of PRIM's resamples is called stable."""


# --------------------------------------------------------------------------- figures


def plot_regret(means: pd.DataFrame, objective: str, ax: Axes | None = None) -> Axes:
    """Each policy's regret across futures (one box per policy) on one objective.

    Args:
        means: The analysis's long table (``objective, policy, future, mean, regret``).
        objective: The objective to draw.
    """
    ax = ax or plots.new_axes((7.0, 0.9 + 0.38 * means["policy"].nunique()))
    sub = means[means["objective"] == objective]
    names = list(dict.fromkeys(sub["policy"]))
    data = [sub.loc[sub["policy"] == n, "regret"].to_numpy() for n in names]
    ax.boxplot(data, orientation="horizontal", whis=(0, 90), showmeans=True,
               medianprops={"color": "black"},
               meanprops={"marker": "D", "markerfacecolor": "white",
                          "markeredgecolor": "black", "markersize": 4})
    ax.set_yticks(np.arange(1, len(names) + 1), names)
    ax.invert_yaxis()
    ax.set_xlabel("regret (distance from the best policy in the same future)")
    ax.set_title(f"Regret across futures: {label(objective)}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_best_policy_map(futures: pd.DataFrame, best: pd.Series, x_name: str, y_name: str,
                         ax: Axes | None = None, *, title: str = "",
                         order: list[str] | None = None) -> Axes:
    """The best policy in each future, over two uncertainties (one dot per future).

    Args:
        futures: The futures table (``future`` and the uncertainties).
        best: The best policy's name in each future (the same rows).
        x_name: The uncertainty on the x axis.
        y_name: The uncertainty on the y axis.
        title: The panel's title.
        order: The policies in the order of the legend (default: as they first appear).
    """
    ax = ax or plots.new_axes((7.0, 5.0))
    names = [n for n in (order or list(dict.fromkeys(best))) if (best == n).any()]
    colors = plots._colors(len(names))
    for name, color in zip(names, colors, strict=True):
        rows = (best == name).to_numpy()
        ax.scatter(futures.loc[rows, x_name], futures.loc[rows, y_name], s=10,
                   color=color, label=f"{name} ({rows.mean():.0%})", alpha=0.8,
                   edgecolors="none")
    ax.set_xlabel(x_name.replace("_", " "))
    ax.set_ylabel(y_name.replace("_", " "))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              title="best policy", title_fontsize=8)
    ax.set_title(title or "Best policy in each future", fontsize=10)
    return ax


def decision_figures(analysis: DecisionAnalysis, fig_dir: str | Path) -> dict[str, Path]:
    """Draw and save the decision's figures as PNG files.

    Returns:
        Figure key -> path, in the order the report shows them: ``regret_<objective>``,
        ``best_policy_map`` (over the two uncertainties that matter most to the best
        policy on the first objective), ``prim_tradeoff_<question>``,
        ``prim_limits_<question>``.
    """
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for o in analysis.decision.objectives:
        files[f"regret_{o.output}"] = plots.save_figure(
            plot_regret(analysis.means, o.output), fig_dir / f"regret_{o.output}.png")
    first = analysis.decision.objectives[0].output
    top = top_uncertainties(analysis, first)
    if len(top) == 2:
        files["best_policy_map"] = plots.save_figure(plot_best_policy_map(
            analysis.futures, analysis.best[first], *top,
            title=f"Best policy in each future: {label(first)}",
            order=analysis.decision.policy_names()),
            fig_dir / "best_policy_map.png")
    x = analysis.futures[analysis.decision.uncertainties]
    for q, pr in analysis.prim.items():
        files[f"prim_tradeoff_{q}"] = plots.save_figure(
            discovery_plots.plot_prim_tradeoff(pr), fig_dir / f"prim_tradeoff_{q}.png")
        if len(pr.limits):
            files[f"prim_limits_{q}"] = plots.save_figure(
                discovery_plots.plot_box_limits(pr, x), fig_dir / f"prim_limits_{q}.png")
    return files


def top_uncertainties(analysis: DecisionAnalysis, objective: str, n: int = 2) -> list[str]:
    """The ``n`` uncertainties with the highest feature scores for the best policy on
    ``objective`` (the first ones listed when there are no scores)."""
    column = f"best policy ({objective})"
    scores = analysis.feature_scores
    names = list(analysis.decision.uncertainties)
    if column in scores.columns:
        names = list(scores[column].sort_values(ascending=False, kind="stable").index)
    return names[:n] if len(names) >= n else []


def caption(key: str, analysis: DecisionAnalysis) -> str:
    """The caption of a figure of ``decision_figures``."""
    if key.startswith("regret_"):
        return (f"Regret of each policy across futures on {label(key[len('regret_'):])}: "
                "box from quartile to quartile, median line, mean diamond, whiskers to 0 and "
                "the 90th percentile.")
    if key == "best_policy_map":
        return ("The best policy (highest mean over replicates) in each future, over the two "
                "uncertainties with the highest feature scores; the share of futures each "
                "policy is best in is in the legend.")
    for prefix, words in (("prim_tradeoff_", "PRIM's peeling trajectory (coverage against "
                                             "density; the chosen box marked) for"),
                          ("prim_limits_", "The chosen PRIM box's limits, as a share of each "
                                           "restricted uncertainty's range, for")):
        if key.startswith(prefix):
            q = key[len(prefix):]
            text = next((x.text for x in analysis.decision.questions if x.name == q), q)
            return f"{words} '{text}'."
    return key


# --------------------------------------------------------------------------- tables


_LEVEL = f"{CI_LEVEL:.0%} CI"
REGRET_HEADER = ["policy", "mean value", f"mean regret [{_LEVEL}]", "median",
                 f"90th percentile [{_LEVEL}]", "maximum",
                 f"best in (share of futures) [{_LEVEL}]"]


def regret_rows(analysis: DecisionAnalysis, objective: str) -> list[list[str]]:
    table = analysis.regret[analysis.regret["objective"] == objective]
    return [[r.policy, fmt(r.value), f"{fmt(r.mean)} {_ci(r.mean_lo, r.mean_hi)}",
             fmt(r.median),
             f"{fmt(r.p90)} {_ci(r.p90_lo, r.p90_hi)}", fmt(r.max),
             f"{pct(r.share_best)} [{pct(r.share_best_lo)}, {pct(r.share_best_hi)}]"]
            for r in table.itertuples()]


def satisficing_header(analysis: DecisionAnalysis) -> list[str]:
    return ["policy", *list(dict.fromkeys(analysis.satisficing["objective"]))]


def satisficing_rows(analysis: DecisionAnalysis) -> list[list[str]]:
    sat = analysis.satisficing
    rows = []
    for name in analysis.decision.policy_names():
        sub = sat[sat["policy"] == name].set_index("objective")
        rows.append([name] + [f"{pct(sub.loc[o, 'share'])} [{pct(sub.loc[o, 'share_lo'])}, "
                              f"{pct(sub.loc[o, 'share_hi'])}]"
                              for o in satisficing_header(analysis)[1:]])
    return rows


def objective_rows(analysis: DecisionAnalysis) -> list[list[str]]:
    rows = []
    for o in analysis.decision.objectives:
        word = "higher" if o.direction > 0 else "lower"
        if o.threshold is None:
            rule = f"within {fmt(o.margin)} of the best"
        else:
            rule = (f"{'at least' if o.direction > 0 else 'at most'} {fmt(o.threshold)}, or "
                    f"within {fmt(o.margin)} of the best")
        rows.append([o.output, label(o.output), f"{word} is better", rule])
    return rows


def policy_rows(analysis: DecisionAnalysis) -> list[list[str]]:
    return [[p.name, p.words()] for p in analysis.decision.policies]


def pareto_rows(analysis: DecisionAnalysis) -> tuple[list[str], list[list[str]]]:
    t = analysis.pareto
    extra = [c for c in t.columns if c.startswith("mean_regret")]
    header = ["policy", "on the front of mean regret", "share of futures on the front", *extra]
    rows = [[r["policy"], "yes" if r["on_front"] else "no", pct(r["share_on_front"]),
             *[fmt(r[c]) for c in extra]] for _, r in t.iterrows()]
    return header, rows


ANSWER_HEADER = ["question", "holds in (futures)", "PRIM's box", "coverage",
                 "density (inside the box)", "outside the box",
                 "stable restrictions (share of resamples)", "CART's boxes (density > 50%)"]


def answer_rows(analysis: DecisionAnalysis) -> list[list[str]]:
    rows = []
    for r in analysis.answers.itertuples():
        pr = analysis.prim.get(r.question)
        stable = ""
        if pr is not None:
            st = pr.stability[pr.stability["share"] >= STABLE_SHARE]
            stable = ", ".join(f"{u.replace('_', ' ')} ({s:.0%})"
                               for u, s in zip(st["uncertainty"], st["share"], strict=True))
        cart = analysis.cart.get(r.question)
        cart_words = "; ".join(cart.words[:3]) if cart is not None else ""
        rows.append([r.text, f"{r.futures} ({pct(r.share)})", r.words,
                     pct(r.coverage), pct(r.density), pct(r.density_outside),
                     stable or "none", cart_words])
    return rows


def feature_rows(analysis: DecisionAnalysis, n: int = 10) -> tuple[list[str], list[list[str]]]:
    fs = analysis.feature_scores
    if fs.empty:
        return ["uncertainty"], []
    order = fs.iloc[:, 0].sort_values(ascending=False, kind="stable").index[:n]
    header = ["uncertainty", *fs.columns]
    return header, [[u.replace("_", " "), *[f"{fs.loc[u, c]:.3f}" for c in fs.columns]]
                    for u in order]


def headline_sentences(analysis: DecisionAnalysis) -> list[str]:
    """The findings in a few sentences: the robust policy on each objective, its regret and
    how often it satisfices, and the answers to the questions."""
    out = []
    for o in analysis.decision.objectives:
        name = analysis.robust_policy(o.output)
        r = analysis.regret[(analysis.regret["objective"] == o.output)
                            & (analysis.regret["policy"] == name)].iloc[0]
        s = analysis.satisficing[(analysis.satisficing["objective"] == o.output)
                                 & (analysis.satisficing["policy"] == name)].iloc[0]
        out.append(f"On {label(o.output)}, the policy with the least 90th-percentile regret "
                   f"is '{name}': regret {fmt(r.p90)} {_ci(r.p90_lo, r.p90_hi)} at the 90th "
                   f"percentile, {fmt(r['mean'])} on average, {fmt(r['max'])} at worst; best "
                   f"in {pct(r.share_best)} of futures; satisfices in {pct(s.share)}.")
    for r in analysis.answers.itertuples():
        if r.question in analysis.prim:
            out.append(f"{r.text} In {r.futures} future{'' if r.futures == 1 else 's'} "
                       f"({pct(r.share)}); PRIM: {r.words}: in {pct(r.density)} of the "
                       f"futures there, {pct(r.density_outside)} elsewhere (coverage "
                       f"{pct(r.coverage)}).")
        else:
            out.append(f"{r.text} {r.words.capitalize()}.")
    return out


def _intro(analysis: DecisionAnalysis) -> str:
    d = analysis.decision
    return (f"{len(d.policies)} policies in {len(analysis.futures)} futures (a Latin hypercube "
            f"over {len(d.uncertainties)} uncertain parameters"
            + (f"; {d.n_futures} drawn" if len(analysis.futures) != d.n_futures else "")
            + f"), {d.replicates} replicates each with common random numbers (master seed "
            f"{d.seed}); partnersim {__version__}.")


NOTES = {
    "regret": "Regret is the distance, in the objective's units and better direction, from "
              "the best policy in the same future (means over replicates). Intervals: "
              f"{CI_LEVEL:.0%} percentile intervals over bootstrap resamples of each future's "
              "replicates, the same resample for every policy (paired). They lean high, and may lie wholly "
              "above the value itself: a resample's means are noisier than the means over all "
              "replicates, so the best policy in a future looks better in a resample and every "
              "regret larger; the maximum and the 90th percentile most.",
    "satisficing": "Share of futures in which the policy meets the objective's threshold or "
                   "is within its margin of the best policy there; 'all objectives': every "
                   "objective at once. Intervals as for regret.",
    "answers": "PRIM (EMA Workbench) finds the box of futures where the answer holds; "
               "coverage: share of those futures inside the box; density: share of the box's "
               "futures where it holds; outside the box: share of the other futures where "
               "it holds. Stable restrictions: uncertainties PRIM restricts in "
               "at least half of its resamples of half the futures.",
    "pareto": "On the front: no other policy has mean regret at least as small on every "
              "objective and smaller on one.",
}


# --------------------------------------------------------------------------- documents


def render_html(analysis: DecisionAnalysis, figures: dict[str, Path]) -> str:
    """The self-contained HTML report."""
    e = html.escape
    d = analysis.decision
    title = f"partnersim decision: {d.name}"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(title)}</h1>", f"<p>{e(d.question)}</p>",
             f'<p class="note">{e(_intro(analysis))}</p>', "<h2>Findings</h2><ul>",
             *[f"<li>{e(t)}</li>" for t in headline_sentences(analysis)], "</ul>"]
    if analysis.notes:
        parts += ["<h2>Notes</h2><ul>", *[f"<li>{e(n)}</li>" for n in analysis.notes],
                  "</ul>"]
    parts += ["<h2>Policies</h2>", _html_table(["policy", "what it does"],
                                                policy_rows(analysis)),
              "<h2>Objectives</h2>", _html_table(["output", "label", "direction",
                                                  "satisfices when"], objective_rows(analysis))]
    for o in d.objectives:
        parts += [f"<h2>Regret: {e(label(o.output))}</h2>",
                  f'<p class="note">{e(NOTES["regret"])}</p>',
                  _html_table(REGRET_HEADER, regret_rows(analysis, o.output))]
    parts += ["<h2>Satisficing</h2>", f'<p class="note">{e(NOTES["satisficing"])}</p>',
              _html_table(satisficing_header(analysis), satisficing_rows(analysis))]
    if len(d.objectives) > 1:
        parts += ["<h2>Pareto front</h2>", f'<p class="note">{e(NOTES["pareto"])}</p>',
                  _html_table(*pareto_rows(analysis))]
    if len(analysis.answers):
        parts += ["<h2>Where the answer changes (scenario discovery)</h2>",
                  f'<p class="note">{e(NOTES["answers"])}</p>',
                  _html_table(ANSWER_HEADER, answer_rows(analysis))]
    header, rows = feature_rows(analysis)
    if rows:
        parts += ["<h2>Which uncertainties decide the best policy (extra-trees scores)</h2>",
                  _html_table(header, rows)]
    parts.append("<h2>Figures</h2>")
    for key, path in figures.items():
        parts.append(f'<figure><img alt="{e(key)}" src="data:image/png;base64,'
                     f'{plots.png_base64(path)}"><figcaption>{e(caption(key, analysis))}'
                     "</figcaption></figure>")
    parts += ["<h2>Decision file</h2>", f"<pre>{e(d.text)}</pre>", "</body></html>"]
    return "\n".join(parts) + "\n"


def render_markdown(analysis: DecisionAnalysis, figures: dict[str, Path], *,
                    base: Path | None = None) -> str:
    """The Markdown summary; figures linked relative to ``base`` (the report's folder)."""
    d = analysis.decision
    out = [f"# partnersim decision: {d.name}", "", d.question, "", _intro(analysis), "",
           "## Findings", "", *[f"- {t}" for t in headline_sentences(analysis)], ""]
    if analysis.notes:
        out += ["## Notes", "", *[f"- {n}" for n in analysis.notes], ""]
    out += ["## Policies", "", md_table(["policy", "what it does"], policy_rows(analysis)),
            "", "## Objectives", "",
            md_table(["output", "label", "direction", "satisfices when"],
                      objective_rows(analysis)), ""]
    for o in d.objectives:
        out += [f"## Regret: {label(o.output)}", "", NOTES["regret"], "",
                md_table(REGRET_HEADER, regret_rows(analysis, o.output)), ""]
    out += ["## Satisficing", "", NOTES["satisficing"], "",
            md_table(satisficing_header(analysis), satisficing_rows(analysis)), ""]
    if len(d.objectives) > 1:
        out += ["## Pareto front", "", NOTES["pareto"], "",
                md_table(*pareto_rows(analysis)), ""]
    if len(analysis.answers):
        out += ["## Where the answer changes (scenario discovery)", "", NOTES["answers"], "",
                md_table(ANSWER_HEADER, answer_rows(analysis)), ""]
    header, rows = feature_rows(analysis)
    if rows:
        out += ["## Which uncertainties decide the best policy (extra-trees scores)", "",
                md_table(header, rows), ""]
    out += ["## Figures", ""]
    for key, path in figures.items():
        rel = Path(path).relative_to(base) if base is not None else Path(path)
        out += [f"![{key}]({rel.as_posix()})", "", f"*{caption(key, analysis)}*", ""]
    return "\n".join(out)


def write_report(analysis: DecisionAnalysis, out_dir: str | Path) -> dict[str, Path]:
    """Draw the figures and write ``report.html`` and ``report.md`` into ``out_dir``.

    Returns:
        ``{"report_html": ..., "report_md": ..., "<figure>": ...}``.
    """
    out = Path(out_dir)
    figures = decision_figures(analysis, out / FIGURES_DIR)
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(render_html(analysis, figures), encoding="utf-8")
    md_path.write_text(render_markdown(analysis, figures, base=out), encoding="utf-8")
    return {"report_html": html_path, "report_md": md_path, **figures}
