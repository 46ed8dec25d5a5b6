"""The best relationship-time share at one point of the parameters, shaped as a harness model.

An experiment names ``model = "partnersim.study.best_share:best_share"`` and varies any
of partnersim's parameters; at each design point this runs the partnership model at
every share in ``SHARES``, on the same seeds (common random numbers), and reports the
share with the highest mean output relative to partners working alone. Sensitivity
indices of ``best_share`` then say which assumptions move the answer to the model's
central question (docs/validation.md, "How the best share depends on the assumptions").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from partnersim.model.simulate import simulate
from partnersim.seeding import replicate_seeds

SHARES: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
"""The relationship-time shares compared at each point (``relationship_time``)."""
SEEDS_PER_SHARE = 2
"""Runs per share, on seeds shared by every share of the point."""


def best_share(*, seed: int, **params: Any) -> dict[str, float]:
    """Run the model at each share of ``SHARES`` with ``params`` and ``SEEDS_PER_SHARE``
    common seeds drawn from ``seed``.

    Returns, for the whole run (``output_vs_alone``: ten-year output relative to working
    alone, the cost of building relationships included) and for the long run
    (``output_last_year``):
        ``best_share`` / ``best_share_last_year``: the share with the highest mean (the
        lowest such share on a tie);
        ``gain_over_none`` / ``gain_over_none_last_year``: that mean relative to the mean at
        share 0, minus 1 (0 when no share beats none).
    """
    if "relationship_time" in params:
        raise ValueError("best_share sets relationship_time itself: do not vary or fix it")
    seeds = replicate_seeds(seed, SEEDS_PER_SHARE)
    runs = [[simulate({**params, "relationship_time": share}, seed=s, measures=[]).summary
             for s in seeds] for share in SHARES]
    out: dict[str, float] = {}
    for output, suffix in (("output_vs_alone", ""), ("output_last_year", "_last_year")):
        means = np.array([np.mean([r[output] for r in at_share]) for at_share in runs])
        best = int(np.argmax(means))  # the first (lowest) share on a tie
        out[f"best_share{suffix}"] = SHARES[best]
        out[f"gain_over_none{suffix}"] = float(means[best] / means[0] - 1.0)
    return out
