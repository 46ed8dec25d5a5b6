"""Every model parameter, declared once: name, type, default, bounds, unit, description, provenance.

The declarations drive scenario validation, the SALib problem's default bounds,
the dashboard's controls, the ODD parameter table and ``partnersim params``.
The same name is the TOML key, the column, the CLI option and the slider.

Provenance tags: ``E`` empirical (a measured value from partnership data),
``L`` literature (a range or ordering anchored in published work), ``A``
assumption (explored by global sensitivity analysis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from partnersim.errors import InputError, unknown

SECTORS: tuple[str, ...] = ("nhs_acute", "nhs_primary", "social_work", "voluntary", "community")
"""Agency sectors, one agency each in the default CHP-like partnership."""

LEVELS: tuple[str, ...] = ("senior", "operational")
"""Staff levels."""

CAPACITY_LEVELS: tuple[str, ...] = (
    "strategic",
    "governance",
    "operational",
    "practice",
    "community",
    "voluntary",
)
"""The six levels of collaborative capacity in the HAZ evaluation (seed, Box 1)."""

DECISION_RULES: dict[str, float] = {"majority": 0.5, "supermajority": 2 / 3, "consensus": 0.9}
"""Decision rule -> power-weighted share of support an agenda item needs to pass."""

SECTOR_QUORUM: dict[str, float] = {"majority": 0.0, "supermajority": 0.25, "consensus": 0.5}
"""Decision rule -> share of each partner sector's attending members who must support an
item: power-sharing rules give every partner a voice, so a powerful bloc cannot carry an
item alone (Choi & Robertson 2014; Ansell & Gash 2008)."""


def _p(
    default: Any,
    lo: float | None,
    hi: float | None,
    unit: str,
    description: str,
    provenance: Literal["E", "L", "A"],
    ref: str,
    group: str,
) -> Any:
    """Declare one parameter as a pydantic field carrying its metadata."""
    extra = {"unit": unit, "provenance": provenance, "ref": ref, "group": group}
    kwargs: dict[str, Any] = {"description": description, "json_schema_extra": extra}
    if lo is not None:
        kwargs["ge"] = lo
    if hi is not None:
        kwargs["le"] = hi
    return Field(default, **kwargs)


class Params(BaseModel):
    """All parameters of the partnership model, with their declared defaults and bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, strict=True)

    # --- structure -----------------------------------------------------------------
    n_staff: int = _p(200, 10, 20000, "persons",
        "Staff taking part in the partnership, across all agencies.",
        "A", "CHP scale (seed); typical locality partnership", "structure")
    senior_share: float = _p(0.2, 0.05, 0.5, "share",
        "Share of staff at senior (strategic) level; the rest are operational.",
        "A", "seed: champions at senior and operational level", "structure")
    horizon_months: int = _p(120, 12, 360, "months",
        "Length of a run; long enough for population outcomes to show.",
        "L", "Smith et al. 2009; seed: outcomes take years", "structure")

    # --- leadership ----------------------------------------------------------------
    leadership: float = _p(0.6, 0.0, 1.0, "index 0-1",
        "Strength of the partnership's leadership (facilitative skill of the chair).",
        "L", "Weiss et al. 2002; Ansell & Gash 2008", "leadership")
    joint_chair: bool = _p(False, None, None, "flag",
        "Two chairs (NHS and council); losing one leaves the other in post.",
        "L", "seed: HAZ joint chair; Hearld et al. 2012", "leadership")
    p_chair_leaves: float = _p(0.01, 0.0, 0.1, "per month",
        "Monthly hazard that a chair leaves the partnership.",
        "A", "seed: stability of leadership", "leadership")
    chair_recovery_months: float = _p(12.0, 1.0, 48.0, "months",
        "Time constant for a new chair to rebuild leadership after a departure.",
        "A", "Provan & Milward 1995 (stability)", "leadership")
    leadership_time_nudge: float = _p(0.1, 0.0, 0.5, "share per unit leadership",
        "How far strong leadership raises staff's relationship-time share.",
        "A", "seed: ownership at senior level sends messages through organisations",
        "leadership")

    # --- champions -----------------------------------------------------------------
    n_champions_senior: int = _p(0, 0, 20, "persons",
        "Champions appointed among senior staff.",
        "L", "seed: HAZ champions; Zellner et al. 2014", "champions")
    n_champions_operational: int = _p(0, 0, 40, "persons",
        "Champions appointed among operational staff.",
        "L", "seed: HAZ champions at operational level", "champions")
    champion_contacts: float = _p(2.5, 1.0, 5.0, "multiplier",
        "How many more meeting contacts a champion or chair makes than other staff.",
        "A", "Zellner et al. 2014 (key liaisons)", "champions")
    champion_bridging: float = _p(0.8, 0.0, 1.0, "probability",
        "Chance a champion or chair redraws a contact that fell in their own agency (up to 3 times).",
        "A", "seed: champions make connections across the HAZ", "champions")

    # --- resources -----------------------------------------------------------------
    capacity_budget: float = _p(0.0, 0.0, 100.0, "GBP k per month",
        "Capacity-building budget spent each month.",
        "A", "seed: adequate resources for collaborative capacity", "resources")
    budget_earmark: Literal["none", "voluntary", "community"] = _p(
        "none", None, None, "choice",
        "Sector the capacity budget is earmarked for ('none' spreads it over all levels).",
        "A", "seed: infrastructure support for voluntary agencies", "resources")
    budget_half_saturation: float = _p(20.0, 1.0, 100.0, "GBP k per month",
        "Budget at which capacity building reaches half its maximum rate.",
        "A", "assumption: diminishing returns to spending", "resources")
    capacity_build_rate: float = _p(0.06, 0.0, 0.2, "per month",
        "Maximum share of the capacity gap closed in a month by the budget.",
        "A", "Foster-Fishman et al. 2001", "resources")
    resources: float = _p(1.0, 0.25, 2.0, "index (1 = typical)",
        "Agencies' operating resources relative to a typical partnership.",
        "A", "Weiss et al. 2002 (non-financial resources)", "resources")

    # --- ground rules --------------------------------------------------------------
    ground_rules: float = _p(0.0, 0.0, 1.0, "strength 0-1",
        "Strength of an agreed code of conduct for collaboration.",
        "L", "seed: HAZ ground rules; Ansell & Gash 2008; McKnight et al. 1998",
        "ground_rules")
    ground_rules_noise_cut: float = _p(0.7, 0.0, 1.0, "share",
        "Share of misreading noise that full-strength ground rules remove.",
        "A", "seed: ground rules prevent misunderstandings", "ground_rules")

    # --- communication -------------------------------------------------------------
    communication_mode: Literal["broadcast", "two_way"] = _p(
        "broadcast", None, None, "choice",
        "One-way broadcast from the centre, or two-way dialogue.",
        "L", "seed: SCAN one-way communication; Leavitt 1951", "communication")
    message_volume: float = _p(4.0, 0.0, 30.0, "messages per month",
        "Messages about the partnership's decisions sent to each member.",
        "A", "seed: care not to overload staff", "communication")
    overload_volume: float = _p(8.0, 1.0, 30.0, "messages per month",
        "Volume at which uptake peaks; more than this overloads (inverted U).",
        "L", "Eppler & Mengis 2004; Hahn et al. 1992", "communication")
    widen_communication: bool = _p(False, None, None, "flag",
        "Send communications to members who are not active in the partnership.",
        "L", "seed: SCAN recommendation to widen communication", "communication")
    relevance_filter: float = _p(0.0, 0.0, 1.0, "share",
        "Share of irrelevant messages filtered out before they reach staff.",
        "A", "seed: information of less relevance to day-to-day jobs", "communication")
    p_reach_periphery: float = _p(0.15, 0.0, 0.5, "probability per month",
        "Chance that a broadcast reaches a member who did not attend.",
        "A", "seed: less active members felt under-informed", "communication")
    p_reach_widened: float = _p(0.7, 0.0, 1.0, "probability per month",
        "Chance that a widened communication reaches a member who did not attend.",
        "A", "seed: widening communication", "communication")
    two_way_gain: float = _p(0.5, 0.0, 1.0, "relative gain",
        "Relative gain in uptake, peripheral reach and vision pull under two-way communication.",
        "A", "Leavitt & Mueller 1951", "communication")
    two_way_time_cost: float = _p(0.03, 0.0, 0.1, "share of working time",
        "Working time that two-way communication takes from service delivery.",
        "A", "seed: two-way communication; Leavitt & Mueller 1951", "communication")
    information_decay: float = _p(0.3, 0.05, 0.9, "per month",
        "Share of what a member knows about current decisions that goes stale each month.",
        "A", "assumption: decisions turn over", "communication")

    # --- vision and deliberation ---------------------------------------------------
    vision_clarity: float = _p(0.2, 0.0, 1.0, "index 0-1",
        "Clarity of the partnership's stated vision and shared definitions.",
        "L", "seed: clear vision, shared definitions; Ansell & Gash 2008", "vision")
    vision_pull: float = _p(0.04, 0.0, 0.2, "per month",
        "Pull of an informed member's problem definition toward a fully clear vision.",
        "A", "Emerson et al. 2012 (shared theory of action)", "vision")
    confidence_bound: float = _p(0.2, 0.02, 0.6, "position units",
        "Largest difference in problem definitions across which dialogue still converges.",
        "L", "Deffuant et al. 2000", "vision")
    convergence_rate: float = _p(0.3, 0.0, 0.5, "share per meeting",
        "Share of the difference in problem definitions closed in a trusting meeting.",
        "L", "Deffuant et al. 2000", "vision")
    culture_pull: float = _p(0.03, 0.0, 0.2, "per month",
        "Pull of each member's problem definition toward their own sector's culture.",
        "A", "seed: differing cultures and ways of working", "vision")

    # --- relationship time ---------------------------------------------------------
    relationship_time: float = _p(0.15, 0.0, 0.6, "share of working time",
        "The partnership's policy share of time on relationship-building (phi).",
        "A", "seed: the balancing act; Repenning & Sterman 2002", "relationship_time")
    pressure_time_response: float = _p(1.0, 0.0, 2.0, "share per unit shortfall",
        "Relative cut in relationship time per unit of unmet service demand (endogenous time).",
        "L", "Repenning & Sterman 2002 (capability trap)", "relationship_time")

    # --- decision rule -------------------------------------------------------------
    decision_rule: Literal["majority", "supermajority", "consensus"] = _p(
        "majority", None, None, "choice",
        "How agenda items pass: power-weighted majority, supermajority or consensus.",
        "L", "Choi & Robertson 2014", "decision_rule")
    n_agenda_items: int = _p(2, 0, 10, "items per month",
        "Agenda items the partnership board considers each month.",
        "A", "assumption: monthly board", "decision_rule")
    acceptance_width: float = _p(0.2, 0.02, 0.6, "position units",
        "A member supports a proposal within this distance of their problem definition.",
        "A", "Choi & Robertson 2014", "decision_rule")
    acceptance_softness: float = _p(0.1, 0.0, 0.3, "position units",
        "How gradually support falls off beyond the acceptance width (0: a sharp cut-off); "
        "support is a logistic function of the distance to the proposal.",
        "A", "Choi & Robertson 2014 (probabilistic acceptance)", "decision_rule")
    overrule_signal: float = _p(0.3, 0.0, 1.0, "signal 0-1",
        "Strength of the trust-lowering signal when a member is overruled by more powerful ones.",
        "A", "seed: decisions still made by medics; Ansell & Gash 2008", "decision_rule")

    # --- starting conditions -------------------------------------------------------
    prior_familiarity: float = _p(0.3, 0.0, 1.0, "index 0-1",
        "How well the partner agencies know each other from earlier work.",
        "L", "seed: unfamiliar partnerships; Gulati 1995", "starting_conditions")
    power_gap: float = _p(0.5, 0.0, 0.9, "share",
        "How much less decision power voluntary and community members hold than statutory ones.",
        "L", "seed: voluntary sector not equal partners; Jones & Barry 2016",
        "starting_conditions")
    service_pressure: float = _p(1.0, 0.5, 2.0, "demand / capacity",
        "Service demand relative to what the agencies can deliver alone.",
        "A", "Repenning & Sterman 2002", "starting_conditions")

    # --- trust ---------------------------------------------------------------------
    trust_gain_rate: float = _p(0.15, 0.005, 0.3, "per signal",
        "Rate at which a positive signal moves trust toward its ceiling.",
        "A", "Pant & Yu 2025; Vangen & Huxham 2003", "trust")
    trust_loss_ratio: float = _p(3.0, 1.0, 6.0, "ratio",
        "How much faster trust falls on a negative signal than it rises on a positive one.",
        "L", "Slovic 1993 (asymmetry; range 2-4)", "trust")
    signal_sensitivity: float = _p(5.0, 1.0, 10.0, "1 / performance units",
        "Steepness of the signal from the gap between observed and expected performance.",
        "A", "Pant & Yu 2025", "trust")
    performance_standard: float = _p(0.4, 0.2, 0.8, "performance 0-1",
        "Performance partners expect of each other; the signal is the gap to it.",
        "A", "Mayer et al. 1995 (ability); Vangen & Huxham 2003 (expectations)", "trust")
    misreading_noise: float = _p(0.15, 0.0, 0.6, "performance units (s.d.)",
        "Noise with which partners misread each other's performance.",
        "A", "seed: ground rules prevent misunderstandings", "trust")
    power_gain_damping: float = _p(0.5, 0.0, 1.0, "share",
        "How much a full power gap slows the low-power side's trust gains.",
        "L", "Jones & Barry 2016; Ansell & Gash 2008", "trust")
    p_hidden_agenda: float = _p(0.1, 0.0, 0.5, "probability per joint task",
        "Chance that a partner with a fully hidden motive is found out in a joint task.",
        "A", "seed: honesty about reasons for involvement; Schweitzer et al. 2006", "trust")
    reputation_damage: float = _p(0.4, 0.05, 0.9, "share",
        "Share of the remaining trust ceiling an integrity breach removes.",
        "L", "Schweitzer et al. 2006", "trust")
    reputation_recovery: float = _p(0.0, 0.0, 0.05, "per month",
        "Rate at which reputation damage fades (0: a breach never fully heals).",
        "L", "Schweitzer et al. 2006", "trust")
    trust_forgetting: float = _p(0.02, 0.0, 0.1, "per month",
        "Share of the gap between a tie's trust and the first-meeting (prior) trust that closes "
        "each month: evidence fades, so trust rests on recent experience, not on duration.",
        "A", "Jøsang & Ismail 2002 (forgetting factor); Vanneste et al. 2014", "trust")
    trust_weight_propensity: float = _p(0.35, 0.0, 1.0, "weight",
        "Weight of a member's trust propensity in first-meeting trust.",
        "L", "Mayer et al. 1995", "trust")
    trust_weight_familiarity: float = _p(0.4, 0.0, 1.0, "weight",
        "Weight of agency familiarity in first-meeting trust.",
        "L", "Gulati 1995", "trust")
    trust_weight_institution: float = _p(0.25, 0.0, 1.0, "weight",
        "Weight of ground rules (institution-based trust) in first-meeting trust.",
        "L", "McKnight et al. 1998", "trust")
    trust_threshold: float = _p(0.45, 0.2, 0.9, "trust 0-1",
        "Cross-agency trust level whose first crossing is reported as time to trust.",
        "A", "assumption for the measure", "trust")

    # --- meetings ------------------------------------------------------------------
    full_attendance_share: float = _p(0.2, 0.05, 0.5, "share of working time",
        "Relationship-time share at which a member attends every meeting and makes the base "
        "number of contacts; attendance and contacts scale with the share relative to it "
        "(contacts up to twice the base).",
        "A", "assumption (no source gives the time a partnership meeting cycle takes)",
        "meeting")
    contacts_per_month: float = _p(5.0, 0.5, 12.0, "contacts per member",
        "Meeting contacts per attending member per month at the full-attendance share.",
        "A", "Ansell & Gash 2008 (face-to-face dialogue)", "meeting")
    p_repeat_contact: float = _p(0.85, 0.0, 1.0, "probability",
        "Chance that a contact is with someone the member already knows.",
        "L", "Carley 1991 (relative similarity)", "meeting")
    familiarity_gain: float = _p(0.15, 0.01, 0.5, "share per month met",
        "Share of a pair's remaining unfamiliarity removed in a month in which they meet.",
        "A", "Gulati 1995", "meeting")

    agency_familiarity_gain: float = _p(0.1, 0.0, 0.5, "per month at full contact",
        "How fast agencies get to know each other when their members meet (organisational "
        "familiarity that outlasts any one person).",
        "A", "Gulati 1995 (prior ties); seed: build on existing relationships", "meeting")
    tie_lapse_months: int = _p(24, 3, 360, "months",
        "A working relationship lapses when the pair has not met for this long.",
        "L", "Burt 2000 (decay of network ties)", "meeting")

    # --- joint work ----------------------------------------------------------------
    p_joint_task: float = _p(0.1, 0.0, 0.5, "probability per cross-agency contact",
        "Chance that a cross-agency meeting pair takes on a joint task.",
        "A", "Ansell & Gash 2008 (intermediate outcomes)", "joint_work")
    perceived_risk: float = _p(0.6, 0.1, 1.0, "trust units",
        "Trust at which partners commit to a full-size joint task; below it tasks are small.",
        "L", "Mayer et al. 1995; Vangen & Huxham 2003", "joint_work")
    success_base: float = _p(-2.0, -5.0, 1.0, "log-odds",
        "Log-odds of success of a joint task with every driver at zero.",
        "A", "calibration", "joint_work")
    success_leadership: float = _p(2.0, 0.0, 5.0, "log-odds per unit",
        "Weight of leadership in the log-odds of joint-task success.",
        "L", "Weiss et al. 2002 (leadership ranks first)", "joint_work")
    success_efficiency: float = _p(1.8, 0.0, 5.0, "log-odds per unit",
        "Weight of partnership efficiency in the log-odds of joint-task success.",
        "L", "Weiss et al. 2002 (efficiency ranks second)", "joint_work")
    success_trust: float = _p(1.8, 0.0, 5.0, "log-odds per unit",
        "Weight of the pair's mutual trust in the log-odds of joint-task success.",
        "L", "Vangen & Huxham 2003", "joint_work")
    success_understanding: float = _p(0.8, 0.0, 5.0, "log-odds per unit",
        "Weight of shared understanding in the log-odds of joint-task success.",
        "L", "Ansell & Gash 2008", "joint_work")
    success_resources: float = _p(0.4, 0.0, 5.0, "log-odds per unit",
        "Weight of non-financial resources in the log-odds of joint-task success.",
        "L", "Weiss et al. 2002 (resources rank below leadership)", "joint_work")
    success_capacity: float = _p(0.8, 0.0, 5.0, "log-odds per unit",
        "Weight of collaborative capacity in the log-odds of joint-task success.",
        "L", "Foster-Fishman et al. 2001", "joint_work")
    timescale_penalty: float = _p(0.5, 0.0, 2.0, "log-odds",
        "Log-odds lost by a pair whose agencies plan to very different timescales.",
        "A", "seed: sectors work to different timescales", "joint_work")

    # --- partnership record (small wins, advantage vs inertia) ---------------------
    record_memory: float = _p(0.15, 0.01, 1.0, "per month",
        "Weight of this month's joint-task success share in the partnership's visible record "
        "of small wins (an exponential moving average).",
        "A", "Weick 1984 (small wins); Ansell & Gash 2008 (intermediate outcomes)", "record")
    confidence_threshold: float = _p(0.64, 0.0, 1.0, "share of joint tasks succeeding",
        "Success record at which members are as likely as not to believe the partnership "
        "delivers (the expectation the record is judged against).",
        "A", "Vangen & Huxham 2003 (outcomes meet expectations); Granovetter 1978 (thresholds)",
        "record")
    confidence_steepness: float = _p(20.0, 0.0, 50.0, "1 / share",
        "Steepness of members' confidence in the partnership around the threshold: how sharply "
        "a record above or below expectations tips it (0: confidence stays at one half).",
        "A", "Granovetter 1978 (threshold models); Huxham & Vangen 2005 (advantage vs inertia)",
        "record")
    success_confidence: float = _p(3.0, 0.0, 5.0, "log-odds per unit confidence",
        "Log-odds of joint-task success gained from confidence above one half (lost below): "
        "partners invest effort and resources in a partnership they believe delivers.",
        "A", "set during calibration change C9 after other values failed (Ansell & Gash 2008 and "
        "Bandura 2000 give the direction only)", "record")
    trust_weight_reputation: float = _p(0.1, 0.0, 0.5, "trust units per unit confidence",
        "Shift of the trust that fading evidence returns to, per unit of confidence above one "
        "half (below): a partnership seen to deliver lends its relationships the benefit of "
        "the doubt.",
        "A", "set during calibration change C9 after other values failed (Vangen & Huxham 2003 "
        "and McKnight et al. 1998 give the direction only)", "record")

    # --- commitment ----------------------------------------------------------------
    commitment_trust_rate: float = _p(0.1, 0.0, 0.5, "per month",
        "Rate at which commitment follows a member's trust in partners.",
        "L", "Ansell & Gash 2008; Emerson et al. 2012", "commitment")
    commitment_win_boost: float = _p(0.08, 0.0, 0.3, "per visible win",
        "Commitment gained from a small win the member hears about.",
        "L", "Ansell & Gash 2008 (small wins)", "commitment")
    career_win_boost: float = _p(0.5, 0.0, 2.0, "share of the win boost",
        "Extra commitment a career-motivated member gains from a win they hear about (the "
        "partnership as an opportunity to shine).",
        "A", "seed: members most positive were those for whom HAZ was a chance to shine in "
        "career terms", "commitment")
    commitment_cost: float = _p(0.06, 0.0, 0.3, "per month per unit time-pressure",
        "Commitment lost to the cost of relationship time under service pressure.",
        "A", "Emerson et al. 2012", "commitment")
    no_win_months: int = _p(9, 1, 36, "months",
        "Months without a small win after which commitment starts to erode.",
        "A", "Huxham & Vangen 2005 (inertia)", "commitment")
    commitment_erosion: float = _p(0.02, 0.0, 0.1, "per month",
        "Commitment lost each month after a long stretch without a win.",
        "A", "Huxham & Vangen 2005", "commitment")
    disengage_threshold: float = _p(0.2, 0.0, 0.5, "commitment 0-1",
        "Commitment below which a member disengages from partnership work.",
        "A", "Ansell & Gash 2008 (buy-in)", "commitment")

    # --- turnover ------------------------------------------------------------------
    p_turnover: float = _p(0.01, 0.0, 0.06, "per month",
        "Monthly hazard that a member leaves (scaled by sector, see ODD).",
        "L", "NES 2024, NHS Scotland Workforce (phase one) at 31 March 2024, main points: 12,546 "
        "of 187,157 staff left NHS Scotland in the year (6.7%, a constant hazard of ~0.0058 a "
        "month), a lower bound (moves within NHS Scotland also leave a partnership); default "
        "not measured",
        "turnover")
    newcomer_capacity: float = _p(0.1, 0.0, 0.5, "capacity 0-1",
        "Personal collaborative capacity of a newcomer before structures help them.",
        "A", "Carley 1992", "turnover")
    newcomer_reputation: float = _p(1.0, 0.0, 1.0, "share",
        "Share of their agencies' familiarity that informs a newcomer's first-meeting trust "
        "(reputation and role-based trust); personal familiarity starts at zero.",
        "A", "McKnight et al. 1998 (role-based and reputation-based trust); Carley 1992",
        "turnover")
    structure_transfer: float = _p(0.5, 0.0, 1.0, "share",
        "Share of the gap to full capacity that structures (operational, practice stocks) close "
        "for a newcomer on arrival.",
        "A", "seed: reduce dependence on a small number of people", "turnover")

    # --- capacity ------------------------------------------------------------------
    capacity_decay: float = _p(0.01, 0.0, 0.1, "per month",
        "Share of each capacity stock lost each month without upkeep.",
        "A", "Foster-Fishman et al. 2001", "capacity")
    learning_rate: float = _p(0.02, 0.0, 0.1, "per meeting month",
        "Share of the personal capacity gap closed by a month of partnership work.",
        "A", "Foster-Fishman et al. 2001", "capacity")
    structure_learning_rate: float = _p(0.005, 0.0, 0.05, "per month",
        "Share of the gap of each structural capacity stock closed by a month of partnership "
        "work at full strength (without a budget); learning by doing builds structures slowly.",
        "A", "seed: capacity takes time and resources; Sullivan, Barnes & Matka 2002",
        "capacity")
    participation_threshold: float = _p(0.4, 0.0, 1.0, "capacity 0-1",
        "Personal capacity at which community and voluntary members become active partners.",
        "L", "seed: communities need skills and confidence first", "capacity")
    participation_steepness: float = _p(12.0, 1.0, 50.0, "1 / capacity units",
        "Steepness of the participation curve around the threshold.",
        "A", "assumption", "capacity")
    participation_support: float = _p(0.3, 0.0, 1.0, "capacity 0-1 per unit of stock",
        "What a full community (or voluntary) capacity stock adds to those members' own "
        "capacity in the participation curve: organised support (forums, infrastructure "
        "bodies) that outlasts any one member.",
        "A", "seed: communities need support before they can become active partners; "
        "infrastructure support for voluntary agencies (Box 1)", "capacity")
    voluntary_power_equalisation: float = _p(0.3, 0.0, 1.0, "share of the power gap",
        "Share of the voluntary sector's power gap that a full voluntary capacity stock closes.",
        "A", "seed: Box 1 (voluntary agencies as equal partners); little evidence they became "
        "equal partners in HAZs, hence well below 1", "capacity")

    # --- delivery and outcomes -----------------------------------------------------
    synergy_max: float = _p(1.5, 0.0, 2.0, "share of output",
        "Largest output gain from synergy when trust, understanding and capacity are full.",
        "L", "Lasker et al. 2001 (partnership synergy)", "delivery")
    coordination_cost: float = _p(0.3, 0.0, 0.6, "share of output",
        "Output lost to coordination when partners do not trust each other.",
        "L", "Huxham & Vangen 2005 (collaborative inertia)", "delivery")
    health_effect: float = _p(0.5, 0.0, 2.0, "indicator units per unit gain",
        "Population-health response to a sustained relative gain in integrated output.",
        "A", "Alderwick et al. 2021", "health")
    health_lag_months: float = _p(48.0, 12.0, 120.0, "months",
        "Mean lag of the population-health response to integrated output.",
        "L", "Oesterle et al. 2015; Smith et al. 2009", "health")
    health_trend: float = _p(0.01, -0.05, 0.05, "indicator units per month",
        "Secular trend of the population-health indicator.",
        "L", "seed: impact masked by secular trends", "health")
    health_noise: float = _p(0.3, 0.0, 2.0, "indicator units (s.d.)",
        "Month-to-month noise of the measured population-health indicator.",
        "A", "Smith et al. 2009", "health")

    # --- costs ---------------------------------------------------------------------
    staff_month_cost: float = _p(4.5, 1.0, 10.0, "GBP k per staff-month",
        "Cost of one staff-month, used to price time spent on relationships.",
        "L", "Scottish Agenda for Change pay 2024-25 (5.5% uplift table): band 6 GBP 39,912-48,635, "
        "band 7 GBP 48,788-56,747 a year (GBP 3.3k-4.7k a month before employer on-costs, "
        "which were not read)", "costs")
    champion_cost: float = _p(0.5, 0.0, 5.0, "GBP k per champion-month",
        "Allowance for each champion's role.",
        "A", "assumption", "costs")
    ground_rules_cost: float = _p(15.0, 0.0, 100.0, "GBP k",
        "One-off cost of facilitated work to agree ground rules at full strength.",
        "A", "assumption", "costs")
    vision_work_cost: float = _p(20.0, 0.0, 100.0, "GBP k",
        "One-off cost of shared-definitions work raising vision clarity by 1.",
        "A", "assumption", "costs")
    joint_chair_cost: float = _p(1.0, 0.0, 10.0, "GBP k per month",
        "Running cost of a second chair.",
        "A", "assumption", "costs")


# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """A parameter's declaration, flattened for tables, SALib problems and controls."""

    name: str
    type: str
    default: Any
    lower: float | None
    upper: float | None
    unit: str
    description: str
    provenance: str
    ref: str
    group: str
    choices: tuple[str, ...] | None = None

    @property
    def is_numeric(self) -> bool:
        return self.type in ("int", "float")


def _spec(name: str, field: Any) -> ParamSpec:
    extra = field.json_schema_extra or {}
    lower = upper = None
    for meta in field.metadata:
        lower = getattr(meta, "ge", lower)
        upper = getattr(meta, "le", upper)
    ann = field.annotation
    choices = getattr(ann, "__args__", None)
    if ann is bool:
        type_name = "bool"
    elif ann is int:
        type_name = "int"
    elif ann is float:
        type_name = "float"
    else:
        type_name = "choice"
    return ParamSpec(
        name=name,
        type=type_name,
        default=field.default,
        lower=lower,
        upper=upper,
        unit=extra["unit"],
        description=field.description or "",
        provenance=extra["provenance"],
        ref=extra["ref"],
        group=extra["group"],
        choices=tuple(choices) if type_name == "choice" else None,
    )


PARAMETERS: dict[str, ParamSpec] = {
    name: _spec(name, field) for name, field in Params.model_fields.items()
}
"""Every declared parameter by name, in declaration order."""

DEFAULTS: dict[str, Any] = {name: spec.default for name, spec in PARAMETERS.items()}


RENAMED_PARAMETERS: dict[str, str] = {"leader_recovery_months": "chair_recovery_months"}
"""Old parameter names -> new (one name per concept: the chair is "chair" everywhere)."""

REMOVED_PARAMETERS: dict[str, str] = {
    "integration_time_scale": "integrated work now draws on the stocks relationships built "
                              "(docs/ODD.md 7.11), not on this month's share",
}
"""Parameters the model no longer has -> why (named in the error a file using one gets)."""


def make_params(overrides: dict[str, Any] | None = None, *, source: str | None = None) -> Params:
    """Validate overrides of the declared defaults and return a frozen ``Params``.

    Raises:
        InputError: naming the source, the parameter (as ``key``) and what was expected.
    """
    overrides = dict(overrides or {})
    for key in overrides:
        if key in RENAMED_PARAMETERS:
            raise InputError(f"renamed to {RENAMED_PARAMETERS[key]!r}", source=source, key=key)
        if key in REMOVED_PARAMETERS:
            raise InputError(f"removed: {REMOVED_PARAMETERS[key]}", source=source, key=key)
        if key not in PARAMETERS:
            raise unknown("parameter", key, PARAMETERS, source=source)
    try:
        return Params(**overrides)
    except ValidationError as exc:
        key, message = _describe(exc)
        raise InputError(message, source=source, key=key) from None


def _describe(exc: ValidationError) -> tuple[str, str]:
    """The parameter a validation error is about, and what was expected of it."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    spec = PARAMETERS.get(key)
    value = err.get("input")
    if spec is not None and spec.is_numeric and err["type"] in (
        "greater_than_equal", "less_than_equal"
    ):
        return key, f"{value!r} is outside the bounds [{spec.lower}, {spec.upper}] ({spec.unit})"
    if spec is not None and spec.choices:
        return key, f"{value!r} is not one of {', '.join(spec.choices)}"
    if spec is not None:
        return key, f"expected {spec.type}, got {value!r}"
    return key, err["msg"]
