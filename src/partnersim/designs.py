"""The registry of experimental designs and SALib analysis methods: every fact about a method, once.

A design (``DESIGNS``) says how its points are drawn (the SALib sampler), how the
sample nests (rows per unit of sample size; nested designs get a convergence
report on their first 1/8, 1/4, 1/2 and all of the sample), its default sample
size, which sample sizes it can use, and which analysers apply to it. An
analyser (``ANALYSERS``) says how SALib analyses a design (plus what SALib leaves
out: eFAST intervals from independent curve sets, a bootstrap interval for PAWN),
which indices it reports with their CI columns, and its main indices (checked
for convergence, shown in time-resolved tables and summaries).

Adding a SALib method is one entry in each registry (and, if it has options of
its own, their defaults in ``inputs.experiments.OPTION_DEFAULTS``).

Samplers and analysers read the experiment's options (``OPTION_DEFAULTS`` filled
in) and take their seeds from the caller: a sampler gets ``seed(*more)``, the
sampler stream's seed (``seed()``) or a sub-stream of it (``seed(c)``), so the
caller owns how seeds derive from the master seed.

SALib is imported inside the sampler and analyser functions: it pulls in scipy and
pandas (over a second), and reading or validating an experiment file needs only
the declarations here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from partnersim.errors import InputError

Problem = Mapping[str, Any]
"""A SALib problem: ``num_vars``, ``names``, ``bounds``."""

Options = Mapping[str, Any]
"""An experiment's method options (SALib's names)."""


@dataclass(frozen=True)
class DesignMethod:
    """How a design draws its points and what it accepts.

    Attributes:
        label: Its name in prose ("eFAST").
        sampler: ``sampler(problem, n, options, seed)`` -> design rows (points x
            factors) in SALib's intervals; ``None`` for the full grid, which is the
            product of the factors' levels and needs no SALib.
        unit_rows: ``unit_rows(k, options)``: rows per unit of sample size for ``k``
            factors, in the order the sample nests (its first ``n * unit_rows`` rows
            are the design of size ``n``); ``None`` if the design does not nest.
        default_sample_size: Used when the file gives none; ``None``: no sample size.
        needs: ``needs(n, options)``: ``None`` if the design can use sample size
            ``n``, else what it needs (one phrase, naming the method); ``None`` for
            the full grid, which has no sample size.
        convergence_minimum: ``convergence_minimum(options)``: the smallest sample
            size the convergence report analyses; ``None`` if there is no report.
        analysers: Names in ``ANALYSERS`` applied to the design, the first being
            the one used for time-resolved indices; empty: no sensitivity indices.
        analysis_needs: As ``needs``, for analysing the design where that needs more
            than sampling it (a Latin hypercube: its three analyses); ``None``: the same.
    """

    label: str
    sampler: Callable[[Problem, int, Options, Callable[..., int]], np.ndarray] | None
    unit_rows: Callable[[int, Options], int] | None
    default_sample_size: int | None
    needs: Callable[[int, Options], str | None] | None
    convergence_minimum: Callable[[Options], int] | None
    analysers: tuple[str, ...]
    analysis_needs: Callable[[int, Options], str | None] | None = None


@dataclass(frozen=True)
class AnalysisMethod:
    """How SALib analyses a design and what the analysis reports.

    Attributes:
        label: Its name in prose.
        analyse: ``analyse(problem, X, Y, options, seed)`` -> a SALib-style result:
            each index an array over the factors, each CI column its half-widths.
        indices: ``(index, CI column or None)`` in the order the indices table lists them.
        pair_indices: ``(index, CI column)`` of factor pairs (a k x k matrix), listed
            when the result has them (Sobol' second order).
        main: The main indices: checked for convergence, shown in time-resolved
            tables and summaries; the last orders a summary's parameters.
        scaled_by_largest: The main indices are not shares of variance (Morris mu*):
            the convergence report divides them by the largest at full size first.
    """

    label: str
    analyse: Callable[[Problem, np.ndarray, np.ndarray, Options, int], Mapping[str, Any]]
    indices: tuple[tuple[str, str | None], ...]
    main: tuple[str, ...]
    pair_indices: tuple[tuple[str, str], ...] = ()
    scaled_by_largest: bool = False


# --------------------------------------------------------------------------- samplers


def _sample_latin(problem: Problem, n: int, options: Options, seed: Callable[..., int]
                  ) -> np.ndarray:
    from SALib.sample import latin  # here: start-up time (see the module docstring)

    return latin.sample(problem, n, seed=seed())


def _sample_sobol(problem: Problem, n: int, options: Options, seed: Callable[..., int]
                  ) -> np.ndarray:
    from SALib.sample import sobol  # here: start-up time (see the module docstring)

    return sobol.sample(problem, n, calc_second_order=bool(options["second_order"]),
                        seed=seed())


def _sample_morris(problem: Problem, n: int, options: Options, seed: Callable[..., int]
                   ) -> np.ndarray:
    from SALib.sample import morris  # here: start-up time (see the module docstring)

    return morris.sample(problem, n, num_levels=int(options["num_levels"]), seed=seed())


def _sample_fast(problem: Problem, n: int, options: Options, seed: Callable[..., int]
                 ) -> np.ndarray:
    """``fast_curves`` independent search-curve sets (random phase shifts), for honest CIs."""
    from SALib.sample import fast_sampler  # here: start-up time (see the module docstring)

    return np.vstack([fast_sampler.sample(problem, n, M=int(options["M"]), seed=seed(c))
                      for c in range(int(options["fast_curves"]))])


# --------------------------------------------------------------------------- sample sizes


def _need_sobol(n: int, options: Options) -> str | None:
    if n >= 2 and not n & (n - 1):
        return None
    lower = 1 << max(1, n.bit_length() - 1)
    return (f"sobol needs a power of 2 (the base sample of Sobol' points), e.g. "
            f"{lower} or {lower * 2}")


def _need_fast(n: int, options: Options) -> str | None:
    m = int(options["M"])
    return (f"fast (eFAST) with M={m} needs more than 4*M^2 = {4 * m * m} runs per parameter"
            if n <= 4 * m * m else None)


def _need_rbd_fast(n: int, options: Options) -> str | None:
    # each analysis needs more than 2*M runs, and SALib's bootstrap analyses half of them
    m = int(options["M"])
    return (f"rbd_fast with M={m} needs at least 4*M + 2 = {4 * m + 2} runs (its bootstrap "
            f"resamples half of them, and each analysis needs more than 2*M)"
            if n // 2 <= 2 * m else None)


def _need_latin(n: int, options: Options) -> str | None:
    """A Latin hypercube is analysed by RBD-FAST, delta and PAWN: it needs what each needs."""
    for need in (_need_rbd_fast, _need_delta, _need_pawn):
        if (what := need(n, options)) is not None:
            return f"latin is analysed by rbd_fast, delta and pawn, and {what}"
    return None


def _need_pawn(n: int, options: Options) -> str | None:
    s = int(options["S"])
    return f"pawn with S={s} slices needs at least 2*S = {2 * s} runs" if n < 2 * s else None


def _need_at_least(minimum: int, method: str, unit: str) -> Callable[[int, Options], str | None]:
    def need(n: int, options: Options) -> str | None:
        return f"{method} needs at least {minimum} {unit}" if n < minimum else None
    return need


DELTA_MINIMUM = 20
"""Runs below which the delta method's kernel density estimate is not attempted."""
_need_delta = _need_at_least(DELTA_MINIMUM, "delta", "runs")


# --------------------------------------------------------------------------- analysers


def _nr_cl(options: Options) -> tuple[int, float]:
    return int(options["num_resamples"]), float(options["conf_level"])


def _analyse_sobol(problem: Problem, X: np.ndarray, Y: np.ndarray, options: Options,
                   seed: int) -> Mapping[str, Any]:
    from SALib.analyze import sobol  # here: start-up time (see the module docstring)

    nr, cl = _nr_cl(options)
    return sobol.analyze(problem, Y, calc_second_order=bool(options["second_order"]),
                         num_resamples=nr, conf_level=cl, seed=seed)


def _analyse_fast(problem: Problem, X: np.ndarray, Y: np.ndarray, options: Options,
                  seed: int) -> Mapping[str, Any]:
    """Each curve set analysed by SALib; the mean over sets, a t interval from their spread.

    With one curve set, SALib's bootstrap of the curve: indicative only (SALib#649).
    """
    from SALib.analyze import fast  # here: start-up time (see the module docstring)
    from scipy.stats import t as t_dist

    nr, cl = _nr_cl(options)
    curves = int(options["fast_curves"])
    sets = [fast.analyze(problem, part, M=int(options["M"]), num_resamples=nr,
                         conf_level=cl, seed=seed)
            for part in np.split(Y, curves)]
    if curves == 1:
        return sets[0]
    res = {}
    for ix in ("S1", "ST"):
        vals = np.array([np.asarray(r[ix], dtype="float64") for r in sets])
        res[ix] = vals.mean(axis=0)
        res[f"{ix}_conf"] = (t_dist.ppf(0.5 + cl / 2, curves - 1)
                             * vals.std(axis=0, ddof=1) / np.sqrt(curves))
    return res


def _analyse_morris(problem: Problem, X: np.ndarray, Y: np.ndarray, options: Options,
                    seed: int) -> Mapping[str, Any]:
    from SALib.analyze import morris  # here: start-up time (see the module docstring)

    nr, cl = _nr_cl(options)
    return morris.analyze(problem, X, Y, num_resamples=nr, conf_level=cl,
                          num_levels=int(options["num_levels"]), seed=seed)


def _analyse_rbd_fast(problem: Problem, X: np.ndarray, Y: np.ndarray, options: Options,
                      seed: int) -> Mapping[str, Any]:
    from SALib.analyze import rbd_fast  # here: start-up time (see the module docstring)

    nr, cl = _nr_cl(options)
    return rbd_fast.analyze(problem, X, Y, M=int(options["M"]), num_resamples=nr,
                            conf_level=cl, seed=seed)


def _analyse_delta(problem: Problem, X: np.ndarray, Y: np.ndarray, options: Options,
                   seed: int) -> Mapping[str, Any]:
    from SALib.analyze import delta  # here: start-up time (see the module docstring)

    nr, cl = _nr_cl(options)
    res = dict(delta.analyze(problem, X, Y, num_resamples=nr, conf_level=cl, seed=seed))
    if "delta" not in res:  # SALib >= 1.6 names Plischke's delta "delta_raw"
        res["delta"], res["delta_conf"] = res["delta_raw"], res["delta_raw_conf"]
    return res


def _analyse_pawn(problem: Problem, X: np.ndarray, Y: np.ndarray, options: Options,
                  seed: int) -> Mapping[str, Any]:
    """SALib's PAWN, with a normal interval from a bootstrap over design rows (SALib has none)."""
    from SALib.analyze import pawn  # here: start-up time (see the module docstring)
    from scipy.stats import norm

    nr, cl = _nr_cl(options)
    s = int(options["S"])
    res = dict(pawn.analyze(problem, X, Y, S=s, seed=seed))
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(nr):
        i = rng.integers(0, len(Y), len(Y))
        boot.append(np.asarray(pawn.analyze(problem, X[i], Y[i], S=s, seed=seed)["median"],
                               dtype="float64"))
    res["median_conf"] = norm.ppf(0.5 + cl / 2) * np.std(boot, axis=0, ddof=1)
    return res


# --------------------------------------------------------------------------- registries


DESIGNS: dict[str, DesignMethod] = {
    "grid": DesignMethod(
        label="full grid", sampler=None, unit_rows=None, default_sample_size=None,
        needs=None, convergence_minimum=None, analysers=()),
    "latin": DesignMethod(
        label="Latin hypercube", sampler=_sample_latin, unit_rows=lambda k, o: 1,
        default_sample_size=500, needs=_need_at_least(2, "latin", "runs"),
        convergence_minimum=lambda o: max(DELTA_MINIMUM, 4 * int(o["M"]) + 2, 2 * int(o["S"])),
        analysers=("rbd_fast", "delta", "pawn"), analysis_needs=_need_latin),
    "sobol": DesignMethod(
        label="Sobol'", sampler=_sample_sobol,
        unit_rows=lambda k, o: 2 * k + 2 if o["second_order"] else k + 2,
        default_sample_size=256, needs=_need_sobol, convergence_minimum=lambda o: 4,
        analysers=("sobol",)),
    "morris": DesignMethod(
        label="Morris", sampler=_sample_morris, unit_rows=lambda k, o: k + 1,
        default_sample_size=20, needs=_need_at_least(2, "morris", "trajectories"),
        convergence_minimum=lambda o: 2, analysers=("morris",)),
    "fast": DesignMethod(
        label="eFAST", sampler=_sample_fast, unit_rows=None, default_sample_size=257,
        needs=_need_fast, convergence_minimum=None, analysers=("fast",)),
    "rbd_fast": DesignMethod(
        label="RBD-FAST", sampler=_sample_latin, unit_rows=lambda k, o: 1,
        default_sample_size=500, needs=_need_rbd_fast,
        convergence_minimum=lambda o: 4 * int(o["M"]) + 2, analysers=("rbd_fast",)),
    "pawn": DesignMethod(
        label="PAWN", sampler=_sample_latin, unit_rows=lambda k, o: 1, default_sample_size=500,
        needs=_need_pawn, convergence_minimum=lambda o: 2 * int(o["S"]), analysers=("pawn",)),
    "delta": DesignMethod(
        label="delta moment-independent", sampler=_sample_latin, unit_rows=lambda k, o: 1,
        default_sample_size=500, needs=_need_delta,
        convergence_minimum=lambda o: DELTA_MINIMUM, analysers=("delta",)),
}
"""Designs by the name an experiment file gives: a full grid, a Latin hypercube, and SALib's
sampler for each method (RBD-FAST, PAWN and delta analyse a Latin hypercube)."""

ANALYSERS: dict[str, AnalysisMethod] = {
    "sobol": AnalysisMethod(
        label="Sobol'", analyse=_analyse_sobol, indices=(("S1", "S1_conf"), ("ST", "ST_conf")),
        pair_indices=(("S2", "S2_conf"),), main=("S1", "ST")),
    "morris": AnalysisMethod(
        label="Morris", analyse=_analyse_morris,
        indices=(("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None)),
        main=("mu_star",), scaled_by_largest=True),
    "fast": AnalysisMethod(
        label="eFAST", analyse=_analyse_fast, indices=(("S1", "S1_conf"), ("ST", "ST_conf")),
        main=("S1", "ST")),
    "rbd_fast": AnalysisMethod(
        label="RBD-FAST", analyse=_analyse_rbd_fast, indices=(("S1", "S1_conf"),),
        main=("S1",)),
    "pawn": AnalysisMethod(
        label="PAWN", analyse=_analyse_pawn,
        indices=(("median", "median_conf"), ("mean", None), ("maximum", None)),
        main=("median",)),
    "delta": AnalysisMethod(
        label="delta moment-independent", analyse=_analyse_delta,
        indices=(("delta", "delta_conf"), ("S1", "S1_conf")), main=("delta",)),
}
"""SALib's analysers by the name the indices table's ``method`` column gives."""

NOT_SUPPORTED: dict[str, str] = {
    "saltelli": "use 'sobol' (SALib deprecated the Saltelli sampler)",
    "dgsm": "DGSM needs derivative designs that a stochastic model cannot give",
    "hdmr": "not supported yet",
    "ff": "fractional factorial: not supported; use 'grid' or 'morris'",
    "finite_diff": "not supported; use 'morris'",
    "enhanced_hdmr": "not supported yet",
}
"""SALib methods an experiment file may name that have no design here, and why."""


def check_sample_size(design: str, n: int, options: Options, *, source: str | None,
                      key: str, analysed: bool = False) -> None:
    """Check that a design can use sample size ``n`` (``analysed``: for its sensitivity
    indices too); the message says what it needs.

    Raises:
        InputError: naming the file and key.
    """
    method = DESIGNS[design]
    needs = method.analysis_needs if analysed and method.analysis_needs else method.needs
    need = needs(n, options) if needs else "a grid has no sample size"
    if need:
        raise InputError(f"sample size {n} cannot be {'analysed' if analysed else 'used'}: "
                         f"{need}", source=source, key=key)
