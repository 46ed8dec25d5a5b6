"""``partnersim decide``: adaptive rules in the model, the decision file, regret and
satisficing on a hand-checkable problem, the known-answer test, resuming, the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnersim.errors import InputError
from partnersim.model.interventions import parse_interventions
from partnersim.model.partnership import PartnershipModel
from partnersim.model.simulate import simulate

SMALL = {"n_staff": 40, "horizon_months": 24}


# --------------------------------------------------------------------------- adaptive rules


def _rule(**kw: object) -> dict[str, object]:
    return {"kind": "relationship_time_rule", "month": 1, "measure": "trust_across", **kw}


def test_a_rule_that_never_fires_leaves_the_run_identical() -> None:
    base = simulate(SMALL, seed=5)
    ruled = simulate(SMALL, seed=5, interventions=[_rule(below=-1.0, relationship_time=0.4)])
    pd.testing.assert_frame_equal(base.timeseries, ruled.timeseries)
    assert base.summary == ruled.summary


def test_a_rule_sets_the_share_each_month_from_the_month_before() -> None:
    base = simulate(SMALL, seed=5).timeseries["trust_across"]
    threshold = float(base.iloc[1:].median())  # the trigger holds in some months, not others
    model = PartnershipModel(rng=5, interventions=[
        _rule(below=threshold, relationship_time=0.3, otherwise=0.05, month=2)], **SMALL)
    start = model.levers["relationship_time"]
    fired = set()
    while model.running and model.month < SMALL["horizon_months"]:
        month = model.month
        before = model.measured("trust_across", month - 1)
        model.step()
        share = model.levers["relationship_time"]
        if month < 2:
            assert share == start  # the rule acts from its month
        else:
            fires = before < threshold
            fired.add(fires)
            assert share == (0.3 if fires else 0.05), month
    assert fired == {True, False}


def test_a_rule_on_output_relative_to_working_alone() -> None:
    model = PartnershipModel(rng=2, interventions=[
        _rule(measure="output_vs_alone", below=10.0, relationship_time=0.02)], **SMALL)
    model.step()
    model.step()
    ts = model.measures_frame()
    assert model.measured("output_vs_alone", 0) == pytest.approx(
        ts["output"].iloc[0] / ts["output_alone"].iloc[0])
    assert model.levers["relationship_time"] == 0.02


def test_rules_are_checked_when_read() -> None:
    with pytest.raises(InputError, match=r"interventions\[0\]\.measure: unknown measure "
                                         r"'trust_acros' \(did you mean 'trust_across'\?\)"):
        parse_interventions([_rule(measure="trust_acros", below=0.4, relationship_time=0.2)],
                            horizon_months=24)
    with pytest.raises(InputError, match="exactly one trigger"):
        parse_interventions([_rule(relationship_time=0.2)], horizon_months=24)
    with pytest.raises(InputError, match=r"relationship_time"):
        parse_interventions([_rule(below=0.4, relationship_time=0.95)], horizon_months=24)
    with pytest.raises(InputError, match="at least 1"):
        parse_interventions([_rule(below=0.4, relationship_time=0.2, month=0)],
                            horizon_months=24)


def test_rules_draw_nothing_at_random() -> None:
    a = simulate(SMALL, seed=9, interventions=[_rule(below=0.5, relationship_time=0.3)])
    b = simulate(SMALL, seed=9, interventions=[_rule(below=0.5, relationship_time=0.3)])
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert not np.array_equal(a.timeseries["output"], simulate(SMALL, seed=9).timeseries[
        "output"])


# --------------------------------------------------------------------------- the verb

from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

from partnersim.cli import main  # noqa: E402
from partnersim.inputs.decisions import decision_from_dict, load_decision  # noqa: E402
from partnersim.run import runner  # noqa: E402
from partnersim.run.options import RunOptions  # noqa: E402
from partnersim.study.decide import decide, futures_table, make_specs  # noqa: E402
from partnersim.study.testfunctions import SWITCH_THRESHOLD  # noqa: E402

SERIAL = RunOptions(executor="serial", progress=False)
SWITCH = """
name = "switch"
model = "partnersim.study.testfunctions:policy_switch"
seed = 11
replicates = 2

[params]
noise_sd = {noise}

[[policy]]
name = "low"
share = 0.1
[[policy]]
name = "middle"
share = 0.2
[[policy]]
name = "high"
share = 0.3

[futures]
n = {n}
[futures.vary]
x1 = {{ range = [0.0, 1.0] }}
x2 = {{ range = [0.0, 1.0] }}

[[objective]]
output = "y"
at_least = 0.85

[[objective]]
output = "cost"
direction = "lower"

[[questions]]
name = "high_best"
text = "Where is the high share best?"
best = ["high"]

[[questions]]
name = "middle_beats_high"
policy = "middle"
beats = ["high"]
"""


def _switch(tmp_path: Path, *, n: int = 100, noise: float = 0.0) -> Path:
    path = tmp_path / "switch.toml"
    path.write_text(SWITCH.format(n=n, noise=noise))
    return path


def test_decide_names_the_right_policy_per_region_and_prim_finds_the_threshold(
        tmp_path: Path) -> None:
    decision = load_decision(_switch(tmp_path, n=100, noise=0.02))
    a = decide(decision, tmp_path / "out", SERIAL, figures=False).analysis
    x1 = a.futures["x1"].to_numpy()
    expected = np.where(x1 < SWITCH_THRESHOLD, "low", "high")
    assert (a.best["y"].to_numpy() == expected).mean() == 1.0
    box = a.prim["high_best"]
    limits = box.limits.set_index("uncertainty")
    assert list(limits.index) == ["x1"]  # the inert x2 is not restricted
    assert abs(limits.loc["x1", "lower"] - SWITCH_THRESHOLD) < 0.03
    assert box.density == 1.0 and box.coverage > 0.9
    assert a.answers.set_index("question").loc["high_best", "density_outside"] < 0.05
    assert "x1 is above 0.6" in box.words
    assert not [n for n in a.notes if n.startswith("only ")]  # 100 futures: no warning
    scores = a.feature_scores["best policy (y)"]
    assert scores["x1"] > 0.8 > scores["x2"]


def test_with_many_uncertainties_discovery_looks_at_those_that_matter(tmp_path: Path) -> None:
    path = _switch(tmp_path, n=120)
    extra = "".join(f"z{i} = {{ range = [0.0, 1.0] }}\n" for i in range(8))
    path.write_text(path.read_text().replace("[[objective]]", extra + "\n[[objective]]", 1))
    a = decide(load_decision(path), tmp_path / "out", SERIAL, figures=False).analysis
    assert len(a.decision.uncertainties) == 10
    looked = a.answers.set_index("question").loc["high_best", "uncertainties"].split(", ")
    assert len(looked) == 8 and "x1" in looked
    assert a.question_scores["high_best"].idxmax() == "x1"
    limits = a.prim["high_best"].limits.set_index("uncertainty")
    assert list(limits.index) == ["x1"]
    assert abs(limits.loc["x1", "lower"] - SWITCH_THRESHOLD) < 0.03
    assert (tmp_path / "out" / "question_scores.csv").exists()


def test_regret_and_satisficing_on_a_hand_checkable_case(tmp_path: Path) -> None:
    decision = load_decision(_switch(tmp_path, n=50))
    a = decide(decision, tmp_path / "out", SERIAL, figures=False).analysis
    high_side = float((a.futures["x1"] >= SWITCH_THRESHOLD).mean())
    assert high_side == pytest.approx(0.4)  # Latin hypercube: 20 of 50 strata from 0.6 up
    reg = a.regret[a.regret["objective"] == "y"].set_index("policy")
    # middle: 0.1 below the best everywhere; low and high: 0 on their side, 0.2 on the other
    assert reg.loc["middle", ["mean", "median", "p90", "max"]].tolist() == pytest.approx(
        [0.1] * 4)
    assert reg.loc["low", "mean"] == pytest.approx(0.2 * high_side)
    assert reg.loc["middle", "value"] == pytest.approx(0.9)  # y's mean over futures
    assert reg.loc["low", "value"] == pytest.approx(1.0 - 0.2 * high_side)
    assert reg.loc["high", "mean"] == pytest.approx(0.2 * (1 - high_side))
    assert reg.loc["low", "max"] == pytest.approx(0.2)
    assert reg.loc["low", "share_best"] == pytest.approx(1 - high_side)
    assert reg.loc["middle", "share_best"] == 0.0
    assert a.robust_policy("y") == "middle"  # least 90th-percentile regret
    # without noise, resampled replicates change nothing: the intervals are the point
    assert reg.loc["middle", "p90_lo"] == pytest.approx(0.1)
    assert reg.loc["middle", "p90_hi"] == pytest.approx(0.1)
    sat = a.satisficing.set_index(["objective", "policy"])["share"]
    assert sat["y", "middle"] == 1.0  # y = 0.9 >= 0.85 in every future
    assert sat["y", "low"] == pytest.approx(1 - high_side)
    assert sat["y", "high"] == pytest.approx(high_side)
    assert sat["cost", "low"] == 1.0 and sat["cost", "middle"] == 0.0  # margin 0: cheapest only
    assert sat["all objectives", "low"] == pytest.approx(1 - high_side)
    assert sat["all objectives", "middle"] == 0.0
    # low has the least mean regret on both objectives: the only policy on that front.
    # Each future's own front: below 0.6 low is best and cheapest, alone on it; from 0.6 up
    # none dominates another (more y costs more), so all three are on it
    front = a.pareto.set_index("policy")
    assert front["on_front"].to_dict() == {"low": True, "middle": False, "high": False}
    assert front["share_on_front"].to_dict() == pytest.approx(
        {"low": 1.0, "middle": high_side, "high": high_side})
    answers = a.answers.set_index("question")
    assert answers.loc["middle_beats_high", "share"] == pytest.approx(1 - high_side)


def test_common_random_numbers_across_policies() -> None:
    decision = decision_from_dict({
        "seed": 3, "replicates": 2, "params": {"n_staff": 40, "horizon_months": 24},
        "policy": [{"name": "a", "relationship_time": 0.1},
                   {"name": "b", "schedule": [[0, 0.25], [12, 0.1]]},
                   {"name": "c", "relationship_time": 0.1,
                    "rule": [{"measure": "trust_across", "below": 0.4,
                              "relationship_time": 0.25}]}],
        "futures": {"n": 3, "vary": {"leadership": {}}},
        "objective": [{"output": "output_vs_alone"}]}, source="d.toml")
    specs = make_specs(decision, futures_table(decision))
    assert len(specs) == 3 * 3 * 2
    by_key: dict[tuple[int, int], set[int]] = {}
    for s in specs:
        by_key.setdefault((s.point, s.replicate), set()).add(s.seed)
    assert all(len(seeds) == 1 for seeds in by_key.values())  # one seed for every policy
    assert len({next(iter(v)) for v in by_key.values()}) == 6  # distinct across (f, r)
    kinds = {s.scenario: [iv.kind for iv in s.interventions] for s in specs}
    assert kinds == {"a": [], "b": ["relationship_time"], "c": ["relationship_time_rule"]}
    assert {s.values["leadership"] for s in specs if s.point == 1} == {
        specs[2 * 3].values["leadership"]}


def test_resume_after_an_interruption_gives_identical_tables(tmp_path: Path,
                                                              monkeypatch) -> None:
    decision = load_decision(_switch(tmp_path, n=30, noise=0.05))
    options = replace(SERIAL, chunk_size=5)
    monkeypatch.setattr(runner, "FLUSH_RUNS", 10)
    clean = decide(decision, tmp_path / "clean", options, figures=False)
    out = tmp_path / "cut"
    decide(decision, out, options, figures=False)
    shards = sorted((out / "runs").glob("part-*.parquet"))
    assert len(shards) >= 4
    for path in shards[1::2]:
        path.unlink()  # runs lost to an interruption
    partial = decide(decision, out, SERIAL, figures=False, analyse_stored=True)
    assert len(partial.analysis.futures) < 30 and partial.analysis.notes
    again = decide(decision, out, SERIAL, figures=False)
    assert again.report.computed > 0 and again.report.complete
    for name in ("regret.csv", "satisficing.csv", "pareto.csv", "answers.csv"):
        assert (out / name).read_text() == (tmp_path / "clean" / name).read_text(), name
    pd.testing.assert_frame_equal(pd.read_parquet(out / "means.parquet"),
                                  pd.read_parquet(tmp_path / "clean" / "means.parquet"))
    assert clean.analysis is not None


def test_report_and_command_line(tmp_path: Path, capsys) -> None:
    path = _switch(tmp_path, n=40, noise=0.01)
    code = main(["decide", str(path), "--out", str(tmp_path / "out"), "--executor", "serial",
                 "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "least 90th-percentile regret is 'middle'" in printed
    html = (tmp_path / "out" / "report.html").read_text()
    md = (tmp_path / "out" / "report.md").read_text()
    warning = ("only 40 futures: each future moves a share of futures by 2%, and PRIM's and "
               "CART's boxes rest on a few futures")
    assert warning in printed
    for text in (html, md):
        assert "Regret: y" in text and "Satisficing" in text and "x1 is above 0.6" in text
        assert warning in text.replace("&#x27;", "'")
    assert "data:image/png;base64," in html
    assert (tmp_path / "out" / "figures" / "best_policy_map.png").exists()
    assert (tmp_path / "out" / "figures" / "prim_tradeoff_high_best.png").exists()


def _bad(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_decision(path)
    return str(info.value)


PS_DECISION = """
[[policy]]
name = "a"
relationship_time = 0.1
[[policy]]
name = "b"
{lever}
{rule}
[futures]
n = 10
[futures.vary]
leadership = {{}}
[[objective]]
output = "{output}"
{threshold}
"""


def _ps(lever: str = "relationship_time = 0.2", rule: str = "",
        output: str = "output_vs_alone", threshold: str = "") -> str:
    return PS_DECISION.format(lever=lever, rule=rule, output=output, threshold=threshold)


def test_bad_input_gets_one_line_naming_the_file_line_and_key(tmp_path: Path,
                                                              capsys) -> None:
    msg = _bad(tmp_path, _ps(lever="relationship_tme = 0.2"))
    assert msg.startswith(f"{tmp_path / 'bad.toml'}: line 7: policy[1].relationship_tme: "
                          "unknown lever (did you mean 'relationship_time'?)")
    msg = _bad(tmp_path, _ps(lever="relationship_time = 0.9"))
    assert "policy[1].relationship_time" in msg and "0.6" in msg  # out of its bounds
    msg = _bad(tmp_path, _ps(output="output_vs_alon"))
    assert "objective[0].output: unknown end-of-run output 'output_vs_alon' (did you mean " \
           "'output_vs_alone'?)" in msg
    msg = _bad(tmp_path, _ps(rule='[[policy.rule]]\nmeasure = "trust_acros"\nbelow = 0.4\n'
                                  'relationship_time = 0.3'))
    assert "line 9: policy[1].rule[0].measure: unknown measure 'trust_acros' (did you " \
           "mean 'trust_across'?)" in msg
    msg = _bad(tmp_path, _ps(threshold="at_most = 1.0"))
    assert "objective[0].at_most: threshold in the wrong direction" in msg
    msg = _bad(tmp_path, _ps(output="cost_total", threshold="at_least = 10.0"))
    assert "'at_most'" in msg
    msg = _bad(tmp_path, _ps(lever="leadership = 0.5"))
    assert "policy[1].leadership: leadership is an uncertainty" in msg
    msg = _bad(tmp_path, _ps() + '[[questions]]\nbest = ["c"]\n')
    assert "questions[0].best[0]: unknown policy 'c'" in msg
    assert "\n" not in msg
    path = tmp_path / "bad.toml"
    path.write_text(_ps(lever="relationship_tme = 0.2"))
    assert main(["decide", str(path), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown lever" in err
    assert not (tmp_path / "never").exists()  # nothing half-written


def test_futures_can_draw_from_a_calibration_posterior(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "manifest.json").write_text(  # a complete calibration, as calibrate leaves it
        '{"kind": "calibration", "complete": true, "calibration": "c", "fingerprint": "f"}')
    pd.DataFrame({"synergy_max": [0.5, 1.8], "capacity_decay": [0.02, 0.005],
                  "weight": [0.9, 0.1], "generation": [3, 3]}).to_parquet(
        folder / "posterior.parquet")
    text = _ps().replace("n = 10", "n = 400").replace(
        "[futures.vary]\n", "posterior = \"cal\"\n[futures.vary]\nsynergy_max = {}\n")
    path = tmp_path / "post.toml"
    path.write_text(text)
    decision = load_decision(path)
    assert decision.uncertainties == ["leadership", "synergy_max", "capacity_decay"]
    assert decision.futures.names == ["leadership"]  # synergy_max left the hypercube
    futures = futures_table(decision)
    assert set(futures["synergy_max"]) <= {0.5, 1.8}
    assert 0.85 < (futures["particle"] == 0).mean() < 0.95  # drawn by weight (0.9)
    pairs = set(zip(futures["synergy_max"], futures["capacity_decay"], strict=True))
    assert pairs <= {(0.5, 0.02), (1.8, 0.005)}  # particles drawn whole
    specs = make_specs(decision, futures)
    assert {s.values["synergy_max"] for s in specs if s.point == 0} == {
        futures["synergy_max"].iloc[0]}
    pd.testing.assert_frame_equal(futures, futures_table(load_decision(path)))
    bad = tmp_path / "bad_post.toml"
    bad.write_text(text.replace('posterior = "cal"', 'posterior = "nowhere"'))
    with pytest.raises(InputError, match=r"futures\.posterior: no posterior\.parquet"):
        load_decision(bad)
    (folder / "manifest.json").write_text(
        '{"kind": "calibration", "complete": false, "calibration": "c", "fingerprint": "f"}')
    with pytest.raises(InputError, match="calibration is not complete"):
        load_decision(path)  # an unfinished calibration is no posterior to draw from
    (folder / "manifest.json").write_text(
        '{"kind": "calibration", "complete": true, "calibration": "c", "fingerprint": "f"}')
    pd.DataFrame({"synergy_mx": [0.5], "weight": [1.0]}).to_parquet(
        folder / "posterior.parquet")
    with pytest.raises(InputError, match="unknown parameter 'synergy_mx'"):
        load_decision(path)


def test_a_share_neither_none_nor_all_never_reads_0_or_100_percent() -> None:
    from partnersim.present.text import pct

    assert [pct(v) for v in (0.0, 0.0048, 0.12, 0.996, 1.0)] == ["0%", "<1%", "12%", ">99%",
                                                                  "100%"]
