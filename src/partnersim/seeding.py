"""Seeds: master seed -> replicate seeds (shared across scenarios) and named streams in a run."""

from __future__ import annotations

import numpy as np

STREAMS: tuple[str, ...] = (
    "population",  # initial staff attributes
    "meet",  # attendance and partner choice
    "communicate",  # message reach
    "deliberate",  # proposal noise
    "work",  # joint tasks, success, hidden-agenda reveals
    "trust",  # misreading noise
    "turnover",  # departures and newcomers' attributes
    "health",  # population-health indicator noise
    "shocks",  # choice of which member a shock removes
)
"""Each random process draws from its own stream, so switching one process off or
changing how much it draws leaves the others' draws unchanged."""

DEFAULT_SEED = 20261126
"""Master seed of an input file that does not give one; every shipped scenario uses it, so
that ``compare`` pairs their runs."""

MAX_SEED = 2**63 - 1
"""Largest seed, master or replicate (seeds are signed 64-bit integers in the results tables)."""


def replicate_seeds(master: int, n: int) -> list[int]:
    """Seeds for replicates 0..n-1; replicate i gets the same seed in every scenario.

    Seeds are integers in ``[0, MAX_SEED]`` (a 64-bit state shifted right by one bit), so
    they survive Parquet and JSON intact.
    """
    children = np.random.SeedSequence(master).spawn(n)
    return [int(c.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def named_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per named random process of a run."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    pairs = zip(STREAMS, children, strict=True)
    return {name: np.random.Generator(np.random.PCG64(ss)) for name, ss in pairs}
