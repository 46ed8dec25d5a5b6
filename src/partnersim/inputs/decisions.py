"""Decision files (``partnersim decide DECISION.toml``): policies, futures, objectives, questions.

A decision file asks which policy to choose when the future is uncertain. It is read by
:mod:`partnersim.inputs.toml` (line numbers, "did you mean") and validated here. Layout::

    name = "decision"                  # optional; defaults to the file's stem
    question = "How much relationship time, under deep uncertainty?"
    model = "partnersim"               # or "package.module:function" (any model)
    seed = 20261206                    # master seed: futures, replicate seeds, bootstraps
    replicates = 4                     # runs per policy and future (common random numbers)

    [params]                           # fixed values under every policy and future
    capacity_budget = 20.0

    [[policy]]                         # at least two
    name = "fixed 10%"
    relationship_time = 0.10           # levers: parameters the policy sets (model.state.LEVERS
                                       # for partnersim's model; keyword arguments otherwise)
    [[policy]]
    name = "25% for two years, then 10%"
    schedule = [[0, 0.25], [24, 0.10]] # a relationship-time schedule: [month, share] pairs
    [[policy]]
    name = "adaptive"
    relationship_time = 0.10
    [[policy.rule]]                    # adaptive rules (model.interventions.RelationshipTimeRule),
    measure = "trust_across"           # applied in order each month from `month` (default 1)
    below = 0.4                        # trigger: below or above
    relationship_time = 0.25           # the share while the trigger holds
    otherwise = 0.10                   # and while it does not (optional)

    [futures]                          # a Latin hypercube over the uncertain parameters
    n = 1000
    [futures.vary]                     # as an experiment's [vary]: {} is the declared bounds
    leadership = {}
    resources = { range = [0.5, 1.5] }
    # [futures.vary_all]               # optional, as in experiments: by provenance tag
    # posterior = "results/calibration/central"   # optional: a `partnersim calibrate` folder;
    #                                  # each future draws one of its weighted particles (by
    #                                  # weight) for the parameters it calibrated, which then
    #                                  # leave the hypercube (path relative to this file)

    [[objective]]                      # at least one; the direction comes from outputs.py
    output = "output_vs_alone"
    at_least = 1.0                     # satisficing threshold: at_least for an output where
                                       # higher is better, at_most where lower is better
    margin = 0.01                      # ...or within this of the best policy in the future

    [[questions]]                      # scenario discovery (PRIM, CART) on futures where...
    name = "modest_best"
    text = "Where is a modest share best?"
    best = ["fixed 5%", "fixed 10%"]   # ...the best policy (on `objective`, default the
                                       # first) is one of these
    [[questions]]
    name = "adaptive_wins"
    policy = "adaptive"                # ...this policy beats every one of `beats`
    beats = ["fixed 0%", "fixed 10%"]
    min_density = 0.8                  # optional: the density PRIM's box should reach

For another model, an objective may say ``direction = "higher"`` or ``"lower"`` (its
outputs are not declared; higher is the default); for partnersim's model the direction is
the output's declaration and cannot be given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim import outputs
from partnersim.errors import InputError, unknown
from partnersim.inputs.experiments import Experiment, experiment_from_dict
from partnersim.inputs.posterior import POSTERIOR_TABLE, load_posterior
from partnersim.inputs.toml import MAX_REPLICATES, check_int, check_keys, check_name, read_toml
from partnersim.model.interventions import parse_interventions
from partnersim.model.state import LEVERS
from partnersim.params import PARAMETERS, make_params
from partnersim.run.specs import PARTNERSIM_MODEL, model_name
from partnersim.seeding import DEFAULT_SEED, MAX_SEED

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "name", "question", "description", "model", "seed", "replicates", "params", "policy",
    "futures", "objective", "questions")
POLICY_KEYS: tuple[str, ...] = ("name", "description", "schedule", "rule")
RULE_KEYS: tuple[str, ...] = ("measure", "below", "above", "relationship_time", "otherwise",
                              "month", "end_month")
FUTURES_KEYS: tuple[str, ...] = ("n", "vary", "vary_all", "posterior")
OBJECTIVE_KEYS: tuple[str, ...] = ("output", "at_least", "at_most", "margin", "direction")
QUESTION_KEYS: tuple[str, ...] = ("name", "text", "objective", "best", "policy", "beats",
                                  "min_density")
DEFAULT_MIN_DENSITY = 0.8
"""The share of a PRIM box's futures where the answer should hold (``min_density``)."""
DEFAULT_DECISION_REPLICATES = 4
MAX_FUTURES = 1_000_000


@dataclass(frozen=True)
class Policy:
    """One policy: what it sets.

    Attributes:
        name: Its name (the ``scenario`` label of its runs).
        levers: Parameter values it sets (keyword arguments for another model).
        interventions: Its relationship-time schedule and adaptive rules, parsed
            (``model.interventions``), in the order they act.
        description: Optional words for reports.
    """

    name: str
    levers: Mapping[str, Any]
    interventions: tuple[Any, ...] = ()
    description: str = ""

    def words(self) -> str:
        """What the policy does, in a line (levers, schedule, rules)."""
        if self.description:
            return self.description
        parts = [f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                 for k, v in self.levers.items()]
        for iv in self.interventions:
            if iv.kind == "relationship_time":
                parts.append("schedule " + ", ".join(f"{s:.0%} from month {m}"
                                                     for m, s in iv.schedule))
            else:
                trigger = (f"below {iv.below:g}" if iv.below is not None
                           else f"above {iv.above:g}")
                other = "" if iv.otherwise is None else f", else {iv.otherwise:.0%}"
                parts.append(f"from month {iv.month}: {iv.relationship_time:.0%} while "
                             f"{iv.measure} of "
                             f"the month before is {trigger}{other}")
        return "; ".join(parts) or "the defaults"


@dataclass(frozen=True)
class Objective:
    """One objective: a declared end-of-run output, its direction and satisficing rule.

    Attributes:
        output: The output (a column of the runs table).
        direction: +1 if higher is better, -1 if lower.
        threshold: The satisficing threshold (at least / at most), or None.
        margin: Within this of the best policy in a future also satisfices.
    """

    output: str
    direction: int
    threshold: float | None = None
    margin: float = 0.0

    def meets(self, values: Any) -> np.ndarray:
        """Whether values meet the threshold (False everywhere without one, and for NaN)."""
        v = np.asarray(values, dtype="float64")
        if self.threshold is None:
            return np.zeros(v.shape, dtype=bool)
        return v >= self.threshold if self.direction > 0 else v <= self.threshold


@dataclass(frozen=True)
class Question:
    """A scenario-discovery question: which futures answer it (a yes/no per future).

    Either ``best`` (the best policy on ``objective`` is one of these) or ``policy`` and
    ``beats`` (``policy``'s mean beats every one of ``beats`` on ``objective``).
    ``min_density``: the density PRIM's chosen box should reach (``study.discovery.prim``);
    raise it for an answer that holds in most futures.
    """

    name: str
    text: str
    objective: str
    best: tuple[str, ...] = ()
    policy: str | None = None
    beats: tuple[str, ...] = ()
    min_density: float = DEFAULT_MIN_DENSITY


@dataclass(frozen=True)
class Decision:
    """A validated decision file.

    Attributes:
        name: Identifier; the default results folder is ``results/<name>``.
        question: The question it answers.
        model: ``None`` for partnersim's model, else ``"package.module:function"``.
        seed: Master seed.
        replicates: Runs per policy and future.
        base_params: Fixed values under every policy and future.
        policies: The policies, in file order.
        futures: The futures' design, as an experiment (Latin hypercube; its ``factors`` are
            the uncertainties it samples, ``sample_size`` the number of futures).
        objectives: The objectives, in file order.
        questions: The scenario-discovery questions.
        source: The file.
        text: Its text.
        posterior: A calibration's weighted particles (one column per parameter,
            ``weight``), or None; each future draws one particle by weight.
        posterior_source: The posterior's file.
    """

    name: str
    question: str
    model: str | None
    seed: int
    replicates: int
    base_params: Mapping[str, Any]
    policies: tuple[Policy, ...]
    futures: Experiment
    objectives: tuple[Objective, ...]
    questions: tuple[Question, ...] = ()
    source: str | None = None
    text: str = field(default="", repr=False, compare=False)
    posterior: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    posterior_source: str | None = None

    @property
    def is_partnersim(self) -> bool:
        return model_name(self.model) == PARTNERSIM_MODEL

    @property
    def n_futures(self) -> int:
        return int(self.futures.sample_size or 0)

    @property
    def uncertainties(self) -> list[str]:
        """The hypercube's parameters, then those drawn from the posterior."""
        return [*self.futures.names, *self.posterior_names]

    @property
    def posterior_names(self) -> list[str]:
        if self.posterior is None:
            return []
        return [c for c in self.posterior.columns if c not in ("weight", "generation")]

    def policy_names(self) -> list[str]:
        return [p.name for p in self.policies]

    def with_overrides(self, *, futures: int | None = None, replicates: int | None = None
                       ) -> Decision:
        """The same decision with fewer or more futures or replicates (validated; an error
        names the option alone, the file not being at fault)."""
        d = self
        if replicates is not None:
            d = replace(d, replicates=check_int(replicates, 1, MAX_REPLICATES,
                                                source=None, key="--replicates"))
        if futures is not None:
            n = check_int(futures, 2, MAX_FUTURES, source=None, key="--futures")
            d = replace(d, futures=replace(d.futures, sample_size=n))
        return d


def load_decision(path: str | Path) -> Decision:
    """Read and validate a decision file.

    Raises:
        InputError: one line naming the file, the line and the key: an unknown key, lever,
            parameter, output or measure (with the likely intended one), a lever out of its
            bounds, a threshold in the wrong direction, a question naming an unknown policy.
    """
    path = Path(path)
    doc = read_toml(path, what="decision")
    with doc.located():
        d = decision_from_dict(doc.data, source=doc.source, default_name=path.stem,
                               base_dir=path.parent)
    return replace(d, text=doc.text)


def decision_from_dict(data: Mapping[str, Any], *, source: str | None = None,
                       default_name: str = "decision",
                       base_dir: Path | None = None) -> Decision:
    """Validate a decision given as a dict with the file's layout."""
    check_keys(data, TOP_LEVEL_KEYS, source=source)
    name = check_name(data.get("name", default_name), source=source)
    question_text = data.get("question", "")
    if isinstance(question_text, list):
        raise InputError("'question' is the decision's question (a string); scenario-"
                         "discovery questions are [[questions]] tables", source=source, key="question")
    question_text = _string(question_text, source, "question")
    replicates = check_int(data.get("replicates", DEFAULT_DECISION_REPLICATES), 1,
                           MAX_REPLICATES, source=source, key="replicates")
    seed = check_int(data.get("seed", DEFAULT_SEED), 0, MAX_SEED, source=source, key="seed")

    posterior, posterior_source = _posterior(data, source, base_dir or Path("."))
    drawn = () if posterior is None else [c for c in posterior.columns if c != "weight"]
    futures = _futures(data, source, exclude=drawn)
    is_ps = futures.is_partnersim
    uncertain = set(futures.names) | set(drawn)
    horizon = int(futures.base_params.get("horizon_months",
                                          PARAMETERS["horizon_months"].default))

    raw_policies = data.get("policy")
    if not isinstance(raw_policies, list) or len(raw_policies) < 2:
        raise InputError("expected at least two [[policy]] tables", source=source,
                         key="policy")
    policies = [_policy(i, t, source, is_ps, uncertain, horizon)
                for i, t in enumerate(raw_policies)]
    names = [p.name for p in policies]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise InputError(f"policy name {n!r} is used twice", source=source,
                             key=f"policy[{i}].name")

    raw_obj = data.get("objective")
    if not isinstance(raw_obj, list) or not raw_obj:
        raise InputError("expected at least one [[objective]] table", source=source,
                         key="objective")
    objectives = [_objective(i, t, source, is_ps) for i, t in enumerate(raw_obj)]
    obj_names = [o.output for o in objectives]
    for i, n in enumerate(obj_names):
        if n in obj_names[:i]:
            raise InputError(f"output {n!r} is an objective twice", source=source,
                             key=f"objective[{i}].output")

    raw_q = data.get("questions", [])
    if not isinstance(raw_q, list):
        raise InputError("expected [[questions]] tables", source=source, key="questions")
    questions = [_question(i, t, source, names, obj_names) for i, t in enumerate(raw_q)]
    qnames = [q.name for q in questions]
    for i, n in enumerate(qnames):
        if n in qnames[:i]:
            raise InputError(f"question name {n!r} is used twice", source=source,
                             key=f"questions[{i}].name")

    return Decision(name=name, question=question_text, model=futures.model, seed=seed,
                    replicates=replicates, base_params=dict(futures.base_params),
                    policies=tuple(policies), futures=futures,
                    objectives=tuple(objectives), questions=tuple(questions), source=source,
                    posterior=posterior, posterior_source=posterior_source)


def _posterior(data: Mapping[str, Any], source: str | None,
               base_dir: Path) -> tuple[pd.DataFrame | None, str | None]:
    """The calibration posterior ``[futures] posterior`` names, read and checked as every
    reader of a posterior does (``inputs.posterior``: a complete calibration, declared
    parameters, weights, values in bounds): its particles, weights summing to 1."""
    table = data.get("futures")
    if not isinstance(table, dict) or "posterior" not in table:
        return None, None
    key = "futures.posterior"
    folder = _string(table["posterior"], source, key)
    if "model" in data and data["model"] != "partnersim":
        raise InputError("a calibration posterior is of partnersim's parameters; it needs "
                         "partnersim's model", source=source, key=key)
    path = base_dir / folder / POSTERIOR_TABLE
    if not path.is_file():
        raise InputError(f"no {POSTERIOR_TABLE} in {base_dir / folder} (expected a folder "
                         "made by 'partnersim calibrate')", source=source, key=key)
    posterior = load_posterior(base_dir / folder, source=source, key=key)
    particles = posterior.particles[list(posterior.names)].astype("float64")
    return particles.assign(weight=posterior.particles["weight"]), str(path)


def _futures(data: Mapping[str, Any], source: str | None,
             exclude: Sequence[str] = ()) -> Experiment:
    """The futures' Latin hypercube, validated as an experiment's [vary] (bounds, names);
    parameters in ``exclude`` (drawn from a posterior) leave it."""
    table = data.get("futures")
    if not isinstance(table, dict):
        raise InputError("expected a [futures] table with n and [futures.vary]",
                         source=source, key="futures")
    check_keys(table, FUTURES_KEYS, source=source, prefix="futures")
    n = check_int(table.get("n", 0), 2, MAX_FUTURES, source=source, key="futures.n")
    vary = table.get("vary", {})
    if isinstance(vary, dict):
        vary = {k: v for k, v in vary.items() if k not in set(exclude)}
    exp_data: dict[str, Any] = {"design": "latin", "sample_size": n,
                                "seed": data.get("seed", DEFAULT_SEED),
                                "params": data.get("params", {}),
                                "vary": vary}
    if "vary_all" in table:
        exp_data["vary_all"] = table["vary_all"]
    if "model" in data:
        exp_data["model"] = data["model"]
    try:
        return experiment_from_dict(exp_data, source=source, default_name="futures")
    except InputError as exc:
        key = exc.key or ""
        if key.startswith("vary"):
            key = f"futures.{key}"
        elif key == "sample_size":
            key = "futures.n"
        elif key == "design":
            key = "futures"
        raise exc.rekeyed(key=key) from None


def _policy(i: int, table: Any, source: str | None, is_ps: bool, uncertain: set[str],
            horizon: int) -> Policy:
    where = f"policy[{i}]"
    if not isinstance(table, dict):
        raise InputError("expected a table", source=source, key=where)
    if "name" not in table:
        raise InputError("missing: every policy needs a name", source=source,
                         key=f"{where}.name")
    name = _string(table["name"], source, f"{where}.name")
    description = _string(table.get("description", ""), source, f"{where}.description")
    levers: dict[str, Any] = {}
    for key, value in table.items():
        if key in POLICY_KEYS:
            continue
        k = f"{where}.{key}"
        if is_ps:
            if key not in LEVERS:
                choices = (*LEVERS, *POLICY_KEYS)
                raise unknown("lever", key, choices, source=source, key=k,
                              list_choices=LEVERS)
            if isinstance(PARAMETERS[key].default, float) and isinstance(value, int) and (
                    not isinstance(value, bool)):
                value = float(value)
            try:
                make_params({key: value})
            except InputError as exc:  # the parameter's own message: bounds and unit
                raise exc.rekeyed(source=source, key=k) from None
        elif not key.isidentifier():
            raise InputError("not a valid keyword name", source=source, key=k)
        elif isinstance(value, dict | list):
            raise InputError(f"expected a single value, got a {type(value).__name__}",
                             source=source, key=k)
        if key in uncertain:
            raise InputError(f"{key} is an uncertainty of [futures.vary]; a policy cannot "
                             "also set it", source=source, key=k)
        levers[key] = value
    interventions: list[Any] = []
    if "schedule" in table:
        if not is_ps:
            raise InputError("a schedule needs partnersim's model", source=source,
                             key=f"{where}.schedule")
        sched = table["schedule"]
        first = sched[0][0] if (isinstance(sched, list) and sched and isinstance(sched[0], list)
                               and sched[0]) else 0
        item = {"kind": "relationship_time", "month": first if isinstance(first, int) else 0,
                "schedule": sched}
        interventions.append(_parse(item, source, f"{where}.schedule", horizon, schedule=True))
    rules = table.get("rule", [])
    if rules:
        if not is_ps:
            raise InputError("an adaptive rule needs partnersim's model", source=source,
                             key=f"{where}.rule")
        if not isinstance(rules, list):
            raise InputError("expected [[policy.rule]] tables", source=source,
                             key=f"{where}.rule")
        for j, rule in enumerate(rules):
            rk = f"{where}.rule[{j}]"
            if not isinstance(rule, dict):
                raise InputError("expected a table", source=source, key=rk)
            check_keys(rule, RULE_KEYS, source=source, prefix=rk)
            item = {"kind": "relationship_time_rule", "month": 1, **rule}
            interventions.append(_parse(item, source, rk, horizon))
    return Policy(name=name, levers=levers, interventions=tuple(interventions),
                  description=description)


def _parse(item: dict[str, Any], source: str | None, where: str, horizon: int, *,
           schedule: bool = False) -> Any:
    """One intervention, its errors keyed as in the decision file."""
    try:
        return parse_interventions([item], horizon_months=horizon, source=source)[0]
    except InputError as exc:
        key = (exc.key or "").replace("interventions[0]", "", 1)
        if schedule:
            key = key.removeprefix(".schedule").removeprefix(".month")
        raise exc.rekeyed(key=where + key) from None


def _objective(i: int, table: Any, source: str | None, is_ps: bool) -> Objective:
    where = f"objective[{i}]"
    if not isinstance(table, dict):
        raise InputError("expected a table", source=source, key=where)
    check_keys(table, OBJECTIVE_KEYS, source=source, prefix=where)
    if "output" not in table:
        raise InputError("missing: the end-of-run output to judge policies by",
                         source=source, key=f"{where}.output")
    out = _string(table["output"], source, f"{where}.output")
    if is_ps:
        known = (*outputs.SUMMARIES, outputs.COST_OUTPUT)
        if out not in known:
            if out in outputs.MONTHLY:
                raise InputError(f"{out!r} is a monthly measure, not an end-of-run output",
                                 source=source, key=f"{where}.output")
            raise unknown("end-of-run output", out, known, source=source,
                          key=f"{where}.output", show_name=True)
        direction = outputs.better(out)
        if "direction" in table:
            raise InputError(f"the direction of {out} is declared (outputs.py: "
                             f"{'higher' if direction > 0 else 'lower'} is better); remove it",
                             source=source, key=f"{where}.direction")
        if direction == 0:
            raise InputError(f"{out} has no better direction (outputs.py); choose an output "
                             "where higher or lower is better", source=source,
                             key=f"{where}.output")
    else:
        d = table.get("direction", "higher")
        if d not in ("higher", "lower"):
            raise InputError(f"expected 'higher' or 'lower', got {d!r}", source=source,
                             key=f"{where}.direction")
        direction = 1 if d == "higher" else -1
    if "at_least" in table and "at_most" in table:
        raise InputError("give one threshold: at_least or at_most", source=source,
                         key=where)
    threshold = None
    for key, sign in (("at_least", 1), ("at_most", -1)):
        if key in table:
            threshold = _number(table[key], source, f"{where}.{key}")
            if sign != direction:
                right = "at_least" if direction > 0 else "at_most"
                raise InputError(
                    f"threshold in the wrong direction: {'higher' if direction > 0 else 'lower'}"
                    f" {out} is better, so its satisficing threshold is {right!r}",
                    source=source, key=f"{where}.{key}")
    margin = _number(table.get("margin", 0.0), source, f"{where}.margin")
    if margin < 0:
        raise InputError(f"expected a margin of at least 0, got {margin:g}", source=source,
                         key=f"{where}.margin")
    return Objective(output=out, direction=direction, threshold=threshold, margin=margin)


def _question(i: int, table: Any, source: str | None, policies: Sequence[str],
              objectives: Sequence[str]) -> Question:
    where = f"questions[{i}]"
    if not isinstance(table, dict):
        raise InputError("expected a table", source=source, key=where)
    check_keys(table, QUESTION_KEYS, source=source, prefix=where)
    name = _string(table.get("name", f"q{i + 1}"), source, f"{where}.name")
    text = _string(table.get("text", name), source, f"{where}.text")
    obj = _string(table.get("objective", objectives[0]), source, f"{where}.objective")
    if obj not in objectives:
        raise unknown("objective", obj, objectives, source=source, key=f"{where}.objective",
                      show_name=True, list_choices=True)

    def names(key: str) -> tuple[str, ...]:
        value = table[key]
        if not isinstance(value, list) or not value:
            raise InputError("expected a non-empty list of policy names", source=source,
                             key=f"{where}.{key}")
        for j, v in enumerate(value):
            if v not in policies:
                raise unknown("policy", str(v), policies, source=source,
                              key=f"{where}.{key}[{j}]", show_name=True)
        return tuple(value)

    density = _number(table.get("min_density", DEFAULT_MIN_DENSITY), source,
                      f"{where}.min_density")
    if not 0.0 < density <= 1.0:
        raise InputError(f"expected a share in (0, 1], got {density:g}", source=source,
                         key=f"{where}.min_density")
    if ("best" in table) == ("policy" in table):
        raise InputError("give either 'best' (policies) or 'policy' and 'beats'",
                         source=source, key=where)
    if "best" in table:
        return Question(name, text, obj, best=names("best"), min_density=density)
    policy = _string(table["policy"], source, f"{where}.policy")
    if policy not in policies:
        raise unknown("policy", policy, policies, source=source, key=f"{where}.policy",
                      show_name=True)
    if "beats" not in table:
        raise InputError("missing: the policies it must beat", source=source,
                         key=f"{where}.beats")
    beats = names("beats")
    if policy in beats:
        raise InputError(f"{policy!r} cannot beat itself", source=source,
                         key=f"{where}.beats")
    return Question(name, text, obj, policy=policy, beats=beats, min_density=density)


def _string(value: Any, source: str | None, key: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {value!r}", source=source, key=key)
    return value


def _number(value: Any, source: str | None, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            float(value)):
        raise InputError(f"expected a number, got {value!r}", source=source, key=key)
    return float(value)
