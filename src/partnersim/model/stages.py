"""The eleven monthly stages, each a function of the model's state over all members and ties.

Stages hold no state between calls: they read the model's arrays and levers,
draw from their own named random stream, and write back. ``ev`` carries what
happened this month from one stage to the next (meeting pairs, trust signals,
wins, output). Equations and their sources are in docs/ODD.md, section 7.

Each stage is a readable Python function that gathers its inputs and calls one or
two compiled loops (``@compiled``, numba) that do the arithmetic member by member or
tie by tie; a loop's docstring or comments state its equation where the stage's
docstring does not. A stage draws its random numbers itself, or, where the draws
depend on what the loop finds (who attends, how many items are on the agenda), the
loop draws them as it goes from the stream's handle (``numerics.stream_handle``):
the same numbers, in the order the ODD gives.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from partnersim.model.numerics import compiled, mean, open_stream, std, stream_handle, total
from partnersim.model.state import (
    CAREER,
    SECTOR_CULTURE,
    SECTOR_TURNOVER,
    VISION_POSITION,
    WITHIN_AGENCY_FAMILIARITY,
)
from partnersim.params import CAPACITY_LEVELS, DECISION_RULES, SECTOR_QUORUM, SECTORS

if TYPE_CHECKING:
    from partnersim.model.partnership import PartnershipModel
    from partnersim.model.state import MonthEvents

PHI_MAX = 0.8
"""Upper limit on any member's relationship-time share."""
REENGAGE_MARGIN = 0.1
"""A disengaged member re-engages once commitment exceeds the threshold by this much."""
ATTENDANCE_MEMORY = 0.2
"""Weight of this month in the moving average of attendance (core vs periphery)."""
COMPROMISE_STEP = 0.3
"""Share of the gap to the members' mean position a failed proposal moves each month."""
MAX_AGENDA_AGE = 6
"""Months after which an item that cannot pass is dropped."""
JOINT_WORK_REFERENCE = 0.1
"""Successful joint tasks per engaged member and month at which joint work builds the
operational capacity stock at its full rate (learning by doing needs volume)."""
N_SECTORS = len(SECTORS)
"""Sectors, each represented by one agency (agency index = sector index)."""
LOW_POWER_SECTOR = 3
"""Sectors from this index on (voluntary, community) are the low-power side: their decision
power is 1 - power_gap; equity and low-to-high trust compare them with statutory members."""
VOLUNTARY, COMMUNITY = SECTORS.index("voluntary"), SECTORS.index("community")
"""The voluntary and community sectors (and their agencies)."""
OPERATIONAL_LEVEL, COMMUNITY_LEVEL, VOLUNTARY_LEVEL = (
    CAPACITY_LEVELS.index("operational"), CAPACITY_LEVELS.index("community"),
    CAPACITY_LEVELS.index("voluntary"))
"""The capacity stocks of joint operational arrangements and of the community and voluntary
sectors (seed, Box 1)."""


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


def effective_leadership(model: PartnershipModel) -> float:
    """Leadership strength times the chair's presence; strategic capacity buffers a vacancy."""
    presence = model.chair_presence
    buffer = 0.5 * model.capacity_stocks[0]
    return float(model.levers["leadership"] * (presence + (1.0 - presence) * buffer))


def participation(model: PartnershipModel) -> np.ndarray:
    """Probability a member can act as an active partner: community and voluntary members
    need capacity above a threshold first, their own plus the support their sector's
    capacity stock gives (community: level 4; voluntary: level 5) (seed: communities need
    support first, Box 1; Foster-Fishman et al. 2001)."""
    s, p, k = model.staff, model.p, model.capacity_stocks
    support = np.zeros(N_SECTORS)
    support[VOLUNTARY] = p.participation_support * k[VOLUNTARY_LEVEL]
    support[COMMUNITY] = p.participation_support * k[COMMUNITY_LEVEL]
    return _participation(s.capacity, s.sector, support, p.participation_steepness,
                          p.participation_threshold)


@compiled
def _participation(capacity, sector, support, steepness, threshold):  # pragma: no cover - compiled
    part = np.ones(len(capacity))
    for k in range(len(capacity)):
        if sector[k] >= LOW_POWER_SECTOR:  # voluntary and community members
            x = capacity[k] + support[sector[k]]
            part[k] = 1.0 / (1.0 + np.exp(-(steepness * (x - threshold))))
    return part


# 1 ----------------------------------------------------------------------------------------
def allocate_time(model: PartnershipModel, ev: MonthEvents) -> None:
    """Each member's share of time on relationships (phi): the policy share (their agency's
    own, where it has chosen one), raised by leadership and cut in proportion to their
    agency's unmet demand (capability trap).

    References: Repenning & Sterman 2002.
    """
    s, p, lv = model.staff, model.p, model.levers
    share = model.agency_choices.values("relationship_time", lv)[s.agency]
    _allocate(s.phi, s.engaged, model.unmet_demand[s.agency], share,
              1.0 + p.leadership_time_nudge * effective_leadership(model),
              p.pressure_time_response)


@compiled
def _allocate(phi, engaged, gap, share, lift, response):  # pragma: no cover - compiled
    for k in range(len(phi)):
        phi[k] = min(max(share[k] * (lift - response * gap[k]), 0.0), PHI_MAX) if engaged[k] else 0.0


# 2 ----------------------------------------------------------------------------------------
def meet(model: PartnershipModel, ev: MonthEvents) -> None:
    """Attendance and pairwise meetings; partner choice favours existing ties and familiar
    agencies; champions and chairs make more contacts and bridge agencies. An agency that
    sends fewer people (its ``meeting_attendance``) scales its members' chance of attending.
    Ties whose pair has not met for ``tie_lapse_months`` lapse first.

    References: Ansell & Gash 2008 (face-to-face dialogue); Carley 1991; Zellner et al. 2014;
    Burt 2000 (decay of network ties).
    """
    s, p, t = model.staff, model.p, model.ties
    t.remove_lapsed(model.month, p.tie_lapse_months)
    ev.pairs_i, ev.pairs_j = _meetings(
        stream_handle(model.streams["meet"]), participation(model), s.phi, s.commitment,
        s.engaged, s.attended, s.attendance, s.champion | model.chair_flags(), t.start, t.dst,
        s.agency, model.agency_choices.values("meeting_attendance", model.levers),
        model.agencies.familiarity, p.full_attendance_share, p.contacts_per_month,
        p.champion_contacts, p.p_repeat_contact, p.champion_bridging)
    rows = _ensure_ties(model, ev.pairs_i, ev.pairs_j)
    ev.rows_ij, ev.rows_ji = rows[: len(ev.pairs_i)], rows[len(ev.pairs_i):]
    _agencies_get_acquainted(model, ev.pairs_i, ev.pairs_j)


@compiled
def _meetings(stream, participation, phi, commitment, engaged, attended, attendance, bridger,
              start, dst, agency, send, familiarity, full_share, per_month, bridger_contacts,
              p_repeat, bridging):  # pragma: no cover - compiled
    """This month's meeting pairs (i, j): who attends, how many contacts each makes, and
    with whom, drawn from ``stream`` (a handle). Updates ``attended`` and the moving
    average ``attendance``."""
    rng = open_stream(stream)
    # attendance: participation x relationship time relative to full_share (capped at 1)
    # x (0.5 + 0.5 commitment) x the share of its people their agency sends
    draws = rng.random(len(phi))
    for k in range(len(phi)):
        p_attend = (participation[k] * min(1.0, phi[k] / full_share) * (0.5 + 0.5 * commitment[k])
                    * send[agency[k]])
        attended[k] = engaged[k] and draws[k] < p_attend
        attendance[k] += ATTENDANCE_MEMORY * (attended[k] - attendance[k])
    att = np.flatnonzero(attended)
    none = np.empty(0, dtype=np.int64)
    if len(att) < 2:
        return none, none
    # contacts: the base number scaled by relationship time (up to twice the reference)
    # and, for champions and chairs, by bridger_contacts; a fractional part is made with
    # that probability
    draws = rng.random(len(att))
    counts = np.empty(len(att), dtype=np.int64)
    for k in range(len(att)):
        rate = (per_month * min(phi[att[k]] / full_share, 2.0)
                * (bridger_contacts if bridger[att[k]] else 1.0))
        counts[k] = np.int64(np.floor(rate + draws[k]))
    i = att[np.repeat(np.arange(len(att)), counts)]
    if len(i) == 0:
        return none, none
    # partner: with probability p_repeat someone already known (picked at random; if they
    # came), else a random attendee; a cross-agency contact goes ahead with probability
    # 0.3 + 0.7 x the agencies' familiarity
    repeat, pick = rng.random(len(i)), rng.random(len(i))
    j = att[rng.integers(0, len(att), len(i))]
    draws = rng.random(len(i))
    cross = np.empty(len(i), dtype=np.bool_)
    accept = np.empty(len(i), dtype=np.bool_)
    for k in range(len(i)):
        first, degree = start[i[k]], start[i[k] + 1] - start[i[k]]
        if repeat[k] < p_repeat and degree > 0:
            known = dst[first + np.int64(np.floor(pick[k] * degree))]
            if attended[known]:
                j[k] = known
        cross[k] = agency[i[k]] != agency[j[k]]
        accept[k] = (not cross[k]) or draws[k] < 0.3 + 0.7 * familiarity[agency[i[k]], agency[j[k]]]
    # champions and chairs look for partners in other agencies: up to three redraws
    for _ in range(3):
        draws = rng.random(len(i))
        redraw = np.flatnonzero(bridger[i] & ~cross & (draws < bridging))
        if len(redraw) == 0:
            break
        j[redraw] = att[rng.integers(0, len(att), len(redraw))]
        for k in redraw:
            cross[k] = agency[i[k]] != agency[j[k]]
    keep = (accept | (bridger[i] & cross)) & (i != j)
    return i[keep], j[keep]


def _agencies_get_acquainted(model: PartnershipModel, i: np.ndarray, j: np.ndarray) -> None:
    """Agencies whose members meet become familiar with each other in proportion to the
    share of the smaller agency that met someone from the other this month, up to the
    familiarity colleagues have within one agency: knowing another agency's ways
    (organisational familiarity, Gulati 1995) does not make its staff personally known."""

    ag = model.agencies
    _acquaint(ag.familiarity, model.staff.agency, i, j, model.p.agency_familiarity_gain,
              WITHIN_AGENCY_FAMILIARITY)


@compiled
def _acquaint(familiarity, agency, i, j, gain, ceiling):  # pragma: no cover - compiled
    k = len(familiarity)
    met = np.zeros((k, k), dtype=np.int64)  # cross-agency meetings, both ways
    for m in range(len(i)):
        a, b = agency[i[m]], agency[j[m]]
        if a != b:
            met[a, b] += 1
            met[b, a] += 1
    size = np.zeros(k, dtype=np.int64)
    for a in agency:
        size[a] += 1
    for a in range(k):
        for b in range(k):
            if a != b:
                contact = min(1.0, met[a, b] / max(min(size[a], size[b]), 1))
                familiarity[a, b] += gain * contact * max(0.0, ceiling - familiarity[a, b])


def initial_trust(model: PartnershipModel, src: np.ndarray, dst: np.ndarray,
                  familiarity: np.ndarray | None = None) -> np.ndarray:
    """Trust at first meeting: propensity, familiarity, institution-based trust from
    ground rules, and the partnership's reputation: members' confidence that it delivers,
    above or below one half (McKnight et al. 1998; Mayer et al. 1995; Gulati 1995; Vangen &
    Huxham 2003). ``familiarity`` is the pair's starting familiarity (default: their
    agencies' familiarity)."""
    s, p = model.staff, model.p
    fam = (model.agencies.familiarity[s.agency[src], s.agency[dst]] if familiarity is None
           else familiarity)
    return _first_trusts(s.propensity[src], np.asarray(fam, dtype=float),
                         p.trust_weight_propensity, p.trust_weight_familiarity,
                         *trust_climate(model))


@compiled
def _first_trusts(propensity, familiarity, w_propensity, w_familiarity, institution,
                  reputation):  # pragma: no cover - compiled
    trust = np.empty(len(propensity))
    for k in range(len(propensity)):
        trust[k] = first_trust(propensity[k], familiarity[k], w_propensity, w_familiarity,
                               institution, reputation)
    return trust


def _ensure_ties(model: PartnershipModel, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Create ties i->j and j->i for pairs meeting for the first time; familiarity grows.

    Returns the tie rows of i->j followed by those of j->i.
    """
    s, p = model.staff, model.p
    src, dst = np.concatenate((i, j)), np.concatenate((j, i))
    trust, familiarity = _first_meeting(
        src, dst, s.agency, s.founder, s.propensity, model.agencies.familiarity,
        p.newcomer_reputation, p.trust_weight_propensity, p.trust_weight_familiarity,
        *trust_climate(model))
    return model.ties.meet(src, dst, model.month, p.familiarity_gain, trust, familiarity)


@compiled
def first_trust(propensity, familiarity, w_propensity, w_familiarity, institution,
                reputation):  # pragma: no cover - compiled
    """``initial_trust`` of one pair, with the terms of ``trust_climate``."""
    trust = w_propensity * propensity + w_familiarity * familiarity + institution + reputation
    return min(max(trust, 0.0), 1.0)


def trust_climate(model: PartnershipModel) -> tuple[float, float]:
    """The terms of first-meeting trust that every pair shares this month: institution-based
    trust from ground rules, and the partnership's reputation (confidence above or below
    one half)."""
    p = model.p
    return (p.trust_weight_institution * model.levers["ground_rules"],
            p.trust_weight_reputation * (model.confidence - 0.5))


@compiled
def _first_meeting(src, dst, agency, founder, propensity, agency_familiarity,
                   newcomer_reputation, w_propensity, w_familiarity, institution,
                   reputation):  # pragma: no cover - compiled
    """First trust and familiarity of pairs meeting for the first time. Members present
    from the start may know each other from their agencies' earlier work (prior
    familiarity); a newcomer knows nobody personally yet and is trusted on the reputation
    of their agency (DESIGN 2.2.9)."""
    trust, familiarity = np.empty(len(src)), np.empty(len(src))
    for k in range(len(src)):
        a, b = src[k], dst[k]
        fam = agency_familiarity[agency[a], agency[b]]
        original = founder[a] and founder[b]
        known = fam if original else newcomer_reputation * fam
        trust[k] = first_trust(propensity[a], known, w_propensity, w_familiarity, institution,
                               reputation)
        familiarity[k] = fam if original else 0.0
    return trust, familiarity


# 3 ----------------------------------------------------------------------------------------
def uptake(volume: float, overload: float, relevance_filter: float) -> float:
    """Share of information taken up at a message volume: an inverted U (overload).

    Filtering out irrelevant messages lowers the load that counts toward overload.

    References: Eppler & Mengis 2004; Hahn et al. 1992.
    """
    load = volume * (1.0 - 0.5 * relevance_filter) / overload
    return float(min(1.0, load * np.exp(1.0 - load)))


def communicate(model: PartnershipModel, ev: MonthEvents) -> None:
    """Information about the partnership's decisions reaches attendees and, with low
    probability (or widened: partnership-wide, or by an agency for its own staff), the
    periphery; two-way communication raises uptake.

    References: seed (SCAN communication); Leavitt & Mueller 1951; Eppler & Mengis 2004.
    """
    s, p, lv = model.staff, model.p, model.levers
    u = uptake(lv["message_volume"], p.overload_volume, lv["relevance_filter"])
    widened = model.agency_choices.values("widen_communication", lv) > 0.5
    reach = np.where(widened, p.p_reach_widened, p.p_reach_periphery)  # by agency
    if lv["communication_mode"] == "two_way":  # members can ask, and are asked
        u = min(1.0, u * (1.0 + p.two_way_gain))
        reach = np.minimum(1.0, reach * (1.0 + p.two_way_gain))
    _inform(model.streams["communicate"].random(model.n), s.info, s.attended, s.agency, reach,
            u, p.information_decay)


@compiled
def _inform(draws, info, attended, agency, reach, uptake, rate):  # pragma: no cover - compiled
    """Attendees hear this month's decisions, others with their agency's probability
    ``reach``; information moves toward what was taken up."""
    for k in range(len(info)):
        reached = attended[k] or draws[k] < reach[agency[k]]
        info[k] += rate * (reached * uptake - info[k])


# 4 ----------------------------------------------------------------------------------------
def deliberate(model: PartnershipModel, ev: MonthEvents) -> None:
    """Problem definitions converge between trusting members whose positions are close
    (bounded confidence), are pulled toward the stated vision by informed members and
    back toward their own sector's culture.

    References: Deffuant et al. 2000; Ansell & Gash 2008; seed (shared definitions).
    """

    s, p, lv = model.staff, model.p, model.levers
    two_way = 1.0 + (p.two_way_gain if lv["communication_mode"] == "two_way" else 0.0)
    _deliberate(s.position, ev.pairs_i, ev.pairs_j, model.ties.trust, ev.rows_ij, ev.rows_ji,
                p.confidence_bound * (1.0 + 0.5 * lv["ground_rules"]), p.convergence_rate,
                p.vision_pull * lv["vision_clarity"], s.info, two_way, p.culture_pull,
                SECTOR_CULTURE[s.sector], VISION_POSITION)
    ev.understanding = shared_understanding(model)


@compiled
def _deliberate(x, i, j, trust, rows_ij, rows_ji, bound, rate, vision_pull, info, two_way,
                culture_pull, culture, vision):  # pragma: no cover - compiled
    delta = np.zeros(len(x))
    # both sides of a close pair move toward each other, each by how far they trust the other
    for k in range(len(i)):
        if abs(x[i[k]] - x[j[k]]) < bound:
            delta[i[k]] += rate * trust[rows_ij[k]] * (x[j[k]] - x[i[k]])
    for k in range(len(i)):
        if abs(x[i[k]] - x[j[k]]) < bound:
            delta[j[k]] += rate * trust[rows_ji[k]] * (x[i[k]] - x[j[k]])
    for k in range(len(x)):
        delta[k] += vision_pull * info[k] * two_way * (vision - x[k])
        delta[k] += culture_pull * (culture[k] - x[k])
        x[k] = min(max(x[k] + delta[k], 0.0), 1.0)


def shared_understanding(model: PartnershipModel) -> float:
    """1 - 2 * spread of problem definitions (1: everyone agrees; 0: spread of 0.5)."""
    return float(max(0.0, 1.0 - 2.0 * std(model.staff.position)))


# 5 ----------------------------------------------------------------------------------------
def efficiency(model: PartnershipModel) -> float:
    """How well the partnership uses partners' time: governance and operational capacity."""
    k = model.capacity_stocks
    return float(k[1] + k[2]) / 2.0  # the mean of the two, as numpy computes it


def joint_work(model: PartnershipModel, ev: MonthEvents) -> None:
    """Cross-agency meeting pairs take on joint tasks (if both agencies back joint tasks),
    sized by trust relative to risk;
    success depends on leadership, efficiency, trust, understanding, resources and
    capacity. Outcomes are trust signals; hidden motives may be found out.

    References: Weiss et al. 2002; Ansell & Gash 2008; Vangen & Huxham 2003; Mayer et al. 1995.
    """
    s, p, t, rng = model.staff, model.p, model.ties, model.streams["work"]
    # the stream's draws are all uniform doubles, taken in this order: which cross-agency
    # pairs take on a task, then for each task its outcome, then (in _task_signals) whether
    # each side is found out; drawn here, not by passing the generator into the compiled loop
    # (a crossing costs ~10 us), they are the same numbers
    task_draws = rng.random(_count_cross(ev.pairs_i, ev.pairs_j, s.agency))
    i, j, r_ij, r_ji, p_success, size = _joint_tasks(
        task_draws, ev.pairs_i, ev.pairs_j, ev.rows_ij, ev.rows_ji, s.agency,
        model.agency_choices.values("task_backing", model.levers), t.trust,
        model.agencies.horizon, model.agencies.resources, s.capacity, p.p_joint_task,
        p.success_base + p.success_leadership * effective_leadership(model)
        + p.success_efficiency * efficiency(model),
        p.success_trust, p.success_understanding * ev.understanding, p.success_resources,
        p.success_capacity, p.timescale_penalty, p.success_confidence * (model.confidence - 0.5),
        p.perceived_risk)
    k = len(i)
    draws = rng.random(3 * k)  # outcomes, then i's and j's partners found out
    success = draws[:k] < p_success
    ev.tasks = k
    if not k:
        model.months_since_win += 1
        return
    if model.force_first_task is not None and model.month < model.force_outcomes_until:
        success[:] = model.force_first_task  # validation hook (SF3): a forced early record
    if model.first_task_success is None:
        if model.force_first_task is not None:
            success[0] = model.force_first_task
        model.first_task_success = bool(success[0])
    # the partnership's visible record of small wins, and members' confidence that it
    # delivers: a threshold on the record against expectations (advantage vs inertia)
    model.record += p.record_memory * (np.count_nonzero(success) / len(success) - model.record)
    model.confidence = float(sigmoid(p.confidence_steepness
                                     * (model.record - p.confidence_threshold)))
    # outcomes are trust signals; a partner with a hidden motive may be found out: an
    # integrity breach (j by i on the ties i -> j, then i by j)
    failed, succeeded = _outcome_signals(p.signal_sensitivity, p.performance_standard)
    rows, signal, weight, ev.breaches = _task_signals(
        success, size, succeeded, failed, j, i, r_ij, r_ji, draws[k: 2 * k], draws[2 * k:],
        s.honesty, t.damage, p.p_hidden_agenda, p.reputation_damage)
    ev.task_signals = (rows, signal, weight)
    ev.wins = int(np.count_nonzero(success))
    model.small_wins_total += ev.wins
    model.months_since_win = 0 if ev.wins else model.months_since_win + 1


@functools.cache
def _outcome_signals(sensitivity: float, standard: float) -> tuple[float, float]:
    """Trust signals of a failed and of a successful joint task."""
    failed, succeeded = np.tanh(sensitivity * (np.array([0.0, 1.0]) - standard))
    return float(failed), float(succeeded)


@compiled
def _count_cross(i, j, agency):  # pragma: no cover - compiled
    """Meeting pairs whose members are in different agencies."""
    n = 0
    for k in range(len(i)):
        n += agency[i[k]] != agency[j[k]]
    return n


@compiled
def _joint_tasks(draws, i, j, rows_ij, rows_ji, agency, backing, trust, horizon, resources, capacity,
                 p_task, base, w_trust, understanding, w_resources, w_capacity, w_timescale,
                 confidence, perceived_risk):  # pragma: no cover - compiled
    """Cross-agency meeting pairs that take on a joint task (a draw in ``draws``, one per
    such pair, below ``p_task`` x both agencies' ``backing``), each task's probability of
    success and its size (trust relative to risk, 0.2 to 1).

    The log-odds of success: ``base`` (intercept, leadership and efficiency terms, the same
    for every task this month) + w_trust x the pair's mean trust + ``understanding`` and
    ``confidence`` (their weighted terms) + resources and capacity terms - w_timescale x
    |log(ratio of the agencies' time horizons)| / log 5."""
    cross = np.flatnonzero(agency[i] != agency[j])
    backed = np.empty(len(cross), dtype=np.bool_)
    for k in range(len(cross)):
        backed[k] = draws[k] < p_task * backing[agency[i[cross[k]]]] * backing[agency[j[cross[k]]]]
    task = cross[backed]
    i, j, rows_ij, rows_ji = i[task], j[task], rows_ij[task], rows_ji[task]
    p_success, size = np.empty(len(task)), np.empty(len(task))
    for k in range(len(task)):
        pair_trust = 0.5 * (trust[rows_ij[k]] + trust[rows_ji[k]])
        mismatch = np.abs(np.log(horizon[agency[i[k]]] / horizon[agency[j[k]]])) / np.log(5.0)
        logit = (base + w_trust * pair_trust + understanding
                 + w_resources * 0.5 * resources[agency[i[k]]]
                 + w_capacity * 0.5 * (capacity[i[k]] + capacity[j[k]])
                 - w_timescale * mismatch
                 + confidence)
        p_success[k] = 1.0 / (1.0 + np.exp(-logit))
        size[k] = min(max(pair_trust / perceived_risk, 0.2), 1.0)
    return i, j, rows_ij, rows_ji, p_success, size


@compiled
def _task_signals(success, size, succeeded, failed, j, i, rows_ij, rows_ji, draws_j, draws_i,
                  honesty, damage, p_hidden, reputation_damage):  # pragma: no cover - compiled
    """The trust signals of this month's tasks (tie rows, signal, weight): each task's outcome
    (``succeeded`` or ``failed``, weighted by its size) on the ties i -> j, with the breaches
    found out there (signal -1, weight 1), then the same on the ties j -> i. A partner is
    found out with probability p_hidden x (1 - honesty); a breach raises the tie's
    reputation damage by ``reputation_damage`` of its gap to 1 (once, however many)."""
    k = len(success)
    rows, signal, weight = np.empty(4 * k, np.int64), np.empty(4 * k), np.empty(4 * k)
    n = breaches = 0
    for partner, tie, draws in ((j, rows_ij, draws_j), (i, rows_ji, draws_i)):
        for m in range(k):
            rows[n], signal[n], weight[n] = tie[m], succeeded if success[m] else failed, size[m]
            n += 1
        found = tie[draws < p_hidden * (1.0 - honesty[partner])]
        damage[found] = damage[found] + reputation_damage * (1.0 - damage[found])
        rows[n:n + len(found)], signal[n:n + len(found)], weight[n:n + len(found)] = found, -1.0, 1.0
        n += len(found)
        breaches += len(found)
    return rows[:n], signal[:n], weight[:n], breaches


# 6 ----------------------------------------------------------------------------------------
def competence_signals(model: PartnershipModel, ev: MonthEvents) -> tuple[np.ndarray, np.ndarray]:
    """In meetings each side observes the other's competence, misread with noise that
    ground rules and familiarity reduce; the gap to the expected standard is the signal.
    Returns the tie rows and the signals (each of weight 1)."""
    i, j = ev.pairs_i, ev.pairs_j
    s, p, t = model.staff, model.p, model.ties
    rows = np.concatenate((ev.rows_ij, ev.rows_ji))
    gap = _competence_gap(
        model.streams["trust"].normal(0.0, 1.0, len(rows)) if len(rows) else np.empty(0), rows,
        np.concatenate((j, i)), s.ability, t.familiarity,
        p.misreading_noise * (1.0 - p.ground_rules_noise_cut * model.levers["ground_rules"]),
        p.performance_standard)
    return rows, np.tanh(p.signal_sensitivity * gap)  # numpy's tanh: bit-stable


@compiled
def _competence_gap(noise, rows, observed, ability, familiarity, noise_sd,
                    standard):  # pragma: no cover - compiled
    """Observed competence minus the expected standard; the noise's s.d. falls as the
    observer gets to know the observed."""
    gap = np.empty(len(rows))
    for k in range(len(rows)):
        seen = ability[observed[k]] + noise[k] * (noise_sd * (1.0 - 0.5 * familiarity[rows[k]]))
        gap[k] = seen - standard
    return gap


def apply_signals(model: PartnershipModel, rows: np.ndarray, signal: np.ndarray,
                  weight: np.ndarray) -> None:
    """Asymmetric trust update: gains move trust slowly toward its ceiling, losses fast
    toward zero; a power gap slows the low-power side's gains.

        gain: dT = lambda+ * w * s * (ceiling - T) * (1 - eta * gap)   (s > 0)
        loss: dT = lambda- * w * s * T                                  (s < 0)

    References: Slovic 1993; Pant & Yu 2025; Schweitzer et al. 2006; Jones & Barry 2016.
    """
    if not len(rows):
        return
    p, t = model.p, model.ties
    _apply_signals(t.trust, t.damage, t.src, t.dst, model.agencies.power[model.staff.agency],
                   np.asarray(rows, dtype=np.int64), signal, weight, p.trust_gain_rate,
                   p.trust_loss_ratio, p.power_gain_damping)


@compiled
def _apply_signals(trust, damage, src, dst, power, rows, signal, weight, gain_rate, loss_ratio,
                   damping):  # pragma: no cover - compiled
    # every signal is judged against the trust the month started with; several signals on
    # one tie add up before the result is held within [0, ceiling]
    change = np.zeros(len(trust))
    for k in range(len(rows)):
        r = rows[k]
        if signal[k] > 0:
            gap = max(0.0, power[dst[r]] - power[src[r]])
            change[r] += (gain_rate * weight[k] * signal[k] * ((1.0 - damage[r]) - trust[r])
                          * (1.0 - damping * gap))
        else:
            change[r] += gain_rate * loss_ratio * weight[k] * signal[k] * trust[r]
    done = np.zeros(len(trust), dtype=np.bool_)
    for k in range(len(rows)):
        r = rows[k]
        if not done[r]:
            done[r] = True
            trust[r] = min(max(trust[r] + change[r], 0.0), 1.0 - damage[r])


def update_trust(model: PartnershipModel, ev: MonthEvents) -> None:
    """Apply this month's task and breach signals and the competence signals of its meetings;
    reputation damage fades at ``reputation_recovery`` (0 by default: a breach never fully
    heals); old evidence fades (``trust_forgetting``)."""
    t, p, s = model.ties, model.p, model.staff
    competence_rows, competence = competence_signals(model, ev)
    ev.mean_trust, ev.degree = _update_trust(
                  t.trust, t.damage, t.start, t.src, t.dst, model.agencies.power[s.agency],
                  *ev.task_signals, competence_rows, competence, p.trust_gain_rate,
                  p.trust_loss_ratio, p.power_gain_damping, p.reputation_recovery,
                  p.trust_forgetting, s.propensity, s.agency, model.agencies.familiarity,
                  p.trust_weight_propensity, p.trust_weight_familiarity, *trust_climate(model))


@compiled
def _update_trust(trust, damage, start, src, dst, power, task_rows, task_signal, task_weight,
                  competence_rows, competence, gain_rate, loss_ratio, damping, recovery,
                  forgetting, propensity, agency, familiarity, w_propensity, w_familiarity,
                  institution, reputation):  # pragma: no cover - compiled
    """Returns the mean trust each member then holds in their contacts, and their degree."""
    rows = np.concatenate((task_rows, competence_rows))
    if len(rows):
        _apply_signals(trust, damage, src, dst, power, rows,
                       np.concatenate((task_signal, competence)),
                       np.concatenate((task_weight, np.ones(len(competence)))), gain_rate,
                       loss_ratio, damping)
    if recovery > 0:
        for r in range(len(damage)):
            damage[r] *= 1.0 - recovery
    # old evidence fades: trust relaxes toward the prior a first meeting would give now
    # (``initial_trust``), below the ceiling an integrity breach has set (Jøsang & Ismail
    # 2002); then each member's mean trust in their contacts
    mean, degree = np.zeros(len(start) - 1), np.zeros(len(start) - 1, dtype=np.int64)
    prior = np.empty(len(familiarity))  # member i's first-meeting trust in each agency
    for i in range(len(start) - 1):
        if forgetting > 0:
            for b in range(len(prior)):
                prior[b] = first_trust(propensity[i], familiarity[agency[i], b], w_propensity,
                                       w_familiarity, institution, reputation)
        held = 0.0
        for r in range(start[i], start[i + 1]):
            if forgetting > 0:
                trust[r] += forgetting * (min(prior[agency[dst[r]]], 1.0 - damage[r]) - trust[r])
            held += trust[r]
        degree[i] = start[i + 1] - start[i]
        if degree[i]:
            mean[i] = held / degree[i]
    return mean, degree


# 7 ----------------------------------------------------------------------------------------
def update_commitment(model: PartnershipModel, ev: MonthEvents) -> None:
    """Commitment follows trust and shared understanding, rises with wins the member hears
    of (more for career-motivated members, for whom a win is a chance to shine), and
    erodes with the cost of relationship time under pressure and with long stretches
    without a win; below a threshold a member disengages.

    References: Ansell & Gash 2008; Emerson et al. 2012; Huxham & Vangen 2005; seed (Trust:
    an opportunity to shine in career terms).
    """
    s, p = model.staff, model.p
    erosion = p.commitment_erosion if model.months_since_win >= p.no_win_months else 0.0
    _commit(s.commitment, s.engaged, ev.mean_trust, ev.degree, ev.understanding,
            ev.wins > 0, s.info, s.phi, p.full_attendance_share, model.unmet_demand, s.agency,
            s.motive, p.commitment_trust_rate, p.commitment_win_boost,
            p.commitment_win_boost * (1.0 + p.career_win_boost), p.commitment_cost, erosion,
            p.disengage_threshold)


@compiled
def _commit(commitment, engaged, mean_trust, degree, understanding, win, info, phi, full_share,
            unmet, agency, motive, trust_rate, win_boost, career_win_boost, cost_rate, erosion,
            threshold):  # pragma: no cover - compiled
    for k in range(len(commitment)):
        c = commitment[k]
        target = 0.5 * ((mean_trust[k] if degree[k] > 0 else c) + understanding)
        win_heard = (0.3 + 0.7 * info[k]) * (1.0 - c) if win else 0.0
        boost = career_win_boost if motive[k] == CAREER else win_boost
        cost = phi[k] / full_share * unmet[agency[k]]  # relationship time x its agency's shortfall
        c = c + trust_rate * (target - c) + boost * win_heard - cost_rate * cost - erosion
        c = min(max(c, 0.0), 1.0)
        commitment[k] = c
        engaged[k] = c >= threshold if engaged[k] else c >= threshold + REENGAGE_MARGIN


# 8 ----------------------------------------------------------------------------------------
def decide(model: PartnershipModel, ev: MonthEvents) -> None:
    """Agenda items pass under the decision rule with power-weighted votes of attendees;
    members overruled by more powerful members lose trust in them. Under stricter rules a
    failing proposal compromises toward the members' mean position: fairer but slower.

    References: Choi & Robertson 2014; Ansell & Gash 2008.
    """
    s, p, lv, t = model.staff, model.p, model.levers, model.ties
    new_items = np.zeros((p.n_agenda_items, 3))
    new_items[:, 2] = 1.0  # position, age, new
    agenda = np.concatenate((model.agenda, new_items))
    voters, power, x, sector = _voters(s.attended, s.agency, s.sector, model.agencies.power,
                                       s.position)
    if len(voters) < 2 or not len(agenda):
        agenda[:, 1] += 1
        model.agenda = agenda[agenda[:, 1] < MAX_AGENDA_AGE]
        return
    rule = lv["decision_rule"]
    model.agenda, ev.decisions, ev.decision_delay, acceptability, ev.decision_equity = _decide(
        stream_handle(model.streams["deliberate"]), agenda, voters, x, float(power @ x), power,
        sector,
        DECISION_RULES[rule], SECTOR_QUORUM[rule], p.acceptance_width, p.acceptance_softness,
        t.start, t.src, t.dst, t.trust, t.damage, model.agencies.power[s.agency],
        p.overrule_signal, p.trust_gain_rate, p.trust_loss_ratio, p.power_gain_damping)
    if ev.decisions:
        ev.acceptability = model.last_acceptability = acceptability


@compiled
def _voters(attended, agency, sector, agency_power, position):  # pragma: no cover - compiled
    """This month's voters (attendees), their power, problem definitions and sectors."""
    voters = np.flatnonzero(attended)
    return voters, agency_power[agency[voters]], position[voters], sector[voters]


@compiled
def _decide(stream, agenda, voters, x, power_x, power, sector, need, quorum, width, softness,
            start, src, dst, trust, damage, staff_power, overrule_signal, gain_rate, loss_ratio,
            damping):  # pragma: no cover - compiled
    """Vote on each agenda item (rows: position, age in months, new). Each item in turn
    draws from ``stream`` (a handle): a new item's proposal, the power-weighted view plus
    normal noise (s.d. 0.05); then, with soft support, one draw for each voter. A failing
    proposal compromises toward the members' mean
    position; one still undecided after MAX_AGENDA_AGE months is dropped (a delay of the
    full agenda life). Members overruled by more powerful members lose trust in them.

    Returns the items still pending, the number of decisions, the mean delay of the items
    decided or dropped, the mean acceptance of the decisions (share of voters in favour)
    and the mean equity of the decisions where both sides voted (support among low-power
    voters relative to the others, at most 1); a mean over nothing is NaN."""
    total_power = total(power)
    proposal_mean = power_x / total_power
    power_needed = (need - 1e-12) * total_power
    sector_needed = quorum * np.bincount(sector, minlength=N_SECTORS)
    low = sector >= LOW_POWER_SECTOR
    n_low = np.count_nonzero(low)
    mean_x = total(x) / len(x)
    overruled = np.zeros(len(staff_power), dtype=np.bool_)
    supporters = np.zeros(len(staff_power), dtype=np.bool_)
    pending = np.empty_like(agenda)
    n_pending = decisions = closed = n_equity = 0
    delay_sum = acceptance_sum = equity_sum = 0.0
    rng = open_stream(stream)
    no_draws = np.empty(0)
    for item in range(len(agenda)):
        position, age, new = agenda[item, 0], agenda[item, 1], agenda[item, 2]
        if new:
            position = proposal_mean + rng.normal(0.0, 0.05)
        draws = rng.random(len(x)) if softness > 0 else no_draws
        passed, n_support, low_support = _vote(x, position, draws, width, softness, power,
                                               power_needed, sector, sector_needed, low, voters,
                                               overruled, supporters)
        if passed:
            delay_sum += age
            closed += 1
            acceptance_sum += n_support / len(x)
            decisions += 1
            if 0 < n_low < len(x):
                rate_low = low_support / n_low
                rate_high = (n_support - low_support) / (len(x) - n_low)
                equity_sum += min(1.0, rate_low / max(rate_high, 1e-9))
                n_equity += 1
            continue
        position += COMPROMISE_STEP * (mean_x - position)
        age += 1
        if age < MAX_AGENDA_AGE:
            pending[n_pending, 0], pending[n_pending, 1], pending[n_pending, 2] = position, age, 0.0
            n_pending += 1
        else:
            delay_sum += age
            closed += 1
    if overruled.any() and len(src):
        rows = _overruled_ties(start, dst, staff_power, overruled, supporters)
        _apply_signals(trust, damage, src, dst, staff_power, rows,
                       np.full(len(rows), -overrule_signal), np.full(len(rows), 0.5), gain_rate,
                       loss_ratio, damping)
    nan = np.nan
    return (pending[:n_pending], decisions, delay_sum / closed if closed else nan,
            acceptance_sum / decisions if decisions else nan,
            equity_sum / n_equity if n_equity else nan)


@compiled
def _vote(x, centre, draws, width, softness, power, power_needed, sector, sector_needed, low,
          voters, overruled, supporters):  # pragma: no cover - compiled
    """Who supports a proposal at ``centre``, and whether it passes: enough power in favour
    and, in every sector, enough of its attending members (the sector quorum). Returns
    (passed, supporters, supporters from low-power sectors); when it passes, marks the
    voters who supported it and those it overruled.

    Support falls off smoothly with distance from one's own problem definition (a member
    may back a proposal somewhat off their view; Choi & Robertson 2014): with
    ``softness`` > 0 a member supports with probability sigmoid((width - distance) /
    softness), compared with ``draws``; with softness 0, exactly when distance < width.
    """
    support = np.empty(len(x), dtype=np.bool_)
    power_for = 0.0
    sector_for = np.zeros(len(sector_needed))
    n_support = low_support = 0
    for k in range(len(x)):
        distance = abs(x[k] - centre)
        if softness > 0:
            z = min(max((width - distance) / softness, -50.0), 50.0)
            support[k] = draws[k] < 1.0 / (1.0 + np.exp(-z))
        else:
            support[k] = distance < width
        if support[k]:
            power_for += power[k]
            sector_for[sector[k]] += 1.0
            n_support += 1
            low_support += low[k]
    passed = power_for >= power_needed
    for a in range(len(sector_needed)):
        passed = passed and sector_for[a] >= sector_needed[a] - 1e-9
    if passed:
        for k in range(len(x)):
            if support[k]:
                supporters[voters[k]] = True
            else:
                overruled[voters[k]] = True
    return passed, n_support, low_support


@compiled
def _overruled_ties(start, dst, power, overruled, supporters):  # pragma: no cover - compiled
    """Ties from a member overruled this month to a more powerful member who carried it."""
    rows = np.empty(start[-1], dtype=np.int64)
    found = 0
    for i in np.flatnonzero(overruled):
        for r in range(start[i], start[i + 1]):
            if supporters[dst[r]] and power[dst[r]] > power[i]:
                rows[found] = r
                found += 1
    return rows[:found]


# 9 ----------------------------------------------------------------------------------------
def turnover(model: PartnershipModel, ev: MonthEvents) -> None:
    """Members leave with a monthly hazard by sector (chairs with their own hazard) and are
    replaced by newcomers with no ties and low personal capacity; leadership recovers
    gradually after a chair's departure.

    References: Carley 1992; Provan & Milward 1995; seed (dependence on a few individuals).
    """

    s, p, rng = model.staff, model.p, model.streams["turnover"]
    leavers = _leavers(rng.random(model.n), s.tenure, s.sector, p.p_turnover * SECTOR_TURNOVER,
                       model.chair_flags(), model.levers["p_chair_leaves"])
    if len(leavers):
        model.replace_members(leavers)
    model.chair_presence += (1.0 - model.chair_presence) / p.chair_recovery_months


@compiled
def _leavers(draws, tenure, sector, hazard, chair, p_chair):  # pragma: no cover - compiled
    """Members who leave this month (everyone's tenure grows by a month first): each with
    their sector's hazard, chairs with their own."""
    leave = np.empty(len(draws), dtype=np.bool_)
    for k in range(len(draws)):
        tenure[k] += 1
        leave[k] = draws[k] < (p_chair if chair[k] else hazard[sector[k]])
    return np.flatnonzero(leave)


def agencies_forget(model: PartnershipModel, held: np.ndarray, dropped: np.ndarray) -> None:
    """What one agency knows of another is held by its people, above all by those who work
    across the boundary: familiarity between agencies a and b falls by the share of the
    cross-agency ties between them that the leavers held (``held[a, b]`` and
    ``dropped[a, b]`` count ties from a member of a to a member of b, before the leavers'
    ties went and of those that went: ``Ties.remove_members``). Losing a boundary spanner (a
    champion) costs more organisational familiarity than losing someone who rarely worked
    across agencies.

    References: Carley 1992 (organisational memory held by individuals); seed (champions:
    crucial connections; reducing dependence on a small number of people).
    """
    _forget_agencies(model.agencies.familiarity, held, dropped)


@compiled
def _forget_agencies(familiarity, held, dropped):  # pragma: no cover - compiled
    k = len(familiarity)
    for a in range(k):
        for b in range(k):
            both = held[a, b] + held[b, a]  # ties between a and b, both ways
            if a != b and both > 0:
                familiarity[a, b] *= 1.0 - (dropped[a, b] + dropped[b, a]) / both


# 10 ---------------------------------------------------------------------------------------
def budget_rate(model: PartnershipModel) -> float:
    """Capacity-building rate bought by the monthly budget (saturating in money); money
    becomes collaborative capacity only as fast as leadership can direct it (organisational
    capacity includes effective leadership: Foster-Fishman et al. 2001; seed: leadership
    and resources together)."""
    b = model.levers["capacity_budget"]
    return (model.p.capacity_build_rate * b / (b + model.p.budget_half_saturation)
            * effective_leadership(model))


def build_capacity(model: PartnershipModel, ev: MonthEvents) -> None:
    """The budget raises capacity stocks at six levels and members' personal capacity
    (all, or an earmarked sector twice as fast); partnership work builds capacity too;
    stocks decay without upkeep. The voluntary stock narrows the voluntary agency's power gap.

    References: Foster-Fishman et al. 2001; Sullivan, Barnes & Matka 2002; seed (Box 1).
    """
    s, p, lv = model.staff, model.p, model.levers
    earmark = {"none": -1, "voluntary": 3, "community": 4}[lv["budget_earmark"]]
    _build_capacity(s.capacity, s.attended, s.engaged, s.sector, model.capacity_stocks,
                    budget_rate(model), earmark, p.learning_rate, p.capacity_decay,
                    p.structure_learning_rate,
                    effective_leadership(model) * lv["vision_clarity"], lv["ground_rules"],
                    ev.wins)
    # voluntary agencies become more equal partners as their capacity stock grows (Box 1)
    model.agencies.power[VOLUNTARY] = 1.0 - p.power_gap * (
        1.0 - p.voluntary_power_equalisation * model.capacity_stocks[VOLUNTARY_LEVEL])


@compiled
def _build_capacity(capacity, attended, engaged, sector, stocks, rate, earmark, learning, decay,
                    structure_learning, strategic, governance,
                    wins):  # pragma: no cover - compiled
    """Personal capacity: the budget's rate for everyone, or twice it for the earmarked
    sector only (``earmark`` -1: none), plus learning by attending; then the six stocks,
    each built by the budget (all, or the earmarked sector's stock) and by its driver:
    strategic (leadership x vision), governance (ground rules), operational (successful
    joint work per engaged member, relative to a partnership where one member in
    JOINT_WORK_REFERENCE completes a joint task each month), practice (statutory members'
    capacity), community and voluntary (those members' capacity)."""
    for k in range(len(capacity)):
        personal = rate if earmark < 0 else (2.0 * rate if sector[k] == earmark else 0.0)
        capacity[k] += (personal + learning * attended[k]) * (1.0 - capacity[k]) \
            - decay * 0.5 * capacity[k]
        capacity[k] = min(max(capacity[k], 0.0), 1.0)
    operational = min(1.0, wins / max(1.0, JOINT_WORK_REFERENCE * np.count_nonzero(engaged)))
    drivers = np.array([strategic, governance, operational, mean(capacity[sector <= 2]),
                        _mean_or_zero(capacity[sector == 4]), _mean_or_zero(capacity[sector == 3])])
    stock_rate = np.full(6, rate) if earmark < 0 else np.zeros(6)
    if earmark >= 0:
        stock_rate[5 if earmark == 3 else 4] = 2.0 * rate
    for level in range(6):
        stocks[level] += ((stock_rate[level] + structure_learning * drivers[level]) * (1.0 - stocks[level])
                          - decay * stocks[level])
        stocks[level] = min(max(stocks[level], 0.0), 1.0)


@compiled
def _mean_or_zero(values):  # pragma: no cover - compiled
    return mean(values) if len(values) else 0.0


# 11 ---------------------------------------------------------------------------------------
def synergy_index(model: PartnershipModel, trust_across: float, understanding: float) -> float:
    """Partnership synergy in [0, 1], driven by the same functioning dimensions as joint-task
    success with the same relative weights (Lasker et al. 2001; Weiss et al. 2002)."""
    p = model.p
    weights = np.array([p.success_leadership, p.success_efficiency, p.success_trust,
                        p.success_understanding, p.success_resources, p.success_capacity])
    values = np.array([effective_leadership(model), efficiency(model), trust_across,
                       understanding, min(1.0, 0.5 * mean(model.agencies.resources)),
                       mean(model.staff.capacity)])
    total = weights.sum()
    return float(np.dot(weights, values) / total) if total > 0 else 0.0


# --- trust over the ties (gathered by deliver; read by the measures) -------------------


def prior_trust(model: PartnershipModel, *, cross: bool) -> float:
    """Expected first-meeting trust between members of different agencies (or of the same
    agency): what trust is, by definition, between partners who have not yet met."""
    s, p = model.staff, model.p
    share = np.bincount(s.agency, minlength=len(model.agencies.sector)) / model.n
    same = np.eye(len(share), dtype=bool)
    weights = np.outer(share, share) * (~same if cross else same)
    mean_fam = float((weights * model.agencies.familiarity).sum() / weights.sum())
    return float(first_trust(s.propensity.mean(), mean_fam, p.trust_weight_propensity,
                                  p.trust_weight_familiarity, *trust_climate(model)))


@dataclass(frozen=True)
class TieTrust:
    """Trust over the partnership's ties, gathered in one pass (``tie_trust``)."""

    n_cross: int  # ties between members of different agencies
    cross_sum: float  # their total trust
    total: float  # total trust over all ties
    n_low_to_high: int  # ties from a low-power to a statutory member
    low_to_high_sum: float
    sector_sum: np.ndarray  # trust held by each sector's members, summed over their ties
    sector_ties: np.ndarray  # ties held by each sector's members
    max_degree: int  # most ties any one member holds
    reach: np.ndarray  # each member's working relationships into the other agencies (0-1)

    def across(self, model: PartnershipModel) -> float:
        """Mean trust on ties between members of different agencies (the prior before any meet)."""
        return self.cross_sum / self.n_cross if self.n_cross else prior_trust(model, cross=True)


def tie_trust(model: PartnershipModel) -> TieTrust:
    """Trust over the ties, by kind of tie (see ``TieTrust``)."""
    t, s = model.ties, model.staff
    return TieTrust(*_tie_trust(t.start, t.dst, t.trust, s.sector, s.agency, LOW_POWER_SECTOR,
                                len(SECTORS), len(model.agencies.sector)))


@compiled
def _tie_trust(start, dst, trust, sector, agency, low_sector, n_sectors,
               n_agencies):  # pragma: no cover - compiled
    """The sums of ``TieTrust``, and each member's reach: the mean, over the other agencies,
    of the most trusted working relationship the member has there (0 where none)."""
    reach = np.zeros(len(start) - 1)
    best = np.empty(n_agencies)
    cross = np.empty(len(dst))
    low_high = np.empty(len(dst))
    n_cross = n_low_high = max_degree = 0
    sector_sum = np.zeros(n_sectors)
    sector_ties = np.zeros(n_sectors, dtype=np.int64)
    # trust held by each sector's members, summed in row order (as np.bincount would):
    # members of a sector hold contiguous rows, so one running sum per sector
    current, held = -1, 0.0
    for i in range(len(start) - 1):  # member i's out-ties: rows start[i] to start[i + 1] - 1
        a = sector[i]
        if a != current:
            if current >= 0:
                sector_sum[current] += held
            current, held = a, 0.0
        best[:] = 0.0
        for r in range(start[i], start[i + 1]):
            b = sector[dst[r]]
            if a != b:
                cross[n_cross] = trust[r]
                n_cross += 1
            if a >= low_sector and b < low_sector:
                low_high[n_low_high] = trust[r]
                n_low_high += 1
            held += trust[r]
            best[agency[dst[r]]] = max(best[agency[dst[r]]], trust[r])
        best[agency[i]] = 0.0
        reach[i] = best.sum() / (n_agencies - 1)
        sector_ties[a] += start[i + 1] - start[i]
        max_degree = max(max_degree, start[i + 1] - start[i])
    if current >= 0:
        sector_sum[current] += held
    return (n_cross, total(cross[:n_cross]), total(trust), n_low_high,
            total(low_high[:n_low_high]), sector_sum, sector_ties, max_degree, reach)


def deliver(model: PartnershipModel, ev: MonthEvents) -> None:
    """Service output = delivery time x productivity x (1 + integration x net synergy).

    Relationship time is an investment: it is taken from delivery now, and returns only
    through the stocks it builds. This month's integration and net synergy are those in
    place at the start of the month, measured at the end of the last (``model.integration``
    and ``model.net_synergy``): a member's integrated share of work is the joint
    operational arrangements in place (capacity stock, level 3) times their reach into the
    other agencies (``TieTrust.reach``: working relationships that lapse without meetings
    and trust that fades without evidence); net synergy is synergy (from leadership,
    efficiency, trust, shared understanding, resources and capacity) minus coordination
    losses that rise when trust is low (collaborative inertia). The gain over partners
    working alone feeds the population-health indicator through a lag kernel; unmet demand
    feeds back to time allocation.

    References: Repenning & Sterman 2002 (time taken now, capability built with a delay);
    Lasker et al. 2001; Weiss et al. 2002; Huxham & Vangen 2005; Vangen & Huxham 2003.
    """

    s, p, lv, ag = model.staff, model.p, model.levers, model.agencies
    two_way_cost = p.two_way_time_cost if lv["communication_mode"] == "two_way" else 0.0
    ev.output, ev.output_alone, model.unmet_demand = _deliver(
        s.phi, s.engaged, s.agency, ag.resources, ag.pressure, lv["service_pressure"],
        two_way_cost, model.integration, model.net_synergy)
    model.integration_gain[model.month] = ev.output / ev.output_alone - 1.0
    # the stocks at the end of the month: measured now, in place for next month's delivery
    ev.tie_trust = tie_trust(model)
    t_across = ev.tie_trust.across(model)
    ev.understanding_now = shared_understanding(model)  # after turnover; measures use it too
    ev.synergy_index = synergy_index(model, t_across, ev.understanding_now)
    ev.synergy = p.synergy_max * ev.synergy_index
    ev.coordination_loss = p.coordination_cost * (1.0 - t_across)
    model.net_synergy = ev.synergy - ev.coordination_loss
    model.integration = model.capacity_stocks[OPERATIONAL_LEVEL] * ev.tie_trust.reach


@compiled
def _deliver(phi, engaged, agency, resources, pressure, service_pressure, two_way_cost,
             integration, net_synergy):  # pragma: no cover - compiled
    """Output, output working alone, and each agency's unmet share of its demand (its
    output alone x its pressure x the service pressure lever). Each member delivers in the
    time relationships (and two-way communication) leave, a share ``integration`` of it
    through the joint arrangements in place."""
    by_agency = np.zeros(len(resources))
    alone = np.zeros(len(resources))
    for k in range(len(phi)):
        time = min(max(1.0 - phi[k] - two_way_cost * engaged[k], 0.0), 1.0)
        productivity = resources[agency[k]]
        by_agency[agency[k]] += time * productivity * (1.0 + integration[k] * net_synergy)
        alone[agency[k]] += productivity
    unmet = np.empty(len(resources))
    for a in range(len(resources)):
        demand = alone[a] * pressure[a] * service_pressure
        unmet[a] = min(max((demand - by_agency[a]) / max(demand, 1e-9), 0.0), 1.0)
    return total(by_agency), total(alone), unmet


def health_kernel(mean_lag: float, horizon: int) -> np.ndarray:
    """Gamma (shape 3) lag weights with the given mean lag, for months 0..horizon-1.

    The weights are normalised over the kernel's whole support (ten mean lags), then
    cut at the horizon: a response due after the end of the run is not seen in it.
    """
    shape = 3.0
    scale = mean_lag / shape
    k = np.arange(max(horizon, int(10 * mean_lag)), dtype=float) + 0.5
    w = k ** (shape - 1) * np.exp(-k / scale)
    return (w / w.sum())[:horizon]


def health_effect(model: PartnershipModel) -> float:
    """Lagged effect on the population-health indicator of the integration gain so far."""
    g = model.integration_gain[: model.month + 1]
    w = model.health_kernel[: len(g)]
    return float(model.p.health_effect * np.dot(w, g[::-1]))
