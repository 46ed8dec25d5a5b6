"""The ``decide`` verb: which policy does acceptably across plausible futures, and where it flips.

Given a decision file (``inputs.decisions``), ``decide`` runs every policy in every
future with common random numbers (replicate ``i`` of future ``f`` has the same seed under
every policy) through the shared runner (sharded, resumable, any executor), then, for each
objective:

* the best policy in each future (the highest mean over replicates in the objective's
  better direction; the first listed on a tie);
* each policy's regret, the distance from the best policy in the same future, as mean,
  median, 90th percentile and maximum over futures, and the share of futures where it is
  best;
* satisficing: the share of futures where the policy meets the objective's threshold or is
  within its margin of the best (and across all objectives at once);
* the policies on the Pareto front of mean regret across objectives, and the share of
  futures in which each is on that future's Pareto front of means;
* intervals from the paired replicates: the analysis repeated on bootstrap resamples of
  each future's replicates (the same resample for every policy, so pairs stay paired),
  95% percentile intervals.

Then scenario discovery (``study.discovery``: PRIM and CART of the EMA Workbench) on the
file's questions, and extra-trees feature scores of the best policy per objective. Tables
go to the results folder beside the runs, with the report (``present.decision_report``).

Run ids are ``(future * n_policies + policy) * replicates + replicate``: futures are run
in order, so a folder interrupted part-way holds whole futures, which ``analyse_stored``
analyses on their own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim.errors import InputError
from partnersim.inputs.decisions import Decision, Objective, Question
from partnersim.present import decision_report
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.run.runner import execute, fingerprint
from partnersim.run.specs import RunReport, RunSpec
from partnersim.seeding import replicate_seeds
from partnersim.stats import CI_LEVEL
from partnersim.study import discovery
from partnersim.study.replicates import add_cost_total
from partnersim.study.sensitivity import build_design

POSTERIOR_STREAM = 15
"""Stream of the decision's seed that draws posterior particles (the bootstrap uses 14)."""
N_BOOT = 400
"""Bootstrap resamples of the replicates for the intervals of regret and satisficing (fewer
than ``stats.N_BOOT``: each resample re-ranks every policy in every future)."""
DISCOVERY_DIMENSIONS = 8
"""Most uncertainties PRIM and CART look at for one question (see ``discover_answers``)."""
CART_MASS_MIN = 0.05
"""CART's smallest leaf, as a share of the futures."""
FEW_FUTURES = 100
"""Below this many futures the report warns that its shares and boxes rest on few futures."""
ALL_OBJECTIVES = "all objectives"
"""The ``objective`` label of satisficing on every objective at once."""


# --------------------------------------------------------------------------- the runs


def futures_table(decision: Decision) -> pd.DataFrame:
    """The futures: ``future`` and each uncertainty's value (the Latin hypercube, seeded;
    with a posterior, one particle per future drawn by weight, with replacement, from a
    generator seeded by the decision's seed)."""
    design = build_design(decision.futures)
    table = pd.DataFrame(design.points, columns=decision.futures.names)
    if decision.posterior is not None:
        post = decision.posterior
        rng = np.random.default_rng([decision.seed, POSTERIOR_STREAM])
        drawn = rng.choice(len(post), size=len(table), p=post["weight"].to_numpy())
        for name in decision.posterior_names:
            table[name] = post[name].to_numpy()[drawn]
        table["particle"] = drawn.astype("int64")
    table.insert(0, "future", np.arange(len(table), dtype="int64"))
    return table


def make_specs(decision: Decision, futures: pd.DataFrame) -> list[RunSpec]:
    """Every policy in every future, ``replicates`` times, with common random numbers."""
    n_p, n_r = len(decision.policies), decision.replicates
    seeds = replicate_seeds(decision.seed, len(futures) * n_r)
    values = futures[decision.uncertainties].to_dict("records")
    specs = []
    for f, future in enumerate(values):
        future = {k: (v.item() if hasattr(v, "item") else v) for k, v in future.items()}
        for p, policy in enumerate(decision.policies):
            params = {**decision.base_params, **future, **policy.levers}
            for r in range(n_r):
                specs.append(RunSpec(run_id=(f * n_p + p) * n_r + r, seed=seeds[f * n_r + r],
                                     params=params, point=f, replicate=r,
                                     scenario=policy.name,
                                     interventions=policy.interventions))
    return specs


def decision_record(decision: Decision) -> dict[str, Any]:
    """The resolved decision, for the manifest."""
    return {
        "name": decision.name, "question": decision.question,
        "model": decision.model or "partnersim", "seed": decision.seed,
        "replicates": decision.replicates, "n_futures": decision.n_futures,
        "base_params": dict(decision.base_params),
        "policies": [{"name": p.name, "levers": dict(p.levers),
                      "interventions": [iv.as_table() for iv in p.interventions],
                      "words": p.words()} for p in decision.policies],
        "uncertainties": [{"name": f.name, "type": f.type, "lower": f.lower,
                           "upper": f.upper} for f in decision.futures.factors],
        "posterior": None if decision.posterior is None else {
            "path": decision.posterior_source, "particles": len(decision.posterior),
            "parameters": decision.posterior_names,
            "sha256": hashlib.sha256(
                Path(decision.posterior_source or "").read_bytes()).hexdigest()},
        "objectives": [{"output": o.output, "direction": o.direction,
                        "threshold": o.threshold, "margin": o.margin}
                       for o in decision.objectives],
        "questions": [{"name": q.name, "text": q.text, "objective": q.objective,
                       "best": list(q.best), "policy": q.policy, "beats": list(q.beats)}
                      for q in decision.questions],
    }


def value_cube(runs: pd.DataFrame, decision: Decision, output: str,
               n_futures: int) -> np.ndarray:
    """An output as an array ``(policy, future, replicate)``; NaN for failed or missing
    runs."""
    n_p, n_r = len(decision.policies), decision.replicates
    cube = np.full(n_futures * n_p * n_r, np.nan)
    if output not in runs.columns:
        raise InputError(f"the model reports no output {output!r}", source=decision.source,
                         key="objective")
    ids = runs["run_id"].to_numpy()
    keep = ids < cube.size
    vals = runs[output].to_numpy(dtype="float64")
    ok = (runs["status"] == "ok").to_numpy() if "status" in runs else np.ones(len(runs), bool)
    cube[ids[keep & ok]] = vals[keep & ok]
    return cube.reshape(n_futures, n_p, n_r).transpose(1, 0, 2)


# --------------------------------------------------------------------------- the analysis


def regret_of(means: np.ndarray, direction: int) -> np.ndarray:
    """Regret ``(policy, future)``: the best policy's mean in that future minus this one's,
    in the better direction (0 for the best)."""
    signed = direction * means
    return np.nanmax(signed, axis=0, keepdims=True) - signed


def best_index(means: np.ndarray, direction: int) -> np.ndarray:
    """The best policy in each future (the first listed on a tie)."""
    return np.argmax(direction * means, axis=0)


def _stats(means: np.ndarray, obj: Objective) -> dict[str, np.ndarray]:
    """Per-policy statistics over futures, from means ``(policy, future)``."""
    regret = regret_of(means, obj.direction)
    best = best_index(means, obj.direction)
    satisfices = obj.meets(means) | (regret <= obj.margin + 1e-12)
    n_p = means.shape[0]
    return {"mean": regret.mean(axis=1), "median": np.median(regret, axis=1),
            "p90": np.quantile(regret, 0.9, axis=1), "max": regret.max(axis=1),
            "share_best": np.array([np.mean(best == p) for p in range(n_p)]),
            "satisficing": satisfices.mean(axis=1), "_satisfices": satisfices}


def _resampled_means(cubes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Means over a bootstrap resample of each future's replicates: the same resample
    for every policy and objective (pairs stay paired)."""
    _, n_f, n_r = cubes[0].shape
    idx = rng.integers(0, n_r, size=(n_f, n_r))
    return [np.take_along_axis(c, idx[None, :, :], axis=2).mean(axis=2) for c in cubes]


@dataclass
class DecisionAnalysis:
    """The tables of a decision.

    Attributes:
        decision: The decision analysed.
        futures: The futures analysed: ``future`` and the uncertainties.
        means: Long table: ``objective, policy, future, mean`` (over replicates), ``regret``.
        best: ``future`` and, per objective, the best policy's name.
        regret: Per objective and policy: ``value`` (the objective's mean over futures),
            ``mean, median, p90, max`` regret and ``share_best``, each with ``_lo``/``_hi``
            interval bounds.
        satisficing: Per objective (and ``ALL_OBJECTIVES``) and policy: ``share`` of futures
            that satisfice, with ``share_lo``/``share_hi``.
        pareto: Per policy: ``on_front`` (of mean regret across objectives) and
            ``share_on_front`` (share of futures where its means are on the front).
        prim: Per question name, PRIM's result (questions that hold nowhere or everywhere
            are left out, with a note).
        cart: Per question name, CART's result.
        answers: Per question: ``question, text, objective, futures, share`` (where it
            holds) and PRIM's chosen box (``coverage, density, mass, words``, the
            uncertainties PRIM looked at), with ``density_outside``: the share of the
            futures outside the box where the answer holds.
        feature_scores: Rows: uncertainties; columns: ``best policy (<objective>)``.
        question_scores: Rows: uncertainties; columns: questions: extra-trees scores of
            each question's answer (when PRIM looked at the highest-scoring ones only).
        notes: What was left out and why.
    """

    decision: Decision
    futures: pd.DataFrame
    means: pd.DataFrame
    best: pd.DataFrame
    regret: pd.DataFrame
    satisficing: pd.DataFrame
    pareto: pd.DataFrame
    prim: dict[str, discovery.PrimResult] = field(default_factory=dict)
    cart: dict[str, discovery.CartResult] = field(default_factory=dict)
    answers: pd.DataFrame = field(default_factory=pd.DataFrame)
    feature_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    question_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def robust_policy(self, objective: str | None = None) -> str:
        """The policy with the least 90th-percentile regret on ``objective`` (default: the
        first; ties: lower mean regret, then the first listed)."""
        obj = objective or self.decision.objectives[0].output
        table = self.regret[self.regret["objective"] == obj]
        ranked = table.assign(order=np.arange(len(table))).sort_values(
            ["p90", "mean", "order"], kind="stable")
        return str(ranked["policy"].iloc[0])


def analyse(decision: Decision, futures: pd.DataFrame, runs: pd.DataFrame, *,
            n_boot: int = N_BOOT, discover: bool = True) -> DecisionAnalysis:
    """Regret, satisficing, Pareto front, intervals and scenario discovery from stored runs.

    Futures where any policy has no successful run on an objective are left out (with a
    note), so a folder interrupted part-way is analysed on its complete futures.
    """
    names = decision.policy_names()
    objectives = decision.objectives
    runs = add_cost_total(runs)
    n_f = len(futures)
    cubes = [value_cube(runs, decision, o.output, n_f) for o in objectives]
    notes: list[str] = []
    complete = np.ones(n_f, dtype=bool)
    for c in cubes:
        complete &= ~np.isnan(c).any(axis=(0, 2))
    if not complete.all():
        notes.append(f"{int((~complete).sum())} of {n_f} futures left out: a run of some "
                     f"policy there failed or is not stored yet")
    if complete.sum() < 2:
        raise InputError(f"only {int(complete.sum())} future(s) have every run stored; "
                         "nothing to analyse yet", source=decision.source)
    cubes = [c[:, complete, :] for c in cubes]
    futures = futures[complete].reset_index(drop=True)
    means = [c.mean(axis=2) for c in cubes]
    stats = [_stats(m, o) for m, o in zip(means, objectives, strict=True)]

    rng = np.random.default_rng([decision.seed, 14])
    keys = ("mean", "median", "p90", "max", "share_best", "satisficing")
    boots = {k: np.empty((n_boot, len(objectives), len(names))) for k in keys}
    boot_all = np.empty((n_boot, len(names)))
    for b in range(n_boot):
        resampled = _resampled_means(cubes, rng)
        st = [_stats(m, o) for m, o in zip(resampled, objectives, strict=True)]
        for k in keys:
            boots[k][b] = np.array([s[k] for s in st])
        boot_all[b] = np.logical_and.reduce([s["_satisfices"] for s in st]).mean(axis=1)
    lo_q, hi_q = (1 - CI_LEVEL) / 2, 1 - (1 - CI_LEVEL) / 2

    regret_rows, sat_rows, mean_rows = [], [], []
    for k, (o, st, m) in enumerate(zip(objectives, stats, means, strict=True)):
        reg = regret_of(m, o.direction)
        for p, name in enumerate(names):
            row: dict[str, Any] = {"objective": o.output, "policy": name,
                                   "value": float(m[p].mean())}
            for key in ("mean", "median", "p90", "max", "share_best"):
                row[key] = float(st[key][p])
                row[f"{key}_lo"], row[f"{key}_hi"] = (
                    float(v) for v in np.quantile(boots[key][:, k, p], [lo_q, hi_q]))
            regret_rows.append(row)
            lo, hi = np.quantile(boots["satisficing"][:, k, p], [lo_q, hi_q])
            sat_rows.append({"objective": o.output, "policy": name,
                             "share": float(st["satisficing"][p]), "share_lo": float(lo),
                             "share_hi": float(hi)})
            mean_rows.append(pd.DataFrame({
                "objective": o.output, "policy": name,
                "future": futures["future"].to_numpy(), "mean": m[p], "regret": reg[p]}))
    together = np.logical_and.reduce([s["_satisfices"] for s in stats]).mean(axis=1)
    if len(objectives) > 1:
        for p, name in enumerate(names):
            lo, hi = np.quantile(boot_all[:, p], [lo_q, hi_q])
            sat_rows.append({"objective": ALL_OBJECTIVES, "policy": name,
                             "share": float(together[p]), "share_lo": float(lo),
                             "share_hi": float(hi)})
    best = pd.DataFrame({"future": futures["future"].to_numpy()})
    for o, m in zip(objectives, means, strict=True):
        best[o.output] = [names[i] for i in best_index(m, o.direction)]
    analysis = DecisionAnalysis(
        decision=decision, futures=futures, means=pd.concat(mean_rows, ignore_index=True),
        best=best, regret=pd.DataFrame(regret_rows), satisficing=pd.DataFrame(sat_rows),
        pareto=pareto_table(names, means, objectives), notes=notes)
    if discover:
        discover_answers(analysis, means)
    return analysis


def pareto_table(names: list[str], means: list[np.ndarray],
                 objectives: tuple[Objective, ...]) -> pd.DataFrame:
    """Which policies are on the Pareto front across objectives.

    ``on_front``: no other policy has a mean regret at most as large on every objective and
    smaller on one. ``share_on_front``: the share of futures in which no other policy's
    means are at least as good on every objective and better on one.
    """
    mean_regret = np.array([regret_of(m, o.direction).mean(axis=1)
                            for m, o in zip(means, objectives, strict=True)])  # (K, P)
    signed = np.array([o.direction * m for m, o in zip(means, objectives, strict=True)])
    n_p = len(names)
    on_front, share = [], []
    for p in range(n_p):
        others = [q for q in range(n_p) if q != p]
        dominated = any(np.all(mean_regret[:, q] <= mean_regret[:, p])
                        and np.any(mean_regret[:, q] < mean_regret[:, p]) for q in others)
        on_front.append(not dominated)
        dom_f = np.zeros(signed.shape[2], dtype=bool)
        for q in others:
            dom_f |= (np.all(signed[:, q, :] >= signed[:, p, :], axis=0)
                      & np.any(signed[:, q, :] > signed[:, p, :], axis=0))
        share.append(float(np.mean(~dom_f)))
    table = pd.DataFrame({"policy": names, "on_front": on_front, "share_on_front": share})
    for o, row in zip(objectives, mean_regret, strict=True):
        table[f"mean_regret ({o.output})"] = row
    return table


def answer(question: Question, decision: Decision, means: list[np.ndarray]) -> np.ndarray:
    """Whether a question's answer holds in each future (from the means over replicates)."""
    names = decision.policy_names()
    k = [o.output for o in decision.objectives].index(question.objective)
    obj, m = decision.objectives[k], means[k]
    if question.best:
        best = best_index(m, obj.direction)
        return np.isin(best, [names.index(n) for n in question.best])
    signed = obj.direction * m
    mine = signed[names.index(question.policy or "")]
    others = signed[[names.index(n) for n in question.beats]]
    return np.all(mine[None, :] > others, axis=0)


def discover_answers(analysis: DecisionAnalysis, means: list[np.ndarray]) -> None:
    """PRIM and CART on each question, and feature scores of the best policy per objective.

    With more than ``DISCOVERY_DIMENSIONS`` uncertainties, PRIM and CART look at the
    ``DISCOVERY_DIMENSIONS`` with the highest extra-trees scores for the question's answer
    (``question_scores``): with dozens of uncertainties and few futures where an answer
    holds, PRIM otherwise peels along dimensions that only fit noise, and its boxes cannot
    be read.
    """
    decision = analysis.decision
    x_all = analysis.futures[decision.uncertainties]
    if len(x_all) < FEW_FUTURES:
        analysis.notes.append(
            f"only {len(x_all)} futures: each future moves a share of futures by "
            f"{1 / len(x_all):.0%}, and PRIM's and CART's boxes rest on a few futures; read "
            f"the shares and boxes from {FEW_FUTURES} futures or more")
    rows, scores = [], {}
    for i, q in enumerate(decision.questions):
        y = answer(q, decision, means)
        row: dict[str, Any] = {"question": q.name, "text": q.text, "objective": q.objective,
                               "futures": int(y.sum()), "share": float(y.mean()),
                               "coverage": np.nan, "density": np.nan, "mass": np.nan,
                               "density_outside": np.nan, "words": "", "uncertainties": ""}
        if y.all() or not y.any():
            analysis.notes.append(f"question {q.name!r}: the answer holds in "
                                  f"{'every' if y.all() else 'no'} future; no box to find")
            row["words"] = (f"in all {len(y):,} futures" if y.all()
                            else f"in none of the {len(y):,} futures")
        else:
            seed = decision.seed + 1000 * (i + 1)
            x = x_all
            if x_all.shape[1] > DISCOVERY_DIMENSIONS:
                score = discovery.feature_scores(x_all, pd.DataFrame({q.name: y}),
                                                 seed=seed)[q.name]
                scores[q.name] = score
                top = set(score.sort_values(ascending=False, kind="stable")
                          .index[:DISCOVERY_DIMENSIONS])
                x = x_all[[c for c in x_all.columns if c in top]]
            row["uncertainties"] = ", ".join(x.columns)
            pr = discovery.prim(x, y, question=q.text, seed=seed, min_density=q.min_density)
            analysis.prim[q.name] = pr
            if int(CART_MASS_MIN * len(x)) >= 1:  # CART's smallest leaf holds a future
                analysis.cart[q.name] = discovery.cart(x, y, question=q.text, seed=seed,
                                                       mass_min=CART_MASS_MIN)
            elif i == 0:
                analysis.notes.append(f"CART left out: its smallest leaf ({CART_MASS_MIN:.0%} "
                                      f"of {len(x)} futures) would hold no future")
            outside = len(y) * (1.0 - pr.mass)
            row.update(coverage=pr.coverage, density=pr.density, words=pr.words,
                       mass=pr.mass, density_outside=(
                           y.sum() * (1.0 - pr.coverage) / outside if outside > 0.5
                           else np.nan))
        rows.append(row)
    analysis.answers = pd.DataFrame(rows, columns=[
        "question", "text", "objective", "futures", "share", "coverage", "density", "mass",
        "density_outside", "words", "uncertainties"])
    if scores:
        analysis.question_scores = pd.DataFrame(scores)
        analysis.notes.append(
            f"PRIM and CART looked at the {DISCOVERY_DIMENSIONS} uncertainties with the highest "
            f"extra-trees scores for each question's answer, of {x_all.shape[1]} "
            "(question_scores.csv)")
    x = x_all
    outcomes = pd.DataFrame({f"best policy ({o})": analysis.best[o].astype("category")
                             for o in [ob.output for ob in decision.objectives]
                             if analysis.best[o].nunique() > 1})
    if outcomes.shape[1]:
        analysis.feature_scores = discovery.feature_scores(x, outcomes, seed=decision.seed)
    else:
        analysis.notes.append("the same policy is best in every future on every objective: "
                              "no feature scores")


def write_tables(analysis: DecisionAnalysis, out_dir: str | Path) -> dict[str, Path]:
    """The analysis as tables in the results folder (Parquet for the large, CSV for the
    small) and the discovery tables under ``discovery/``."""
    out = Path(out_dir)
    files = {"futures": storage.write_table(out, "futures", analysis.futures),
             "means": storage.write_table(out, "means", analysis.means),
             "best_policy": storage.write_table(out, "best_policy", analysis.best)}
    for name, table in (("regret", analysis.regret), ("satisficing", analysis.satisficing),
                        ("pareto", analysis.pareto), ("answers", analysis.answers)):
        path = out / f"{name}.csv"
        table.to_csv(path, index=False)
        files[name] = path
    for name, table in (("feature_scores", analysis.feature_scores),
                        ("question_scores", analysis.question_scores)):
        if not table.empty:
            path = out / f"{name}.csv"
            table.to_csv(path)
            files[name] = path
    disc = out / "discovery"
    disc.mkdir(exist_ok=True)
    for q, pr in analysis.prim.items():
        pr.trajectory.to_csv(disc / f"{q}_prim_trajectory.csv", index=False)
        pr.limits.to_csv(disc / f"{q}_prim_limits.csv", index=False)
        pr.stability.to_csv(disc / f"{q}_prim_stability.csv", index=False)
        files[f"prim_{q}"] = disc / f"{q}_prim_limits.csv"
    for q, cr in analysis.cart.items():
        cr.boxes.to_csv(disc / f"{q}_cart_boxes.csv", index=False)
    return files


# --------------------------------------------------------------------------- the verb


@dataclass
class DecideOutcome:
    """What ``decide`` did and where it put it.

    Attributes:
        decision: The decision as run.
        out_dir: The results folder.
        report: The runner's report (None when only stored runs were analysed).
        files: Named output files (tables, report, figures).
        analysis: The analysis (None when too few futures are complete to analyse).
    """

    decision: Decision
    out_dir: Path
    report: RunReport | None
    files: dict[str, Path]
    analysis: DecisionAnalysis | None = None


def decide(decision: Decision, out_dir: str | Path,
           options: RunOptions = RunOptions(),  # noqa: B008 (frozen: shared default)
           *, command: str | None = None, analyse_stored: bool = False,
           figures: bool = True) -> DecideOutcome:
    """Run every policy in every future (resumable) and analyse the runs.

    Args:
        decision: A validated decision.
        out_dir: Results folder.
        options: How the runs execute.
        command: The command line that reproduces the study (for the manifest).
        analyse_stored: Run nothing; analyse the futures whose runs are all stored in
            ``out_dir`` (an interrupted study).
        figures: Draw the figures and write the report.

    Raises:
        InputError: as ``runner.execute`` (folder, scheduler), before anything is written;
            with ``analyse_stored``, a folder that holds another decision's runs.
    """
    out = Path(out_dir)
    futures = futures_table(decision)
    report = None
    if analyse_stored:
        _check_stored(decision, out, futures)
    else:
        provenance = {"kind": "decision",
                      "inputs": [storage.input_record(decision.source, decision.text)],
                      "command": command, "decision": decision_record(decision)}
        report = execute(make_specs(decision, futures), out, options, model=decision.model,
                         keep_timeseries=False, provenance=provenance)
    files = {"manifest": out / storage.MANIFEST, "runs": out / storage.RUNS_DIR}
    runs = storage.load_runs(out)
    analysis = analyse(decision, futures, runs)
    files.update(write_tables(analysis, out))
    if figures:
        files.update(decision_report.write_report(analysis, out))
    storage.update_manifest(out, analysis={
        "futures_analysed": len(analysis.futures), "futures": decision.n_futures,
        "notes": analysis.notes})
    return DecideOutcome(decision, out, report, files, analysis)


def _check_stored(decision: Decision, out: Path, futures: pd.DataFrame) -> None:
    """The folder holds this decision's runs (same specs; checked by the fingerprint)."""
    try:
        manifest = storage.read_manifest(out)
    except (OSError, ValueError):
        raise InputError("no stored runs to analyse (no manifest)", source=str(out)) from None
    fp = fingerprint(make_specs(decision, futures), decision.model, keep_timeseries=False)
    if manifest.get("fingerprint") != fp:
        raise InputError("the folder holds other runs than this decision's; run it without "
                         "--analyse-stored", source=str(out))
