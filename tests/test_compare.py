"""Comparisons: bootstrap intervals, seed pairing, costs beside effects, compare() end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from partnersim.errors import InputError
from partnersim.outputs import COST_OUTPUT
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.seeding import replicate_seeds
from partnersim.stats import bootstrap_ci
from partnersim.study.compare import (
    compare,
    cost_effectiveness,
    failure_conditions,
    paired_differences,
)

SERIAL = RunOptions(executor="serial", progress=False)

SMALL = """# Question: {question}
name = "{name}"
question = "{question}"
replicates = {replicates}
seed = {seed}

[params]
horizon_months = 24
n_staff = 60
"""


def write_scenario(folder: Path, name: str, *, replicates: int = 3, seed: int = 11,
                   extra: str = "") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(SMALL.format(name=name, question=f"What does {name} do?",
                                 replicates=replicates, seed=seed) + extra)
    return path


GROUND_RULES = '\n[[interventions]]\nkind = "ground_rules"\nmonth = 0\nground_rules = 1.0\n'


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_of_constant_differences_is_exact() -> None:
    rng = np.random.default_rng(0)
    assert bootstrap_ci(np.zeros(10), rng=rng) == (0.0, 0.0)
    assert bootstrap_ci(np.full(7, 2.5), rng=rng) == (2.5, 2.5)
    for too_few in ([], [2.5]):  # one pair gives no interval, not a point
        lo, hi = bootstrap_ci(too_few, rng=rng)
        assert np.isnan(lo) and np.isnan(hi)


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_bootstrap_matches_normal_theory_for_a_large_sample(method: str) -> None:
    x = np.random.default_rng(1).normal(3.0, 2.0, size=400)
    lo, hi = bootstrap_ci(x, rng=np.random.default_rng(2), method=method, n_boot=4000)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert lo < x.mean() < hi
    assert lo == pytest.approx(x.mean() - half, abs=0.15 * half)
    assert hi == pytest.approx(x.mean() + half, abs=0.15 * half)


def test_bca_shifts_towards_the_long_tail() -> None:
    # skewed data: BCa's upper end sits further from the mean than the percentile's
    x = np.random.default_rng(3).lognormal(0.0, 1.0, size=40)
    pct = bootstrap_ci(x, rng=np.random.default_rng(4), method="percentile")
    bca = bootstrap_ci(x, rng=np.random.default_rng(4), method="bca")
    assert bca[1] > pct[1] and bca[0] > pct[0]


def test_bootstrap_is_reproducible_and_rejects_unknown_methods() -> None:
    x = np.arange(12.0)
    a = bootstrap_ci(x, rng=np.random.default_rng(5))
    b = bootstrap_ci(x, rng=np.random.default_rng(5))
    assert a == b
    with pytest.raises(ValueError):
        bootstrap_ci(x, rng=np.random.default_rng(5), method="studentised")


# --------------------------------------------------------------------------- pairing


def synthetic_runs() -> pd.DataFrame:
    seeds = [101, 102, 103, 104, 105]
    ref = pd.DataFrame({"scenario": "ref", "seed": seeds,
                        "cumulative_output": [10.0, 12.0, 9.0, 11.0, 8.0],
                        COST_OUTPUT: [100.0] * 5,
                        "time_to_trust_months": [20.0, 30.0, np.nan, 25.0, 40.0]})
    opt = pd.DataFrame({"scenario": "opt", "seed": seeds,
                        "cumulative_output": [11.0, 14.0, 8.0, 12.0, 9.0],   # +1 +2 -1 +1 +1
                        COST_OUTPUT: [110.0, 110.0, 110.0, 110.0, 110.0],
                        "time_to_trust_months": [18.0, 31.0, 20.0, 20.0, 30.0]})
    return pd.concat([ref, opt], ignore_index=True)


def test_paired_differences_pair_by_seed_not_by_row_order() -> None:
    runs = synthetic_runs()
    shuffled = runs.sample(frac=1.0, random_state=7).reset_index(drop=True)
    a = paired_differences(runs, ["cumulative_output"], reference="ref", boot_seed=3)
    b = paired_differences(shuffled, ["cumulative_output"], reference="ref", boot_seed=3)
    pd.testing.assert_frame_equal(a, b)
    r = a.iloc[0]
    assert r["difference"] == pytest.approx(0.8)
    assert r["n_pairs"] == 5
    assert r["share_worse"] == pytest.approx(0.2) and r["share_better"] == pytest.approx(0.8)
    assert r["reference_mean"] == pytest.approx(10.0)
    assert r["ci_low"] <= 0.8 <= r["ci_high"]


def test_lower_is_better_outputs_and_missing_pairs() -> None:
    d = paired_differences(synthetic_runs(), ["time_to_trust_months", COST_OUTPUT],
                           reference="ref").set_index("output")
    t = d.loc["time_to_trust_months"]
    # the seed with a missing reference value is left out: diffs -2, +1, -5, -10
    assert t["n_pairs"] == 4
    assert t["difference"] == pytest.approx(-4.0)
    assert t["direction"] == "lower"
    assert t["share_worse"] == pytest.approx(0.25)   # one pair took longer
    c = d.loc[COST_OUTPUT]
    assert c["difference"] == 10.0 and (c["ci_low"], c["ci_high"]) == (10.0, 10.0)
    assert c["share_worse"] == 1.0 and c["significant"]


def test_duplicate_seed_within_a_scenario_is_refused() -> None:
    runs = synthetic_runs()
    runs.loc[1, "seed"] = 101
    with pytest.raises(ValueError, match="seed appears twice"):
        paired_differences(runs, ["cumulative_output"], reference="ref")


# --------------------------------------------------------------------------- costs


def diff_row(scenario: str, output: str, d: float, lo: float, hi: float,
             direction: str = "higher") -> dict:
    return {"scenario": scenario, "reference": "ref", "output": output,
            "direction": direction, "difference": d, "ci_low": lo, "ci_high": hi}


def test_cost_effectiveness_verdicts_and_ratio() -> None:
    rows = [
        diff_row("pricier", "out", 4.0, 2.0, 6.0), diff_row("pricier", COST_OUTPUT, 20.0,
                                                            18.0, 22.0, "lower"),
        diff_row("cheaper", "out", 1.0, 0.5, 1.5), diff_row("cheaper", COST_OUTPUT, -5.0,
                                                            -6.0, -4.0, "lower"),
        diff_row("worse", "out", -1.0, -2.0, -0.5), diff_row("worse", COST_OUTPUT, 3.0,
                                                             2.0, 4.0, "lower"),
        diff_row("unclear", "out", 0.1, -0.3, 0.5), diff_row("unclear", COST_OUTPUT, 3.0,
                                                             2.0, 4.0, "lower"),
        diff_row("same", "out", 0.0, 0.0, 0.0), diff_row("same", COST_OUTPUT, 0.0, 0.0,
                                                         0.0, "lower"),
        diff_row("faster", "delay", -2.0, -3.0, -1.0, "lower"),
        diff_row("faster", COST_OUTPUT, 8.0, 7.0, 9.0, "lower"),
    ]
    c = cost_effectiveness(pd.DataFrame(rows), ["out", "delay"]).set_index("scenario")
    assert c.loc["pricier", "cost_per_unit"] == pytest.approx(5.0)
    assert c.loc["pricier", "verdict"].startswith("costs more")
    assert c.loc["cheaper", "verdict"].startswith("dominates")
    assert c.loc["worse", "verdict"].startswith("dominated")
    for name in ("cheaper", "worse", "unclear", "same"):
        assert np.isnan(c.loc[name, "cost_per_unit"])
    assert c.loc["unclear", "verdict"] == "effect not distinguishable from zero"
    assert c.loc["same", "verdict"] == "no difference"
    # a lower-is-better outcome: two months sooner is a gain of 2 for GBP 8k -> 4 per month
    assert c.loc["faster", "effect"] == pytest.approx(2.0)
    assert (c.loc["faster", "effect_ci_low"], c.loc["faster", "effect_ci_high"]) == (1.0, 3.0)
    assert c.loc["faster", "cost_per_unit"] == pytest.approx(4.0)


def test_failure_conditions_name_the_failing_seeds() -> None:
    f = failure_conditions(synthetic_runs(), "cumulative_output", reference="ref",
                           features=["cumulative_output"]).iloc[0]
    assert f["n_failed"] == 1 and f["failed_seeds"] == "103"
    assert f["share_failed"] == pytest.approx(0.2)
    assert f["worst_difference"] == pytest.approx(-1.0)
    assert f["cumulative_output_when_failed"] == pytest.approx(9.0)
    assert f["cumulative_output_otherwise"] == pytest.approx(41.0 / 4)


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("cmp")
    base = write_scenario(folder, "base", replicates=3, seed=11)
    again = write_scenario(folder, "base_copy", replicates=5, seed=999)  # same model, own seed
    rules = write_scenario(folder, "rules", seed=12, extra=GROUND_RULES)
    out = folder / "out"
    cmp = compare([base, again, rules], out, SERIAL)
    return cmp, folder


def test_compare_uses_the_reference_seeds_for_every_scenario(compared) -> None:
    cmp, _ = compared
    expected = replicate_seeds(11, 3)
    assert cmp.seeds == expected
    for name in ("base", "base_copy", "rules"):
        got = cmp.runs.loc[cmp.runs["scenario"] == name].sort_values("replicate")["seed"]
        assert got.tolist() == expected
    assert any("base_copy" in n and "seed 999" in n for n in cmp.notes)
    # three pairs: the report says how rough its intervals are
    assert "Only 3 paired seeds: bootstrap intervals from so few pairs miss" in " ".join(
        cmp.notes)


def test_identical_scenarios_give_exactly_zero_differences(compared) -> None:
    cmp, _ = compared
    d = cmp.differences[cmp.differences["scenario"] == "base_copy"]
    assert len(d) == len(cmp.outputs) + 1
    assert (d["difference"] == 0.0).all()
    assert (d["ci_low"] == 0.0).all() and (d["ci_high"] == 0.0).all()
    assert (d["share_worse"] == 0.0).all()
    c = cmp.costs[cmp.costs["scenario"] == "base_copy"]
    assert (c["verdict"] == "no difference").all()


def test_differences_agree_with_the_stored_runs(compared) -> None:
    cmp, _ = compared
    runs = pd.read_parquet(cmp.files["runs"])
    wide = runs.pivot(index="seed", columns="scenario", values="trust_across_final")
    expected = (wide["rules"] - wide["base"]).mean()
    row = cmp.differences.query("scenario == 'rules' and output == 'trust_across_final'")
    assert row["difference"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert expected != 0.0  # ground rules change the run
    cost = (runs.loc[runs.scenario == "rules", "cost_money_total"].to_numpy()
            + runs.loc[runs.scenario == "rules", "cost_time_total"].to_numpy())
    assert runs.loc[runs.scenario == "rules", COST_OUTPUT].to_numpy() == pytest.approx(cost)


def test_compare_writes_tables_and_report(compared) -> None:
    cmp, _ = compared
    for key in ("runs", "timeseries", "differences", "costs", "failures", "report_html",
                "report_md", "manifest", "forest", "trajectories"):
        assert cmp.files[key].is_file(), key
    stored = pd.read_parquet(cmp.files["differences"])
    pd.testing.assert_frame_equal(stored, cmp.differences, check_dtype=False)
    ts = pd.read_parquet(cmp.files["timeseries"])
    assert set(ts["scenario"]) == {"base", "base_copy", "rules"}
    assert len(ts) == 3 * 3 * 24
    assert cmp.files["distributions"].name == "distributions.png"  # as ``run`` names it
    manifest = storage.read_manifest(cmp.out_dir)
    assert manifest["files"]["differences"] == "differences.parquet"
    assert "outputs" not in manifest  # ``outputs`` means end-of-run values, not files
    assert all(len(s["sha256"]) == 64 and s["text"] for s in manifest["scenarios"])


def test_compare_refuses_to_overwrite(compared) -> None:
    cmp, folder = compared
    before = cmp.files["report_html"].stat().st_mtime_ns
    with pytest.raises(InputError, match="already holds complete results"):
        compare([folder / "base.toml", folder / "base.toml"], cmp.out_dir, SERIAL)
    assert cmp.files["report_html"].stat().st_mtime_ns == before
    with pytest.raises(InputError, match="SCENARIO: expected the reference scenario and at "
                                         "least one to compare with it"):
        compare([folder / "base.toml"], cmp.out_dir, SERIAL)


def test_unknown_output_is_refused_before_any_run(tmp_path: Path) -> None:
    base = write_scenario(tmp_path, "base")
    with pytest.raises(InputError, match="outputs: unknown end-of-run output.*did you mean "
                                         "'cumulative_output'"):
        compare([base, base], tmp_path / "out", SERIAL, outputs=["cumulative_outptu"])
    assert not (tmp_path / "out").exists()


def test_a_lower_is_better_outcome_fails_upward_and_a_ci_below_zero_is_significant() -> None:
    # time to trust: diffs -2, +1, -5, -10 (months); the one pair that took longer failed,
    # and its worst difference is a month slower, +1, not an improvement
    f = failure_conditions(synthetic_runs(), "time_to_trust_months", reference="ref",
                           features=["cumulative_output"]).iloc[0]
    assert f["n_failed"] == 1 and f["failed_seeds"] == "102"
    assert f["worst_difference"] == pytest.approx(1.0)
    d = paired_differences(synthetic_runs(), ["time_to_trust_months"],
                           reference="ref").iloc[0]
    assert d["ci_high"] < 0 and d["significant"]  # wholly below zero
