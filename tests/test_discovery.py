"""Scenario discovery (study.discovery) on synthetic futures with a known box, and its figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from partnersim.errors import InputError
from partnersim.present.discovery_plots import plot_box_limits, plot_prim_tradeoff
from partnersim.present.plots import save_figure
from partnersim.study.discovery import box_in_words, cart, feature_scores, prim

N = 1000


@pytest.fixture(scope="module")
def known() -> tuple[pd.DataFrame, np.ndarray]:
    """y holds where x1 < 0.3 and x2 > 0.6 (x3 inert), with 3% of the answers flipped."""
    rng = np.random.default_rng(20261206)
    x = pd.DataFrame({"x1": rng.uniform(0, 1, N), "x2": rng.uniform(0, 1, N),
                      "x3": rng.uniform(0, 1, N)})
    truth = ((x["x1"] < 0.3) & (x["x2"] > 0.6)).to_numpy()
    flip = rng.uniform(size=N) < 0.03
    return x, truth ^ flip


@pytest.fixture(scope="module")
def found(known):
    x, y = known
    return prim(x, y, question="where does it hold", seed=7, resamples=6)


def _limit(result, name):
    return result.limits.set_index("uncertainty").loc[name]


def test_prim_recovers_the_known_box(found):
    assert set(found.limits["uncertainty"]) == {"x1", "x2"}  # x3 left free
    x1, x2 = _limit(found, "x1"), _limit(found, "x2")
    assert x1["upper"] == pytest.approx(0.3, abs=0.04)
    assert x2["lower"] == pytest.approx(0.6, abs=0.04)
    # the real limits are significant; the free sides have no quasi-p-value
    assert x1["qp_upper"] < 1e-6 and x2["qp_lower"] < 1e-6
    assert np.isnan(x1["qp_lower"]) and np.isnan(x2["qp_upper"])
    assert found.density >= 0.8 and found.met_min_density
    assert found.coverage > 0.7
    row = found.trajectory.iloc[found.chosen]
    assert (row["coverage"], row["density"]) == (found.coverage, found.density)
    assert found.words == "when x1 is below 0.3 and x2 is above 0.6"


def test_prim_trajectory_and_stability(found):
    t = found.trajectory
    assert list(t.columns) == ["box", "coverage", "density", "mass", "res_dim"]
    assert t["box"].tolist() == list(range(len(t)))
    assert t["coverage"].iloc[0] == 1.0 and t["res_dim"].iloc[0] == 0
    s = found.stability.set_index("uncertainty")
    assert s.loc["x1", "share"] == 1.0 and s.loc["x2", "share"] == 1.0
    assert s.loc["x1", "in_chosen"] and s.loc["x2", "in_chosen"]
    assert s.loc["x1", "upper_min"] <= 0.3 + 0.05 and s.loc["x1", "upper_max"] >= 0.3 - 0.05
    assert np.isnan(s.loc["x1", "lower_min"]) and np.isnan(s.loc["x2", "upper_max"])
    # the inert dimension is restricted in fewer resamples than the real ones
    assert s.loc["x3", "share"] < 1.0 and not s.loc["x3", "in_chosen"]


def test_prim_without_the_density_wanted_takes_the_densest_box(known):
    x, y = known
    result = prim(x, y, question="q", seed=1, min_density=1.0, resamples=0)
    assert not result.met_min_density
    assert result.density == result.trajectory["density"].max()
    assert result.stability.empty


def test_prim_is_deterministic_given_the_seed(known, found):
    x, y = known
    again = prim(x, y, question="where does it hold", seed=7, resamples=6)
    pd.testing.assert_frame_equal(again.limits, found.limits)
    pd.testing.assert_frame_equal(again.stability, found.stability)
    other = prim(x, y, question="where does it hold", seed=8, resamples=6)
    assert not other.stability.equals(found.stability)  # the seed drives the resamples


def test_cart_finds_the_box(known):
    x, y = known
    result = cart(x, y, question="where does it hold", seed=3)
    mostly = result.boxes[result.boxes["density"] > 0.5]
    assert len(result.words) == len(mostly) >= 1
    # the leaves where y mostly holds lie inside x1 < 0.3, x2 > 0.6 and cover most of it
    limits = result.limits[result.limits["box"].isin(mostly["box"])].set_index(
        ["box", "uncertainty"])
    x1_upper = [limits.loc[(box, "x1"), "upper"] for box in mostly["box"]]
    x2_lower = [limits.loc[(box, "x2"), "lower"] for box in mostly["box"]]
    assert max(x1_upper) == pytest.approx(0.3, abs=0.04)
    assert min(x2_lower) == pytest.approx(0.6, abs=0.04)
    assert max(x1_upper) < 0.34 and min(x2_lower) > 0.56
    assert mostly["coverage"].sum() > 0.7
    assert all("x3" not in w for w in result.words)
    again = cart(x, y, question="where does it hold", seed=3)
    pd.testing.assert_frame_equal(again.boxes, result.boxes)


def test_feature_scores_rank_the_real_uncertainties_first(known):
    x, y = known
    rng = np.random.default_rng(5)
    outcomes = pd.DataFrame({
        "in_box": y,
        "output": 2 * x["x1"] - x["x2"] + rng.normal(0, 0.05, N),
        "best_policy": np.where(x["x1"] < 0.5, "modest share", np.where(
            x["x2"] < 0.5, "no time", "adaptive")),
    })
    scores = feature_scores(x, outcomes, seed=11)
    assert list(scores.index) == ["x1", "x2", "x3"]
    assert list(scores.columns) == ["in_box", "output", "best_policy"]
    for name in scores.columns:
        assert scores.loc["x3", name] < min(scores.loc["x1", name], scores.loc["x2", name])
        assert scores[name].sum() == pytest.approx(1.0)
    pd.testing.assert_frame_equal(feature_scores(x, outcomes, seed=11), scores)


def test_box_in_words_speaks_the_declared_units():
    rng = np.random.default_rng(2)
    x = pd.DataFrame({"leadership": rng.uniform(0, 1, 500),
                      "capacity_budget": rng.uniform(0, 20, 500),
                      "relationship_time": rng.uniform(0, 0.4, 500),
                      "n_agenda_items": rng.integers(0, 10, 500),
                      "my_factor": rng.uniform(0, 5, 500)})
    lo = {c: float(x[c].min()) for c in x}
    hi = {c: float(x[c].max()) for c in x}
    limits = pd.DataFrame([
        {"uncertainty": "leadership", "lower": lo["leadership"], "upper": 0.4},
        {"uncertainty": "capacity_budget", "lower": lo["capacity_budget"], "upper": 8.0},
    ])
    assert box_in_words(limits, x) == (
        "when leadership is below 0.40 (of 0-1) and capacity budget is below GBP 8,000 a month")
    limits = pd.DataFrame([
        {"uncertainty": "relationship_time", "lower": 0.1, "upper": 0.25},
        {"uncertainty": "n_agenda_items", "lower": 4.0, "upper": hi["n_agenda_items"]},
        {"uncertainty": "my_factor", "lower": 1.25, "upper": hi["my_factor"]},
    ])
    assert box_in_words(limits, x) == (
        "when relationship time is between 10% of working time and 25% of working time, "
        "n agenda items is at least 4 items per month and my factor is above 1.25")
    assert box_in_words(limits.iloc[:0], x) == "over all 500 futures (no restriction)"
    # a limit the data do not support (quasi-p above WEAK_QP) is said apart, as weak
    qp = limits.assign(qp_lower=[0.001, 0.2, np.nan], qp_upper=[0.01, np.nan, 0.04])
    assert box_in_words(qp, x) == (
        "when relationship time is between 10% of working time and 25% of working time and "
        "my factor is above 1.25 (weak, quasi-p above 0.05: n agenda items is at least 4 items "
        "per month)")
    assert box_in_words(qp.iloc[1:2], x) == (
        "when n agenda items is at least 4 items per month (all weak, quasi-p above 0.05)")
    one_side = qp.iloc[:1].assign(qp_upper=0.3)  # a firm lower side, a weak upper one
    assert box_in_words(one_side, x) == (
        "when relationship time is above 10% of working time (weak, quasi-p above 0.05: "
        "relationship time is below 25% of working time)")
    flags = pd.DataFrame([
        {"uncertainty": "joint_chair", "lower": np.nan, "upper": np.nan, "categories": (True,)},
        {"uncertainty": "budget_earmark", "lower": np.nan, "upper": np.nan,
         "categories": ("community", "voluntary")},
    ])
    assert box_in_words(flags, x) == (
        "when with joint chair and budget earmark is community or voluntary")


def test_prim_handles_flags_and_choices():
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"leadership": rng.uniform(0, 1, 800),
                      "joint_chair": rng.uniform(size=800) < 0.5,
                      "budget_earmark": rng.choice(["none", "voluntary", "community"], 800)})
    y = (x["leadership"] > 0.5) & (x["budget_earmark"] != "none")
    result = prim(x, y, question="q", seed=1, resamples=2)
    assert set(result.limits["uncertainty"]) == {"leadership", "budget_earmark"}
    cats = result.limits.set_index("uncertainty").loc["budget_earmark", "categories"]
    assert cats == ("community", "voluntary")
    assert "budget earmark is community or voluntary" in result.words
    assert "leadership is above 0.5" in result.words or "leadership is above 0.4" in result.words
    ax = plot_box_limits(result, x)
    assert isinstance(ax, Axes)


def test_whole_number_dimensions_are_said_inclusively():
    rng = np.random.default_rng(6)
    x = pd.DataFrame({"leadership": rng.uniform(0, 1, 600),
                      "n_agenda_items": rng.integers(0, 11, 600),
                      "k": rng.integers(0, 50, 600)})
    y = (x["n_agenda_items"] <= 3) & (x["k"] >= 21)
    found = prim(x, y, question="q", seed=1, resamples=2)
    assert found.words.startswith("when n agenda items is at most 3 items per month and k is "
                                  "at least 2")  # the whole values inside PRIM's limits
    k_lower = found.limits.set_index("uncertainty").loc["k", "lower"]
    assert found.words.endswith(f"at least {int(np.ceil(k_lower))}") and 21 <= k_lower <= 23
    limits = pd.DataFrame([{"uncertainty": "k", "lower": 20.5, "upper": 30.5}])
    assert box_in_words(limits, x) == "when k is between 21 and 30"
    limits = pd.DataFrame([{"uncertainty": "k", "lower": 6.5, "upper": 7.5}])
    assert box_in_words(limits, x) == "when k is 7"
    tree = cart(x, y, question="q", seed=1)  # a leaf's lower split is exclusive: k > 20.5
    assert tree.words == ["when n agenda items is at most 3 items per month and k is at least 21"]


def test_bad_answers_are_input_errors(known):
    x, y = known
    with pytest.raises(InputError, match="y: expected one value per row of x"):
        prim(x, y[:-1], question="q", seed=1)
    with pytest.raises(InputError, match="y: the answer holds in no future"):
        prim(x, np.zeros(N, dtype=bool), question="q", seed=1)
    with pytest.raises(InputError, match="y: expected yes/no values"):
        cart(x, np.full(N, 0.5), question="q", seed=1)
    with pytest.raises(InputError, match="min_density"):
        prim(x, y, question="q", seed=1, min_density=1.5)
    with pytest.raises(InputError, match="mass_min: 0.0005 of 1000 futures is less than one"):
        cart(x, y, question="q", seed=1, mass_min=0.0005)
    with pytest.raises(InputError, match="outcomes: expected a table"):
        feature_scores(x, pd.DataFrame({"a": [1.0]}), seed=1)


def test_figures_draw_and_save(found, known, tmp_path):
    x, _ = known
    ax = plot_prim_tradeoff(found)
    assert isinstance(ax, Axes)
    assert len(ax.collections) == 2  # the trajectory and the ring round the chosen box
    offsets = ax.collections[0].get_offsets()
    assert len(offsets) == len(found.trajectory)
    ax2 = plot_box_limits(found, x)
    assert isinstance(ax2, Axes)
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["x2", "x1"]
    for a, name in ((ax, "tradeoff.png"), (ax2, "limits.png")):
        path = save_figure(a, tmp_path / name)
        assert path.stat().st_size > 5000
