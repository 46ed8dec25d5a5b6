"""A dashboard session's scenario and model: loading and saving scenario files, the model
each browser session runs, the live intervention buttons and the plain-language status.

Scenario files are read and written by ``partnersim.inputs.scenarios``; what is here is
what the dashboard adds: the scenario a session starts from, the file it saves (which
reproduces the run on screen as replicate 0), and a model that a button may act on
between two months while it plays. No Solara here: this module is imported by the
server before Solara's settings are fixed.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from partnersim.errors import InputError
from partnersim.inputs.scenarios import (
    Scenario,
    load_scenario,
    make_scenario,
    parse_scenario,
)
from partnersim.model.interventions import (
    BudgetCut,
    ChairLeaves,
    ChampionLeaves,
    Communication,
    GroundRules,
    PressureSurge,
    Resources,
    parse_interventions,
)
from partnersim.model.partnership import PartnershipModel
from partnersim.model.stages import effective_leadership
from partnersim.params import PARAMETERS, make_params
from partnersim.seeding import replicate_seeds

SCENARIO_ENV = "PARTNERSIM_DASHBOARD_SCENARIO"
"""Environment variable through which the server tells each session which scenario to open."""

# ----------------------------------------------------------------------------------
# scenarios: what the dashboard loads and saves


def default_scenario() -> Scenario:
    """The scenario a session starts from when no file is given: every default, one run."""
    return make_scenario(name="dashboard",
                         question="What happens to this partnership over time?")


def read_scenario(path: Path | str, text: str | None = None) -> Scenario:
    """Read and validate a scenario file, or the text of an uploaded one.

    Raises:
        InputError: naming the file, the key and what was expected.
    """
    if text is None:
        return load_scenario(path)
    return parse_scenario(text, source=str(path), default_name=_safe_name(Path(path).stem))


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "scenario"
    return name[:60]


def saved_scenario(
    base: Scenario,
    values: dict[str, Any],
    seed: int,
    applied: Sequence[Any],
    month: int,
) -> Scenario:
    """The scenario that reproduces a dashboard run as its replicate 0.

    Args:
        base: the scenario the run was loaded from (its scheduled interventions,
            replicates and question are kept).
        values: the parameter values the running model was built with.
        seed: the master seed the running model was built with.
        applied: live interventions applied to the running model, with their months.
        month: the month the run has reached (recorded in the description).

    Live interventions go before scheduled ones of the same month, because a
    button pressed at month m acts before month m's scheduled interventions,
    which the model applies at the start of month m's step.
    """
    horizon = int(values.get("horizon_months", PARAMETERS["horizon_months"].default))
    order = [(iv.month, 0, i, iv) for i, iv in enumerate(applied)]
    # scheduled interventions past a shortened horizon never acted: a file cannot hold them
    order += [(iv.month, 1, i, iv) for i, iv in enumerate(base.interventions)
              if _fits_horizon(iv, horizon)]
    ivs = tuple(iv for *_, iv in sorted(order, key=lambda t: t[:3]))
    name = base.name if base.name.endswith("-dashboard") else f"{base.name[:60]}-dashboard"
    return make_scenario(
        name=name,
        question=base.question or "What happened in the workshop run?",
        description=(f"Saved from the partnersim dashboard at month {month}: the settings "
                     "of the run on screen and every intervention applied, with its month. "
                     "Replicate 0 reproduces the dashboard's run."),
        params=make_params(values),
        interventions=ivs,
        replicates=base.replicates,
        seed=seed,
        measures=base.measures,
    )


def _fits_horizon(iv: Any, horizon: int) -> bool:
    try:
        parse_interventions([iv.as_table()], horizon_months=horizon)
    except InputError:
        return False
    return True


def scenario_files(extra: Sequence[Path] = ()) -> list[Path]:
    """Scenario files the load menu offers: any given, then ``scenarios/*.toml`` here."""
    found = list(extra)
    folder = Path.cwd() / "scenarios"
    if folder.is_dir():
        found += sorted(folder.glob("*.toml"))
    seen: set[Path] = set()
    out = []
    for p in found:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            out.append(p)
    return out


# ----------------------------------------------------------------------------------
# the model, seen from the dashboard


def run_seed(master: int) -> int:
    """The seed of replicate 0 of a scenario with this master seed: what the dashboard shows,
    so that ``partnersim run`` on a saved file reproduces the dashboard's run as replicate 0."""
    return replicate_seeds(master, 1)[0]


def model_kwargs(values: dict[str, Any], seed: int, interventions: Sequence[Any]) -> dict[str, Any]:
    """Keyword arguments that build the model (what Mesa's Reset passes to the class)."""
    return {**values, "rng": run_seed(seed), "interventions": tuple(interventions)}


class SessionModel(PartnershipModel):
    """``PartnershipModel`` with a lock, so that a button pressed while the model plays in
    Mesa's worker thread acts between two months, never inside one, and a figure is never
    drawn from half-updated arrays. The rules are the parent's; nothing else differs."""

    def __init__(self, **kwargs: Any) -> None:
        self.lock = threading.RLock()
        super().__init__(**kwargs)

    def step(self) -> None:
        """One month, holding the lock."""
        with self.lock:
            super().step()

    def apply_intervention(self, intervention: Any) -> None:
        """Apply an intervention now, holding the lock."""
        with self.lock:
            super().apply_intervention(intervention)


# Mesa's Reset rebuilds the model as type(model)(**kwargs) and checks the keywords
# against the signature: keep the parent's explicit one.
SessionModel.__init__.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    PartnershipModel.__init__)


def model_lock(model: Any) -> Any:
    """The model's lock (a no-op context for models without one)."""
    return getattr(model, "lock", None) or contextlib.nullcontext()


def build_model(values: dict[str, Any], seed: int, interventions: Sequence[Any]) -> Any:
    """A new model from parameter values, a master seed and scheduled interventions."""
    return SessionModel(**model_kwargs(values, seed, interventions))


LIVE_INTERVENTIONS: dict[str, tuple[str, Callable[[Any, int], Any]]] = {
    "chair_leaves": ("The chair leaves", lambda m, t: ChairLeaves(kind="chair_leaves", month=t)),
    "champion_leaves": ("A champion leaves",
                        lambda m, t: ChampionLeaves(kind="champion_leaves", month=t, count=1)),
    "ground_rules": ("Introduce ground rules",
                     lambda m, t: GroundRules(kind="ground_rules", month=t, ground_rules=1.0)),
    "two_way": ("Two-way communication",
                lambda m, t: Communication(kind="communication", month=t,
                                            communication_mode="two_way")),
    "budget_cut": ("Cut budget by half", lambda m, t: BudgetCut(kind="budget_cut", month=t,
                                                                share=0.5)),
    "budget_add": ("Add £10k a month budget", lambda m, t: Resources(
        kind="resources", month=t,
        capacity_budget=float(min(PARAMETERS["capacity_budget"].upper,
                                  m.levers["capacity_budget"] + 10.0)),
        budget_earmark=m.levers.get("budget_earmark", "none"))),
    "pressure_surge": ("Pressure surge",
                       lambda m, t: PressureSurge(kind="pressure_surge", month=t, extra=0.5)),
}
"""The live buttons: key -> (label, factory of the intervention at the current month)."""


def status_line(model: Any) -> str:
    """A plain-language sentence on where the partnership is, e.g.
    ``"Month 14: trust across agencies is rising (0.42)."``"""
    frame = model.measures_frame()
    month = int(model.month)
    if month == 0 or len(frame) < 2 or "trust_across" not in frame:
        return f"Month {month}: the partnership is forming. Press Step or ▶ to run it."
    across = frame["trust_across"].to_numpy(dtype=float)
    now, before = across[-1], across[max(0, len(across) - 4)]
    change = now - before
    trend = "rising" if change > 0.005 else "falling" if change < -0.005 else "holding steady"
    text = f"Month {month}: trust across agencies is {trend} ({now:.2f})"
    if "output" in frame and len(frame) >= 4:
        out = frame["output"].to_numpy(dtype=float)
        d = out[-1] - out[-4]
        scale = max(abs(out[-4]), 1e-9)
        if abs(d) / scale > 0.01:
            text += f"; service output is {'up' if d > 0 else 'down'} {abs(d) / scale:.0%}"
            text += " on three months ago"
    if not model.running:
        text += ". The run has ended"
    return text + "."


def lever_summary(model: Any) -> str:
    """The live levers a facilitator changes with the buttons, in one line.

    Leadership is shown as the model acts on it (``effective_leadership``): after
    the chair leaves it drops and recovers while a new chair settles in.
    """
    lv = model.levers
    in_effect = effective_leadership(model)
    if abs(in_effect - lv["leadership"]) < 0.005:
        parts = [f"leadership {in_effect:.2f}"]
    else:
        parts = [f"leadership {in_effect:.2f} of {lv['leadership']:.2f} "
                 "(a new chair is settling in)"]
    parts.append("joint chairs" if lv.get("joint_chair") else "one chair")
    if "ground_rules" in lv:
        parts.append(f"ground rules {lv['ground_rules']:.2f}")
    if "communication_mode" in lv:
        parts.append(f"communication {str(lv['communication_mode']).replace('_', '-')}")
    if "capacity_budget" in lv:
        parts.append(f"budget £{lv['capacity_budget']:.0f}k/month")
    if "service_pressure" in lv:
        parts.append(f"service pressure {lv['service_pressure']:.2f}")
    champions = int(np.count_nonzero(model.staff.champion))
    parts.append(f"{champions} champion{'s' if champions != 1 else ''}")
    return "Levers now: " + ", ".join(parts)


def cli_scenario() -> list[Path]:
    """The scenario file given to ``partnersim dashboard``, if any (as a one-item list)."""
    env = os.environ.get(SCENARIO_ENV)
    return [Path(env)] if env else []


def initial_scenario() -> Scenario:
    """The scenario a new session opens: the one given on the command line, else the default."""
    paths = cli_scenario()
    return read_scenario(paths[0]) if paths else default_scenario()
