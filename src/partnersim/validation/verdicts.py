"""Verdicts: paired per-seed effects summarised into whether a pattern holds.

A pattern *holds* when its effect points the expected way in at least 90% of paired
seeds and the bootstrap confidence interval of the mean paired effect excludes zero
(DESIGN.md section 3); a pattern with several parts needs every part to hold. A pattern's
*verdict* (``PatternVerdict``) gathers its results at several master seeds: it holds only
if it holds at every one, so no verdict rests on the luck of one master seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from partnersim.stats import CI_LEVEL, bootstrap_ci

DIRECTION_SHARE = 0.9
"""Share of paired seeds whose effect must point the expected way."""
BOOTSTRAP_DRAWS = 2000
"""Bootstrap resamples per interval (the recorded validation results use 2000)."""


@dataclass(frozen=True)
class PatternResult:
    """The outcome of one pattern check.

    Attributes:
        pattern: id, e.g. "SF2".
        measured: what the effect is, in words.
        effect: mean paired effect (positive = in the expected direction).
        ci_low, ci_high: bootstrap confidence interval of the mean effect.
        share_expected: share of paired seeds whose effect is positive.
        n_seeds: number of paired seeds.
        holds: the direction holds in >= 90% of seeds and the CI excludes zero.
        details: further figures (per-condition means and sub-effects).
    """

    pattern: str
    measured: str
    effect: float
    ci_low: float
    ci_high: float
    share_expected: float
    n_seeds: int
    holds: bool
    details: Mapping[str, float]


@dataclass(frozen=True)
class PatternVerdict:
    """One pattern judged at several master seeds.

    Attributes:
        pattern: id, e.g. "SF2".
        kind: "mechanism" or "emergent" (the pattern file's ``kind``).
        master_seeds: the master seeds, the file's first.
        results: the result at each master seed, in the same order.
    """

    pattern: str
    kind: str
    master_seeds: tuple[int, ...]
    results: tuple[PatternResult, ...]

    @property
    def result(self) -> PatternResult:
        """The result at the file's master seed (the effect and interval reported)."""
        return self.results[0]

    @property
    def held_at(self) -> int:
        """At how many master seeds the pattern holds."""
        return sum(r.holds for r in self.results)

    @property
    def holds(self) -> bool:
        """Whether the pattern holds at every master seed."""
        return self.held_at == len(self.results)


def mean_ci(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Percentile bootstrap interval (``CI_LEVEL``) of the mean: ``BOOTSTRAP_DRAWS``
    resamples drawn from a generator seeded 0, so a verdict is the same on every call."""
    return bootstrap_ci(values, rng=np.random.default_rng(0), n_boot=BOOTSTRAP_DRAWS,
                        level=CI_LEVEL, method="percentile")


def judge(pattern: str, measured: str, effects: Sequence[float],
          details: Mapping[str, float] | None = None, *,
          all_of: Sequence[np.ndarray] | Mapping[str, np.ndarray] = ()) -> PatternResult:
    """Summarise paired effects (positive = expected direction) into a verdict.

    ``all_of`` lists (or names) further per-seed effect arrays that must each hold as well
    (for patterns with several parts); the reported effect is the first one. The share
    and CI lower bound of each part go into the details (``<part>_share``, ``<part>_ci_low``).
    """
    effects = np.asarray(effects, dtype=float)
    low, high = mean_ci(effects)
    share = float(np.mean(effects > 0))
    holds = share >= DIRECTION_SHARE and low > 0
    details = dict(details or {})
    parts = all_of.items() if isinstance(all_of, Mapping) else (
        (f"part{k + 2}", v) for k, v in enumerate(all_of))
    for name, extra in parts:
        extra = np.asarray(extra, dtype=float)
        e_low, _ = mean_ci(extra)
        e_share = float(np.mean(extra > 0))
        details[f"{name}_share"] = e_share
        details[f"{name}_ci_low"] = e_low
        holds = holds and e_share >= DIRECTION_SHARE and e_low > 0
    return PatternResult(pattern, measured, float(effects.mean()), low, high, share,
                         len(effects), bool(holds), details)


def parts_held(result: PatternResult) -> str:
    """'k/m': of the m parts beyond the headline effect, the k whose share and CI hold."""
    names = [k[: -len("_share")] for k in result.details if k.endswith("_share")
             and f"{k[: -len('_share')]}_ci_low" in result.details]
    ok = sum(result.details[f"{n}_share"] >= DIRECTION_SHARE and result.details[f"{n}_ci_low"] > 0
             for n in names)
    return f"{ok}/{len(names)}" if names else "-"
