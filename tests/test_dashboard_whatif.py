"""The dashboard's replay snapshots, what-if forks and interactive (Vega-Lite) charts.

No browser here (tests/test_dashboard.py drives the page): these check that a snapshot is
the run as it was, that a fork's two runs are exactly the runs a fresh model gives with
and without the intervention, and what the chart specifications draw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from partnersim import outputs
from partnersim.dashboard import charts
from partnersim.dashboard import session as dash_session
from partnersim.dashboard.server import ASSET_PACKAGES
from partnersim.errors import InputError

VALUES = {**dash_session.default_scenario().params.model_dump(), "n_staff": 60,
          "horizon_months": 36, "p_turnover": 0.03}


def _run(months: int, presses: dict[int, str] | None = None) -> Any:
    """A fresh dashboard model run ``months`` months, pressing live buttons on the way."""
    model = dash_session.build_model(VALUES, 11, ())
    for _ in range(months):
        if presses and int(model.month) in presses:
            key = presses[int(model.month)]
            model.apply_intervention(dash_session.LIVE_INTERVENTIONS[key][1](model, model.month))
        model.step()
    if presses and int(model.month) in presses:  # pressed at the month the run stops at
        key = presses[int(model.month)]
        model.apply_intervention(dash_session.LIVE_INTERVENTIONS[key][1](model, model.month))
    return model


def _to_end(model: Any) -> pd.DataFrame:
    while model.running:
        model.step()
    return model.measures_frame()


# ----------------------------------------------------------------------------------
# snapshots: the run as it was


def test_a_snapshot_is_kept_each_month_and_is_the_run_as_it_was_then() -> None:
    model = _run(8, {2: "ground_rules"})
    assert sorted(model.history) == list(range(9))
    for month in (0, 3, 8):
        then = model.history[month]
        assert int(then.month) == month
        pd.testing.assert_frame_equal(then.measures_frame(), _run(month, {2: "ground_rules"})
                                      .measures_frame())
    # a snapshot is independent: stepping a copy of it moves neither it nor the live run
    live = model.measures_frame().copy()
    kept = model.history[3].measures_frame().copy()
    copy = dash_session.snapshot(model.history[3])
    for _ in range(4):
        dash_session.advance(copy)
    pd.testing.assert_frame_equal(model.history[3].measures_frame(), kept)
    pd.testing.assert_frame_equal(model.measures_frame(), live)
    assert int(copy.month) == 7
    assert sorted(copy.history) == [4, 5, 6, 7]  # its own months only, none of the run's


def test_a_big_model_keeps_a_snapshot_every_few_months(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {**VALUES, "horizon_months": 30}
    size = sum(a.nbytes for a in dash_session._model_arrays(
        dash_session.build_model(values, 11, ())))
    budget = size * 31 // 3 + 1  # about a third of what a snapshot every month would take
    monkeypatch.setattr(dash_session, "SNAPSHOT_BUDGET_BYTES", budget)
    model = dash_session.build_model(values, 11, ())
    stride = model.history_stride
    first = sum(a.nbytes for a in dash_session._model_arrays(model.history[0]))
    assert stride == math.ceil(first * 31 / budget) and stride in (2, 3, 4)
    for _ in range(30):
        model.step()
    assert sorted(model.history) == sorted({*range(0, 30, stride), 30})  # and the last month
    assert int(dash_session.nearest_snapshot(model, stride + 1).month) == stride
    # a what-if while replaying starts from the kept month, and from the live run otherwise
    assert dash_session.model_at(model, stride + 1) is model.history[stride]
    assert dash_session.model_at(model, None) is model
    assert dash_session.model_at(model, 30) is model
    with pytest.raises(KeyError):
        dash_session.nearest_snapshot(dash_session.build_model(VALUES, 1, ()), -1)


def test_a_stopped_model_steps_no_more() -> None:
    model = _run(3)
    before = model.measures_frame().copy()
    model.stop()
    assert not model.running and model.stopped
    model.step()
    model.step()
    assert int(model.month) == 3 and not model.running
    pd.testing.assert_frame_equal(model.measures_frame(), before)


# ----------------------------------------------------------------------------------
# what if: the same random streams with and without


@pytest.mark.parametrize("from_snapshot", [False, True])
def test_a_fork_is_the_run_with_and_without_the_intervention(from_snapshot: bool) -> None:
    model = _run(9, {2: "ground_rules"})
    start = model.history[5] if from_snapshot else model
    month = 5 if from_snapshot else 9
    before = start.measures_frame().copy()
    result = dash_session.fork(start, "chair_leaves")
    assert result.month == month and result.label == "The chair leaves"
    # the start is untouched: a fork never moves the live run or a snapshot
    pd.testing.assert_frame_equal(start.measures_frame(), before)
    assert int(model.month) == 9
    with_it = _to_end(_run(month, {2: "ground_rules", month: "chair_leaves"}))
    without = _to_end(_run(month, {2: "ground_rules"}))
    pd.testing.assert_frame_equal(result.with_frame, with_it)
    pd.testing.assert_frame_equal(result.without_frame, without)
    assert (month, "chair leaves") in result.events_with
    assert (month, "chair leaves") not in result.events_without
    assert not result.with_frame.equals(result.without_frame)
    diff = result.difference(["trust_across"])
    assert diff["month"].min() == month and diff["month"].max() == VALUES["horizon_months"] - 1
    np.testing.assert_allclose(
        diff["difference"].to_numpy(),
        with_it.loc[with_it.month >= month, "trust_across"].to_numpy()
        - without.loc[without.month >= month, "trust_across"].to_numpy())


def test_a_fork_run_on_in_steps_is_the_fork_run_at_once() -> None:
    model = _run(5)
    whole = dash_session.fork(model, "budget_cut")
    branches = dash_session.Fork(model, "budget_cut")
    branches.extend(7)
    first = branches.result()
    assert first.with_frame["month"].max() == 11 and not branches.done
    while not branches.done:
        branches.extend(7)
    pd.testing.assert_frame_equal(branches.result().with_frame, whole.with_frame)
    pd.testing.assert_frame_equal(branches.result().without_frame, whole.without_frame)
    pd.testing.assert_frame_equal(first.with_frame, whole.with_frame.iloc[:12])


def test_a_fork_can_stop_early_and_refuses_unknown_interventions() -> None:
    model = _run(4)
    short = dash_session.fork(model, "ground_rules", months=6)
    assert short.with_frame["month"].max() == 9 and short.without_frame["month"].max() == 9
    with pytest.raises(InputError, match="what-if.*unknown intervention 'dictator'"):
        dash_session.fork(model, "dictator")


def _fork_result(diff: list[float], measure: str = "trust_across", month: int = 2) -> Any:
    months = np.arange(month + len(diff))
    base = np.full(months.size, 0.5)
    with_it = base.copy()
    with_it[month:] += np.asarray(diff)
    return dash_session.ForkResult(
        month=month, key="ground_rules", label="Introduce ground rules",
        with_frame=pd.DataFrame({"month": months, measure: with_it}),
        without_frame=pd.DataFrame({"month": months, measure: base}),
        events_with=((month, "ground rules"),), events_without=())


def test_the_fork_summary_names_worse_before_better() -> None:
    text = charts.fork_summary(_fork_result([-0.05, -0.04, 0.0, 0.06, 0.1]), "trust_across")
    assert text == ("By month 6, trust across agencies is 0.6 with introduce ground rules and "
                    "0.5 without (+0.1); worse before better: behind until month 5.")
    text = charts.fork_summary(_fork_result([0.05, 0.04, 0.0, -0.06, -0.1]), "trust_across")
    assert text.endswith("better at first, then worse from month 5.")
    assert "before" not in charts.fork_summary(_fork_result([0.01, 0.02, 0.03]), "trust_across")
    assert charts.fork_summary(_fork_result([-0.001, 0.002, 0.001]), "trust_across").endswith(
        "(+0.001); hardly any difference.")
    # where less is better, rising is the worse direction
    lower = next(n for n in outputs.MONTHLY if outputs.OUTPUTS[n].better < 0)
    text = charts.fork_summary(_fork_result([0.05, 0.04, 0.0, -0.06, -0.1], lower), lower)
    assert "worse before better" in text


# ----------------------------------------------------------------------------------
# the interactive charts


def _layers(panel: dict[str, Any], mark: str) -> list[dict[str, Any]]:
    return [layer for layer in panel["layer"] if layer["mark"]["type"] == mark]


def test_presentation_curves_are_large_marked_and_show_values_on_hover() -> None:
    model = _run(10, {3: "ground_rules", 4: "chair_leaves"})
    measures = ("trust_across", "output", "health")
    spec = charts.series_spec(model.measures_frame(), measures, model.events, model.horizon)
    assert spec["$schema"].endswith("/vega-lite/v5.json")  # what the page's Vega-Lite reads
    config = spec["config"]
    assert min(config["axis"]["labelFontSize"], config["axis"]["titleFontSize"],
               config["legend"]["labelFontSize"]) >= 18
    panels = spec["vconcat"]
    assert [p["title"]["text"] for p in panels] == [charts.measure_title(m) for m in measures]
    assert charts.measure_title("output") == "service output (staff-months)"
    frame = model.measures_frame()
    for panel, measure in zip(panels, measures, strict=True):
        values = [row["value"] for row in panel["data"]["values"]]
        np.testing.assert_allclose(values, frame[measure].to_numpy(), rtol=1e-4)
        [rule] = _layers(panel, "rule")
        assert [(e["month"], e["event"]) for e in rule["data"]["values"]] == [
            (3, "ground rules"), (4, "chair leaves")]
        [points] = _layers(panel, "point")
        assert [t["field"] for t in points["encoding"]["tooltip"]] == ["run", "month", "value"]
        assert points["params"][0]["select"]["nearest"] is True
        assert panel["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, model.horizon]
    [labels] = _layers(panels[0], "text")  # event labels on the top panel only
    assert labels["mark"]["fontSize"] >= 18
    ys = [e["y"] for e in labels["data"]["values"]]
    assert ys[0] != ys[1]  # labels of close months go on separate lines
    assert not _layers(panels[1], "text")
    names = [p["layer"][1]["params"][0]["name"] for p in panels]
    assert len(set(names)) == len(names)  # one hover selection per panel


def test_replay_marks_the_month_on_screen() -> None:
    model = _run(6)
    spec = charts.series_spec(model.measures_frame(), ["trust_across"], [], model.horizon,
                              cursor=2)
    [panel] = spec["vconcat"]
    [cursor] = _layers(panel, "rule")
    assert cursor["data"]["values"] == [{"month": 2}]
    assert cursor["mark"]["color"] == charts.CURSOR_COLOUR


def test_the_fork_chart_draws_with_solid_without_dashed_and_the_difference() -> None:
    result = dash_session.fork(_run(6), "ground_rules")
    spec = charts.fork_spec(result, ["trust_across", "output"], VALUES["horizon_months"])
    assert len(spec["vconcat"]) == 2
    runs_panel, diff_panel = spec["vconcat"][0]["hconcat"]
    line = _layers(runs_panel, "line")[0]["encoding"]
    assert line["strokeDash"]["scale"] == {"domain": list(result.runs),
                                           "range": [[1, 0], [8, 5]]}
    assert result.runs == ("with: introduce ground rules", "without")
    by_run: dict[str, list[float]] = {}
    for row in runs_panel["data"]["values"]:
        by_run.setdefault(row["run"], []).append(row["value"])
    np.testing.assert_allclose(by_run[result.runs[0]], result.with_frame["trust_across"],
                               rtol=1e-4)
    np.testing.assert_allclose(by_run[result.runs[1]], result.without_frame["trust_across"],
                               rtol=1e-4)
    area = _layers(diff_panel, "area")[0]
    got = [(r["month"], r["difference"]) for r in area["data"]["values"]]
    want = result.difference(["trust_across"])
    assert [m for m, _ in got] == want["month"].tolist()
    np.testing.assert_allclose([d for _, d in got], want["difference"], rtol=1e-3, atol=1e-9)
    assert area["encoding"]["x"]["scale"]["domain"][0] == result.month


def test_charts_need_vega_in_the_offline_asset_cache() -> None:
    # Solara's Vega-Lite widget asks for vega@5, vega-lite@5 and vega-embed@6 by these paths
    folders = {p.folder: p.required for p in ASSET_PACKAGES}
    assert folders["vega@5"] == ("build/vega.min.js",)
    assert folders["vega-lite@5"] == ("build/vega-lite.min.js",)
    assert folders["vega-embed@6"] == ("build/vega-embed.min.js",)
