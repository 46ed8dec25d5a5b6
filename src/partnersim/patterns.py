"""The validation patterns of DESIGN.md section 3 as seeded, paired experiments.

Each pattern is a function ``check_sfN(n_seeds=..., master_seed=..., **overrides)``
returning a :class:`PatternResult`. A pattern *holds* when its effect points the
expected way in at least 90% of paired seeds and the bootstrap confidence
interval of the mean paired effect excludes zero (DESIGN.md section 3).

``overrides`` are parameter values applied to every run of the experiment; the
tests use them to switch a mechanism off and confirm that the check then reports
"does not hold".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from partnersim import mechanisms
from partnersim.model import PartnershipModel
from partnersim.seeding import replicate_seeds
from partnersim.simulate import simulate

DIRECTION_SHARE = 0.9
"""Share of paired seeds whose effect must point the expected way."""
CI_LEVEL = 0.95
BOOTSTRAP_DRAWS = 2000


@dataclass(frozen=True)
class PatternResult:
    """The outcome of one pattern check.

    Attributes:
        pattern: id, e.g. "SF2".
        measured: what the effect is, in words.
        effect: mean paired effect (positive = in the expected direction).
        ci_low, ci_high: bootstrap confidence interval of the mean effect.
        share_expected: share of paired seeds whose effect is positive.
        n_seeds: number of paired seeds.
        holds: the direction holds in >= 90% of seeds and the CI excludes zero.
        details: further figures (per-condition means and sub-effects).
    """

    pattern: str
    measured: str
    effect: float
    ci_low: float
    ci_high: float
    share_expected: float
    n_seeds: int
    holds: bool
    details: Mapping[str, float]


def bootstrap_ci(values: np.ndarray, *, seed: int = 0, level: float = CI_LEVEL,
                 draws: int = BOOTSTRAP_DRAWS) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(draws, len(values)))
    means = values[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def judge(pattern: str, measured: str, effects: Sequence[float],
          details: Mapping[str, float] | None = None, *, all_of: Sequence[np.ndarray] = ()
          ) -> PatternResult:
    """Summarise paired effects (positive = expected direction) into a verdict.

    ``all_of`` lists further per-seed effect arrays that must each hold as well
    (for patterns with several parts); the reported effect is the first one.
    """
    effects = np.asarray(effects, dtype=float)
    low, high = bootstrap_ci(effects)
    share = float(np.mean(effects > 0))
    holds = share >= DIRECTION_SHARE and low > 0
    for extra in all_of:
        extra = np.asarray(extra, dtype=float)
        e_low, _ = bootstrap_ci(extra)
        holds = holds and float(np.mean(extra > 0)) >= DIRECTION_SHARE and e_low > 0
    return PatternResult(pattern, measured, float(effects.mean()), low, high, share,
                         len(effects), bool(holds), dict(details or {}))


def _paired(conditions: Mapping[str, Mapping[str, Any]], seeds: Sequence[int],
            outcome: Callable[[Any], float], *, interventions: Mapping[str, Sequence] = {}
            ) -> dict[str, np.ndarray]:
    """Run each condition with the same seeds; return outcome per condition and seed."""
    results = {}
    for name, params in conditions.items():
        results[name] = np.array([
            outcome(simulate(params, seed=s, interventions=interventions.get(name, ())))
            for s in seeds])
    return results


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
        mechanisms.apply_signals(model, rows, np.array([signal]), np.ones(1))
        if month == shock_month:
            if shock == "integrity":
                t.damage[rows] += p.reputation_damage * (1.0 - t.damage[rows])
            mechanisms.apply_signals(model, rows, np.array([-1.0]), np.ones(1))
        if p.reputation_recovery > 0:
            t.damage *= 1.0 - p.reputation_recovery
        path[month] = t.trust[0]
    return path


def check_sf1(n_seeds: int = 20, master_seed: int = 101, **overrides: Any) -> PatternResult:
    """SF1, trust asymmetry: a failure lowers trust more than an equal success raises it
    (ratio 2 to 4); trust recovers after a competence failure but not after an integrity
    breach (Slovic 1993; Schweitzer et al. 2006).

    Effect: pre-shock trust minus trust 48 months after an integrity breach, with three
    conditions all required: the loss/gain ratio lies in [2, 4]; trust 48 months after a
    competence failure is back within 0.05 of its pre-shock level; after a breach it is not.
    """
    params = {"n_staff": 10, "horizon_months": 12, **overrides}
    months, shock = 120, 60
    gap_integrity, recovered_competence, ratios = [], [], []
    for seed in replicate_seeds(master_seed, n_seeds):
        paths = {}
        for kind in ("competence", "integrity"):
            model = PartnershipModel(rng=seed, **params)
            rng = np.random.default_rng(seed)
            paths[kind] = _dyad_trajectory(model, rng, shock=kind, months=months,
                                           shock_month=shock)
        before = paths["competence"][shock - 12: shock].mean()
        after_c = paths["competence"][shock + 48:].mean()
        after_i = paths["integrity"][shock + 48:].mean()
        gap_integrity.append(before - after_i)
        recovered_competence.append(0.05 - abs(before - after_c))
        # equal and opposite signals at trust 0.5
        model = PartnershipModel(rng=seed, **params)
        model.ties.add(np.array([0, 0]), np.array([1, 2]), np.array([0.5, 0.5]),
                       np.array([0.5, 0.5]), 0)
        mechanisms.apply_signals(model, np.array([0, 1]), np.array([0.5, -0.5]), np.ones(2))
        gain, loss = model.ties.trust[0] - 0.5, 0.5 - model.ties.trust[1]
        ratios.append(loss / gain if gain > 0 else np.inf)
    ratios = np.array(ratios)
    in_range = np.where((ratios >= 2.0) & (ratios <= 4.0), 1.0, -1.0)
    return judge("SF1", "trust lost 4 years after an integrity breach (trust units)",
                 gap_integrity,
                 {"loss_gain_ratio": float(np.median(ratios)),
                  "competence_recovery_gap": float(0.05 - np.mean(recovered_competence))},
                 all_of=[np.array(recovered_competence) + 1e-12 * 0, in_range])


# SF2 --------------------------------------------------------------------------------------

def check_sf2(n_seeds: int = 20, master_seed: int = 102, **overrides: Any) -> PatternResult:
    """SF2, unfamiliarity and ground rules: unfamiliar partners start lower and take longer
    to reach the trust threshold; ground rules shorten that time, more for unfamiliar
    partners (Gulati 1995; McKnight et al. 1998; seed: HAZ codes of conduct).

    Effect: the interaction, (time saved by ground rules for unfamiliar partners) minus
    (time saved for familiar ones), in months; also required: unfamiliar partners start
    lower and take longer without ground rules.
    """
    base = {"horizon_months": 72, **overrides}
    conditions = {
        "unfamiliar": {**base, "prior_familiarity": 0.05},
        "unfamiliar_rules": {**base, "prior_familiarity": 0.05, "ground_rules": 1.0},
        "familiar": {**base, "prior_familiarity": 0.6},
        "familiar_rules": {**base, "prior_familiarity": 0.6, "ground_rules": 1.0},
    }
    seeds = replicate_seeds(master_seed, n_seeds)
    ttt = _paired(conditions, seeds, lambda r: r.summary["time_to_trust_months"])
    start = _paired({k: conditions[k] for k in ("unfamiliar", "familiar")}, seeds,
                    lambda r: float(r.timeseries["trust_across"].iloc[0]))
    saved_unfamiliar = ttt["unfamiliar"] - ttt["unfamiliar_rules"]
    saved_familiar = ttt["familiar"] - ttt["familiar_rules"]
    return judge(
        "SF2", "extra months to trust threshold saved by ground rules for unfamiliar partners",
        saved_unfamiliar - saved_familiar,
        {f"time_to_trust_{k}": float(v.mean()) for k, v in ttt.items()}
        | {"start_trust_unfamiliar": float(start["unfamiliar"].mean()),
           "start_trust_familiar": float(start["familiar"].mean())},
        all_of=[start["familiar"] - start["unfamiliar"], ttt["unfamiliar"] - ttt["familiar"]])


# SF9 --------------------------------------------------------------------------------------

SF9_SHARES = (0.0, 0.15, 0.4)
"""Relationship-time shares compared: none, moderate, heavy."""


def _last_year_output(result: Any) -> float:
    ts = result.timeseries
    return float(ts["output"].iloc[-12:].sum() / ts["output_alone"].iloc[-12:].sum())


def check_sf9(n_seeds: int = 20, master_seed: int = 109, **overrides: Any) -> PatternResult:
    """SF9, the balancing act: long-run output (last year, relative to partners working
    alone) is an inverted U in the relationship-time share; raising the share is worse
    before better (Repenning & Sterman 2002; seed: the balancing act).

    Effect: output at a moderate share minus the better of no and heavy relationship
    time; also required: raising the share from 0.05 to 0.15 at month 24 lowers output
    in the following year relative to staying at 0.05, but raises it by the last year.
    """
    seeds = replicate_seeds(master_seed, n_seeds)
    conditions = {f"phi_{s}": {**overrides, "relationship_time": s} for s in SF9_SHARES}
    out = _paired(conditions, seeds, _last_year_output)
    none, moderate, heavy = (out[f"phi_{s}"] for s in SF9_SHARES)
    peak = moderate - np.maximum(none, heavy)

    raise_at = 24
    low = {**overrides, "relationship_time": 0.05}
    step = [{"kind": "relationship_time", "month": raise_at, "share": 0.15}]
    stay = [simulate(low, seed=s) for s in seeds]
    raised = [simulate(low, seed=s, interventions=step) for s in seeds]

    def window(r: Any, a: int, b: int) -> float:
        ts = r.timeseries
        return float(ts["output"].iloc[a:b].sum())

    dip = np.array([window(s, raise_at, raise_at + 12) - window(r, raise_at, raise_at + 12)
                    for s, r in zip(stay, raised, strict=True)])
    later = np.array([_last_year_output(r) - _last_year_output(s)
                      for s, r in zip(stay, raised, strict=True)])
    return judge("SF9", "last-year output at phi=0.15 above the better of phi=0 and 0.4 "
                 "(share of output alone)", peak,
                 {f"output_{k}": float(v.mean()) for k, v in out.items()}
                 | {"first_year_dip": float(dip.mean()), "last_year_gain": float(later.mean())},
                 all_of=[dip, later])


PATTERNS: dict[str, Callable[..., PatternResult]] = {
    "SF1": check_sf1,
    "SF2": check_sf2,
    "SF9": check_sf9,
}
"""Every implemented pattern check by id."""
