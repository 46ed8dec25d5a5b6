"""Scenario discovery: where in the space of futures an answer holds, and in words.

PRIM, CART and extra-trees feature scoring are the EMA Workbench's
(``ema_workbench.analysis``; docs/decisions.md says why); this module runs them on a table
of futures (``x``: one row per future, one column per uncertainty) and a yes/no answer per
future (``y``), chooses PRIM's box by a stated rule, measures how stable the box is under
resampling, and writes boxes in words a policy reader understands, with the units of the
declared parameters (``partnersim.params.PARAMETERS``).

Results are deterministic given ``seed``: PRIM itself is deterministic; the resamples,
CART's tie-breaking between equally good splits and the extra trees draw from generators
seeded here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from partnersim.errors import InputError
from partnersim.params import PARAMETERS

with warnings.catch_warnings():  # its optional ipyparallel evaluator, which partnersim does not use
    warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
    from ema_workbench.analysis import cart as ema_cart
    from ema_workbench.analysis import feature_scoring as ema_fs
    from ema_workbench.analysis import prim as ema_prim
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

RESAMPLE_SHARE = 0.5
"""Share of the futures each stability resample keeps (drawn without replacement), as
``PrimBox.resample`` in the EMA Workbench does."""

LIMIT_COLUMNS = ("uncertainty", "lower", "upper", "qp_lower", "qp_upper", "categories")
"""Columns of a box's limits table."""

WEAK_QP = 0.05
"""A limit whose quasi-p-value (Bryant & Lempert 2010: how likely a box this dense would be
without that limit) is above this is weak: the data do not show it is a condition, and the
words say so."""

STABILITY_COLUMNS = ["uncertainty", "share", "in_chosen", "lower_min", "lower_max", "upper_min",
                     "upper_max"]
"""Columns of PRIM's stability table."""


@dataclass(frozen=True)
class PrimResult:
    """PRIM's answer to one question.

    Attributes:
        question: The question asked, e.g. "where is a modest share best".
        trajectory: The peeling (and pasting) trajectory, one row per candidate box:
            ``box`` (its index), ``coverage``, ``density``, ``mass``, ``res_dim`` (number of
            restricted dimensions).
        chosen: The index of the chosen box on the trajectory (rule in :func:`prim`).
        limits: The chosen box's restricted dimensions (``LIMIT_COLUMNS``): ``lower`` and
            ``upper`` for numeric ones (a side not restricted holds the data's own extreme
            and a NaN quasi-p-value), ``categories`` (a tuple) for categorical ones.
        coverage: Share of all futures where the answer holds that lie in the chosen box.
        density: Share of the futures in the chosen box where the answer holds.
        mass: Share of all futures in the chosen box.
        stability: One row per uncertainty restricted in the chosen box or in any resample:
            ``uncertainty``, ``share`` (of the resamples whose chosen box restricts it),
            ``in_chosen``, and the spread of its limits over those resamples
            (``lower_min``, ``lower_max``, ``upper_min``, ``upper_max``, over the resamples
            that restrict that side; NaN for a side none restricts, or a categorical
            dimension).
            Empty when no resamples were asked for.
        met_min_density: Whether any box reached ``min_density`` (if not, ``chosen`` is the
            densest box).
        words: The chosen box in words (:func:`box_in_words`).
    """

    question: str
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    stability: pd.DataFrame
    met_min_density: bool
    words: str


@dataclass(frozen=True)
class CartResult:
    """CART's boxes (the leaves of a classification tree) for one question.

    Attributes:
        question: The question asked.
        boxes: One row per leaf: ``box``, ``coverage``, ``density``, ``mass``, ``res_dim``,
            ``words`` (the leaf's box in words), sorted by density then coverage, highest
            first.
        limits: The leaves' restricted dimensions in long form: ``box`` and the columns of
            ``LIMIT_COLUMNS`` (quasi-p-values NaN: CART gives none).
        words: The words of the boxes where the answer mostly holds (density above one
            half), in the order of ``boxes``.
    """

    question: str
    boxes: pd.DataFrame
    limits: pd.DataFrame
    words: list[str]


# --- inputs -----------------------------------------------------------------------------


def _prepared(x: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """``x`` with a plain index and flags as categories, and ``y`` as a boolean vector."""
    if not isinstance(x, pd.DataFrame) or x.shape[1] == 0:
        raise InputError("expected a table with one column per uncertainty", key="x")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise InputError(f"expected one value per row of x ({x.shape[0]}), got shape {y.shape}",
                         key="y")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise InputError("expected yes/no values (bool, or 0 and 1)", key="y")
        y = y.astype(bool)
    if not y.any():
        raise InputError("the answer holds in no future: there is nothing to find", key="y")
    x = x.reset_index(drop=True).copy()
    for column in x.columns:
        kind = x[column].dtype
        if pd.api.types.is_bool_dtype(kind) or not (
                pd.api.types.is_numeric_dtype(kind) or isinstance(kind, pd.CategoricalDtype)):
            x[column] = x[column].astype("category")
    return x, y


@contextmanager
def _seeded_global_numpy(seed: int) -> Iterator[None]:
    """Seed numpy's global generator for a library call that offers no ``random_state``
    (the EMA Workbench's CART), and put the caller's state back afterwards."""
    state = np.random.get_state()  # noqa: NPY002 (the library draws from the global generator)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


# --- PRIM -------------------------------------------------------------------------------


def _restricted(box_lim: pd.DataFrame, box_init: pd.DataFrame) -> list[str]:
    """The dimensions whose limits (numbers, or sets of categories) differ from the data's."""
    return [c for c in box_init.columns if not all(
        bool(a == b) for a, b in zip(box_lim[c], box_init[c], strict=True))]


def _choose(trajectory: pd.DataFrame, min_density: float) -> tuple[int, bool]:
    """Among the boxes with density at least ``min_density``, the one with the largest
    harmonic mean of coverage and density (ties: fewer restricted dimensions, then earlier);
    if none reaches ``min_density``, the densest. Whether one reached it."""
    ok = trajectory[trajectory["density"] >= min_density - 1e-12]
    if ok.empty:
        ranked = trajectory.sort_values(["density", "coverage", "box"],
                                        ascending=[False, False, True], kind="stable")
        return int(ranked["box"].iloc[0]), False
    cov, den = ok["coverage"], ok["density"]
    ranked = ok.assign(f=(2 * cov * den / (cov + den)).round(12)).sort_values(
        ["f", "res_dim", "box"], ascending=[False, True, True], kind="stable")
    return int(ranked["box"].iloc[0]), True


def _limits_table(box_lim: pd.DataFrame, box_init: pd.DataFrame,
                  qp: dict[str, list[float]] | None) -> pd.DataFrame:
    rows = []
    for u in _restricted(box_lim, box_init):
        lower, upper = box_lim[u].iloc[0], box_lim[u].iloc[1]
        q = list((qp or {}).get(u, [-1.0, -1.0]))
        q = [np.nan if (v is None or v < 0) else float(v) for v in q]
        if isinstance(lower, set):
            rows.append({"uncertainty": u, "lower": np.nan, "upper": np.nan,
                         "qp_lower": q[0], "qp_upper": np.nan,
                         "categories": tuple(sorted(lower, key=str))})
        else:
            rows.append({"uncertainty": u, "lower": float(lower), "upper": float(upper),
                         "qp_lower": q[0], "qp_upper": q[1], "categories": None})
    return pd.DataFrame(rows, columns=list(LIMIT_COLUMNS))


def _as_floats(x: pd.DataFrame) -> pd.DataFrame:
    """Integer columns as floats: the library's PRIM pasting and CART boxes write midpoints
    such as 2.5 into integer columns, which pandas 3 refuses; the words round them inwards."""
    return x.astype({c: float for c in x.columns if pd.api.types.is_integer_dtype(x[c])})


def _run_prim(x: pd.DataFrame, y: np.ndarray, peel_alpha: float) -> ema_prim.PrimBox:
    x = _as_floats(x)
    with warnings.catch_warnings():  # the library's own use of a pandas keyword pandas deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword")
        return ema_prim.Prim(x, y, peel_alpha=peel_alpha).find_box()


def _trajectory(box: ema_prim.PrimBox) -> pd.DataFrame:
    t = box.peeling_trajectory
    return pd.DataFrame({"box": np.arange(len(t)),
                         "coverage": t["coverage"].to_numpy(float),
                         "density": t["density"].to_numpy(float),
                         "mass": t["mass"].to_numpy(float),
                         "res_dim": t["res_dim"].to_numpy(int)})


def prim(x: pd.DataFrame, y: Any, *, question: str, seed: int, min_density: float = 0.8,
         peel_alpha: float = 0.05, resamples: int = 10) -> PrimResult:
    """Find the box of futures where the answer ``y`` holds, with PRIM (EMA Workbench).

    The box chosen from the peeling trajectory is, among those whose density is at least
    ``min_density``, the one with the largest harmonic mean of coverage and density (the
    knee of the trade-off curve above the density wanted; ties: fewer restricted
    dimensions, then earlier on the trajectory). If no box reaches ``min_density``, the
    densest box is chosen and ``met_min_density`` is False.

    Stability: PRIM is run again on ``resamples`` random halves of the futures (drawn
    without replacement, as ``PrimBox.resample`` does, from a generator seeded with
    ``seed``); each resample's box is chosen by the same rule, and ``stability`` records
    how often each uncertainty is restricted and how far its limits move.

    Args:
        x: One row per future, one column per uncertainty (numeric, flag or categorical).
        y: One yes/no per future: whether the answer in question holds there.
        question: The question, kept with the result for reports.
        seed: Seed of the resampling.
        min_density: The density the chosen box should reach.
        peel_alpha: Share of the futures peeled off at each step.
        resamples: Number of stability resamples (0 for none).

    Raises:
        InputError: when ``x`` or ``y`` is not as described, or ``y`` holds nowhere.
    """
    if not 0.0 < min_density <= 1.0:
        raise InputError(f"expected a density in (0, 1], got {min_density!r}", key="min_density")
    if resamples < 0:
        raise InputError(f"expected a number of resamples >= 0, got {resamples!r}",
                         key="resamples")
    x, y = _prepared(x, y)
    box = _run_prim(x, y, peel_alpha)
    trajectory = _trajectory(box)
    chosen, met = _choose(trajectory, min_density)
    box_init = box.prim.box_init
    limits = _limits_table(box.box_lims[chosen], box_init, box.p_values[chosen])
    row = trajectory.iloc[chosen]
    stability = _stability(x, y, limits, seed=seed, min_density=min_density,
                           peel_alpha=peel_alpha, resamples=resamples)
    return PrimResult(question=question, trajectory=trajectory, chosen=chosen, limits=limits,
                      coverage=float(row["coverage"]), density=float(row["density"]),
                      mass=float(row["mass"]), stability=stability, met_min_density=met,
                      words=box_in_words(limits, x))


def _stability(x: pd.DataFrame, y: np.ndarray, limits: pd.DataFrame, *, seed: int,
               min_density: float, peel_alpha: float, resamples: int) -> pd.DataFrame:
    if resamples == 0:
        return pd.DataFrame(columns=STABILITY_COLUMNS)
    rng = np.random.default_rng(seed)
    n_keep = int(x.shape[0] * RESAMPLE_SHARE)
    found: list[pd.DataFrame] = []
    for _ in range(resamples):
        keep = np.sort(rng.choice(x.shape[0], size=n_keep, replace=False))
        xs, ys = x.iloc[keep].reset_index(drop=True), y[keep]
        if not ys.any():
            found.append(pd.DataFrame(columns=list(LIMIT_COLUMNS)))
            continue
        box = _run_prim(xs, ys, peel_alpha)
        chosen, _ = _choose(_trajectory(box), min_density)
        table = _limits_table(box.box_lims[chosen], box.prim.box_init, None)
        numeric, init = table["categories"].isna(), box.prim.box_init
        for side, row in (("lower", 0), ("upper", 1)):  # a side at the resample's own extreme
            extreme = table["uncertainty"].map(lambda u, r=row, b=init: b[u].iloc[r])
            free = numeric & (table[side] == extreme.where(numeric))
            table.loc[free, side] = np.nan
        found.append(table)
    names = list(limits["uncertainty"])
    for table in found:
        names += [u for u in table["uncertainty"] if u not in names]
    rows = []
    for u in names:
        hits = [t[t["uncertainty"] == u].iloc[0] for t in found if (t["uncertainty"] == u).any()]
        lows = [h["lower"] for h in hits if not np.isnan(h["lower"])]
        highs = [h["upper"] for h in hits if not np.isnan(h["upper"])]
        rows.append({"uncertainty": u,
                     "share": len(hits) / resamples if resamples else np.nan,
                     "in_chosen": u in set(limits["uncertainty"]),
                     "lower_min": min(lows, default=np.nan),
                     "lower_max": max(lows, default=np.nan),
                     "upper_min": min(highs, default=np.nan),
                     "upper_max": max(highs, default=np.nan)})
    return pd.DataFrame(rows, columns=STABILITY_COLUMNS)


# --- CART -------------------------------------------------------------------------------


def cart(x: pd.DataFrame, y: Any, *, question: str, seed: int,
         mass_min: float = 0.05) -> CartResult:
    """The boxes of a classification tree of ``y`` over ``x`` (the EMA Workbench's CART).

    Args:
        x: One row per future, one column per uncertainty.
        y: One yes/no per future.
        question: The question, kept with the result.
        seed: Seeds the tree's choice between equally good splits.
        mass_min: Smallest share of the futures in a leaf.

    Raises:
        InputError: when ``x`` or ``y`` is not as described, or ``y`` holds nowhere.
    """
    x, y = _prepared(x, y)
    if int(mass_min * x.shape[0]) < 1:
        raise InputError(f"{mass_min!r} of {x.shape[0]} futures is less than one future",
                         key="mass_min")
    model = ema_cart.CART(_as_floats(x), y, mass_min=mass_min)
    with _seeded_global_numpy(seed):
        model.build_tree()
    box_init = ema_cart.sdutil._make_box(x)
    rows, limit_rows = [], []
    for i, (box_lim, stats) in enumerate(zip(model.boxes, model.stats, strict=True)):
        table = _limits_table(box_lim, box_init, None)
        for k, u in enumerate(table["uncertainty"]):  # a leaf's lower split is x > threshold
            if pd.api.types.is_integer_dtype(x[u]) and table.at[k, "lower"] > x[u].min():
                table.at[k, "lower"] = float(np.floor(table.at[k, "lower"]) + 1)
        rows.append({"box": i, "coverage": float(stats["coverage"]),
                     "density": float(stats["density"]), "mass": float(stats["mass"]),
                     "res_dim": int(stats["res dim"]), "words": box_in_words(table, x)})
        limit_rows.append(table.assign(box=i))
    boxes = pd.DataFrame(rows).sort_values(["density", "coverage", "box"],
                                           ascending=[False, False, True], kind="stable")
    boxes = boxes.reset_index(drop=True)
    limits = pd.concat(limit_rows, ignore_index=True)[["box", *LIMIT_COLUMNS]]
    words = list(boxes.loc[boxes["density"] > 0.5, "words"])
    return CartResult(question=question, boxes=boxes, limits=limits, words=words)


# --- feature scoring --------------------------------------------------------------------


def feature_scores(x: pd.DataFrame, outcomes: pd.DataFrame, *, seed: int,
                   n_trees: int = 100) -> pd.DataFrame:
    """How much each uncertainty matters to each outcome (extra trees, EMA Workbench).

    A numeric outcome is scored by regression; a flag or categorical one (such as the best
    policy in each future) by classification. Scores of one outcome sum to 1.

    Args:
        x: One row per future, one column per uncertainty.
        outcomes: One row per future (the same rows), one column per outcome.
        seed: Seeds the trees.
        n_trees: Trees in each forest.

    Returns:
        Rows: the uncertainties, in the order of ``x``; columns: the outcomes.

    Raises:
        InputError: when the tables do not match.
    """
    if not isinstance(outcomes, pd.DataFrame) or outcomes.shape[0] != x.shape[0]:
        raise InputError(f"expected a table with one row per row of x ({x.shape[0]})",
                         key="outcomes")
    x = x.reset_index(drop=True)
    scores = {}
    for name in outcomes.columns:
        values = outcomes[name].to_numpy()
        numeric = pd.api.types.is_numeric_dtype(outcomes[name]) and outcomes[name].dtype != bool
        if numeric:
            mode = RuleInductionType.REGRESSION
            values = values.astype(float)
        else:
            mode = RuleInductionType.CLASSIFICATION
            values = values.astype(str)
        table, _ = ema_fs.get_ex_feature_scores(x, values, mode=mode, nr_trees=n_trees,
                                                random_state=seed)
        scores[name] = table.iloc[:, 0]
    result = pd.DataFrame(scores).reindex(list(x.columns)).fillna(0.0)
    result.index.name = "uncertainty"
    return result


# --- boxes in words ---------------------------------------------------------------------


def _number(v: float, *, integer: bool = False) -> str:
    if integer:
        return f"{round(v):,}"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if a >= 1 else f"{v:.2g}"


def _value(name: str, v: float) -> str:
    """A limit in the units of the declared parameter ``name`` (raw otherwise)."""
    spec = PARAMETERS.get(name)
    if spec is None:
        return _number(v)
    unit = spec.unit
    if spec.type == "int":
        return f"{_number(v, integer=True)} {unit}"
    if unit.startswith("GBP k"):
        rest = unit[len("GBP k"):].strip()
        rest = rest.replace("per ", "a ", 1) if rest.startswith("per ") else rest
        return f"GBP {v * 1000:,.0f}" + (f" {rest}" if rest else "")
    if unit.endswith("0-1"):
        return f"{v:.2f} (of 0-1)"
    if unit == "share" or unit.startswith("share of "):
        return f"{100 * v:.3g}%" + unit[len("share"):]
    if unit in ("probability", "multiplier", "ratio", "weight", "flag", "choice"):
        return _number(v)
    return f"{_number(v)} {unit}"


def _phrase(row: pd.Series, x: pd.DataFrame) -> str:
    name = str(row["uncertainty"])
    words = name.replace("_", " ")
    if row.get("categories") is not None and not (
            isinstance(row["categories"], float) and np.isnan(row["categories"])):
        cats = [str(c) for c in row["categories"]]
        if set(cats) <= {"True", "False"} and len(cats) == 1:
            return f"{'with' if cats[0] == 'True' else 'without'} {words}"
        shown = cats[0] if len(cats) == 1 else ", ".join(cats[:-1]) + " or " + cats[-1]
        return f"{words} is {shown}"
    lo, hi = float(row["lower"]), float(row["upper"])
    column = x[name] if name in x.columns else None
    spec = PARAMETERS.get(name)
    whole = (spec is not None and spec.type == "int") or (
        column is not None and pd.api.types.is_integer_dtype(column))
    if whole:  # the whole values inside the limits, which are then said inclusively
        lo, hi = float(np.ceil(lo - 1e-9)), float(np.floor(hi + 1e-9))
    free_lo = column is not None and lo <= float(column.min())
    free_hi = column is not None and hi >= float(column.max())
    if whole and lo == hi:
        return f"{words} is {_value(name, lo)}"
    if free_lo and not free_hi:
        return f"{words} is {'at most' if whole else 'below'} {_value(name, hi)}"
    if free_hi and not free_lo:
        return f"{words} is {'at least' if whole else 'above'} {_value(name, lo)}"
    return f"{words} is between {_value(name, lo)} and {_value(name, hi)}"


def _sides(row: pd.Series) -> tuple[pd.Series | None, pd.Series | None]:
    """A limit split by the strength of its sides: the limit on its sides with a quasi-p-value
    of at most ``WEAK_QP`` (or none: CART's, a table without the columns), and the limit on
    its weak sides; None where there is no such side. A categorical limit is one side."""
    qp = {side: np.nan if row.get(f"qp_{side}") is None else float(row[f"qp_{side}"])
          for side in ("lower", "upper")}
    weak_sides = [side for side, q in qp.items() if q > WEAK_QP]
    if not weak_sides:
        return row, None
    if row.get("categories") is not None and not (
            isinstance(row["categories"], float) and np.isnan(row["categories"])):
        return None, row
    strong, weak = row.copy(), row.copy()
    for side, free in (("lower", -np.inf), ("upper", np.inf)):  # a freed side is no limit
        (strong if side in weak_sides else weak)[side] = free
    # PRIM gives a quasi-p-value for each restricted side only
    return (strong if any(q <= WEAK_QP for q in qp.values()) else None), weak


def _joined(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def box_in_words(limits: pd.DataFrame, x: pd.DataFrame) -> str:
    """A box's limits as a phrase a policy reader understands.

    E.g. "when leadership is below 0.40 (of 0-1) and capacity budget is below GBP 8,000 a
    month". Declared parameters are said in their units (``params.PARAMETERS``); other
    names as they are. A side of a limit at the data's own extreme (in ``x``) is not a
    restriction, so one-sided limits read "below" or "above" (for whole-number dimensions,
    "at most" or "at least" the whole values inside the box); flags read "with" or
    "without"; a box with no restriction reads "over all N futures (no restriction)".
    Limits, or sides of limits, whose quasi-p-value is above ``WEAK_QP`` are said apart,
    as weak: "when A (weak, quasi-p above 0.05: B)", or "when A and B (all weak, ...)".

    Args:
        limits: A limits table (``LIMIT_COLUMNS``: ``uncertainty``, ``lower``, ``upper``,
            ``categories``, and the quasi-p-values where PRIM gives them), one row per
            restricted dimension.
        x: The futures the box was found in (for the range of each dimension).
    """
    if limits is None or len(limits) == 0:
        return f"over all {len(x):,} futures (no restriction)"
    strong, weak = [], []
    for _, row in limits.iterrows():
        firm, loose = _sides(row)
        strong += [] if firm is None else [_phrase(firm, x)]
        weak += [] if loose is None else [_phrase(loose, x)]
    caveat = f"quasi-p above {WEAK_QP:g}"
    if not weak:
        return f"when {_joined(strong)}"
    if not strong:
        return f"when {_joined(weak)} (all weak, {caveat})"
    return f"when {_joined(strong)} (weak, {caveat}: {_joined(weak)})"
