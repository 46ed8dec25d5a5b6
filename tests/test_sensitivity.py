"""The sensitivity harness, validated on functions with known indices through the full pipeline.

Each study goes experiment dict -> SALib design -> run specs -> runner (serial) ->
sharded Parquet -> analysis, exactly as ``partnersim sensitivity`` runs it.
Intervals are at 99% (``conf_level = 0.99``): a test checks several indices at
once, and at 95% one in twenty would miss by chance alone. Seeds are fixed, so
the tests are deterministic.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from partnersim.designs import ANALYSERS
from partnersim.errors import InputError
from partnersim.inputs.experiments import experiment_from_dict
from partnersim.present.sensitivity_plots import (
    plot_convergence,
    plot_indices,
    plot_morris,
    plot_time_indices,
)
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.study import sensitivity as sens
from partnersim.study import testfunctions as T
from partnersim.study.sensitivity import (
    analyse,
    build_design,
    make_specs,
    replicate_noise,
    sensitivity,
    sweep,
)

PI = math.pi
ISHIGAMI = ("partnersim.study.testfunctions:ishigami", 3, (-PI, PI), T.ishigami_indices())
SOBOL_G = ("partnersim.study.testfunctions:sobol_g", 8, (0.0, 1.0), T.sobol_g_indices())
SERIAL = RunOptions(executor="serial", progress=False)


def study(model: str, k: int, bounds: tuple[float, float], design: str, n: int,
          **extra: object):
    options = {"conf_level": 0.99, **extra.pop("options", {})}  # type: ignore[dict-item]
    data = {"model": model, "design": design, "sample_size": n, "seed": 20261126,
            "outputs": ["y"], "options": options,
            "vary": {f"x{i + 1}": {"range": list(bounds)} for i in range(k)}, **extra}
    return experiment_from_dict(data, source="test")


def run(exp, tmp_path, name="out", **kw):
    return sensitivity(exp, tmp_path / name, SERIAL, **kw)


def indices(outcome, index: str) -> pd.DataFrame:
    ix = outcome.analysis.indices
    return ix[(ix["output"] == "y") & (ix["index"] == index)].set_index("param")


@pytest.mark.parametrize("case", [ISHIGAMI, SOBOL_G], ids=["ishigami", "sobol_g"])
def test_sobol_indices_match_analytic_values_within_their_cis(tmp_path, case):
    model, k, bounds, known = case
    out = run(study(model, k, bounds, "sobol", 1024), tmp_path, figures=False)
    for index in ("S1", "ST"):
        got = indices(out, index)
        err = np.abs(got["value"].to_numpy() - known[index])
        # bootstrap intervals under-cover indices near zero (a skewed estimator at a
        # boundary); there, an absolute error below 0.01 is agreement
        ok = (err <= got["conf"].to_numpy()) | ((known[index] < 0.01) & (err < 0.01))
        assert np.all(ok), (index, err, got["conf"].to_numpy())


@pytest.mark.parametrize(("case", "n", "m"), [(ISHIGAMI, 2000, 8), (SOBOL_G, 1000, 6)],
                         ids=["ishigami", "sobol_g"])
def test_efast_indices_match_analytic_values(tmp_path, case, n, m):
    """eFAST at finite M carries a deterministic truncation bias that no interval over
    random phases can cover (Saltelli et al. 1999); allow 0.01 beside the interval."""
    model, k, bounds, known = case
    out = run(study(model, k, bounds, "fast", n, options={"M": m}), tmp_path, figures=False)
    for index in ("S1", "ST"):
        got = indices(out, index)
        err = np.abs(got["value"].to_numpy() - known[index])
        assert np.all(err <= np.maximum(got["conf"].to_numpy(), 0.01)), (index, err)
    assert out.analysis.verdicts["verdict"].iloc[0].startswith("not assessed")


def _g(x: np.ndarray) -> np.ndarray:
    a = np.array(T.SOBOL_G_A)
    return np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)


@pytest.mark.parametrize(("case", "f"), [(ISHIGAMI, Ishigami.evaluate), (SOBOL_G, _g)],
                         ids=["ishigami", "sobol_g"])
def test_morris_mu_star_matches_exact_expectation_within_ci(tmp_path, case, f):
    model, k, bounds, _ = case
    out = run(study(model, k, bounds, "morris", 500), tmp_path, figures=False)
    exact = T.morris_mu_star(f, [bounds] * k, num_levels=4)
    got = indices(out, "mu_star")
    err = np.abs(got["value"].to_numpy() - exact)
    # a zero interval means every elementary effect had the same size: then exact
    assert np.all(err <= np.maximum(got["conf"].to_numpy(), 1e-9)), (err, got["conf"])
    ranked = list(got["value"].sort_values(ascending=False).index[:2])
    assert set(ranked) == ({"x1", "x2"})


def test_indices_use_the_replicate_mean_and_report_the_noise_share(tmp_path):
    """Ishigami plus N(0, 2^2) noise: the indices of the replicate mean are those of
    Ishigami scaled by V / (V + sigma^2 / R), and the noise share of single runs is
    sigma^2 / (V + sigma^2)."""
    sigma, reps = 2.0, 4
    exp = study(*ISHIGAMI[:3], "sobol", 512, replicates=reps, params={"noise_sd": sigma})
    out = run(exp, tmp_path, figures=False)
    v = T.ishigami_variance()
    noise = out.analysis.noise.set_index("output").loc["y"]
    assert noise["noise_low"] <= sigma**2 / (v + sigma**2) <= noise["noise_high"]
    assert noise["noise_share_mean"] == pytest.approx((sigma**2 / reps) / (v + sigma**2 / reps),
                                                      abs=0.03)
    scale = v / (v + sigma**2 / reps)
    got = indices(out, "S1")
    want = T.ishigami_indices()["S1"] * scale
    assert np.all(np.abs(got["value"].to_numpy() - want) <= got["conf"].to_numpy())
    runs = storage.load_runs(tmp_path / "out")
    assert runs.groupby("point")["replicate"].nunique().eq(reps).all()


def test_noise_share_is_zero_for_a_deterministic_model_and_nan_without_replicates():
    runs = pd.DataFrame({"point": [0, 0, 1, 1, 2, 2], "status": "ok",
                         "y": [1.0, 1.0, 2.0, 2.0, 5.0, 5.0]})
    row = replicate_noise(runs, "y", replicates=2, seed=1)
    assert row["noise_share"] == 0.0 and row["noise_share_mean"] == 0.0
    single = replicate_noise(runs.iloc[::2], "y", replicates=1, seed=1)
    assert np.isnan(single["noise_share"])


def test_convergence_report_and_verdicts(tmp_path):
    big = run(study(*SOBOL_G[:3], "sobol", 1024, options={"conf_level": 0.95}), tmp_path,
              "big", figures=False).analysis
    assert sorted(big.convergence["n"].unique()) == [128, 256, 512, 1024]
    assert bool(big.verdicts["converged"].iloc[0]) is True
    small = run(study(*ISHIGAMI[:3], "sobol", 32), tmp_path, "small", figures=False).analysis
    verdict = small.verdicts.iloc[0]
    assert bool(verdict["converged"]) is False
    assert verdict["verdict"].startswith("not converged:") and "CI half-width" in verdict["verdict"]
    # CIs narrow as the sample grows
    st = big.convergence[(big.convergence["index"] == "ST") & (big.convergence["param"] == "x1")]
    assert st.sort_values("n")["conf"].is_monotonic_decreasing


def test_time_resolved_indices_follow_the_driver_year_by_year(tmp_path):
    exp = study("partnersim.study.testfunctions:linear_over_time", 2, (0.0, 1.0), "sobol", 256,
                outputs=["y_end"], measures=["y"])
    out = run(exp, tmp_path)
    ti = out.analysis.time_indices
    assert set(ti["period"]) == {0, 1}
    table = ti.pivot_table(index=["period", "param"], columns="index", values="value")
    for (period, param), row in table.iterrows():
        want = 1.0 if (period == 0) == (param == "x1") else 0.0
        assert row["S1"] == pytest.approx(want, abs=0.05)
        assert row["ST"] == pytest.approx(want, abs=0.05)
    assert any(name.startswith("time_y_") for name in out.files)


def test_latin_designs_give_delta_pawn_and_rbd_fast_with_intervals(tmp_path):
    out = run(study(*ISHIGAMI[:3], "latin", 250, options={"num_resamples": 20}), tmp_path)
    ix = out.analysis.indices
    assert set(ix["method"]) == {"delta", "pawn", "rbd_fast"}
    for method, index in (("delta", "delta"), ("pawn", "median"), ("rbd_fast", "S1")):
        sub = ix[(ix["method"] == method) & (ix["index"] == index)].set_index("param")
        assert sub["conf"].gt(0).all() and sub["conf"].lt(0.3).all()
        assert sub["value"].idxmin() == "x3"  # x3 acts only through an interaction
    rbd = ix[(ix["method"] == "rbd_fast") & (ix["index"] == "S1")].set_index("param")
    known = T.ishigami_indices()["S1"]
    assert np.all(np.abs(rbd["value"].to_numpy() - known) <= rbd["conf"].to_numpy() + 0.05)


def test_an_analysis_that_cannot_be_made_is_left_out_with_a_note(tmp_path, monkeypatch):
    # delta's kernel density fails on too few or too alike values ("Singular matrix"):
    # the sub-samples it fails on are left out of the convergence report, and an output it
    # fails on altogether gets a note and no indices, instead of failing the study
    real = ANALYSERS["delta"].analyse

    def fails_when_small(problem, X, Y, options, seed):
        if len(Y) < 100:
            raise ValueError("Singular matrix - likely due to degenerate input")
        return real(problem, X, Y, options, seed)

    monkeypatch.setitem(ANALYSERS, "delta", replace(ANALYSERS["delta"], analyse=fails_when_small))
    exp = study(*ISHIGAMI[:3], "delta", 200, options={"num_resamples": 10})
    analysis = run(exp, tmp_path, figures=False).analysis
    assert sorted(analysis.convergence["n"].unique()) == [100, 200]  # 25 and 50 left out
    assert set(analysis.indices["method"]) == {"delta"}
    small = run(study(*ISHIGAMI[:3], "delta", 50, options={"num_resamples": 10}), tmp_path,
                "small", figures=False).analysis
    assert small.indices.empty
    assert any("could not analyse it (Singular matrix" in n for n in small.notes)


def test_failed_runs_are_left_out_of_the_point_means(tmp_path):
    exp = study("partnersim.study.testfunctions:always_fails_above", 2, (0.0, 1.0), "latin", 40,
                replicates=1)
    out = run(exp, tmp_path, figures=False)
    assert out.report.failed > 0 and not out.report.ok
    assert any("no finite value" in note for note in out.analysis.notes)
    assert out.analysis.indices.empty


def test_discrete_parameters_reach_the_model_as_their_own_types(tmp_path):
    data = {"model": "partnersim.study.testfunctions:random_walk", "design": "sobol",
            "sample_size": 8, "outputs": ["y_end"],
            "vary": {"drift": {"range": [0.0, 1.0]},
                     "months": {"range": [12, 24], "type": "int"},
                     "volatility": {"values": [0.5, 1.0, 2.0]}}}
    exp = experiment_from_dict(data, source="test")
    specs = make_specs(exp, build_design(exp))
    assert all(type(s.params["months"]) is int for s in specs)
    assert {s.params["volatility"] for s in specs} <= {0.5, 1.0, 2.0}
    out = sweep(exp, tmp_path / "w", SERIAL)
    assert out.report.ok
    runs = storage.load_runs(tmp_path / "w")
    assert runs["months"].dtype == "int64"
    points = pd.read_parquet(out.files["points"])
    assert len(points) == len(build_design(exp).points)
    assert {"y_end_mean", "y_end_sd", "runs_ok"} <= set(points.columns)


def test_analysis_tables_are_stored_and_figures_drawn(tmp_path):
    out = run(study(*ISHIGAMI[:3], "morris", 20), tmp_path)
    for name in ("indices", "noise", "convergence", "verdicts", "time_indices"):
        assert out.files[name].is_file()
    stored = storage.read_table(tmp_path / "out", "indices")
    pd.testing.assert_frame_equal(stored, out.analysis.indices)
    assert (tmp_path / "out" / "figures" / "morris_y.png").stat().st_size > 1000
    # re-analysis of the stored runs (a fresh design draw, runs read back) gives the same tables
    again = analyse(out.experiment, build_design(out.experiment),
                    storage.load_runs(tmp_path / "out"), tmp_path / "out")
    pd.testing.assert_frame_equal(again.indices, out.analysis.indices)
    pd.testing.assert_frame_equal(again.convergence, out.analysis.convergence)


def test_plot_functions_return_their_axes(tmp_path):
    sob = run(study(*ISHIGAMI[:3], "sobol", 64), tmp_path, "s", figures=False).analysis
    mor = run(study(*ISHIGAMI[:3], "morris", 10), tmp_path, "m", figures=False).analysis
    time_df = pd.DataFrame({"measure": "y", "period": [0, 0, 1, 1], "method": "sobol",
                            "param": ["a", "b", "a", "b"], "index": "ST",
                            "value": [0.9, 0.1, 0.2, 0.8], "conf": 0.01})
    from matplotlib.figure import Figure

    for ax in (plot_indices(sob.indices), plot_convergence(sob.convergence),
               plot_morris(mor.indices), plot_time_indices(time_df)):
        assert isinstance(ax, matplotlib.axes.Axes)
        # data was drawn (an empty Axes has spines, axes and titles but none of these)
        assert ax.lines or ax.patches or ax.collections or ax.images
    given = Figure().subplots()
    assert plot_indices(sob.indices, "y", "sobol", ax=given) is given


def test_sensitivity_draws_the_design_and_reads_the_runs_once(tmp_path, monkeypatch):
    calls = {"build_design": 0, "load_runs": 0}

    def counted(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += kwargs.get("columns") is None  # the runner's own status read aside
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(sens, "build_design", counted("build_design", sens.build_design))
    monkeypatch.setattr(sens.storage, "load_runs", counted("load_runs", storage.load_runs))
    out = run(study(*ISHIGAMI[:3], "sobol", 16), tmp_path, figures=False)
    assert out.analysis is not None and len(out.analysis.indices)
    assert calls == {"build_design": 1, "load_runs": 1}
    assert len(out.runs) == len(out.design.points)  # one replicate per point


@pytest.mark.parametrize(("n", "needed"), [
    # SALib's RBD-FAST bootstrap analyses half the sample, and needs more than 2*M of it:
    # 16 runs with M=4 divided by zero, fewer gave meaningless intervals
    (16, "sample size 16 cannot be used: rbd_fast with M=4 needs at least 4*M + 2 = 18 runs"),
    (9, "sample size 9 cannot be used: rbd_fast with M=4 needs at least 4*M + 2 = 18 runs"),
])
def test_rbd_fast_samples_too_small_for_its_bootstrap_are_refused(n, needed):
    with pytest.raises(InputError, match=re.escape(needed)):
        study(*ISHIGAMI[:3], "rbd_fast", n)


@pytest.mark.parametrize(("n", "needed"), [
    (12, "latin is analysed by rbd_fast, delta and pawn, and rbd_fast"),
    (19, "latin is analysed by rbd_fast, delta and pawn, and delta needs at least 20"),
])
def test_a_latin_hypercube_too_small_to_analyse_is_refused_before_any_run(tmp_path, n, needed):
    # a sweep may sample a small Latin hypercube; its analyses need what each needs
    exp = study(*ISHIGAMI[:3], "latin", n)
    with pytest.raises(InputError, match=re.escape(f"sample size {n} cannot be analysed: "
                                                   f"{needed}")):
        run(exp, tmp_path)
    assert not (tmp_path / "out").exists()


def test_the_smallest_accepted_samples_analyse(tmp_path):
    for design, n in (("rbd_fast", 18), ("latin", 20)):
        out = run(study(*ISHIGAMI[:3], design, n), tmp_path, name=design, figures=False)
        assert np.isfinite(out.analysis.indices["value"]).all()


def test_the_indices_table_shows_a_method_without_intervals():
    ix = pd.DataFrame({"output": "y", "method": "rbd_fast", "param": ["x1", "x2"],
                       "index": "S1", "value": [0.6, 0.2], "conf": np.nan})
    empty = pd.DataFrame()
    text = sens.format_indices(sens.Analysis(ix, empty, empty, pd.DataFrame(
        columns=["output", "method", "verdict"]), empty, []))
    assert "x1" in text.splitlines()[1] and "S1  0.600" in text and "±" not in text


def test_an_output_the_model_does_not_return_is_named_and_its_runs_kept(tmp_path):
    # a file's own model: its outputs are known only once it has run (it had been a
    # KeyError after the runs); corrected, the study resumes the stored runs
    exp = study(*ISHIGAMI[:3], "sobol", 4, outputs=["nosuch"])
    with pytest.raises(InputError, match=r"outputs\[0\]: the model returned no output "
                                         r"'nosuch'; it returned y \(its runs are stored"):
        sweep(exp, tmp_path / "out", SERIAL)
    fixed = replace(exp, outputs=("y",))
    assert sweep(fixed, tmp_path / "out", SERIAL).report.computed == 0


def test_convergence_needs_both_stable_indices_and_narrow_intervals(tmp_path):
    # indices that barely move still do not converge while their intervals are wide
    def verdict(name, **options):
        exp = study(*ISHIGAMI[:3], "sobol", 64, options=options)
        v = run(exp, tmp_path, name=name, figures=False).analysis.verdicts
        return bool(v.loc[v["method"] == "sobol", "converged"].item())

    assert verdict("loose", convergence_tolerance=0.99, ci_tolerance=0.99)
    assert not verdict("narrow", convergence_tolerance=0.99, ci_tolerance=0.001)
    assert not verdict("still", convergence_tolerance=0.0001, ci_tolerance=0.99)
