"""The contact network: ties between ordered pairs of staff, held as arrays sorted by (src, dst).

A tie i -> j exists once i and j have met; it carries i's trust in j, the
reputation damage j has done to i's trust (a ceiling on trust after an
integrity breach), familiarity, and the month it formed. Every operation costs
O(ties) or less, so a month never costs O(staff^2). The loops that insert, drop
and look up ties are compiled with numba (docs/decisions.md, D13): in numpy they
took a dozen array passes and temporaries each, which dominated a month at the
default size.
"""

from __future__ import annotations

import numpy as np

from partnersim.numerics import compiled

FIELDS = ("key", "src", "dst", "trust", "damage", "familiarity", "formed", "last_met")
"""Every per-tie array, in the order the compiled kernels take them."""


class Ties:
    """Tie arrays kept sorted by ``key = src * n + dst`` (so each member's out-ties are contiguous).

    Attributes:
        key: src * n + dst, strictly increasing.
        src, dst: member rows.
        trust: trust of src in dst, in [0, 1 - damage].
        damage: reputation damage (integrity breaches), in [0, 1].
        familiarity: how well src knows dst, in [0, 1].
        formed: month the tie formed.
        last_met: month the pair last met.
        start: member i's out-ties are rows ``start[i]`` to ``start[i + 1] - 1``.
    """

    def __init__(self, n_staff: int):
        self.n = int(n_staff)
        self.key = np.empty(0, dtype=np.int64)
        self.src = np.empty(0, dtype=np.int64)
        self.dst = np.empty(0, dtype=np.int64)
        self.trust = np.empty(0)
        self.damage = np.empty(0)
        self.familiarity = np.empty(0)
        self.formed = np.empty(0, dtype=np.int64)
        self.last_met = np.empty(0, dtype=np.int64)
        self.start = np.zeros(self.n + 1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.key)

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, name) for name in FIELDS)

    def _set(self, arrays: tuple[np.ndarray, ...]) -> None:
        for name, values in zip(FIELDS, arrays, strict=True):
            setattr(self, name, values)
        self.start = _out_start(self.src, self.n)

    def find(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Row of each tie src -> dst, or -1 where there is none."""
        return _find(self.start, self.dst, np.asarray(src, dtype=np.int64),
                     np.asarray(dst, dtype=np.int64))

    def add(self, src: np.ndarray, dst: np.ndarray, trust: np.ndarray,
            familiarity: np.ndarray, month: int) -> None:
        """Insert new ties (the caller guarantees none exists yet and pairs are unique)."""
        if len(src) == 0:
            return
        q = np.asarray(src, dtype=np.int64) * self.n + np.asarray(dst, dtype=np.int64)
        order = np.argsort(q, kind="stable")
        self._set(_insert(*self._arrays(), q[order], np.asarray(trust, dtype=float)[order],
                          np.asarray(familiarity, dtype=float)[order], self.n, int(month)))

    def touch(self, rows: np.ndarray, gain: float, month: int) -> None:
        """The pairs in ``rows`` met this month: familiarity rises by ``gain`` of the gap to 1
        (once a month, however often a pair met) and ``last_met`` is stamped."""
        _touch(self.familiarity, self.last_met, np.asarray(rows, dtype=np.int64), gain, int(month))

    def remove_members(self, rows: np.ndarray) -> None:
        """Drop every tie to or from the given members (they left)."""
        if len(rows) == 0 or len(self.key) == 0:
            return
        gone = np.zeros(self.n, dtype=np.bool_)
        gone[rows] = True
        self._set(_compact(*self._arrays(), _touching(self.src, self.dst, gone)))

    def remove_lapsed(self, month: int, lapse_months: int) -> None:
        """Drop ties whose pair has not met for more than ``lapse_months``."""
        lapsed = self.last_met < month - lapse_months
        if lapsed.any():
            self._set(_compact(*self._arrays(), lapsed))

    def out_range(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end positions of each member's out-ties."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.start[rows], self.start[rows + 1]

    def mean_out_trust(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean trust each member holds in their contacts, and their out-degree."""
        return _mean_out_trust(self.src, self.trust, self.n)


# --- compiled kernels -------------------------------------------------------------------------

@compiled
def _out_start(src, n):  # pragma: no cover - compiled
    start = np.zeros(n + 1, dtype=np.int64)
    for r in range(len(src)):
        start[src[r] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    return start


@compiled
def _find(start, dst, q_src, q_dst):  # pragma: no cover - compiled
    """Binary search of each query among its source's out-ties (sorted by dst)."""
    rows = np.empty(len(q_src), dtype=np.int64)
    for k in range(len(q_src)):
        lo, hi, target = start[q_src[k]], start[q_src[k] + 1], q_dst[k]
        end = hi
        while lo < hi:
            mid = (lo + hi) >> 1
            if dst[mid] < target:
                lo = mid + 1
            else:
                hi = mid
        rows[k] = lo if lo < end and dst[lo] == target else -1
    return rows


@compiled
def _touching(src, dst, gone):  # pragma: no cover - compiled
    hit = np.empty(len(src), dtype=np.bool_)
    for r in range(len(src)):
        hit[r] = gone[src[r]] or gone[dst[r]]
    return hit

@compiled
def _insert(key, src, dst, trust, damage, familiarity, formed, last_met,
            new_key, new_trust, new_familiarity, n, month):  # pragma: no cover - compiled
    """Merge sorted new keys into the sorted store in one pass over every array."""
    m, k = len(key), len(new_key)
    key2, src2, dst2 = np.empty(m + k, np.int64), np.empty(m + k, np.int64), np.empty(m + k, np.int64)
    trust2, damage2, familiarity2 = np.empty(m + k), np.empty(m + k), np.empty(m + k)
    formed2, last_met2 = np.empty(m + k, np.int64), np.empty(m + k, np.int64)
    a = b = 0
    for r in range(m + k):
        if b < k and (a >= m or new_key[b] < key[a]):  # the next new tie goes here
            key2[r], src2[r], dst2[r] = new_key[b], new_key[b] // n, new_key[b] % n
            trust2[r], damage2[r], familiarity2[r] = new_trust[b], 0.0, new_familiarity[b]
            formed2[r] = last_met2[r] = month
            b += 1
        else:
            key2[r], src2[r], dst2[r] = key[a], src[a], dst[a]
            trust2[r], damage2[r], familiarity2[r] = trust[a], damage[a], familiarity[a]
            formed2[r], last_met2[r] = formed[a], last_met[a]
            a += 1
    return key2, src2, dst2, trust2, damage2, familiarity2, formed2, last_met2


@compiled
def _compact(key, src, dst, trust, damage, familiarity, formed, last_met,
             drop):  # pragma: no cover - compiled
    """The store without the rows flagged in ``drop``, in one pass."""
    m = len(key) - np.count_nonzero(drop)
    key2, src2, dst2 = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int64)
    trust2, damage2, familiarity2 = np.empty(m), np.empty(m), np.empty(m)
    formed2, last_met2 = np.empty(m, np.int64), np.empty(m, np.int64)
    w = 0
    for r in range(len(key)):
        if not drop[r]:
            key2[w], src2[w], dst2[w] = key[r], src[r], dst[r]
            trust2[w], damage2[w], familiarity2[w] = trust[r], damage[r], familiarity[r]
            formed2[w], last_met2[w] = formed[r], last_met[r]
            w += 1
    return key2, src2, dst2, trust2, damage2, familiarity2, formed2, last_met2


@compiled
def _touch(familiarity, last_met, rows, gain, month):  # pragma: no cover - compiled
    seen = np.zeros(len(familiarity), dtype=np.bool_)
    for r in rows:
        if not seen[r]:
            seen[r] = True
            familiarity[r] += gain * (1.0 - familiarity[r])
            last_met[r] = month


@compiled
def _mean_out_trust(src, trust, n):  # pragma: no cover - compiled
    total = np.zeros(n)
    deg = np.zeros(n, dtype=np.int64)
    for r in range(len(src)):
        total[src[r]] += trust[r]
        deg[src[r]] += 1
    mean = np.zeros(n)
    for i in range(n):
        if deg[i] > 0:
            mean[i] = total[i] / deg[i]
    return mean, deg
