"""Compiled numerical helpers shared by the stages and the measures.

The stages' inner loops are compiled with numba (docs/decisions.md, D13). Sums
inside them use numpy's own pairwise summation, so a compiled stage gives the
same floating-point result as the numpy expression it replaced and runs stay
reproducible to the bit across the two.
"""

from __future__ import annotations

import numba
import numpy as np

compiled = numba.njit(cache=True)
"""Decorator for the model's compiled kernels (machine code cached beside the source)."""


@compiled
def _block(a, lo, n):  # pragma: no cover - compiled
    """numpy's pairwise_sum on a block of at most 128 values."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]  # eight interleaved accumulators
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@compiled
def total(a):  # pragma: no cover - compiled
    """``a.sum()`` for a float array, bit for bit: numpy halves a longer array (at a multiple
    of 8) and adds the two halves' sums; this walks the same tree with an explicit stack
    (numba cannot cache recursive functions)."""
    if len(a) <= 128:
        return 0.0 + _block(a, 0, len(a))
    lo = np.empty(64, dtype=np.int64)  # segments still to sum, and how far each has got
    size = np.empty(64, dtype=np.int64)
    stage = np.zeros(64, dtype=np.int64)
    sums = np.empty(64)
    lo[0], size[0], top, done = 0, len(a), 0, 0
    while top >= 0:
        m = size[top]
        half = m // 2 - (m // 2) % 8
        if m <= 128:
            sums[done] = _block(a, lo[top], m)
            done += 1
            top -= 1
        elif stage[top] < 2:  # push the left half, then the right half
            stage[top] += 1
            first = stage[top] == 1
            lo[top + 1] = lo[top] if first else lo[top] + half
            size[top + 1] = half if first else m - half
            stage[top + 1] = 0
            top += 1
        else:  # both halves summed: combine them
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
            top -= 1
    return 0.0 + sums[0]


@compiled
def mean(a):  # pragma: no cover - compiled
    """``a.mean()`` for a non-empty float array, bit for bit."""
    return total(a) / len(a)


@compiled
def std(a):  # pragma: no cover - compiled
    """``a.std()`` for a non-empty float array, bit for bit."""
    centred = a - mean(a)
    return np.sqrt(total(centred * centred) / len(a))
