"""The report and figures, from synthetic stored tables (no model runs)."""

from __future__ import annotations

import base64
import re
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from partnersim import outputs
from partnersim.inputs.scenarios import make_scenario
from partnersim.outputs import COST_OUTPUT
from partnersim.present import plots
from partnersim.present.report import glossary_rows, render_html, section_notes, write_report
from partnersim.present.text import fmt
from partnersim.study.compare import analyse

SEEDS = [11, 22, 33, 44, 55, 66]
OUTPUTS = ["cumulative_output", "trust_across_final", "time_to_trust_months",
            "cost_money_total"]


def synthetic(seed: int = 0):
    """Runs and timeseries of three scenarios with known effects."""
    rng = np.random.default_rng(seed)
    scenarios = [
        make_scenario(name="baseline", question="What if nobody intervenes?",
                      params={"horizon_months": 12}),
        make_scenario(name="ground_rules", question="Do ground rules <help> & pay?",
                      params={"horizon_months": 12},
                      interventions=[{"kind": "ground_rules", "month": 0}]),
        make_scenario(name="champions", question="Do champions spread trust?",
                      params={"horizon_months": 12},
                      interventions=[{"kind": "champions", "month": 2, "n_champions_senior": 2}]),
    ]
    effect = {"baseline": 0.0, "ground_rules": 5.0, "champions": -1.0}
    base = rng.normal(100.0, 3.0, size=len(SEEDS))
    runs, series = [], []
    for i, scn in enumerate(scenarios):
        e = effect[scn.name]
        for j, s in enumerate(SEEDS):
            runs.append({"run_id": i * 10 + j, "scenario": scn.name, "replicate": j, "seed": s,
                         "status": "ok", "cumulative_output": base[j] + e + 0.1 * j,
                         "trust_across_final": 0.4 + 0.01 * e,
                         "time_to_trust_months": 30.0 - e,
                         "cost_money_total": 10.0 * i, "cost_time_total": 50.0,
                         COST_OUTPUT: 10.0 * i + 50.0})
            for m in range(12):
                series.append({"run_id": i * 10 + j, "scenario": scn.name, "seed": s,
                               "month": m, "trust_across": 0.3 + 0.01 * m * (1 + e / 10),
                               "output": 8.0 + e / 12 + 0.01 * j})
    cmp = analyse(pd.DataFrame(runs), pd.DataFrame(series), scenarios, outputs=OUTPUTS,
                  outcome="cumulative_output", seeds=SEEDS, boot_seed=1,
                  features=["time_to_trust_months"])
    cmp.command = "partnersim compare baseline.toml ground_rules.toml champions.toml"
    cmp.notes = ["Common random numbers: all scenarios ran with baseline's master seed."]
    return cmp


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    cmp = synthetic()
    out = tmp_path_factory.mktemp("report")
    files = write_report(cmp, out)
    return cmp, out, files


def test_analysis_recovers_the_known_effects() -> None:
    d = synthetic().differences.set_index(["scenario", "output"])
    assert d.loc[("ground_rules", "cumulative_output"), "difference"] == pytest.approx(5.0)
    assert d.loc[("champions", "cumulative_output"), "difference"] == pytest.approx(-1.0)
    assert d.loc[("champions", "cumulative_output"), "share_worse"] == 1.0
    assert d.loc[("ground_rules", COST_OUTPUT), "difference"] == pytest.approx(10.0)


def test_html_is_self_contained(report) -> None:
    _, _, files = report
    html = files["report_html"].read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", html), "no external resources"
    assert "<link" not in html and "<script" not in html
    srcs = re.findall(r'src="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    for s in srcs:  # every embedded figure is a real PNG
        assert base64.b64decode(s.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_names_each_scenario_question_reference_and_command(report) -> None:
    cmp, _, files = report
    html = files["report_html"].read_text()
    for scn in cmp.scenarios:
        assert scn.name in html
    assert "Do ground rules &lt;help&gt; &amp; pay?" in html  # escaped, not raw HTML
    assert "What if nobody intervenes?" in html
    assert "Reference: <b>baseline</b>" in html
    assert cmp.command in html
    assert "Costs beside effects" in html and "Where an option fails" in html
    # ground rules gain 5 for 10 GBP k more; champions lose 1 for 20 GBP k more
    verdicts = cmp.costs.set_index(["scenario", "outcome"])["verdict"]
    assert verdicts[("ground_rules", "cumulative_output")] == "costs more, gains more"
    assert verdicts[("champions", "cumulative_output")] == "dominated (worse and no cheaper)"
    assert "costs more, gains more" in html and "dominated (worse and no cheaper)" in html


def test_markdown_summary_links_existing_figures(report) -> None:
    cmp, out, files = report
    md = files["report_md"].read_text()
    for scn in cmp.scenarios:
        assert scn.name in md and scn.question in md
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert {"figures/forest.png", "figures/trajectories.png"} <= set(links)
    for link in links:
        assert (out / link).is_file()
    assert cmp.command in md


def test_every_output_has_a_plain_meaning_unit_and_label() -> None:
    for out in outputs.OUTPUTS.values():
        assert len(out.meaning) > 20 and "`" not in out.meaning, out.name
        assert out.unit and out.label and out.better in (-1, 0, 1), out.name


def test_both_reports_explain_every_output_they_name(report) -> None:
    cmp, _, files = report
    rows = {name: (unit, meaning) for name, unit, meaning in glossary_rows(cmp)}
    # every output in the tables: the differences, the cost and the failure features
    assert set(rows) == {*OUTPUTS, COST_OUTPUT, "time_to_trust_months"}
    assert rows["trust_across_final"] == ("0-1", outputs.meaning("trust_across_final"))
    assert rows[COST_OUTPUT][0] == "GBP k" and "money plus staff time" in rows[COST_OUTPUT][1]
    md = files["report_md"].read_text()
    html = files["report_html"].read_text()
    assert "## Outputs in this report" in md and "Outputs in this report" in html
    for name, (unit, meaning) in rows.items():
        assert f"| {name} | {unit} | {meaning} |" in md
        assert html_escape(meaning) in html
    # the price of staff time behind the cost, and the level of every interval stated
    price = f"GBP {fmt(cmp.scenarios[0].params.staff_month_cost)}k a staff-month"
    assert price in md and price in html
    assert "(95% CI [" in md.split("## Findings on the primary outcome")[1].split("##")[0]


def test_every_figure_is_written(report) -> None:
    _, _, files = report
    for key in ("trajectories", "paired_trajectories", "forest", "cost_effect", "distributions"):
        assert files[key].read_bytes()[:4] == b"\x89PNG"


def test_every_table_says_how_to_read_it(report) -> None:
    cmp, _, files = report
    md = files["report_md"].read_text()
    html = files["report_html"].read_text()
    notes = section_notes(cmp)
    for key, heading in (("differences", "## Differences from the reference"),
                         ("costs", "## Costs beside effects"),
                         ("failures", "## Where an option fails")):
        assert f"{heading}\n\n{notes[key]}\n" in md  # the note opens the section
        assert html_escape(notes[key]) in html
    assert "in the outcome's own units" in notes["costs"]
    assert cmp.outcome in notes["failures"]


def test_numbers_in_tables_keep_three_significant_figures() -> None:
    assert [fmt(v) for v in (1.0, 0.54, 0.44718, 14.53, 1234.6, 0.0, 2e-4, None)] == [
        "1.00", "0.540", "0.447", "14.5", "1,235", "0", "0.0002", "n/a"]


def test_render_html_without_figures() -> None:
    html = render_html(synthetic(), {})
    assert "<img" not in html and "baseline" in html


# --------------------------------------------------------------------------- plotting


def test_forest_plot_puts_points_at_the_differences() -> None:
    d = synthetic().differences
    ax = plots.plot_forest(d, "cumulative_output")
    assert isinstance(ax, Axes)
    xs = sorted(line.get_xdata()[0] for line in ax.lines if line.get_marker() == "o")
    expected = sorted(d.loc[d.output == "cumulative_output", "difference"])
    assert xs == pytest.approx(expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ground_rules", "champions"]


def test_trajectories_draw_the_median_per_scenario() -> None:
    ts = synthetic().timeseries
    ax = plots.plot_trajectories(ts, "output")
    assert [line.get_label() for line in ax.lines] == ["baseline", "ground_rules", "champions"]
    expected = ts[ts.scenario == "ground_rules"].groupby("month")["output"].median()
    assert ax.lines[1].get_ydata() == pytest.approx(expected.to_numpy())


def test_paired_trajectories_are_zero_for_the_reference_itself() -> None:
    ts = synthetic().timeseries
    ax = plots.plot_paired_trajectories(ts, "output", reference="baseline")
    gr = next(line for line in ax.lines if line.get_label() == "ground_rules")
    assert gr.get_ydata() == pytest.approx(np.full(12, 5.0 / 12))


def test_plots_draw_on_a_given_axes() -> None:
    cmp = synthetic()
    ax = plots.new_axes()
    assert plots.plot_distribution(cmp.runs, "cumulative_output", ax=ax) is ax
    ax2 = plots.new_axes()
    assert plots.plot_cost_effect(cmp.costs, "cumulative_output", ax=ax2) is ax2
    assert len(ax2.containers) == 2  # one error bar per option
    # each point is named beside it; no legend marker that could pass for another point
    assert ax2.get_legend() is None
    names = {t.get_text(): t.xy for t in ax2.texts}
    costs = cmp.costs[cmp.costs.outcome == "cumulative_output"].set_index("scenario")
    assert set(names) == set(costs.index)
    for name, (x, y) in names.items():
        assert (x, y) == pytest.approx((costs.loc[name, "effect"],
                                        costs.loc[name, "incremental_cost"]))


def test_a_long_trajectory_title_puts_the_band_on_its_own_line() -> None:
    ts = synthetic().timeseries.assign(info_periphery=0.5)
    title = plots.plot_trajectories(ts, "info_periphery").get_title()
    assert title == "information, peripheral members\nmedian, 5-95% of runs"
    assert "\n" not in plots.plot_trajectories(ts, "output").get_title()


def test_save_figure(tmp_path: Path) -> None:
    ax = plots.plot_trajectories(synthetic().timeseries, "trust_across")
    path = plots.save_figure(ax, tmp_path / "t.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_save_grid_draws_one_panel_per_name(tmp_path: Path) -> None:
    ts = synthetic().timeseries
    names = plots.available(ts, ["trust_across", "not_a_column", "output"])
    assert names == ["trust_across", "output"]
    path = plots.save_grid(plots.plot_trajectories, ts, names, tmp_path / "g.png", by=None)
    assert path is not None and path.read_bytes()[:4] == b"\x89PNG"
    assert plots.save_grid(plots.plot_trajectories, ts, [], tmp_path / "none.png") is None
    assert plots.save_grid(plots.plot_trajectories, ts.iloc[:0], names,
                           tmp_path / "empty.png") is None
    assert not (tmp_path / "none.png").exists() and not (tmp_path / "empty.png").exists()
