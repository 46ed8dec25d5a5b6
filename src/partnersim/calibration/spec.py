"""Calibration inputs: evidence (targets and priors, each with its source) and calibration files.

A *target* is a number a source reports that a model measure should reproduce; a *prior* is
a number a source reports about a parameter itself. A *calibration file* names the
parameters to calibrate (priors from their declared bounds, a ``[[prior]]`` of the evidence,
or bounds given in the file), the targets (a targets file, inline ``[[target]]`` tables, or
targets simulated at a known point under ``[truth]``), the fixed model settings, the runs per
particle and the settings of ABC-SMC. Everything is checked when the file is read: an
unknown parameter or measure, a target without its source, bounds outside the declaration,
a target drawn from a held-out validation pattern, each as one line naming the file, the
line and the key.

A target may name the validation pattern whose evidence it quantifies (``pattern = "SF8"``);
that pattern's file must declare the role "calibration target". Naming a held-out pattern (or a
mechanism check) is an input error: calibration never reads a held-out pattern, so
``partnersim validate --posterior`` tests the posterior on evidence it was not fitted to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

from partnersim.errors import InputError, unknown
from partnersim.inputs.patterns import CALIBRATION_TARGET, HELD_OUT, load_definition
from partnersim.inputs.toml import TomlFile, check_int, check_keys, check_name, read_toml
from partnersim.outputs import MONTHLY, OUTPUTS, SUMMARIES
from partnersim.params import PARAMETERS, make_params
from partnersim.seeding import MAX_SEED

SOURCE_KEYS = ("authors", "year", "title", "where", "url")
"""Keys of a target's or prior's source; all but ``url`` are required."""

TARGET_KEYS = ("name", "measure", "months", "value", "sd", "interval", "level", "source",
               "why", "pattern")
PRIOR_KEYS = ("parameter", "lower", "upper", "source", "why")
TARGETS_FILE_KEYS = ("target", "prior")
CALIBRATION_KEYS = ("name", "question", "seed", "replicates", "targets", "target", "prior",
                    "model", "parameters", "abc", "truth")
ABC_KEYS = ("population", "min_population", "max_population", "adaptive_population",
            "generations", "min_epsilon", "min_acceptance", "epsilon_quantile",
            "epsilon_schedule", "ppc_draws")
TRUTH_KEYS = ("params", "seed", "replicates")

MAX_PARTICLES = 100_000
MAX_GENERATIONS = 1_000
MEASURES = tuple(m for m in OUTPUTS if m in MONTHLY or m in SUMMARIES)
"""Measures a target may name: every monthly measure and end-of-run output the model reports."""


@dataclass(frozen=True)
class Source:
    """Where a number was read: authors, year, title, the table, figure or page, and a URL."""

    authors: str
    year: int
    title: str
    where: str
    url: str = ""

    def cite(self) -> str:
        return f"{self.authors} ({self.year}), {self.title}, {self.where}"


@dataclass(frozen=True)
class Target:
    """One quantitative target.

    Attributes:
        name: The target's id.
        measure: A declared monthly measure or end-of-run output.
        months: For a monthly measure, the first and last month (the timeseries' ``month``
            column, 0 = the first month) whose mean is compared; None for an end-of-run one.
        value: The reported number (for a simulated target, filled in when simulated).
        sd: Its uncertainty as a standard deviation (None: from the truth's runs).
        source: Where it was read (None only for a target simulated under ``[truth]``).
        why: Why the measure is the reported quantity.
        pattern: The validation pattern whose evidence the target quantifies (its file's
            role is "calibration target"), or None.
    """

    name: str
    measure: str
    months: tuple[int, int] | None
    value: float | None
    sd: float | None
    source: Source | None
    why: str = ""
    pattern: str | None = None

    def describe(self) -> str:
        where = f" months {self.months[0]}-{self.months[1]}" if self.months else " (end of run)"
        return f"{self.measure}{where}"


@dataclass(frozen=True)
class Prior:
    """A uniform prior of one calibrated parameter, and where its bounds come from."""

    parameter: str
    lower: float
    upper: float
    origin: str  # "declared bounds", "calibration file", or the evidence's citation


@dataclass(frozen=True)
class Truth:
    """A known point at which targets are simulated (recovery checks)."""

    params: dict[str, Any]
    seed: int
    replicates: int


@dataclass(frozen=True)
class AbcSettings:
    """ABC-SMC settings: population sizes, generations, stopping rules, tolerance quantile."""

    population: int = 100
    min_population: int = 50
    max_population: int = 500
    adaptive_population: bool = True
    generations: int = 8
    min_epsilon: float = 0.0
    min_acceptance: float = 0.01
    epsilon_quantile: float = 0.5
    epsilon_schedule: tuple[float, ...] = ()
    ppc_draws: int = 50


@dataclass(frozen=True)
class Calibration:
    """A calibration, validated: what is calibrated, against what, and how."""

    name: str
    source: str | None
    text: str
    question: str
    seed: int
    replicates: int
    model: dict[str, Any]
    priors: tuple[Prior, ...]
    targets: tuple[Target, ...]
    abc: AbcSettings
    truth: Truth | None = None
    inputs: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def names(self) -> list[str]:
        return [p.parameter for p in self.priors]

    @property
    def measures(self) -> list[str]:
        """Monthly measures the targets read (what each run keeps)."""
        return sorted({t.measure for t in self.targets if t.months is not None})

    def with_targets(self, targets: tuple[Target, ...]) -> Calibration:
        return Calibration(**{**self.__dict__, "targets": targets})

    def fingerprint(self) -> str:
        """SHA-256 of what determines the calibration's result (not its name or question):
        a results folder with the same fingerprint is resumed, another is refused."""
        record = {"seed": self.seed, "replicates": self.replicates, "model": self.model,
                  "priors": [asdict(p) for p in self.priors],
                  "targets": [_target_record(t) for t in self.targets],
                  "abc": asdict(self.abc),
                  "truth": None if self.truth is None else asdict(self.truth)}
        return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()
                              ).hexdigest()


def _target_record(target: Target) -> dict[str, Any]:
    """A target as the fingerprint records it (no ``pattern`` key when it names none, so a
    calibration written before targets could name patterns keeps its fingerprint)."""
    record = asdict(target)
    if record["pattern"] is None:
        del record["pattern"]
    return record


# --------------------------------------------------------------------------- evidence


def _pattern(raw: Any, doc: TomlFile, key: str) -> str | None:
    """The validation pattern a target names, checked: a calibration target, never a held-out
    pattern or a mechanism check."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise doc.error(f"expected a pattern id such as 'SF8', got {raw!r}", key)
    try:
        defn = load_definition(raw)
    except InputError:
        raise doc.error(f"no validation pattern {raw!r} (data/patterns/sfN.toml)", key) from None
    if defn.role == HELD_OUT:
        raise doc.error(f"{defn.id} is a held-out pattern: calibration never reads one (its "
                        "file's role keeps it for validate --posterior)", key)
    if defn.role != CALIBRATION_TARGET:
        raise doc.error(f"{defn.id} is a {defn.role}, not a calibration target (its file's "
                        "role)", key)
    return defn.id


def _source(raw: Any, doc: TomlFile, key: str) -> Source:
    if raw is None:
        raise doc.error("a target needs its source (authors, year, title, where)", key)
    if not isinstance(raw, dict):
        raise doc.error("expected a table {authors, year, title, where, url}", f"{key}.source")
    check_keys(raw, SOURCE_KEYS, source=doc.source, prefix=f"{key}.source")
    for part in ("authors", "year", "title", "where"):
        if not raw.get(part) and raw.get(part) != 0:
            raise doc.error(f"the source needs '{part}' (the {_SOURCE_WORDS[part]})",
                            f"{key}.source")
    year = raw["year"]
    if isinstance(year, bool) or not isinstance(year, int):
        raise doc.error(f"expected a year, got {year!r}", f"{key}.source.year")
    return Source(str(raw["authors"]), year, str(raw["title"]), str(raw["where"]),
                  str(raw.get("url", "")))


_SOURCE_WORDS = {"authors": "authors", "year": "year of publication",
                 "title": "title of the work", "where": "table, figure or page the number is "
                 "read from"}


def _number(value: Any, doc: TomlFile, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(f"expected a number, got {value!r}", key)
    return float(value)


def _target(raw: Any, doc: TomlFile, key: str, *, simulated: bool) -> Target:
    if not isinstance(raw, dict):
        raise doc.error("expected a table", key)
    check_keys(raw, TARGET_KEYS, source=doc.source, prefix=key)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise doc.error("a target needs a 'name'", key)
    measure = raw.get("measure")
    if not isinstance(measure, str):
        raise doc.error("a target needs the 'measure' it constrains", key)
    if measure not in MEASURES:
        raise unknown("measure", measure, MEASURES, source=doc.source, key=f"{key}.measure")
    months = raw.get("months")
    if measure in MONTHLY:
        if (not isinstance(months, list) or len(months) != 2
                or not all(isinstance(m, int) and not isinstance(m, bool) for m in months)
                or not 0 <= months[0] <= months[1]):
            raise doc.error(f"{measure} is monthly: give months = [first, last] (0 = the "
                            "first month)", f"{key}.months")
        months = (months[0], months[1])
    elif months is not None:
        raise doc.error(f"{measure} is an end-of-run output: it takes no months",
                        f"{key}.months")
    value = raw.get("value")
    if value is None and not simulated:
        raise doc.error("a target needs its 'value'", key)
    value = None if value is None else _number(value, doc, f"{key}.value")
    sd = raw.get("sd")
    interval = raw.get("interval")
    if sd is not None and interval is not None:
        raise doc.error("give 'sd' or 'interval', not both", key)
    if interval is not None:
        if (not isinstance(interval, list) or len(interval) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           for v in interval) or not interval[0] < interval[1]):
            raise doc.error("expected interval = [low, high] with low < high",
                            f"{key}.interval")
        level = _number(raw.get("level", 0.9), doc, f"{key}.level")
        if not 0 < level < 1:
            raise doc.error(f"{level} is not a probability in (0, 1)", f"{key}.level")
        sd = (interval[1] - interval[0]) / (2 * NormalDist().inv_cdf(0.5 + level / 2))
    elif sd is not None:
        sd = _number(sd, doc, f"{key}.sd")
        if sd <= 0:
            raise doc.error(f"{sd} is not a positive standard deviation", f"{key}.sd")
    elif not simulated:
        raise doc.error("a target needs its uncertainty: 'sd' or 'interval'", key)
    source = None if simulated and raw.get("source") is None else _source(
        raw.get("source"), doc, key)
    pattern = _pattern(raw.get("pattern"), doc, f"{key}.pattern")
    return Target(name, measure, months, value, sd, source, str(raw.get("why", "")), pattern)


def _evidence_prior(raw: Any, doc: TomlFile, key: str) -> Prior:
    if not isinstance(raw, dict):
        raise doc.error("expected a table", key)
    check_keys(raw, PRIOR_KEYS, source=doc.source, prefix=key)
    name = raw.get("parameter")
    if not isinstance(name, str):
        raise doc.error("a prior needs its 'parameter'", key)
    lower, upper = _bounds(name, raw.get("lower"), raw.get("upper"), doc, key)
    return Prior(name, lower, upper, _source(raw.get("source"), doc, key).cite())


def _bounds(name: str, lower: Any, upper: Any, doc: TomlFile, key: str) -> tuple[float, float]:
    spec = PARAMETERS.get(name)
    if spec is None:
        raise unknown("parameter", name, PARAMETERS, source=doc.source, key=key)
    if spec.type != "float":
        raise doc.error(f"{name} is {spec.type}: only real-valued parameters are calibrated",
                        key)
    lo = spec.lower if lower is None else _number(lower, doc, f"{key}.lower")
    hi = spec.upper if upper is None else _number(upper, doc, f"{key}.upper")
    for value, which in ((lo, "lower"), (hi, "upper")):
        if not spec.lower <= value <= spec.upper:
            raise doc.error(f"{value} is outside the declared bounds [{spec.lower}, "
                            f"{spec.upper}] ({spec.unit})", f"{key}.{which}")
    if not lo < hi:
        raise doc.error(f"lower ({lo}) must be below upper ({hi})", key)
    return lo, hi


def read_targets(path: str | Path) -> tuple[tuple[Target, ...], dict[str, Prior], TomlFile]:
    """Read a targets file (``[[target]]`` and ``[[prior]]`` tables, each with its source).

    Raises:
        InputError: naming the file, line and key.
    """
    doc = read_toml(path, what="targets")
    with doc.located():
        check_keys(doc.data, TARGETS_FILE_KEYS, source=doc.source)
        targets = _targets(doc.data.get("target", []), doc, simulated=False)
        priors = _priors(doc.data.get("prior", []), doc)
    return targets, priors, doc


def _targets(raw: Any, doc: TomlFile, *, simulated: bool) -> tuple[Target, ...]:
    if not isinstance(raw, list):
        raise doc.error("expected [[target]] tables", "target")
    targets = tuple(_target(t, doc, f"target[{i}]", simulated=simulated)
                    for i, t in enumerate(raw))
    seen: set[str] = set()
    for i, t in enumerate(targets):
        if t.name in seen:
            raise doc.error(f"target {t.name!r} appears twice", f"target[{i}].name")
        seen.add(t.name)
    return targets


def _priors(raw: Any, doc: TomlFile) -> dict[str, Prior]:
    if not isinstance(raw, list):
        raise doc.error("expected [[prior]] tables", "prior")
    priors = [_evidence_prior(p, doc, f"prior[{i}]") for i, p in enumerate(raw)]
    return {p.parameter: p for p in priors}


# --------------------------------------------------------------------------- calibration files


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file (see the module docstring and docs/calibration.md).

    Raises:
        InputError: one line naming the file, the line and the key: an unknown key,
            parameter or measure, a target without its source or uncertainty, bounds outside
            the declaration, no parameter or no target.
    """
    doc = read_toml(path, what="calibration")
    src = doc.source
    data = doc.data
    inputs: list[dict[str, Any]] = []
    with doc.located():
        check_keys(data, CALIBRATION_KEYS, source=src)
        name = check_name(data.get("name", Path(path).stem), source=src)
        seed = check_int(data.get("seed", 1), 0, MAX_SEED, source=src, key="seed")
        replicates = check_int(data.get("replicates", 1), 1, 1000, source=src,
                               key="replicates")
        model = data.get("model", {})
        if not isinstance(model, dict):
            raise doc.error("expected a table of parameter values", "model")
        make_params(model, source=src)  # unknown names and values out of bounds, with the key
        truth = _truth(data.get("truth"), doc)
        evidence_priors: dict[str, Prior] = {}
        targets: tuple[Target, ...] = ()
        if "targets" in data:
            if not isinstance(data["targets"], str):
                raise doc.error("expected the path of a targets file", "targets")
            tpath = Path(data["targets"])
            if not tpath.is_absolute():
                tpath = Path(path).parent / tpath
            targets, evidence_priors, tdoc = read_targets(tpath)
            inputs.append({"path": str(tpath), "text": tdoc.text})
        evidence_priors.update(_priors(data.get("prior", []), doc))
        targets = (*targets, *_targets(data.get("target", []), doc,
                                       simulated=truth is not None))
        if not targets:
            raise doc.error("no target to calibrate against (the targets file holds none: "
                            "see docs/calibration.md)", "targets" if "targets" in data
                            else "target")
        if truth is None:
            for i, t in enumerate(targets):
                if t.source is None:
                    raise doc.error("a target needs its source", f"target[{i}]")
        names = set(targets_names := [t.name for t in targets])
        if len(names) != len(targets_names):
            raise doc.error("two targets have the same name", "target")
        priors = _calibrated(data.get("parameters"), doc, evidence_priors)
        for p in priors:
            if p.parameter in model:
                raise doc.error(f"{p.parameter} is calibrated: it cannot also be fixed in "
                                "[model]", f"model.{p.parameter}")
        if truth is not None:
            missing = [p.parameter for p in priors if p.parameter not in truth.params]
            if missing:
                raise doc.error(f"the truth gives no value of {', '.join(missing)}",
                                "truth.params")
            for p in priors:
                v = truth.params[p.parameter]
                if not p.lower <= v <= p.upper:
                    raise doc.error(f"{v} is outside the prior [{p.lower}, {p.upper}]",
                                    f"truth.params.{p.parameter}")
        abc = _abc(data.get("abc", {}), doc)
    return Calibration(name=str(name), source=src, text=doc.text,
                       question=str(data.get("question", "")), seed=seed,
                       replicates=replicates, model=dict(model), priors=priors,
                       targets=targets, abc=abc, truth=truth, inputs=tuple(inputs))


def _calibrated(raw: Any, doc: TomlFile, evidence: dict[str, Prior]) -> tuple[Prior, ...]:
    if not isinstance(raw, dict) or not raw:
        raise doc.error("name the parameters to calibrate: [parameters] name = {} (prior: "
                        "the declared bounds) or {lower = .., upper = ..}", "parameters")
    priors = []
    for name, bounds in raw.items():
        key = f"parameters.{name}"
        if not isinstance(bounds, dict):
            raise doc.error("expected {} or {lower = .., upper = ..}", key)
        check_keys(bounds, ("lower", "upper"), source=doc.source, prefix=key)
        lo, hi = _bounds(name, bounds.get("lower"), bounds.get("upper"), doc, key)
        if bounds:
            origin = "calibration file"
        elif name in evidence:
            priors.append(evidence[name])
            continue
        else:
            origin = "declared bounds"
        priors.append(Prior(name, lo, hi, origin))
    return tuple(priors)


def _truth(raw: Any, doc: TomlFile) -> Truth | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise doc.error("expected a table {params, seed, replicates}", "truth")
    check_keys(raw, TRUTH_KEYS, source=doc.source, prefix="truth")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise doc.error("expected a table of parameter values", "truth.params")
    try:
        make_params(params)
    except InputError as exc:
        raise exc.rekeyed(source=doc.source, prefix="truth.params") from None
    seed = check_int(raw.get("seed", 0), 0, MAX_SEED, source=doc.source, key="truth.seed")
    reps = check_int(raw.get("replicates", 20), 2, 10_000, source=doc.source,
                     key="truth.replicates")
    return Truth(dict(params), seed, reps)


def _abc(raw: Any, doc: TomlFile) -> AbcSettings:
    if not isinstance(raw, dict):
        raise doc.error("expected a table", "abc")
    check_keys(raw, ABC_KEYS, source=doc.source, prefix="abc")
    d = AbcSettings()
    src = doc.source

    def whole(key: str, default: int, lo: int, hi: int) -> int:
        return check_int(raw.get(key, default), lo, hi, source=src, key=f"abc.{key}")

    def real(key: str, default: float, lo: float, hi: float) -> float:
        v = _number(raw.get(key, default), doc, f"abc.{key}")
        if not lo <= v <= hi:
            raise doc.error(f"{v} is outside [{lo}, {hi}]", f"abc.{key}")
        return v

    schedule = raw.get("epsilon_schedule", [])
    if (not isinstance(schedule, list)
            or not all(isinstance(e, int | float) and not isinstance(e, bool) and e > 0
                       for e in schedule)
            or any(b >= a for a, b in zip(schedule, schedule[1:], strict=False))):
        raise doc.error("expected a list of decreasing positive tolerances",
                        "abc.epsilon_schedule")
    if schedule and "generations" in raw and raw["generations"] != len(schedule):
        raise doc.error(f"the schedule has {len(schedule)} tolerances: one per generation",
                        "abc.generations")
    population = whole("population", d.population, 5, MAX_PARTICLES)
    lo_pop = whole("min_population", min(d.min_population, population), 5, population)
    hi_pop = whole("max_population", max(d.max_population, population), population,
                   MAX_PARTICLES)
    adaptive = raw.get("adaptive_population", d.adaptive_population)
    if not isinstance(adaptive, bool):
        raise doc.error(f"expected true or false, got {adaptive!r}", "abc.adaptive_population")
    return AbcSettings(
        population=population, min_population=lo_pop, max_population=hi_pop,
        adaptive_population=adaptive,
        generations=len(schedule) if schedule else whole("generations", d.generations, 1,
                                                         MAX_GENERATIONS),
        min_epsilon=real("min_epsilon", d.min_epsilon, 0.0, float("inf")),
        min_acceptance=real("min_acceptance", d.min_acceptance, 0.0, 1.0),
        epsilon_quantile=real("epsilon_quantile", d.epsilon_quantile, 0.05, 0.95),
        epsilon_schedule=tuple(float(e) for e in schedule),
        ppc_draws=whole("ppc_draws", d.ppc_draws, 0, 10_000))
