"""Dashboard controls: one per declared parameter, grouped by lever, and reading widget values.

Every slider, checkbox and menu comes from ``partnersim.params.PARAMETERS`` (name,
type, bounds, unit, description); nothing here knows a parameter by hand. Widget
values (floats from sliders, text from boxes) are coerced to the declared type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from partnersim.errors import InputError
from partnersim.params import PARAMETERS, ParamSpec
from partnersim.seeding import MAX_SEED

GROUP_TITLES: dict[str, str] = {
    "structure": "Structure",
    "leadership": "Leadership",
    "champions": "Champions",
    "resources": "Resources",
    "ground_rules": "Ground rules",
    "communication": "Communication",
    "vision": "Vision and shared definitions",
    "relationship_time": "Time for relationships",
    "decision_rule": "Decision rule",
    "starting_conditions": "Starting conditions",
    "trust": "Trust",
    "meeting": "Meetings",
    "joint_work": "Joint work and small wins",
    "record": "Partnership record and confidence",
    "commitment": "Commitment",
    "turnover": "Turnover",
    "capacity": "Capacity",
    "delivery": "Service delivery",
    "health": "Population health",
    "costs": "Costs",
}
"""Readable titles of the lever groups, in the order the dashboard shows them."""

_WORDS = {"p": "chance", "n": "number of", "gbp": "GBP"}


@dataclass(frozen=True)
class Control:
    """One dashboard control generated from a parameter declaration.

    Attributes:
        name: the parameter's name (also the model keyword and the TOML key).
        kind: ``"int"``, ``"float"``, ``"bool"`` or ``"choice"``.
        label: readable label with the unit.
        default: the declared default.
        lower: declared lower bound (numeric kinds).
        upper: declared upper bound (numeric kinds).
        step: slider step (numeric kinds).
        choices: the allowed values (choice kind).
        description: the declaration's one-line description.
    """

    name: str
    kind: str
    label: str
    default: Any
    lower: float | None = None
    upper: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""


def readable_label(spec: ParamSpec) -> str:
    """A slider label a workshop can read: words from the name, then the unit.

    >>> readable_label(PARAMETERS["p_chair_leaves"])
    'Chance chair leaves (per month)'
    """
    words = spec.name.split("_")
    if words[0] in _WORDS:
        words[0] = _WORDS[words[0]]
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    if spec.unit in ("flag", "choice"):
        return text
    return f"{text} ({spec.unit})"


def _nice_step(lower: float, upper: float) -> float:
    """A round slider step giving about 100 to 200 positions over the range."""
    span = upper - lower
    if span <= 0:
        return 1.0
    raw = span / 100
    mag = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * mag:
            return float(mult * mag)
    return float(10 * mag)


def make_control(spec: ParamSpec) -> Control:
    """The control for one declared parameter, with the declared bounds."""
    common = {"name": spec.name, "kind": spec.type, "label": readable_label(spec),
              "default": spec.default, "description": spec.description}
    if spec.type == "int":
        return Control(**common, lower=spec.lower, upper=spec.upper, step=1)
    if spec.type == "float":
        if spec.lower is None or spec.upper is None:
            raise ValueError(f"{spec.name}: a float parameter needs declared bounds")
        return Control(**common, lower=spec.lower, upper=spec.upper,
                       step=_nice_step(spec.lower, spec.upper))
    if spec.type == "choice":
        return Control(**common, choices=spec.choices)
    return Control(**common)


def controls_by_group(specs: dict[str, ParamSpec] | None = None) -> dict[str, list[Control]]:
    """Controls for every declared parameter, grouped by lever in ``GROUP_TITLES`` order.

    Groups the titles do not know come last, titled from their names, so a new
    lever group shows up without a change here.
    """
    specs = PARAMETERS if specs is None else specs
    groups: dict[str, list[Control]] = {g: [] for g in GROUP_TITLES}
    for spec in specs.values():
        groups.setdefault(spec.group, []).append(make_control(spec))
    return {g: cs for g, cs in groups.items() if cs}


def group_title(group: str) -> str:
    """Readable title of a lever group."""
    return GROUP_TITLES.get(group, group.replace("_", " ").capitalize())


def coerce_value(control: Control, value: Any) -> Any:
    """Coerce a widget's value to the parameter's declared type, clipped to its bounds.

    Sliders send floats for integer parameters and text boxes send strings; the
    model validates strictly, so values are converted here.

    Raises:
        InputError: for a value that cannot be read as the declared type.
    """
    try:
        if control.kind == "int":
            out: Any = int(round(float(value)))
        elif control.kind == "float":
            out = float(value)
        elif control.kind == "bool":
            out = value.strip().lower() in ("1", "true", "yes", "on") if isinstance(
                value, str) else bool(value)
            return out
        else:
            out = str(value)
            if control.choices and out not in control.choices:
                raise ValueError(out)
            return out
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a valid {control.kind}", key=control.name) from None
    if control.lower is not None:
        out = max(out, type(out)(control.lower))
    if control.upper is not None:
        out = min(out, type(out)(control.upper))
    return out


def coerce_seed(text: Any) -> int:
    """Read the seed box (a string in the browser) as a whole number in [0, ``MAX_SEED``].

    Raises:
        InputError: when the text is not such a number.
    """
    if isinstance(text, bool):
        raise InputError(f"{text!r} is not a whole number", key="seed")
    if isinstance(text, int):
        value = text
    else:
        raw = str(text).strip() if text is not None else ""
        try:
            value = int(raw)  # exact, however many digits
        except ValueError:
            try:
                number = float(raw)  # "4.0" or "1e3"
            except ValueError:
                raise InputError(f"{text!r} is not a whole number", key="seed") from None
            if not number.is_integer():
                raise InputError(f"{text!r} is not a whole number", key="seed") from None
            value = int(number)
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"{value} is outside [0, {MAX_SEED}]", key="seed")
    return value


def format_value(control: Control, value: Any) -> str:
    """Short text for a control's current value."""
    if control.kind == "float":
        return f"{value:.4g}"
    if control.kind == "bool":
        return "on" if value else "off"
    return str(value)
