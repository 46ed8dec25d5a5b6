"""Statistics shared by comparisons and validation: the bootstrap confidence interval of a mean."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr, ndtri

N_BOOT = 4000
"""Bootstrap resamples per interval."""

CI_LEVEL = 0.95
"""Confidence level of every interval in comparisons and reports."""


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    level: float = CI_LEVEL,
    method: str = "bca",
) -> tuple[float, float]:
    """Bootstrap confidence interval for the mean of ``values``.

    Args:
        values: Paired differences (one per seed); NaNs must be removed first.
        rng: The generator that draws resamples (pass a seeded one).
        n_boot: Number of resamples.
        level: Confidence level in (0, 1).
        method: ``"bca"`` (bias-corrected and accelerated; Efron 1987) or
            ``"percentile"``. BCa falls back to the percentile interval when
            its corrections are undefined (all resampled means equal, or the
            jackknife has no spread).

    Returns:
        ``(low, high)``; both equal the mean when two or more values are all equal,
        and both are NaN when there are fewer than two values (one value says nothing
        about how far the mean may be from it).

    References:
        Efron, B. (1987). Better bootstrap confidence intervals. JASA 82:171-185.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return (math.nan, math.nan)
    theta = float(x.mean())
    if np.all(x == x[0]):
        return (theta, theta)
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = x[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo_q, hi_q = alpha, 1.0 - alpha
    if method == "bca":
        below = np.mean(boot < theta) + 0.5 * np.mean(boot == theta)
        jack = (x.sum() - x) / (n - 1)
        dev = jack.mean() - jack
        denom = 6.0 * float(np.sum(dev**2)) ** 1.5
        if 0.0 < below < 1.0 and denom > 0.0:
            z0 = float(ndtri(below))
            a = float(np.sum(dev**3)) / denom
            z = ndtri(np.array([lo_q, hi_q]))
            adj = ndtr(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
            if np.all(np.isfinite(adj)):
                lo_q, hi_q = float(adj[0]), float(adj[1])
    elif method != "percentile":
        raise ValueError(f"unknown bootstrap method {method!r}")
    low, high = np.quantile(boot, [lo_q, hi_q])
    return (float(low), float(high))
