"""Every output of the model, declared once: name, monthly or end-of-run, unit, plain meaning,
plot label, which direction is better, and where it is shown.

A *monthly measure* is a column of the timeseries table (``measures`` in scenario and
experiment files); an *end-of-run output* (a summary) is one value per run, a column of the
runs table (``outputs`` in experiment files, the ``output`` column of comparison tables).
Plots, reports and their glossaries, the dashboard's panels, ``compare`` and the model's own
measure list all read these declarations; docs/ODD.md section 7.13 defines each exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from partnersim.params import CAPACITY_LEVELS, SECTORS


@dataclass(frozen=True)
class Output:
    """One declared output.

    Attributes:
        name: The column name (snake_case), the same everywhere.
        kind: ``monthly`` (a timeseries column) or ``summary`` (one value per run).
        unit: Its unit, e.g. ``"0-1"``, ``"GBP k"``, ``"months"``.
        meaning: What it means, in plain words, for reports and glossaries.
        label: A short label for axes and legends.
        better: +1 if higher is better, -1 if lower is better, 0 if neither.
        headline: Reported by default in run summaries and comparisons.
        trajectory: Drawn in the trajectory figures of runs and comparison reports.
        panel: The dashboard chart it is drawn in, if any.
    """

    name: str
    kind: Literal["monthly", "summary"]
    unit: str
    meaning: str
    label: str
    better: int = 0
    headline: bool = False
    trajectory: bool = False
    panel: str | None = None


def _m(name: str, unit: str, meaning: str, label: str, better: int = 0, *,
       trajectory: bool = False, panel: str | None = None) -> Output:
    return Output(name, "monthly", unit, meaning, label, better, False, trajectory, panel)


def _s(name: str, unit: str, meaning: str, label: str, better: int = 0, *,
       headline: bool = False) -> Output:
    return Output(name, "summary", unit, meaning, label, better, headline)


_SECTOR_WORDS = {"nhs_acute": "NHS acute", "nhs_primary": "NHS primary care",
                 "social_work": "council social work", "voluntary": "voluntary sector",
                 "community": "community"}

TRUST_PANEL = "Trust and leadership"
INFORMATION_PANEL = "Information"
CAPACITY_PANEL = "Capacity"
WINS_PANEL = "Small wins (total)"
OUTPUT_PANEL = "Service output"
HEALTH_PANEL = "Population health"

_DECLARED: tuple[Output, ...] = (
    # --- monthly measures, in the timeseries table's column order -------------------------
    _m("trust_within", "0-1", "mean trust between staff of the same agency",
       "trust within agencies", +1, trajectory=True, panel=TRUST_PANEL),
    _m("trust_across", "0-1", "mean trust between staff of different agencies",
       "trust across agencies", +1, trajectory=True, panel=TRUST_PANEL),
    _m("trust_low_to_high", "0-1", "mean trust of voluntary and community staff in NHS and "
       "council staff", "trust of low-power in statutory partners", +1),
    *(_m(f"trust_{s}", "0-1", f"mean trust held by {_SECTOR_WORDS[s]} staff over all their "
         f"ties", f"trust held by {_SECTOR_WORDS[s]}", +1) for s in SECTORS),
    _m("info_core", "0-1", "how well informed the regular attenders are",
       "information, core members", +1, trajectory=True, panel=INFORMATION_PANEL),
    _m("info_periphery", "0-1", "how well informed the other members are",
       "information, peripheral members", +1, trajectory=True, panel=INFORMATION_PANEL),
    _m("shared_understanding", "0-1", "how far members share one definition of the problem",
       "shared understanding", +1, trajectory=True),
    *(_m(f"capacity_{level}", "0-1", f"collaborative capacity at the {level} level",
         f"capacity, {level}", +1, panel=CAPACITY_PANEL) for level in CAPACITY_LEVELS),
    _m("capacity_personal", "0-1", "members' mean personal capacity to collaborate",
       "capacity, personal", +1, panel=CAPACITY_PANEL),
    _m("commitment", "0-1", "members' mean commitment to the partnership", "commitment", +1,
       trajectory=True),
    _m("engaged", "share", "share of members engaged in the partnership", "members engaged",
       +1),
    *(_m(f"active_{s}", "share", f"share of {_SECTOR_WORDS[s]} members who attended this "
         f"month", f"attendance, {_SECTOR_WORDS[s]}", +1) for s in SECTORS),
    _m("relationship_time_spent", "share of working time", "mean share of working time "
       "members actually spent on relationships this month (the policy share, moved by "
       "leadership and service pressure)", "relationship time spent"),
    _m("contacts", "pairs per month", "meeting contacts between members this month",
       "contacts"),
    _m("joint_tasks", "tasks per month", "joint tasks taken on this month", "joint tasks"),
    _m("small_wins", "tasks per month", "joint tasks that succeeded this month", "small wins",
       +1),
    _m("small_wins_cumulative", "tasks", "joint tasks that succeeded so far",
       "small wins (total)",
       +1, panel=WINS_PANEL),
    _m("breaches", "per month", "integrity breaches (hidden motives found out) this month",
       "integrity breaches", -1),
    _m("output", "staff-months", "service delivered this month, in staff-months of work "
       "weighted by the agency's resources", "service output", +1, trajectory=True,
       panel=OUTPUT_PANEL),
    _m("output_alone", "staff-months", "service the same staff would deliver working alone "
       "this month", "output working alone"),
    _m("synergy", "share of output", "partnership synergy: the boost to joint output",
       "synergy", +1, trajectory=True),
    _m("coordination_loss", "share of output", "output lost to coordinating across agencies",
       "coordination loss", -1),
    _m("density", "share", "ties as a share of all possible ties", "network density"),
    _m("centralisation", "0-1", "Freeman degree centralisation of the network",
       "network centralisation"),
    _m("n_ties", "ties", "number of (directed) ties between members", "ties"),
    _m("health", "indicator units", "the population-health indicator: trend, noise and the "
       "partnership's effect", "population health (trend + effect)", +1, trajectory=True,
       panel=HEALTH_PANEL),
    _m("health_counterfactual", "indicator units", "the same area's indicator without the "
       "partnership's effect", "population health without the partnership"),
    _m("health_effect", "indicator units", "the part of the population-health indicator due "
       "to the partnership", "partnership's effect on population health", +1),
    _m("effective_leadership", "0-1", "leadership in effect this month: the leadership "
       "parameter, lowered while a chair is missing", "leadership in effect", +1,
       panel=TRUST_PANEL),
    _m("chair_presence", "0-1", "the chairs' presence (0 while no chair is in post)",
       "chair's presence", +1),
    _m("decisions", "items per month", "agenda items passed this month", "decisions"),
    _m("decision_delay", "months", "mean months from proposal to decision of the items "
       "passed this month", "decision delay", -1),
    _m("decision_equity", "ratio", "how evenly this month's decisions carried voluntary and "
       "community members' support compared with statutory members' (1: even)",
       "decision equity", +1),
    _m("cost_money", "GBP k", "money spent on the partnership this month",
       "money cost (GBP k)", -1, trajectory=True),
    _m("cost_time", "GBP k", "value of the staff time given to the partnership this month",
       "staff-time cost (GBP k)", -1),
    _m("psat_synergy", "0-1", "synthetic Partnership Self-Assessment Tool score: synergy",
       "PSAT synergy", +1),
    _m("psat_leadership", "0-1", "synthetic PSAT score: leadership", "PSAT leadership", +1),
    _m("psat_efficiency", "0-1", "synthetic PSAT score: efficiency", "PSAT efficiency", +1),
    _m("psat_administration", "0-1", "synthetic PSAT score: administration and management",
       "PSAT administration", +1),
    _m("psat_resources", "0-1", "synthetic PSAT score: non-financial and financial "
       "resources", "PSAT resources", +1),
    _m("psat_decision_making", "0-1", "synthetic PSAT score: decision-making",
       "PSAT decision-making", +1),
    # --- end-of-run outputs ----------------------------------------------------------------
    _s("cumulative_output", "staff-months", "service delivered over the whole run, in "
       "staff-months of work weighted by the agency's resources", "cumulative output", +1,
       headline=True),
    _s("output_vs_alone", "ratio", "service delivered over the run relative to the same staff "
       "working alone (above 1: the partnership adds value)",
       "output relative to working alone", +1, headline=True),
    _s("output_last_year", "staff-months per month", "mean monthly service delivered in the "
       "last 12 months", "output in the last year", +1),
    _s("trust_within_final", "0-1", "mean trust between staff of the same agency at the end",
       "final trust within agencies", +1),
    _s("trust_across_final", "0-1", "mean trust between staff of different agencies at the "
       "end", "final trust across agencies", +1, headline=True),
    _s("trust_low_to_high_final", "0-1", "mean trust of voluntary and community staff in NHS "
       "and council staff at the end", "final trust of low-power in statutory partners", +1),
    _s("shared_understanding_final", "0-1", "how far members share one definition of the "
       "problem at the end", "final shared understanding", +1, headline=True),
    _s("commitment_final", "0-1", "members' mean commitment to the partnership at the end",
       "final commitment", +1),
    _s("capacity_final", "0-1", "mean of the six collaborative-capacity stocks at the end",
       "final collaborative capacity", +1, headline=True),
    _s("info_core_final", "0-1", "how well informed the regular attenders are at the end",
       "final information, core members", +1),
    _s("info_periphery_final", "0-1", "how well informed the other members are at the end",
       "final information, peripheral members", +1),
    _s("synergy_final", "share of output", "partnership synergy at the end: the boost to "
       "joint output", "final synergy", +1),
    _s("health_effect_final", "indicator units", "the part of the population-health indicator "
       "due to the partnership at the end, in indicator units (negative: the partners deliver "
       "less together than they would alone)", "final effect on population health", +1,
       headline=True),
    _s("small_wins_total", "tasks", "joint tasks that succeeded over the run",
       "small wins (total)", +1),
    _s("time_to_trust_months", "months", "months until cross-agency trust first reached the "
       "threshold (the run length if it never did)", "months to reach trust threshold", -1,
       headline=True),
    _s("reached_trust", "share of runs", "whether cross-agency trust ever reached the "
       "threshold (share of runs)", "reached the trust threshold", +1, headline=True),
    _s("first_task_success", "share of runs", "whether the first joint task succeeded (share "
       "of runs; a run with no task counts as no)", "first joint task succeeded", +1),
    _s("trust_across_year5", "0-1", "mean trust between staff of different agencies after "
       "five years", "trust across agencies after 5 years", +1),
    _s("commitment_year5", "0-1", "members' mean commitment after five years",
       "commitment after 5 years", +1),
    _s("health_detectable_3y", "share of runs", "whether an evaluator would detect the health "
       "effect after three years (share of runs)", "health effect detectable at 3 years", +1),
    _s("health_detectable_5y", "share of runs", "whether an evaluator would detect the health "
       "effect after five years (share of runs)", "health effect detectable at 5 years", +1),
    _s("decision_equity_mean", "ratio", "how evenly decisions carried voluntary and community "
       "members' support compared with statutory members' (1: even)", "decision equity", +1),
    _s("decision_delay_mean", "months", "mean months from proposal to decision",
       "decision delay", -1),
    _s("cost_money_total", "GBP k", "money spent on the partnership over the run (capacity "
       "budget, champions, a joint chair, one-off interventions), GBP thousands",
       "money cost (GBP k)", -1, headline=True),
    _s("cost_time_total", "GBP k", "value of the staff time given to the partnership over the "
       "run, GBP thousands", "staff-time cost (GBP k)", -1, headline=True),
    _s("cost_total", "GBP k", "total cost of the partnership over the run: money plus staff "
       "time (priced at staff_month_cost), GBP thousands (added to result tables; the model "
       "reports the two parts)",
       "total cost (GBP k)", -1),
)

OUTPUTS: dict[str, Output] = {o.name: o for o in _DECLARED}
"""Every declared output by name."""
if len(OUTPUTS) != len(_DECLARED):  # one name, one output: a table cannot tell two apart
    raise ValueError("an output is declared twice")

MONTHLY: tuple[str, ...] = tuple(o.name for o in _DECLARED if o.kind == "monthly")
"""Monthly measures, in the timeseries table's column order."""

COST_OUTPUT = "cost_total"
"""The end-of-run cost that comparisons set beside effects (money plus staff time)."""

SUMMARIES: tuple[str, ...] = tuple(
    o.name for o in _DECLARED if o.kind == "summary" and o.name != COST_OUTPUT)
"""End-of-run outputs the model reports, in the runs table's column order."""

HEADLINE: tuple[str, ...] = tuple(o.name for o in _DECLARED if o.headline)
"""End-of-run outputs that run summaries and comparisons report by default."""

TRAJECTORIES: tuple[str, ...] = tuple(o.name for o in _DECLARED if o.trajectory)
"""Monthly measures drawn as trajectories in run figures and comparison reports."""

PANELS: dict[str, tuple[str, ...]] = {}
"""Dashboard chart title -> the monthly measures it draws, in order."""
for _o in _DECLARED:
    if _o.panel is not None:
        PANELS[_o.panel] = (*PANELS.get(_o.panel, ()), _o.name)
PANELS = {title: PANELS[title] for title in (TRUST_PANEL, INFORMATION_PANEL, CAPACITY_PANEL,
                                              WINS_PANEL, OUTPUT_PANEL, HEALTH_PANEL)}


def label(name: str) -> str:
    """A readable label for an output (an undeclared name with its underscores as spaces)."""
    declared = OUTPUTS.get(name)
    return declared.label if declared else name.replace("_", " ")


def meaning(name: str) -> str:
    """What an output means in plain words ("" for an undeclared name)."""
    declared = OUTPUTS.get(name)
    return declared.meaning if declared else ""


def better(name: str) -> int:
    """+1 if a higher value of ``name`` is better, -1 if lower, 0 if neither.

    An undeclared name (an output of another model run through the harness) counts as
    higher-is-better, as the comparison tables have always read it."""
    declared = OUTPUTS.get(name)
    return declared.better if declared else 1
