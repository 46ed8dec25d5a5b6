"""ABC-SMC with pyabc: the model as pyabc sees it, the sampler on partnersim's executors, and
the run that starts or resumes from pyabc's history database.

* Priors: uniform over each calibrated parameter's prior bounds (``spec.Prior``).
* Summaries: each target's measure (its mean over the target's months for a monthly one),
  averaged over ``replicates`` runs of the particle, each with its own seed.
* Distance: the Euclidean norm of the summaries' differences from the targets, each divided
  by the target's standard deviation (standardised summaries).
* Tolerances: each generation's is a quantile of the last generation's distances
  (``abc.epsilon_quantile``), or a fixed decreasing schedule (``abc.epsilon_schedule``: for
  a target most of the prior misses by the same distance, where quantiles stall); population
  sizes adapt to the posterior's spread
  (``abc.adaptive_population``, between ``min_population`` and ``max_population``).
* The history database (SQLite) is the record: a killed calibration is resumed from its last
  complete generation by running the same command again.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc
from pyabc.sampler import ConcurrentFutureSampler, SingleCoreSampler
from pyabc.weighted_statistics import effective_sample_size

from partnersim.calibration.spec import Calibration, Target
from partnersim.errors import InputError
from partnersim.model.simulate import simulate
from partnersim.params import make_params
from partnersim.run.executors import Pool
from partnersim.seeding import MAX_SEED

HISTORY = "history.db"
"""pyabc's history database in a calibration folder: every generation's particles, weights,
distances and summaries, the tolerances and sample counts."""

RUN_ID = 1
"""The one pyabc run a calibration folder holds."""


def target_value(target: Target, summary: Mapping[str, Any], timeseries: pd.DataFrame | None
                 ) -> float:
    """The target's measure in one run: an end-of-run output, or the mean of a monthly
    measure over the target's months (NaN if the run has none of them)."""
    if target.months is None:
        return float(summary[target.measure])
    first, last = target.months
    assert timeseries is not None
    rows = timeseries[(timeseries["month"] >= first) & (timeseries["month"] <= last)]
    return float(rows[target.measure].mean()) if len(rows) else float("nan")


class Simulator:
    """The model as pyabc calls it: parameter values in, the targets' summaries out.

    Each call runs ``replicates`` seeds drawn from numpy's global generator (which pyabc's
    samplers seed), with the calibration's fixed settings and the particle's values.
    Picklable, so that process pools and Dask workers can run it.
    """

    def __init__(self, calibration: Calibration):
        self.model = dict(calibration.model)
        self.targets = calibration.targets
        self.replicates = calibration.replicates
        self.measures = calibration.measures

    def run(self, values: Mapping[str, Any], seeds: Sequence[int]) -> dict[str, float]:
        """Mean of each target's measure over runs at ``values`` with ``seeds``."""
        params = make_params({**self.model, **{k: float(v) for k, v in values.items()}})
        sums = dict.fromkeys((t.name for t in self.targets), 0.0)
        for seed in seeds:
            result = simulate(params, seed=int(seed), measures=self.measures)
            for t in self.targets:
                sums[t.name] += target_value(t, result.summary, result.timeseries)
        return {name: total / len(seeds) for name, total in sums.items()}

    def __call__(self, values: Mapping[str, Any]) -> dict[str, float]:
        # pyabc's samplers seed numpy's global generator in each worker: draw from it
        seeds = np.random.randint(0, MAX_SEED, size=self.replicates, dtype=np.int64)  # noqa: NPY002
        return self.run(values, seeds)


def prior(calibration: Calibration) -> pyabc.Distribution:
    """Uniform priors over each calibrated parameter's bounds."""
    return pyabc.Distribution(**{p.parameter: pyabc.RV("uniform", p.lower, p.upper - p.lower)
                                 for p in calibration.priors})


def distance(calibration: Calibration) -> pyabc.PNormDistance:
    """Euclidean distance on summaries standardised by each target's standard deviation."""
    return pyabc.PNormDistance(p=2, fixed_weights={t.name: 1.0 / t.sd
                                                   for t in calibration.targets})


def observed(calibration: Calibration) -> dict[str, float]:
    return {t.name: float(t.value) for t in calibration.targets}


def sampler(pool: Pool | None) -> pyabc.sampler.Sampler:
    """In this process (``pool`` None, reproducible from the seed), or on the pool's workers
    (a local process pool or a Dask cluster: partnersim's executors)."""
    if pool is None:
        return SingleCoreSampler()
    return ConcurrentFutureSampler(cfuture_executor=pool.executor,
                                   client_max_jobs=max(2, 2 * pool.workers), batch_size=1)


def build(calibration: Calibration, pool: Pool | None) -> pyabc.ABCSMC:
    """The ABC-SMC analysis of a calibration (not yet attached to a database)."""
    abc = calibration.abc
    if abc.adaptive_population:
        population: Any = pyabc.AdaptivePopulationSize(
            abc.population, mean_cv=0.05, max_population_size=abc.max_population,
            min_population_size=abc.min_population)
    else:
        population = pyabc.ConstantPopulationSize(abc.population)
    return pyabc.ABCSMC(Simulator(calibration), prior(calibration), distance(calibration),
                        population_size=population,
                        eps=pyabc.ListEpsilon(list(abc.epsilon_schedule))
                        if abc.epsilon_schedule
                        else pyabc.QuantileEpsilon(alpha=abc.epsilon_quantile),
                        sampler=sampler(pool))


def open_history(db: Path) -> pyabc.History:
    """pyabc's history in ``db``, checked readable.

    Raises:
        InputError: naming the database, when it cannot be read as a pyabc history.
    """
    try:
        history = pyabc.History(f"sqlite:///{db}", _id=RUN_ID)
        history.max_t  # noqa: B018 (touches the tables: a corrupt file fails here)
        history.get_all_populations()
    except Exception as exc:  # sqlalchemy raises many kinds for a damaged file
        text = " ".join(str(exc).split())[:160]
        raise InputError(f"unreadable calibration database ({type(exc).__name__}: {text}); "
                         "use --overwrite to start afresh", source=str(db)) from None
    return history


def generations_done(db: Path) -> int:
    """Complete generations stored in the history (0 for a new database)."""
    if not db.is_file():
        return 0
    return int(open_history(db).max_t) + 1


def run(calibration: Calibration, db: Path, pool: Pool | None, *,
        progress: Callable[[str], None] | None = None) -> pyabc.History:
    """Start ABC-SMC in ``db``, or resume it from its last complete generation.

    Runs until ``abc.generations`` generations are stored, the tolerance reaches
    ``abc.min_epsilon`` or the acceptance rate falls below ``abc.min_acceptance``.
    """
    done = generations_done(db)
    abc = build(calibration, pool)
    with _logging(progress):
        if done:
            abc.load(f"sqlite:///{db}", RUN_ID)
        else:
            db.unlink(missing_ok=True)  # started, but no generation completed: start afresh
            abc.new(f"sqlite:///{db}", observed(calibration),
                    meta_info={"calibration": calibration.name,
                               "fingerprint": calibration.fingerprint()})
        remaining = calibration.abc.generations - done
        if remaining <= 0:
            return abc.history
        # numpy's global generator draws the particles (pyabc's samplers use it): seeded per
        # generation so that a resumed serial calibration continues as an unbroken one would
        np.random.seed((calibration.seed + 7919 * done) % 2**32)  # noqa: NPY002
        return abc.run(minimum_epsilon=calibration.abc.min_epsilon,
                       max_nr_populations=remaining,
                       min_acceptance_rate=calibration.abc.min_acceptance)


class _Progress(logging.Handler):
    def __init__(self, show: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.show = show

    def emit(self, record: logging.LogRecord) -> None:
        self.show(record.getMessage())


class _logging:
    """pyabc's progress lines (generation, tolerance, acceptances) sent to ``show`` alone (its
    own handlers are set aside meanwhile); with ``show`` None, only its warnings."""

    def __init__(self, show: Callable[[str], None] | None):
        self.loggers = [logging.getLogger(n) for n in ("ABC", "pyabc")]
        self.handler: logging.Handler = _Progress(show) if show else logging.NullHandler()
        self.saved: list[tuple[int, bool, list[logging.Handler]]] = []
        self.quiet = show is None

    def __enter__(self) -> None:
        for lg in self.loggers:
            self.saved.append((lg.level, lg.propagate, list(lg.handlers)))
            for h in list(lg.handlers):
                lg.removeHandler(h)
            lg.setLevel(logging.WARNING if self.quiet else logging.INFO)
            lg.propagate = False
            lg.addHandler(self.handler)

    def __exit__(self, *exc: object) -> None:
        for lg, (level, propagate, handlers) in zip(self.loggers, self.saved, strict=True):
            lg.removeHandler(self.handler)
            for h in handlers:
                lg.addHandler(h)
            lg.setLevel(level)
            lg.propagate = propagate


def show_on_stderr(line: str) -> None:
    print(f"calibrate: {line}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reading it back


def diagnostics(history: pyabc.History) -> pd.DataFrame:
    """One row per generation: tolerance, particles, simulations, acceptance rate, effective
    sample size (of the importance weights)."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for row in pops.itertuples():
        _, w = history.get_distribution(m=0, t=int(row.t))
        rows.append({"generation": int(row.t), "epsilon": float(row.epsilon),
                     "particles": int(row.particles), "simulations": int(row.samples),
                     "acceptance_rate": float(row.particles) / float(row.samples),
                     "ess": float(effective_sample_size(w))})
    return pd.DataFrame(rows, columns=["generation", "epsilon", "particles", "simulations",
                                       "acceptance_rate", "ess"])


def posterior(history: pyabc.History, names: Sequence[str]) -> pd.DataFrame:
    """The last generation's weighted particles: one column per parameter, ``weight``
    (summing to 1) and ``generation``."""
    t = int(history.max_t)
    df, w = history.get_distribution(m=0, t=t)
    out = df.reset_index(drop=True)[list(names)].astype("float64")
    out["weight"] = np.asarray(w, dtype="float64") / float(np.sum(w))
    out["generation"] = t
    return out


def weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                       qs: Sequence[float]) -> list[float]:
    """Quantiles of a weighted sample (the inverse of its weighted empirical CDF, midpoints)."""
    order = np.argsort(values)
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(q, cdf, v)) for q in qs]


def summarise_posterior(post: pd.DataFrame, calibration: Calibration) -> pd.DataFrame:
    """Per parameter: prior bounds, weighted mean, sd, median and 90% interval, the
    interval's width as a share of the prior's (1: the targets taught nothing)."""
    rows = []
    for p in calibration.priors:
        v, w = post[p.parameter].to_numpy(), post["weight"].to_numpy()
        mean = float(np.sum(w * v))
        sd = math.sqrt(float(np.sum(w * (v - mean) ** 2)))
        q05, q50, q95 = weighted_quantiles(v, w, (0.05, 0.5, 0.95))
        row = {"parameter": p.parameter, "prior_lower": p.lower, "prior_upper": p.upper,
               "prior_origin": p.origin, "mean": mean, "sd": sd, "median": q50,
               "q05": q05, "q95": q95, "width_share": (q95 - q05) / (0.9 * (p.upper - p.lower))}
        if calibration.truth is not None:
            truth = float(calibration.truth.params[p.parameter])
            row["truth"] = truth
            row["covered"] = bool(q05 <= truth <= q95)
        rows.append(row)
    return pd.DataFrame(rows)
