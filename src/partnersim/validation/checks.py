"""The pattern checks: the thirteen of DESIGN.md section 3 and the held-out SF14 (issue 13).

``CHECKS`` holds every pattern's :class:`Check` by id ("SF1" to "SF14"): the cases it asks
for and a verdict over their results (the verdict function's docstring states the pattern,
its sources and the effect measured). ``run_checks({pattern: n_seeds}, seed=..., *,
overrides=..., runner=...)`` runs checks at one master seed, their cases in one call of
the runner, and returns a :class:`PatternResult` each. ``run_patterns`` judges patterns
as ``partnersim validate`` does: each check at ``MASTER_SEEDS`` master seeds (the file's
and others derived from it), all in one call of the runner; a pattern holds only if it
holds at every one. A pattern's experiment
(conditions, seed counts, master seed, settings) is read from its pattern file
(``partnersim.inputs.patterns``). ``overrides`` are parameter values applied to every run
of the experiment, after the file's conditions; the tests use them to switch a mechanism
off and confirm that the check then reports "does not hold".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.stats import qmc

from partnersim.inputs.patterns import PatternDefinition, load_definition
from partnersim.model import stages
from partnersim.model.partnership import PartnershipModel
from partnersim.seeding import MAX_SEED, replicate_seeds
from partnersim.validation.cases import Case, CaseResult, CaseRunner, conditions
from partnersim.validation.verdicts import PatternResult, PatternVerdict, judge

Results = Mapping[str, Sequence[CaseResult]]
"""A check's results: case group (usually the condition) -> results in seed order."""

Plan = Callable[[PatternDefinition, list[int], Mapping[str, Any]], dict[str, list[Case]]]
Verdict = Callable[[PatternDefinition, list[int], Results, Mapping[str, Any]], PatternResult]

MASTER_SEEDS = 3
"""Master seeds at which ``partnersim validate`` judges each pattern (``master_seeds``): a
pattern that holds only at its file's master seed does not hold."""

MASTER_SEED_STRIDE = 1000
"""The k-th master seed of a pattern is its file's seed plus k times this (SF3: 103, 1103,
2103); far enough apart that no pattern's derived seed is another's file seed or SF3's
second ensemble (seed + 1)."""


def master_seeds(seed: int, count: int = MASTER_SEEDS) -> list[int]:
    """The master seeds of a pattern whose file gives ``seed``: that seed first, then
    ``count - 1`` more, ``seed + k * MASTER_SEED_STRIDE`` (wrapped into ``[0, MAX_SEED]``)."""
    if count < 1:
        raise ValueError(f"at least one master seed, got {count}")
    return [(int(seed) + k * MASTER_SEED_STRIDE) % (MAX_SEED + 1) for k in range(count)]


@dataclass(frozen=True)
class Check:
    """One pattern's check.

    Attributes:
        verdict: ``verdict(defn, seeds, results, overrides)`` -> the pattern's result; its
            docstring states the pattern and the effect it measures.
        conditions: the pattern file's conditions it runs, each on the same seeds.
        measures: the monthly measures its verdict reads.
        plan: instead of ``conditions``, ``plan(defn, seeds, overrides)`` -> the cases by group.
    """

    verdict: Verdict
    conditions: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    plan: Plan | None = None

    def cases(self, defn: PatternDefinition, seeds: list[int],
              overrides: Mapping[str, Any]) -> dict[str, list[Case]]:
        """The cases to run, by group, in the order the verdict reads them."""
        if self.plan is not None:
            return self.plan(defn, seeds, overrides)
        return conditions(defn, self.conditions, seeds, overrides)


def seeds_of(defn: PatternDefinition, n_seeds: int | None = None,
             seed: int | None = None) -> list[int]:
    """The paired seeds of a check (default: the file's full count and master seed)."""
    n = int(n_seeds if n_seeds is not None else defn.n_seeds["full"])
    return replicate_seeds(int(seed if seed is not None else defn.seed), n)


def run_checks(n_seeds: Mapping[str, int | None], *, seed: int | None = None,
               overrides: Mapping[str, Any] | None = None, runner: CaseRunner | None = None
               ) -> list[PatternResult]:
    """Run several checks, their cases in one call of the runner (one pool, one folder).

    Args:
        n_seeds: pattern id -> paired seeds (None: the file's full count), in run order.
        seed: instead of each file's master seed.
        overrides: parameter values applied to every run, after the files' conditions.
        runner: where and how the cases run (default: in this process, a temporary folder).
    """
    return run_jobs([(pid, n, seed) for pid, n in n_seeds.items()], overrides=overrides,
                    runner=runner)


def run_jobs(jobs: Sequence[tuple[str, int | None, int | None]], *,
             overrides: Mapping[str, Any] | None = None, runner: CaseRunner | None = None,
             bases: Sequence[Mapping[str, Any]] | None = None) -> list[PatternResult]:
    """Run checks, each at a master seed, their cases in one call of the runner.

    Args:
        jobs: (pattern id, paired seeds or None for the file's full count, master seed or
            None for the file's), in run order.
        overrides: parameter values applied to every run, after the files' conditions.
        runner: where and how the cases run (default: in this process, a temporary folder).
        bases: per job, parameter values that replace the declared defaults beneath the
            file's own parameters and conditions (a posterior draw: what the experiment sets
            itself still holds); None or an empty mapping: the defaults.

    Returns:
        One result per job, in the order given.
    """
    overrides = dict(overrides or {})
    runner = runner or CaseRunner()
    if bases is not None and len(bases) != len(jobs):
        raise ValueError(f"{len(bases)} bases for {len(jobs)} jobs")
    plans = []
    for k, (pid, n, seed) in enumerate(jobs):
        defn = load_definition(pid)
        if seed is not None:  # the whole experiment follows: SF3's free ensemble too
            defn = replace(defn, seed=int(seed))
        if bases is not None and bases[k]:
            defn = replace(defn, params={**bases[k], **defn.params})
        seeds = seeds_of(defn, n)
        plans.append((pid, defn, seeds, CHECKS[pid].cases(defn, seeds, overrides)))
    cases = [c for *_, groups in plans for group in groups.values() for c in group]
    measures = list(dict.fromkeys(m for pid, *_ in jobs for m in CHECKS[pid].measures))
    results = iter(runner.run(cases, measures))
    out = []
    for pid, defn, seeds, groups in plans:
        res = {name: [next(results) for _ in group] for name, group in groups.items()}
        out.append(CHECKS[pid].verdict(defn, seeds, res, overrides))
    return out


def run_patterns(n_seeds: Mapping[str, int | None], *, count: int = MASTER_SEEDS,
                 overrides: Mapping[str, Any] | None = None, runner: CaseRunner | None = None
                 ) -> list[PatternVerdict]:
    """Judge patterns at ``count`` master seeds each (``master_seeds`` of the file's seed),
    every case of every pattern and master seed in one call of the runner.

    Args:
        n_seeds: pattern id -> paired seeds per master seed (None: the file's full count),
            in run order.
        count: master seeds per pattern.
        overrides: parameter values applied to every run, after the files' conditions.
        runner: where and how the cases run (default: in this process, a temporary folder).

    Returns:
        One verdict per pattern, in the order given: it holds only if it holds at every
        master seed.
    """
    seeds = {pid: master_seeds(load_definition(pid).seed, count) for pid in n_seeds}
    jobs = [(pid, n, m) for pid, n in n_seeds.items() for m in seeds[pid]]
    results = iter(run_jobs(jobs, overrides=overrides, runner=runner))
    out = []
    for pid in n_seeds:
        defn = load_definition(pid)
        out.append(PatternVerdict(pid, defn.kind, tuple(seeds[pid]),
                                  tuple(next(results) for _ in seeds[pid])))
    return out


def _summary(results: Sequence[CaseResult], key: str) -> np.ndarray:
    return np.array([float(r.summary[key]) for r in results])


def _window(results: Sequence[CaseResult], measure: str, a: int, b: int | None,
            how: str = "mean") -> np.ndarray:
    vals = [r.timeseries[measure][a:b] for r in results]
    return np.array([float(np.nansum(v) if how == "sum" else np.nanmean(v)) for v in vals])


# SF1 --------------------------------------------------------------------------------------

def _dyad_trajectory(model: PartnershipModel, rng: np.random.Generator, *, shock: str,
                     months: int, shock_month: int) -> np.ndarray:
    """Trust of one member in a competent partner, driven by noisy observations of the
    partner's performance through the model's own signal and update rules; at
    ``shock_month`` the partner fails a task (competence) or is found to have a hidden
    motive (integrity)."""
    p, t = model.p, model.ties
    t.add(np.array([0]), np.array([1]), np.array([0.4]), np.array([0.5]), 0)
    ability = 0.8
    rows = np.array([0])
    path = np.empty(months)
    for month in range(months):
        observed = ability + rng.normal(0.0, p.misreading_noise)
        signal = np.tanh(p.signal_sensitivity * (observed - p.performance_standard))
        stages.apply_signals(model, rows, np.array([signal]), np.ones(1))
        if month == shock_month:
            if shock == "integrity":
                t.damage[rows] += p.reputation_damage * (1.0 - t.damage[rows])
            stages.apply_signals(model, rows, np.array([-1.0]), np.ones(1))
        if p.reputation_recovery > 0:
            t.damage[:] *= 1.0 - p.reputation_recovery
        path[month] = t.trust[0]
    return path


def _sf1(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF1, trust asymmetry: a failure lowers trust more than an equal success raises it
    (ratio 2 to 4); trust recovers after a competence failure but not after an integrity
    breach (Slovic 1993; Schweitzer et al. 2006).

    Effect: pre-shock trust minus trust 48 months after an integrity breach, with three
    conditions all required: the loss/gain ratio lies in [2, 4]; trust 48 months after a
    competence failure is back within 0.05 of its pre-shock level; after a breach it is not.

    Runs in this process, not through the runner: SF1 runs no model to its horizon; it drives
    one dyad's trust through the update rules month by month (milliseconds per seed), so
    there is no run for the runner to store or spread across workers.
    """
    cfg = defn.settings
    params = {**defn.params, **overrides}
    months, shock, after = int(cfg["months"]), int(cfg["shock_month"]), int(cfg["after_months"])
    tol = float(cfg["recovery_tolerance"])
    gap_integrity, recovered_competence, ratios = [], [], []
    for seed in seeds:
        paths = {}
        for kind in ("competence", "integrity"):
            model = PartnershipModel(rng=seed, **params)
            rng = np.random.default_rng(seed)
            paths[kind] = _dyad_trajectory(model, rng, shock=kind, months=months,
                                           shock_month=shock)
        before = paths["competence"][shock - 12: shock].mean()
        after_c = paths["competence"][shock + after:].mean()
        after_i = paths["integrity"][shock + after:].mean()
        gap_integrity.append(before - after_i - tol)
        recovered_competence.append(tol - abs(before - after_c))
        # equal and opposite signals at trust 0.5
        model = PartnershipModel(rng=seed, **params)
        model.ties.add(np.array([0, 0]), np.array([1, 2]), np.array([0.5, 0.5]),
                       np.array([0.5, 0.5]), 0)
        stages.apply_signals(model, np.array([0, 1]), np.array([0.5, -0.5]), np.ones(2))
        gain, loss = model.ties.trust[0] - 0.5, 0.5 - model.ties.trust[1]
        ratios.append(loss / gain if gain > 0 else np.inf)
    ratios = np.array(ratios)
    lo, hi = cfg["ratio_range"]
    in_range = np.where((ratios >= lo) & (ratios <= hi), 1.0, -1.0)
    return judge("SF1", defn.measured, gap_integrity,
                 {"loss_gain_ratio": float(np.median(ratios)),
                  "competence_recovery_gap": float(tol - np.mean(recovered_competence))},
                 all_of={"competence_recovers": np.array(recovered_competence),
                         "ratio_in_range": in_range})


# SF2 --------------------------------------------------------------------------------------

def _sf2(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF2, unfamiliarity and ground rules: unfamiliar partners start lower and take longer
    to reach the trust threshold; ground rules shorten that time, more for unfamiliar
    partners (Gulati 1995; McKnight et al. 1998; seed: HAZ codes of conduct).

    Effect: the interaction, (time saved by ground rules for unfamiliar partners) minus
    (time saved for familiar ones), in months; also required: unfamiliar partners start
    lower and take longer without ground rules.
    """
    names = tuple(res)
    ttt = {k: _summary(res[k], "time_to_trust_months") for k in names}
    start = {k: _window(res[k], "trust_across", 0, 1) for k in ("unfamiliar", "familiar")}
    saved_unfamiliar = ttt["unfamiliar"] - ttt["unfamiliar_rules"]
    saved_familiar = ttt["familiar"] - ttt["familiar_rules"]
    return judge(
        "SF2", defn.measured, saved_unfamiliar - saved_familiar,
        {f"time_to_trust_{k}": float(v.mean()) for k, v in ttt.items()}
        | {"start_trust_unfamiliar": float(start["unfamiliar"].mean()),
           "start_trust_familiar": float(start["familiar"].mean())},
        all_of={"familiar_start_higher": start["familiar"] - start["unfamiliar"],
                "unfamiliar_take_longer": ttt["unfamiliar"] - ttt["familiar"]})


# SF3 --------------------------------------------------------------------------------------

def _skewness(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    sd = x.std()
    return float(((x - x.mean()) ** 3).mean() / sd ** 3) if sd > 0 else 0.0


def bimodality_coefficient(x: np.ndarray) -> float:
    """Sarle's bimodality coefficient; above 5/9 (0.555) suggests bi- or multimodality
    or strong skew (Pfister et al. 2013)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    sd = x.std()
    if n < 4 or sd == 0:
        return 0.0
    g = ((x - x.mean()) ** 3).mean() / sd ** 3
    k = ((x - x.mean()) ** 4).mean() / sd ** 4 - 3.0
    return float((g * g + 1.0) / (k + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def _sf3_cases(defn: PatternDefinition, seeds: list[int], overrides: Mapping[str, Any]
               ) -> dict[str, list[Case]]:
    """Early success and failure forced on the same seeds (validation hooks), then the
    unforced ensemble: a larger set of seeds of the same partnership."""
    cfg = defn.settings
    until = int(cfg["early_months"])
    hooks = {"early_success": {"force_first_task": True, "force_outcomes_until": until},
             "early_failure": {"force_first_task": False, "force_outcomes_until": until}}
    spread_seeds = replicate_seeds(defn.seed + 1, max(len(seeds), int(cfg["spread_seeds_min"])))
    return (conditions(defn, ("early_success", "early_failure"), seeds, overrides, hooks=hooks)
            | conditions(defn, ("free",), spread_seeds, overrides))


def _sf3(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF3, small wins and path dependence: runs whose early joint work succeeded have
    higher trust and commitment at year 5 than identical runs (same seed) whose early
    work failed; across seeds with identical parameters, year-5 trust is strongly skewed
    or bimodal (advantage versus inertia) (Ansell & Gash 2008; Vangen & Huxham 2003).

    Effect: year-5 cross-agency trust after early success minus after early failure;
    also required: the same for commitment, and the bimodality coefficient of year-5
    trust across the unforced runs exceeds 5/9 (bootstrap CI above it).
    """
    trust = _summary(res["early_success"], "trust_across_year5") - _summary(
        res["early_failure"], "trust_across_year5")
    commit = _summary(res["early_success"], "commitment_year5") - _summary(
        res["early_failure"], "commitment_year5")
    year5 = _summary(res["free"], "trust_across_year5")
    rng = np.random.default_rng(0)
    boot = np.array([bimodality_coefficient(year5[rng.integers(0, len(year5), len(year5))])
                     for _ in range(500)])
    # one value per bootstrap resample: positive when that resample looks bimodal/skewed
    bimodal = boot - 5.0 / 9.0
    return judge("SF3", defn.measured, trust,
                 {"commitment_gain": float(commit.mean()),
                  "bimodality_coefficient": bimodality_coefficient(year5),
                  "skewness_year5_trust": _skewness(year5),
                  "year5_trust_sd": float(year5.std())},
                 all_of={"commitment_higher": commit, "year5_trust_bimodal": bimodal})


# SF4 --------------------------------------------------------------------------------------

def _sf4(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF4, collaborative inertia: at the realistic baseline the partnership's cumulative
    output stays below what the partners would deliver alone; collaborative advantage
    needs adequate leadership and capacity resources together (Huxham & Vangen 2004, 2005;
    Audit Scotland 2011).

    Effect: output relative to working alone with strong leadership and a budget, minus
    the better of strong leadership alone and a budget under weak leadership; also
    required: inertia at the baseline (relative output below 1) and advantage (above 1)
    with both.
    """
    names = tuple(res)
    ova = {k: _summary(res[k], "output_vs_alone") for k in names}
    together = ova["leadership_and_budget"] - np.maximum(ova["leadership_only"],
                                                         ova["budget_weak_leadership"])
    return judge("SF4", defn.measured, together,
                 {f"output_vs_alone_{k}": float(v.mean()) for k, v in ova.items()}
                 | {"share_inertia_baseline": float(np.mean(ova["baseline"] < 1.0))},
                 all_of={"baseline_inertia": 1.0 - ova["baseline"],
                         "advantage_with_both": ova["leadership_and_budget"] - 1.0})


# SF5 --------------------------------------------------------------------------------------

def _sf5_cases(defn: PatternDefinition, seeds: list[int], overrides: Mapping[str, Any]
               ) -> dict[str, list[Case]]:
    """One Latin-hypercube cross-section of ``partnerships`` partnerships per seed, each
    partnership with its own seed."""
    cfg = defn.settings
    m = int(cfg["partnerships"])
    ranges = cfg["ranges"]
    names = list(ranges)
    cases = []
    for r, seed in enumerate(seeds):
        sample = qmc.LatinHypercube(d=len(names), seed=seed).random(m)
        run_seeds = replicate_seeds(seed, m)
        for row, s in zip(sample, run_seeds, strict=True):
            params = {**defn.params, **overrides}
            for name, u in zip(names, row, strict=True):
                lo, hi = ranges[name]
                params[name] = float(lo + u * (hi - lo))
            cases.append(Case(params, s, scenario="SF5:cross_section", replicate=r))
    return {"cross_sections": cases}


def _sf5(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF5, synergy drivers: across a Latin-hypercube cross-section of partnerships, a
    regression of the synthetic PSAT synergy score on functioning dimensions ranks
    leadership and efficiency (and trust) above non-financial resources (Weiss et al. 2002;
    Jones & Barry 2011).

    One replicate is one cross-section of ``partnerships`` sampled partnerships, each with
    its own seed; the regression uses standardised year-``at_month`` values. Effect per
    replicate: the smaller of the leadership and efficiency coefficients minus the
    resources coefficient; also required: trust's coefficient above resources'.
    """
    cfg = defn.settings
    m, at = int(cfg["partnerships"]), int(cfg["at_month"])
    out = res["cross_sections"]
    lead_eff, trust_res, coefs = [], [], []
    for r in range(len(seeds)):
        block = out[r * m:(r + 1) * m]
        cols = {k: np.array([b.timeseries[k][at - 12:at].mean() for b in block])
                for k in ("psat_synergy", "psat_leadership", "psat_efficiency", "trust_across",
                          "psat_resources")}
        z = {k: (v - v.mean()) / (v.std() if v.std() > 0 else 1.0) for k, v in cols.items()}
        X = np.column_stack([z["psat_leadership"], z["psat_efficiency"], z["trust_across"],
                             z["psat_resources"], np.ones(m)])
        beta, *_ = np.linalg.lstsq(X, z["psat_synergy"], rcond=None)
        coefs.append(beta[:4])
        lead_eff.append(min(beta[0], beta[1]) - beta[3])
        trust_res.append(beta[2] - beta[3])
    coefs = np.array(coefs).mean(axis=0)
    return judge("SF5", defn.measured, lead_eff,
                 {"beta_leadership": float(coefs[0]), "beta_efficiency": float(coefs[1]),
                  "beta_trust": float(coefs[2]), "beta_resources": float(coefs[3])},
                 all_of={"trust_above_resources": trust_res})


# SF6 --------------------------------------------------------------------------------------

def _sf6(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF6, power imbalance: a wider power gap lowers low-power members' trust in
    high-power ones and the equity of decisions; a supermajority or consensus rule restores
    them at the cost of slower decisions (Jones & Barry 2016; Choi & Robertson 2014).

    Effect: low-to-high trust (mean of the last ``last_months``) under a narrow gap minus
    under a wide gap; also required: equity falls with the gap; under the wide gap the
    stricter rule raises trust and equity and lengthens the decision delay.
    """
    names = tuple(res)
    h = int(defn.settings["last_months"])
    trust = {k: _window(res[k], "trust_low_to_high", -h, None) for k in names}
    equity = {k: _summary(res[k], "decision_equity_mean") for k in names}
    delay = {k: _summary(res[k], "decision_delay_mean") for k in names}
    return judge("SF6", defn.measured, trust["narrow_gap"] - trust["wide_gap"],
                 {f"trust_low_to_high_{k}": float(v.mean()) for k, v in trust.items()}
                 | {f"equity_{k}": float(v.mean()) for k, v in equity.items()}
                 | {f"delay_{k}": float(v.mean()) for k, v in delay.items()},
                 all_of={"gap_lowers_equity": equity["narrow_gap"] - equity["wide_gap"],
                         "rule_restores_trust": trust["wide_gap_supermajority"] - trust["wide_gap"],
                         "rule_restores_equity":
                             equity["wide_gap_supermajority"] - equity["wide_gap"],
                         "rule_is_slower": delay["wide_gap_supermajority"] - delay["wide_gap"]})


# SF7 --------------------------------------------------------------------------------------

def _sf7(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF7, communication: under broadcast, peripheral members are less informed than core
    members; two-way communication raises information and shared understanding at a time
    cost; information is an inverted U in message volume (seed: SCAN; Leavitt & Mueller
    1951; Eppler & Mengis 2004).

    Effect: mean information of peripheral members under two-way minus broadcast; also
    required: core minus periphery under broadcast; two-way raises shared understanding
    and staff-time cost; information at a moderate volume above the better of a low and a
    very high volume.
    """
    names = tuple(res)
    h = int(defn.settings["last_months"])

    def w(k: str, m: str) -> np.ndarray:
        return _window(res[k], m, -h, None)

    gap = w("broadcast", "info_core") - w("broadcast", "info_periphery")
    periphery = w("two_way", "info_periphery") - w("broadcast", "info_periphery")
    understanding = w("two_way", "shared_understanding") - w("broadcast", "shared_understanding")
    cost = w("two_way", "cost_time") - w("broadcast", "cost_time")
    info = {k: w(k, "psat_administration") for k in names}  # mean information of all staff
    peak = info["broadcast"] - np.maximum(info["low_volume"], info["high_volume"])
    return judge("SF7", defn.measured, periphery,
                 {"core_minus_periphery_broadcast": float(gap.mean()),
                  "understanding_gain_two_way": float(understanding.mean()),
                  "time_cost_two_way": float(cost.mean())}
                 | {f"info_{k}": float(v.mean()) for k, v in info.items()},
                 all_of={"periphery_underinformed": gap, "two_way_understanding": understanding,
                         "two_way_costs_time": cost, "volume_inverted_u": peak})


# SF8 --------------------------------------------------------------------------------------

def _sf8(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF8, champions, leadership stability and turnover: losing champions or the chair
    hurts trust and output more, and for longer, than losing as many random members;
    higher turnover lowers steady-state trust and capacity; a joint chair and capacity
    held in structures buffer both (seed; Carley 1992; Provan & Milward 1995; Zellner et
    al. 2014).

    Effect: cross-agency trust over the ``window_months`` after the shock, after random
    members leave minus after the same number of champions leave; also required: the
    same for output; the chair's loss costs more output than a random member's; a joint
    chair halves that loss; high turnover lowers final trust and personal capacity; with
    capacity held in structures the turnover loss of capacity is smaller.
    """
    cfg = defn.settings
    a = int(cfg["shock_month"])
    b = a + int(cfg["window_months"])

    def w(k: str, m: str) -> np.ndarray:
        return _window(res[k], m, a, b, "mean")

    trust = w("members_leave", "trust_across") - w("champions_leave", "trust_across")
    output = w("members_leave", "output") - w("champions_leave", "output")
    c = a + int(cfg["chair_window_months"])

    def wc(k: str) -> np.ndarray:  # a chair's loss is felt while the successor settles in
        return _window(res[k], "output", a, c, "mean")

    chair = wc("member_leaves") - wc("chair_leaves")
    joint = chair - (wc("joint_member_leaves") - wc("joint_chair_leaves"))
    steady_trust = _summary(res["low_turnover"], "trust_across_final") - _summary(
        res["high_turnover"], "trust_across_final")
    cap = {k: _window(res[k], "capacity_personal", -12, None) for k in
           ("low_turnover", "high_turnover", "low_turnover_personal", "high_turnover_personal")}
    loss_structures = cap["low_turnover"] - cap["high_turnover"]
    loss_personal = cap["low_turnover_personal"] - cap["high_turnover_personal"]
    return judge("SF8", defn.measured, trust,
                 {"output_loss_champions_vs_members": float(output.mean()),
                  "output_loss_chair_vs_member": float(chair.mean()),
                  "joint_chair_buffer": float(joint.mean()),
                  "turnover_trust_loss": float(steady_trust.mean()),
                  "turnover_capacity_loss_structures": float(loss_structures.mean()),
                  "turnover_capacity_loss_personal": float(loss_personal.mean())},
                 all_of={"champions_output": output, "chair_output": chair,
                         "joint_chair_buffers": joint, "turnover_lowers_trust": steady_trust,
                         "turnover_lowers_capacity": loss_structures,
                         "structures_buffer_capacity": loss_personal - loss_structures})


# SF9 --------------------------------------------------------------------------------------

def _last_year_output(result: CaseResult) -> float:
    ts = result.timeseries
    return float(ts["output"][-12:].sum() / ts["output_alone"][-12:].sum())


def _sf9(defn: PatternDefinition, seeds: list[int], res: Results,
         overrides: Mapping[str, Any]) -> PatternResult:
    """SF9, the balancing act: long-run output (last year, relative to partners working
    alone) is an inverted U in the relationship-time share; raising the share is worse
    before better; a temporary surge of pressure, met by cutting relationship time, leaves
    a partnership with lower trust after pressure is back to normal (hysteresis) and can
    lock it into low trust (Repenning & Sterman 2002; seed: the balancing act).

    Effect: output at a moderate share minus the better of no and heavy relationship
    time; also required: raising the share at ``raise_month`` lowers output in the
    following year relative to staying low but raises it by the last year; the capability
    trap, in three parts, each cross-agency trust without minus with a surge that ends at
    ``surge_end_month``: the scar over the ``after_surge_months`` after pressure is back to
    normal; the scar's part due to time allocation (the same gap minus the gap when the
    share is protected from pressure: the trap's mechanism-off control); and lock-in, the
    gap over the last ``last_months`` of the run.
    """
    cfg = defn.settings
    names = tuple(res)
    out = {k: np.array([_last_year_output(r) for r in res[k]]) for k in names}
    peak = out["phi_moderate"] - np.maximum(out["phi_none"], out["phi_heavy"])
    a = int(cfg["raise_month"])
    dip = _window(res["stay_low"], "output", a, a + 12, "sum") - _window(
        res["raise"], "output", a, a + 12, "sum")
    later = out["raise"] - out["stay_low"]
    e = int(cfg["surge_end_month"])
    after = (e, e + int(cfg["after_surge_months"]))
    h = int(cfg["last_months"])

    def gap(calm: str, surge: str, a: int, b: int | None) -> np.ndarray:
        return _window(res[calm], "trust_across", a, b) - _window(res[surge], "trust_across", a, b)

    scar = gap("calm", "surge", *after)
    from_allocation = scar - gap("calm_protected", "surge_protected", *after)
    lock_in = gap("calm", "surge", -h, None)
    return judge("SF9", defn.measured, peak,
                 {f"output_{k}": float(out[k].mean()) for k in ("phi_none", "phi_moderate",
                                                               "phi_heavy")}
                 | {"first_year_dip": float(dip.mean()), "last_year_gain": float(later.mean()),
                    "trap_scar": float(scar.mean()),
                    "trap_scar_from_allocation": float(from_allocation.mean()),
                    "trap_lock_in": float(lock_in.mean())},
                 all_of={"worse_first": dip, "better_later": later, "trap_scar": scar,
                         "trap_from_allocation": from_allocation, "trap_lock_in": lock_in})


# SF10 -------------------------------------------------------------------------------------

def _sf10(defn: PatternDefinition, seeds: list[int], res: Results,
          overrides: Mapping[str, Any]) -> PatternResult:
    """SF10, outcome lag and masking: within a 3 to 5 year evaluation window the
    population-health difference between a high- and a low-functioning partnership is
    mostly undetectable; process proxies diverge within 1 to 2 years and predict the
    later health difference (seed; Smith et al. 2009; Alderwick et al. 2021).

    Effect: cross-agency trust at ``proxy_month`` in the high- minus the low-functioning
    partnership (paired seeds); also required: synergy likewise; an evaluator comparing
    the high-functioning area with a comparison area finds no significant health effect at
    3 and at 5 years in more than half the runs (bootstrap over runs); and across runs the
    early synergy proxy correlates positively with the final health effect.
    """
    cfg = defn.settings
    names = tuple(res)
    m = int(cfg["proxy_month"])
    trust = _window(res["high"], "trust_across", m - 6, m) - _window(
        res["low"], "trust_across", m - 6, m)
    synergy = _window(res["high"], "synergy", m - 6, m) - _window(res["low"], "synergy", m - 6, m)
    undetected = {w: 1.0 - _summary(res["high"], f"health_detectable_{w}") for w in ("3y", "5y")}
    rng = np.random.default_rng(0)

    def boot_share(x: np.ndarray) -> np.ndarray:  # one value per resample: share - 0.5
        return np.array([x[rng.integers(0, len(x), len(x))].mean() - 0.5 for _ in range(500)])

    proxy = np.concatenate([_window(res[k], "synergy", m - 6, m) for k in names])
    final = np.concatenate([_summary(res[k], "health_effect_final") for k in names])
    idx = [rng.integers(0, len(proxy), len(proxy)) for _ in range(500)]
    corr = np.array([np.corrcoef(proxy[i], final[i])[0, 1] for i in idx])
    return judge("SF10", defn.measured, trust,
                 {"synergy_gap": float(synergy.mean()),
                  "undetected_share_3y": float(undetected["3y"].mean()),
                  "undetected_share_5y": float(undetected["5y"].mean()),
                  "health_effect_high": float(_summary(res["high"], "health_effect_final").mean()),
                  "proxy_health_correlation": float(np.corrcoef(proxy, final)[0, 1])},
                 all_of={"synergy_diverges": synergy,
                         "undetected_3y": boot_share(undetected["3y"]),
                         "undetected_5y": boot_share(undetected["5y"]),
                         "proxy_predicts_health": corr})


# SF11 -------------------------------------------------------------------------------------

def _sf11(defn: PatternDefinition, seeds: list[int], res: Results,
          overrides: Mapping[str, Any]) -> PatternResult:
    """SF11, negative control: trust must not simply rise with tenure. Across ties at the
    end of a run, the correlation of a tie's duration with its trust is small (below
    ``max_abs_corr`` in size) and varies across runs (Vanneste, Puranam & Kretschmer 2014).

    Effect per run: ``max_abs_corr`` minus the absolute correlation; also required: the
    spread of the correlation across runs exceeds ``min_sd`` (bootstrap over runs).
    """
    cfg = defn.settings
    r = np.array([x.probes["tenure_trust_corr"] for x in res["baseline"]])
    rng = np.random.default_rng(0)
    sd = np.array([r[rng.integers(0, len(r), len(r))].std(ddof=1) - float(cfg["min_sd"])
                   for _ in range(500)])
    return judge("SF11", defn.measured, float(cfg["max_abs_corr"]) - np.abs(r),
                 {"mean_corr": float(r.mean()), "sd_corr": float(r.std(ddof=1)),
                  "min_corr": float(r.min()), "max_corr": float(r.max())},
                 all_of={"varies_across_runs": sd})


# SF12 -------------------------------------------------------------------------------------

def _sf12(defn: PatternDefinition, seeds: list[int], res: Results,
          overrides: Mapping[str, Any]) -> PatternResult:
    """SF12, community and voluntary participation lag: without capacity investment their
    members stay peripheral (attend less than statutory members); with investment their
    participation rises, but only after a delay (seed: communities need support first;
    Sullivan, Barnes & Matka 2002; Foster-Fishman et al. 2001).

    Effect: community and voluntary attendance in the last ``last_months`` with the
    earmarked budget minus without; also required: without investment, statutory members
    attend more than community and voluntary ones; the gain in the first
    ``early_months`` is smaller than the later gain (the delay).
    """
    cfg = defn.settings

    def part(k: str, a: int, b: int | None, sectors: Sequence[str]) -> np.ndarray:
        return np.mean([_window(res[k], f"active_{s}", a, b) for s in sectors], axis=0)

    vc = ("voluntary", "community")
    h, e = int(cfg["last_months"]), int(cfg["early_months"])
    late = part("investment", -h, None, vc) - part("no_investment", -h, None, vc)
    early = part("investment", 0, e, vc) - part("no_investment", 0, e, vc)
    peripheral = part("no_investment", -h, None, ("nhs_acute", "nhs_primary", "social_work")) \
        - part("no_investment", -h, None, vc)
    return judge("SF12", defn.measured, late,
                 {"early_gain": float(early.mean()),
                  "statutory_minus_community_voluntary": float(peripheral.mean()),
                  "active_cv_no_investment": float(part("no_investment", -h, None, vc).mean()),
                  "active_cv_investment": float(part("investment", -h, None, vc).mean())},
                 all_of={"peripheral_without": peripheral, "delayed": late - early})


# SF13 -------------------------------------------------------------------------------------

def _sf13(defn: PatternDefinition, seeds: list[int], res: Results,
          overrides: Mapping[str, Any]) -> PatternResult:
    """SF13, shared definitions: without a shared vision, problem definitions fragment
    into sector clusters and shared understanding stays low; a clear vision and dialogue
    make them converge (seed: definitions of health inequalities; Deffuant et al. 2000;
    Ansell & Gash 2008).

    Effect: shared understanding at the end with a clear vision minus without; also
    required: without a vision most of the spread of positions lies between sectors
    (between-sector share above ``cluster_share``); with a clear vision, dialogue
    (relationship time) raises shared understanding over little dialogue.
    """
    cfg = defn.settings
    names = tuple(res)
    h = int(cfg["last_months"])
    su = {k: _window(res[k], "shared_understanding", -h, None) for k in names}
    clusters = np.array([r.probes["between_sector_share"] for r in res["no_vision"]]) \
        - float(cfg["cluster_share"])
    dialogue = su["clear_vision"] - su["clear_vision_little_dialogue"]
    return judge("SF13", defn.measured, su["clear_vision"] - su["no_vision"],
                 {f"understanding_{k}": float(v.mean()) for k, v in su.items()}
                 | {"between_sector_share_no_vision": float(clusters.mean()
                                                            + float(cfg["cluster_share"]))},
                 all_of={"sector_clusters": clusters, "dialogue_converges": dialogue})


# The registry -----------------------------------------------------------------------------

# SF14 -------------------------------------------------------------------------------------

def _sf14(defn: PatternDefinition, seeds: list[int], res: Results,
          overrides: Mapping[str, Any]) -> PatternResult:
    """SF14, members stay active where the partnership works: in years 6 to 10 a larger share
    of members is engaged, and their commitment is higher, in a partnership with strong
    leadership and a capacity budget than in one with weak leadership and none (NORC for ASPE
    2012: 79% of members active in coalitions that were sustained, 74% in those that were not
    when they disbanded). A held-out pattern (docs/validation.md).

    Effect: the mean share of members engaged over months ``first_month`` to ``last_month``,
    strong minus weak (paired seeds); also required: mean commitment likewise.
    """
    a, b = int(defn.settings["first_month"]), int(defn.settings["last_month"]) + 1
    engaged = _window(res["strong"], "engaged", a, b) - _window(res["weak"], "engaged", a, b)
    commitment = (_window(res["strong"], "commitment", a, b)
                  - _window(res["weak"], "commitment", a, b))
    return judge("SF14", defn.measured, engaged,
                 {"engaged_strong": float(_window(res["strong"], "engaged", a, b).mean()),
                  "engaged_weak": float(_window(res["weak"], "engaged", a, b).mean()),
                  "commitment_gap": float(commitment.mean())},
                 all_of={"commitment_higher": commitment})


CHECKS: dict[str, Check] = {
    "SF1": Check(_sf1),  # no runs of the model: see _sf1
    "SF2": Check(_sf2, ("unfamiliar", "unfamiliar_rules", "familiar", "familiar_rules"),
                 ("trust_across",)),
    "SF3": Check(_sf3, plan=_sf3_cases),
    "SF4": Check(_sf4, ("baseline", "leadership_only", "budget_weak_leadership",
                        "leadership_and_budget")),
    "SF5": Check(_sf5, measures=("psat_synergy", "psat_leadership", "psat_efficiency",
                                 "trust_across", "psat_resources"), plan=_sf5_cases),
    "SF6": Check(_sf6, ("narrow_gap", "wide_gap", "wide_gap_supermajority"),
                 ("trust_low_to_high",)),
    "SF7": Check(_sf7, ("broadcast", "two_way", "low_volume", "high_volume"),
                 ("info_core", "info_periphery", "shared_understanding", "cost_time",
                  "psat_administration")),
    "SF8": Check(_sf8, ("champions_leave", "members_leave", "chair_leaves", "member_leaves",
                        "joint_chair_leaves", "joint_member_leaves", "low_turnover",
                        "high_turnover", "low_turnover_personal", "high_turnover_personal"),
                 ("trust_across", "output", "capacity_personal")),
    "SF9": Check(_sf9, ("phi_none", "phi_moderate", "phi_heavy", "stay_low", "raise",
                        "calm", "surge", "calm_protected", "surge_protected"),
                 ("output", "output_alone", "trust_across")),
    "SF10": Check(_sf10, ("high", "low"), ("trust_across", "synergy", "health_effect")),
    "SF11": Check(_sf11, ("baseline",)),  # reads the tenure_trust_corr probe
    "SF12": Check(_sf12, ("no_investment", "investment"),
                  ("active_voluntary", "active_community", "active_nhs_acute",
                   "active_nhs_primary", "active_social_work")),
    "SF13": Check(_sf13, ("no_vision", "clear_vision", "clear_vision_little_dialogue"),
                  ("shared_understanding",)),  # and the between_sector_share probe
    "SF14": Check(_sf14, ("strong", "weak"), ("engaged", "commitment")),
}
"""Every pattern's check by id, SF1 to SF13 (run them with ``run_checks``)."""
