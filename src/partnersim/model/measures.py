"""Measures: pure functions from model state to the monthly measures and end-of-run outputs
declared in :mod:`partnersim.outputs`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from partnersim.model import stages
from partnersim.model.numerics import compiled, total
from partnersim.outputs import MONTHLY
from partnersim.params import CAPACITY_LEVELS, SECTORS

if TYPE_CHECKING:
    from partnersim.model.partnership import PartnershipModel
    from partnersim.model.state import MonthEvents

EVALUATION_WINDOW_MONTHS = 12
"""An evaluator compares the last 12 months of a window with a comparison area."""


def measure(model: PartnershipModel, ev: MonthEvents) -> np.ndarray:
    """This month's measures, in the order of ``outputs.MONTHLY``."""
    s, t, p, lv = model.staff, model.ties, model.p, model.levers
    n, n_sectors = model.n, len(SECTORS)
    sector = s.sector
    ties = ev.tie_trust  # gathered by ``deliver``; no stage since has changed a tie
    trust_across = ties.across(model)
    n_within = len(t) - ties.n_cross
    trust_within = ((ties.total - ties.cross_sum) / n_within if n_within
                    else stages.prior_trust(model, cross=False))
    trust_low_high = (ties.low_to_high_sum / ties.n_low_to_high if ties.n_low_to_high
                      else trust_across)
    # trust held by members of each sector, over their ties
    trust_sector = [held / count if count else trust_across
                    for held, count in zip(ties.sector_sum.tolist(), ties.sector_ties.tolist(),
                                           strict=True)]
    (n_core, info_sum, info_core_sum, active, capacity_sum, commitment_sum, phi_sum, n_engaged,
     n_champions) = _staff_totals(s.attendance, s.info, sector, s.attended, s.capacity,
                                  s.commitment, s.phi, s.engaged, s.champion, n_sectors)
    info_core = info_core_sum / n_core if n_core else float("nan")
    info_periphery = (info_sum - info_core_sum) / (n - n_core) if n_core < n else float("nan")
    centralisation = (float(ties.max_degree * n - len(t)) / ((n - 1) * (n - 2))
                      if n > 2 and len(t) else 0.0)
    leadership = stages.effective_leadership(model)
    effect = stages.health_effect(model)
    background = p.health_trend * model.month + model.health_noise[model.month]
    cost_money = (lv["capacity_budget"] + p.champion_cost * n_champions
                  + p.joint_chair_cost * (len(model.chairs) > 1) + model.one_off_cost)
    two_way = p.two_way_time_cost if lv["communication_mode"] == "two_way" else 0.0
    cost_time = p.staff_month_cost * (phi_sum + two_way * n_engaged)
    budget_share = lv["capacity_budget"] / (lv["capacity_budget"] + p.budget_half_saturation)
    values = [
        trust_within, trust_across, trust_low_high, *trust_sector,
        info_core, info_periphery, ev.understanding_now,
        *model.capacity_stocks.tolist(), capacity_sum / n, commitment_sum / n, n_engaged / n,
        *active.tolist(),
        phi_sum / n, float(len(ev.pairs_i)), float(ev.tasks), float(ev.wins),
        float(model.small_wins_total), float(ev.breaches),
        ev.output, ev.output_alone, ev.synergy, ev.coordination_loss,
        len(t) / (n * (n - 1)), centralisation, float(len(t)),
        background + effect, background, effect,
        leadership, model.chair_presence, float(ev.decisions), ev.decision_delay,
        ev.decision_equity,
        cost_money, cost_time,
        ev.synergy_index, leadership, stages.efficiency(model), info_sum / n,
        0.5 * min(1.0, p.resources / 2.0) + 0.5 * budget_share, model.last_acceptability,
    ]
    return np.array(values, dtype=float)


@compiled
def _staff_totals(attendance, info, sector, attended, capacity, commitment, phi, engaged, champion,
                  n_sectors):  # pragma: no cover - compiled
    """Members' totals for the monthly measures: the core (attendance moving average at
    least 0.5) and its information, each sector's share attending this month, and sums."""
    core = attendance >= 0.5
    members = np.zeros(n_sectors)
    attending = np.zeros(n_sectors)
    for k in range(len(sector)):
        members[sector[k]] += 1.0
        attending[sector[k]] += attended[k]
    active = attending / np.maximum(members, 1.0)
    return (np.count_nonzero(core), total(info), total(info[core]), active, total(capacity),
            total(commitment), total(phi), np.count_nonzero(engaged), np.count_nonzero(champion))


def _detectable(effect: np.ndarray, noise_sd: float, window: int) -> bool:
    """Would an evaluator comparing the last 12 months of the window with a comparison
    area (independent noise of the same size) find a difference at the 5% level?"""
    if len(effect) < window:
        return False
    segment = effect[window - EVALUATION_WINDOW_MONTHS: window]
    se = noise_sd * np.sqrt(2.0 / EVALUATION_WINDOW_MONTHS)
    return bool(se == 0 and segment.mean() != 0 or se > 0 and abs(segment.mean()) > 1.96 * se)


def summarise(model: PartnershipModel) -> dict[str, Any]:
    """End-of-run outputs from the monthly table (``outputs.SUMMARIES``)."""
    col = {name: model._table[: model.month, k] for k, name in enumerate(MONTHLY)}
    months = model.month
    last = slice(max(0, months - 12), months)
    reached = np.flatnonzero(col["trust_across"] >= model.p.trust_threshold)
    year5 = min(59, months - 1)

    def final(name: str) -> float:
        return float(col[name][-1])

    def last_defined(name: str) -> float:
        """Last month's value where the group existed (no core ever: no one informed)."""
        defined = col[name][np.isfinite(col[name])]
        return float(defined[-1]) if len(defined) else 0.0

    equity = col["decision_equity"]
    delay = col["decision_delay"]
    return {
        "cumulative_output": float(col["output"].sum()),
        "output_vs_alone": float(col["output"].sum() / col["output_alone"].sum()),
        "output_last_year": float(col["output"][last].mean()),
        "trust_within_final": final("trust_within"),
        "trust_across_final": final("trust_across"),
        "trust_low_to_high_final": final("trust_low_to_high"),
        "shared_understanding_final": final("shared_understanding"),
        "commitment_final": final("commitment"),
        "capacity_final": float(np.mean([col[f"capacity_{lv}"][-1] for lv in CAPACITY_LEVELS])),
        "info_core_final": last_defined("info_core"),
        "info_periphery_final": last_defined("info_periphery"),
        "synergy_final": final("synergy"),
        "health_effect_final": final("health_effect"),
        "small_wins_total": int(model.small_wins_total),
        # censored at the horizon when never reached, so the value is always finite
        "time_to_trust_months": float(reached[0] + 1 if len(reached) else months),
        "reached_trust": bool(len(reached)),
        "first_task_success": bool(model.first_task_success),
        "trust_across_year5": float(col["trust_across"][year5]),
        "commitment_year5": float(col["commitment"][year5]),
        "health_detectable_3y": _detectable(col["health_effect"], model.p.health_noise, 36),
        "health_detectable_5y": _detectable(col["health_effect"], model.p.health_noise, 60),
        "decision_equity_mean": float(np.nanmean(equity)) if np.isfinite(equity).any() else 1.0,
        "decision_delay_mean": float(np.nanmean(delay)) if np.isfinite(delay).any() else 0.0,
        "cost_money_total": float(col["cost_money"].sum()),
        "cost_time_total": float(col["cost_time"].sum()),
    }
