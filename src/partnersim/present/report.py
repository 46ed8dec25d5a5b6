"""The comparison report: figures, a self-contained HTML document and a Markdown summary.

The HTML file embeds every figure as a base64 PNG and carries its own CSS, so
it opens offline and can be mailed on as one file. The Markdown summary holds
the same tables and links the PNG files beside it. Nothing here runs a model:
it reads a :class:`~partnersim.study.compare.Comparison` built from stored tables.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnersim import __version__, outputs
from partnersim.outputs import COST_OUTPUT
from partnersim.present import plots
from partnersim.present.text import fmt, md_table, pct
from partnersim.run.storage import FIGURES_DIR
from partnersim.stats import CI_LEVEL

if TYPE_CHECKING:  # present sits below study: the type for hints only
    from partnersim.study.compare import Comparison


# --------------------------------------------------------------------------- figures


def comparison_figures(cmp: Comparison, fig_dir: str | Path) -> dict[str, Path]:
    """Draw and save the comparison's figures as PNG files.

    Returns:
        Figure key -> path, in the order the report shows them: ``trajectories``,
        ``paired_trajectories``, ``forest``, ``cost_effect``, ``distributions`` (each
        ``<key>.png``; ``run`` names its figures alike).
    """
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    ts = cmp.timeseries
    traj = plots.available(ts, outputs.TRAJECTORIES)
    forest = list(dict.fromkeys(cmp.differences["output"]))
    grids: dict[str, Path | None] = {
        "trajectories": plots.save_grid(plots.plot_trajectories, ts, traj,
                                        fig_dir / "trajectories.png"),
        "paired_trajectories": None if len(cmp.scenarios) < 2 else plots.save_grid(
            plots.plot_paired_trajectories, ts, traj, fig_dir / "paired_trajectories.png",
            reference=cmp.reference),
        "forest": plots.save_grid(plots.plot_forest, cmp.differences, forest,
                                  fig_dir / "forest.png", ncols=3,
                                  panel=(4.0, 0.6 + 0.45 * max(2, len(cmp.scenarios)))),
        "cost_effect": None if not len(cmp.costs) else plots.save_figure(
            plots.plot_cost_effect(cmp.costs, cmp.outcome), fig_dir / "cost_effect.png"),
        "distributions": plots.save_grid(plots.plot_distribution, cmp.runs,
                                         plots.available(cmp.runs, cmp.outputs)[:6],
                                         fig_dir / "distributions.png", ncols=3),
    }
    return {key: path for key, path in grids.items() if path is not None}


FIGURE_CAPTIONS: dict[str, str] = {
    "trajectories": "Monthly measures: median across replicates (line) and 5-95% of runs "
                    "(band), per scenario.",
    "paired_trajectories": "Paired difference from the reference, month by month (same seed): "
                           "median and 5-95% of pairs. Shows when effects appear and whether "
                           "an option is worse before it is better.",
    "forest": "Mean paired difference from the reference with its bootstrap CI. Solid dots: "
              "the CI excludes zero.",
    "cost_effect": "Cost beside effect: gain in the primary outcome (x) against incremental "
                   "cost (y), each with its CI.",
    "distributions": "End-of-run values, one dot per run.",
}


# --------------------------------------------------------------------------- formatting


def _ci(lo: Any, hi: Any) -> str:
    return f"[{fmt(lo)}, {fmt(hi)}]"


def _interventions_text(scn: Any) -> str:
    items = []
    for iv in scn.intervention_dicts():
        rest = ", ".join(f"{k}={v}" for k, v in iv.items() if k not in ("kind", "month"))
        when = f"month {iv['month']}" + (f"-{iv['end_month']}" if "end_month" in iv else "")
        items.append(f"{iv['kind']} at {when}" + (f" ({rest})" if rest else ""))
    return "; ".join(items) or "none"


def _overrides_text(scn: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in scn.overrides.items()) or "defaults"


# --------------------------------------------------------------------------- tables


def scenario_rows(cmp: Comparison) -> list[list[str]]:
    """One row per scenario: name, role, question, parameters, interventions, file."""
    rows = []
    for i, s in enumerate(cmp.scenarios):
        rows.append([s.name, "reference" if i == 0 else "option", s.question or "(none given)",
                     _overrides_text(s), _interventions_text(s), s.source or "(in memory)"])
    return rows


SCENARIO_HEADER = ["scenario", "role", "question", "parameters", "interventions", "file"]


def difference_rows(cmp: Comparison) -> list[list[str]]:
    """One row per option and output: means, difference with CI, shares of seeds."""
    rows = []
    for _, r in cmp.differences.iterrows():
        rows.append([
            r["scenario"], r["output"], r["direction"], fmt(r["reference_mean"]),
            fmt(r["scenario_mean"]), fmt(r["difference"]), _ci(r["ci_low"], r["ci_high"]),
            "yes" if r["significant"] else "no", pct(r["share_worse"]), str(r["n_pairs"]),
        ])
    return rows


DIFFERENCE_HEADER = ["option", "output", "better", "reference mean", "option mean",
                     "difference", f"{int(CI_LEVEL * 100)}% CI", "CI excludes 0",
                     "worse in (share of seeds)", "pairs"]


def cost_rows(cmp: Comparison) -> list[list[str]]:
    """One row per option and outcome: incremental cost, effect, cost per unit, verdict."""
    rows = []
    for _, r in cmp.costs.iterrows():
        rows.append([
            r["scenario"], r["outcome"], fmt(r["incremental_cost"]),
            _ci(r["cost_ci_low"], r["cost_ci_high"]), fmt(r["effect"]),
            _ci(r["effect_ci_low"], r["effect_ci_high"]), fmt(r["cost_per_unit"]),
            r["verdict"],
        ])
    return rows


COST_HEADER = ["option", "outcome", "incremental cost (GBP k)", "cost CI", "gain", "gain CI",
               "cost per unit gained (GBP k)", "verdict"]


def _failure_features(cmp: Comparison) -> list[str]:
    """The reference-run outputs the failure table sets beside each option's failures."""
    return [c[: -len("_when_failed")] for c in cmp.failures.columns
            if c.endswith("_when_failed")]


def failure_rows(cmp: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the where-options-fail table."""
    f = cmp.failures
    feats = _failure_features(cmp)
    header = ["option", "outcome", "worse than reference in", "worst paired difference"]
    for feat in feats:
        header += [f"reference's {feat}, on seeds where the option did worse",
                   "on the other seeds"]
    rows = []
    for _, r in f.iterrows():
        row = [r["scenario"], r["outcome"], f"{r['n_failed']} of {r['n_pairs']} seeds "
               f"({pct(r['share_failed'])})", fmt(r["worst_difference"])]
        for feat in feats:
            row += [fmt(r[f"{feat}_when_failed"]), fmt(r[f"{feat}_otherwise"])]
        rows.append(row)
    return header, rows


def glossary_rows(cmp: Comparison) -> list[list[str]]:
    """Each output the report names: its unit and what it means, in plain words
    (``outputs.OUTPUTS``)."""
    names = dict.fromkeys([*cmp.differences["output"], *cmp.costs["outcome"],
                           *_failure_features(cmp)])
    return [[name, o.unit, o.meaning] if (o := outputs.OUTPUTS.get(name)) is not None
            else [name, "", "defined in docs/ODD.md, section 7.13"] for name in names]


GLOSSARY_HEADER = ["output", "unit", "meaning"]


def _staff_month_price(cmp: Comparison) -> str:
    """What a staff-month of partnership time is priced at, in the compared scenarios."""
    prices = sorted({float(s.params.staff_month_cost) for s in cmp.scenarios})
    words = " or ".join(f"GBP {fmt(v)}k" for v in prices)
    return f"{words} a staff-month" + (" (as each scenario sets it)" if len(prices) > 1 else "")


def section_notes(cmp: Comparison) -> dict[str, str]:
    """The sentence under each table that says how to read it (HTML and Markdown alike)."""
    return {
        "differences": (
            f"Option minus reference on the same seed, averaged over seeds; "
            f"{int(CI_LEVEL * 100)}% BCa bootstrap confidence interval over seeds. \"Worse "
            f"in\": share of paired seeds on which the option does worse than the reference, "
            f"given which direction is better for that output. {COST_OUTPUT} is in GBP k "
            f"(money plus staff time priced at staff_month_cost, {_staff_month_price(cmp)}); "
            f"each output's unit is in the table at the end."),
        "costs": (
            "Incremental cost: paired difference in total cost (GBP k). Gain: paired "
            "difference in the outcome, in the outcome's own units, signed so that a gain is "
            "positive (for an output where lower is better, such as months to trust, a fall "
            "is a gain). Cost per unit gained is given only where the gain's CI excludes "
            "zero."),
        "failures": (
            f"For each option: on how many paired seeds it did worse than the reference on "
            f"{cmp.outcome}, and its worst paired difference (option minus reference; "
            f"positive for an output where higher is better means it never did worse). "
            f"Then the reference run's course on those seeds beside the other seeds: the "
            f"conditions under which the option fails (n/a where it never did worse)."),
    }


def _named(output: str) -> str:
    """An output as a reader meets it in a sentence: its label and unit, then its name."""
    declared = outputs.OUTPUTS.get(output)
    if declared is None:
        return output
    return f"{declared.label} ({output}, {declared.unit})"


def headline_sentences(cmp: Comparison) -> list[str]:
    """Plain-language findings on the primary outcome, one sentence per option."""
    out = []
    d = cmp.differences
    for _, r in d[d["output"] == cmp.outcome].iterrows():
        if r["scenario"] == cmp.reference:
            out.append(f"{r['scenario']} compared with itself: difference "
                       f"{fmt(r['difference'])} (a check that the seeds are shared).")
            continue
        better = (r["difference"] > 0) == (r["direction"] == "higher")
        if not r["significant"]:
            verdict = "no difference distinguishable from zero"
        else:
            verdict = "better" if better else "worse"
        out.append(
            f"{r['scenario']}: {_named(cmp.outcome)} {fmt(r['difference'])} "
            f"({int(CI_LEVEL * 100)}% CI {_ci(r['ci_low'], r['ci_high'])}) against "
            f"{cmp.reference} ({verdict}); "
            f"worse than {cmp.reference} on {pct(r['share_worse'])} of paired seeds.")
    return out


# --------------------------------------------------------------------------- HTML


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:2em}table{border-collapse:collapse;margin:1em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.3em .55em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}code,pre{background:#f6f6f6;padding:.1em .3em}
pre{padding:.7em;overflow-x:auto}.note{color:#555;font-size:.92em}
"""


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(v: str) -> str:
        cls = ' class="num"' if _looks_numeric(v) else ""
        return f"<td{cls}>{html.escape(str(v))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _looks_numeric(v: str) -> bool:
    s = str(v).replace(",", "").replace("%", "").strip()
    try:
        float(s)
    except ValueError:
        return False
    return True


def _title(cmp: Comparison) -> str:
    names = [s.name for s in cmp.scenarios]
    others = ", ".join(names[1:]) or names[0]
    return f"partnersim comparison: {others} against {names[0]}"


def render_html(cmp: Comparison, figures: dict[str, Path]) -> str:
    """The self-contained HTML report (figures embedded as base64 PNG; no external files)."""
    e = html.escape
    s0 = cmp.scenarios[0]
    notes = section_notes(cmp)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(_title(cmp))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(_title(cmp))}</h1>",
        f'<p class="note">Reference: <b>{e(cmp.reference)}</b>. {len(cmp.seeds)} paired seeds '
        f"per scenario (master seed {s0.seed}); horizon {s0.horizon_months} months; "
        f"partnersim {e(__version__)}.</p>",
        "<h2>Findings on the primary outcome</h2><ul>",
        *[f"<li>{e(t)}</li>" for t in headline_sentences(cmp)],
        "</ul>",
    ]
    if cmp.notes:
        parts += ["<h2>Notes</h2><ul>", *[f"<li>{e(n)}</li>" for n in cmp.notes], "</ul>"]
    parts += [
        "<h2>Scenarios</h2>",
        _html_table(SCENARIO_HEADER, scenario_rows(cmp)),
        "<h2>Differences from the reference</h2>",
        f'<p class="note">{e(notes["differences"])}</p>',
        _html_table(DIFFERENCE_HEADER, difference_rows(cmp)),
        "<h2>Costs beside effects</h2>",
        f'<p class="note">{e(notes["costs"])}</p>',
        _html_table(COST_HEADER, cost_rows(cmp)),
        "<h2>Where an option fails</h2>",
        f'<p class="note">{e(notes["failures"])}</p>',
        _html_table(*failure_rows(cmp)),
        "<h2>Figures</h2>",
    ]
    for key, path in figures.items():
        b64 = plots.png_base64(path)
        cap = FIGURE_CAPTIONS.get(key, key)
        parts.append(f'<figure><img alt="{e(key)}" src="data:image/png;base64,{b64}">'
                     f"<figcaption>{e(cap)}</figcaption></figure>")
    parts += [
        "<h2>Outputs in this report</h2>",
        _html_table(GLOSSARY_HEADER, glossary_rows(cmp)),
        "<h2>How to reproduce</h2>",
        f"<pre>{e(cmp.command)}</pre>",
        '<p class="note">Every scenario ran with the reference&rsquo;s master seed and '
        "replicate count (common random numbers), whatever its own file says. Seeds: "
        f"{e(', '.join(str(s) for s in cmp.seeds))}.</p>",
        "<h2>Scenario files</h2>",
    ]
    for s in cmp.scenarios:
        parts.append(f"<h3>{e(s.name)}</h3><pre>{e(s.text)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- Markdown


def render_markdown(cmp: Comparison, figures: dict[str, Path], *, base: Path | None = None) -> str:
    """The Markdown summary; figures are linked relative to ``base`` (the report's folder)."""
    s0 = cmp.scenarios[0]
    notes = section_notes(cmp)
    out = [
        f"# {_title(cmp)}",
        "",
        f"Reference: **{cmp.reference}**. {len(cmp.seeds)} paired seeds per scenario "
        f"(master seed {s0.seed}); horizon {s0.horizon_months} months; "
        f"partnersim {__version__}.",
        "",
        "## Findings on the primary outcome",
        "",
        *[f"- {t}" for t in headline_sentences(cmp)],
        "",
    ]
    if cmp.notes:
        out += ["## Notes", "", *[f"- {n}" for n in cmp.notes], ""]
    out += [
        "## Scenarios", "", md_table(SCENARIO_HEADER, scenario_rows(cmp)), "",
        "## Differences from the reference", "", notes["differences"], "",
        md_table(DIFFERENCE_HEADER, difference_rows(cmp)), "",
        "## Costs beside effects", "", notes["costs"], "",
        md_table(COST_HEADER, cost_rows(cmp)), "",
        "## Where an option fails", "", notes["failures"], "",
        md_table(*failure_rows(cmp)), "",
        "## Figures", "",
    ]
    for key, path in figures.items():
        rel = Path(path).relative_to(base) if base is not None else Path(path)
        out += [f"![{key}]({rel.as_posix()})", "", f"*{FIGURE_CAPTIONS.get(key, key)}*", ""]
    out += ["## Outputs in this report", "", md_table(GLOSSARY_HEADER, glossary_rows(cmp)),
            "", "## How to reproduce", "", "```", cmp.command, "```", ""]
    return "\n".join(out)


def write_report(cmp: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Draw the figures and write ``report.html`` and ``report.md`` into ``out_dir``.

    Returns:
        ``{"report_html": ..., "report_md": ..., "<figure>": ...}``.
    """
    out = Path(out_dir)
    figures = comparison_figures(cmp, out / FIGURES_DIR)
    html_path = out / "report.html"
    md_path = out / "report.md"
    html_path.write_text(render_html(cmp, figures), encoding="utf-8")
    md_path.write_text(render_markdown(cmp, figures, base=out), encoding="utf-8")
    return {"report_html": html_path, "report_md": md_path, **figures}
