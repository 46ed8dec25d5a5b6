"""Functions with known sensitivity indices, shaped as harness models (keywords, ``seed=``).

They let the sweep and sensitivity harness be checked apart from the partnership
model: an experiment file names one as ``model = "partnersim.study.testfunctions:ishigami"``
and gives the parameter ranges. The functions wrap SALib's own test functions
(``SALib.test_functions``); the analytic indices are computed here in closed form.

References:
    Ishigami, T. & Homma, T. (1990). An importance quantification technique in
    uncertainty analysis for computer models. ISUMA '90.
    Saltelli, A. et al. (2010). Variance based sensitivity analysis of model
    output. Computer Physics Communications 181:259-270 (Sobol G function).
"""

from __future__ import annotations

import math

import numpy as np
from SALib.test_functions import Ishigami, Sobol_G

ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1
SOBOL_G_A: tuple[float, ...] = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)
"""SALib's default coefficients of the G function (8 inputs on [0, 1])."""


def ishigami(x1: float, x2: float, x3: float, *, seed: int = 0,
             noise_sd: float = 0.0) -> dict[str, float]:
    """The Ishigami function (inputs uniform on [-pi, pi]); ``noise_sd`` adds seeded noise.

    Returns:
        ``{"y": f(x)}``, plus ``N(0, noise_sd)`` noise drawn from ``seed`` and the
        inputs when ``noise_sd > 0`` (a stochastic model with a known noise
        variance, independent across design points).
    """
    x = np.array([x1, x2, x3], dtype="float64")
    y = float(Ishigami.evaluate(x[None, :], A=ISHIGAMI_A, B=ISHIGAMI_B)[0])
    if noise_sd > 0:
        # the stream depends on the inputs too: noise independent across design points
        rng = np.random.default_rng([seed, *x.view(np.uint64).tolist()])
        y += float(rng.normal(0.0, noise_sd))
    return {"y": y}


def ishigami_variance(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> float:
    """Variance of the Ishigami function with inputs uniform on [-pi, pi]."""
    return a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> dict[str, np.ndarray]:
    """Analytic first-order (``S1``) and total (``ST``) indices of x1, x2, x3."""
    v = ishigami_variance(a, b)
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    return {"S1": s1, "ST": st}


def sobol_g(x1: float, x2: float, x3: float, x4: float, x5: float, x6: float, x7: float,
            x8: float, *, seed: int = 0) -> dict[str, float]:
    """Sobol's G function of 8 inputs on [0, 1] with SALib's default coefficients."""
    x = np.array([[x1, x2, x3, x4, x5, x6, x7, x8]], dtype="float64")
    return {"y": float(Sobol_G.evaluate(x, a=np.array(SOBOL_G_A))[0])}


def sobol_g_indices(a: tuple[float, ...] = SOBOL_G_A) -> dict[str, np.ndarray]:
    """Analytic ``S1`` and ``ST`` of the G function: V_i = 1 / (3 (1 + a_i)^2)."""
    vi = 1.0 / (3.0 * (1.0 + np.asarray(a, dtype="float64")) ** 2)
    total = float(np.prod(1.0 + vi) - 1.0)
    st = np.array([vi[i] * np.prod(np.delete(1.0 + vi, i)) for i in range(len(vi))]) / total
    return {"S1": vi / total, "ST": st}


def morris_mu_star(f, bounds: list[tuple[float, float]], num_levels: int = 4) -> np.ndarray:
    """Exact mean absolute elementary effect of each input on Morris's level grid.

    The expectation of ``|f(x + delta e_i) - f(x)| / delta`` (``delta`` in unit
    scale, ``p / (2 (p - 1))`` for ``p`` levels) over the base points a Morris
    design draws: ``x_i`` on the lower levels, the other inputs on any level, all
    equally likely. Enumerated exhaustively, so it is the value Morris's ``mu*``
    estimates, computed without SALib's sampler or analyser.

    Args:
        f: A vectorised function: rows of inputs (in their own scale) -> outputs,
            e.g. ``SALib.test_functions.Ishigami.evaluate``.
        bounds: ``(lower, upper)`` of each input.
        num_levels: Levels of the Morris grid (even).
    """
    k = len(bounds)
    lo = np.array([b[0] for b in bounds], dtype="float64")
    width = np.array([b[1] - b[0] for b in bounds], dtype="float64")
    levels = np.arange(num_levels) / (num_levels - 1)
    delta = num_levels / (2 * (num_levels - 1))
    lower = np.arange(num_levels)[levels + delta <= 1 + 1e-12]
    idx = np.stack(np.meshgrid(*[np.arange(num_levels)] * k, indexing="ij"),
                   axis=-1).reshape(-1, k)
    mu_star = np.zeros(k)
    for i in range(k):
        base = levels[idx[np.isin(idx[:, i], lower)]]
        step = base.copy()
        step[:, i] += delta
        y0 = np.asarray(f(lo + width * base), dtype="float64")
        y1 = np.asarray(f(lo + width * step), dtype="float64")
        mu_star[i] = float(np.mean(np.abs(y1 - y0)) / delta)
    return mu_star


def linear_over_time(x1: float, x2: float, *, seed: int = 0, months: int = 24
                     ) -> dict[str, object]:
    """A model whose driver changes over time: ``y_t = x1`` in year 1, ``x2`` after.

    With independent inputs, the time-resolved first-order and total indices are
    ``(1, 0)`` in the first year and ``(0, 1)`` in every later one.

    Returns:
        ``{"y_end": y at the last month, "y": monthly series}``.
    """
    month = np.arange(months)
    series = np.where(month < 12, x1, x2).astype("float64")
    return {"y_end": float(series[-1]), "y": series}


def always_fails_above(x1: float, x2: float, *, seed: int = 0,
                       threshold: float = 0.9) -> dict[str, float]:
    """``x1 + x2``, but raises ``ValueError`` when ``x1 > threshold`` (a failing run)."""
    if x1 > threshold:
        raise ValueError(f"x1={x1:.3f} is above {threshold}")
    return {"y": x1 + x2}


def random_walk(drift: float, volatility: float, *, seed: int = 0, months: int = 24,
                fail_above: float | None = None, delay: float = 0.0) -> dict[str, object]:
    """A stochastic model with a monthly series, for runner tests.

    ``y_t`` is a Gaussian random walk with the given drift and volatility, drawn
    from ``seed``. Raises ``ValueError`` when ``drift > fail_above`` (a failing run);
    sleeps ``delay`` seconds (a slow run).

    Returns:
        ``{"y_end", "y_max", "crossed" (bool), "y" (monthly series)}``.
    """
    if fail_above is not None and drift > fail_above:
        raise ValueError(f"drift {drift:.3f} is above {fail_above}")
    if delay > 0:
        import time

        time.sleep(delay)
    rng = np.random.default_rng(seed)
    y = np.cumsum(drift + volatility * rng.standard_normal(months))
    return {"y_end": float(y[-1]), "y_max": float(y.max()), "crossed": bool(y.max() > 1.0),
            "y": y}


def exits_while_file_exists(x1: float, path: str, *, seed: int = 0) -> dict[str, float]:
    """``x1``, but the whole process exits (a crashed worker) when ``x1 > 0.25`` and ``path``
    exists: for testing that the runner survives dead workers."""
    import os

    if x1 > 0.25 and os.path.exists(path):
        os._exit(1)
    return {"y": x1}


SWITCH_THRESHOLD = 0.6
"""Where the best policy of ``policy_switch`` changes: ``x1`` below it, share 0.1 is best;
from it up, share 0.3."""


def policy_switch(share: float, x1: float, x2: float, *, seed: int = 0,
                  noise_sd: float = 0.0, **inert: float) -> dict[str, float]:
    """A decision problem with a known answer: the best ``share`` switches at a threshold of
    ``x1``; ``x2`` is inert, and so is any further keyword (``inert``: more uncertainties
    that do not matter).

    ``y = 1 - |share - optimum|`` with ``optimum = 0.1`` for ``x1 < SWITCH_THRESHOLD`` and
    ``0.3`` from it up (higher is better); ``cost = share`` (lower is better). With
    ``noise_sd > 0``, ``y`` gains ``N(0, noise_sd)`` noise drawn from ``seed`` and ``share``
    (a replicate's noise differs between policies, so paired replicates still vary).

    Among the shares 0.1, 0.2 and 0.3, the regret of 0.2 is 0.1 in every future, while 0.1
    and 0.3 have regret 0 on their side of the threshold and 0.2 on the other.
    """
    optimum = 0.1 if x1 < SWITCH_THRESHOLD else 0.3
    y = 1.0 - abs(share - optimum)
    if noise_sd > 0:
        rng = np.random.default_rng([seed, int(round(share * 1e6))])
        y += float(rng.normal(0.0, noise_sd))
    return {"y": y, "cost": float(share)}
