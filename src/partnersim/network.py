"""The contact network: ties between ordered pairs of staff, held as arrays sorted by (src, dst).

A tie i -> j exists once i and j have met; it carries i's trust in j, the
reputation damage j has done to i's trust (a ceiling on trust after an
integrity breach), familiarity, and the month it formed. Every operation costs
O(ties) or less, so a month never costs O(staff^2). Inserting, dropping and
looking up ties are single-pass compiled loops (numba; docs/decisions.md, D13).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from partnersim.numerics import compiled

FIELDS = ("src", "dst", "trust", "damage", "familiarity", "formed", "last_met")
"""Every per-tie array, in the order the compiled kernels take and return them."""


class Ties:
    """Tie arrays sorted by (src, dst), so each member's out-ties are contiguous.

    Attributes:
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
        self.src = np.empty(0, dtype=np.int64)
        self.dst = np.empty(0, dtype=np.int64)
        self.trust = np.empty(0)
        self.damage = np.empty(0)
        self.familiarity = np.empty(0)
        self.formed = np.empty(0, dtype=np.int64)
        self.last_met = np.empty(0, dtype=np.int64)
        self.start = np.zeros(self.n + 1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.src)

    @property
    def key(self) -> np.ndarray:
        """src * n + dst: strictly increasing along the store."""
        return self.src * self.n + self.dst

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, name) for name in FIELDS)

    def _set(self, arrays: tuple[np.ndarray, ...]) -> None:
        """Install new arrays (FIELDS in order, then ``start``)."""
        for name, values in zip((*FIELDS, "start"), arrays, strict=True):
            setattr(self, name, values)

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
                          np.asarray(familiarity, dtype=float)[order], self.n, int(month))[0])

    def meet(self, src: np.ndarray, dst: np.ndarray, month: int, familiarity_gain: float,
             first_meeting: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
             ) -> np.ndarray:
        """Record this month's meetings src[k] -> dst[k]; return each one's tie row.

        Pairs without a tie get one, with the trust and familiarity that
        ``first_meeting(new_src, new_dst)`` gives (each new pair once, in key order).
        Every tie that met gains ``familiarity_gain`` of its gap to full familiarity, once
        however often the pair met, and is stamped with ``month``.
        """
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        rows = _find(self.start, self.dst, src, dst)
        keys = _new_keys(rows, src, dst, self.n)
        if len(keys):
            trust, familiarity = first_meeting(keys // self.n, keys % self.n)
            arrays, moved, new_rows = _insert(*self._arrays(), keys, trust, familiarity, self.n,
                                              int(month))
            self._set(arrays)
            rows = _moved_rows(rows, src * self.n + dst, moved, keys, new_rows)
        _touch(self.familiarity, self.last_met, rows, familiarity_gain, int(month))
        return rows

    def remove_members(self, rows: np.ndarray) -> None:
        """Drop every tie to or from the given members (they left)."""
        if len(rows) == 0 or len(self) == 0:
            return
        gone = np.zeros(self.n, dtype=np.bool_)
        gone[rows] = True
        self._set(_compact(*self._arrays(), _touching(self.src, self.dst, gone), self.n))

    def remove_lapsed(self, month: int, lapse_months: int) -> None:
        """Drop ties whose pair has not met for more than ``lapse_months``."""
        lapsed = self.last_met < month - lapse_months
        if lapsed.any():
            self._set(_compact(*self._arrays(), lapsed, self.n))

    def out_range(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end positions of each member's out-ties."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.start[rows], self.start[rows + 1]

    def mean_out_trust(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean trust each member holds in their contacts, and their out-degree."""
        return _mean_out_trust(self.start, self.trust)


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
def _new_keys(rows, src, dst, n):  # pragma: no cover - compiled
    """Sorted unique keys of the queried pairs that have no tie (row -1)."""
    keys = np.sort((src * n + dst)[rows < 0])
    keep = np.ones(len(keys), dtype=np.bool_)
    for k in range(1, len(keys)):
        keep[k] = keys[k] != keys[k - 1]
    return keys[keep]


@compiled
def _insert(src, dst, trust, damage, familiarity, formed, last_met, new_key, new_trust,
            new_familiarity, n, month):  # pragma: no cover - compiled
    """Merge sorted new keys into the store in one pass over every array. Returns the new
    arrays (FIELDS, then start), each old row's new position and each new tie's row."""
    m, k = len(src), len(new_key)
    src2, dst2 = np.empty(m + k, np.int64), np.empty(m + k, np.int64)
    trust2, damage2, familiarity2 = np.empty(m + k), np.empty(m + k), np.empty(m + k)
    formed2, last_met2 = np.empty(m + k, np.int64), np.empty(m + k, np.int64)
    moved, new_rows = np.empty(m, np.int64), np.empty(k, np.int64)
    a = b = 0
    for r in range(m + k):
        if b < k and (a >= m or new_key[b] < src[a] * n + dst[a]):  # the next new tie goes here
            src2[r], dst2[r] = new_key[b] // n, new_key[b] % n
            trust2[r], damage2[r], familiarity2[r] = new_trust[b], 0.0, new_familiarity[b]
            formed2[r] = last_met2[r] = month
            new_rows[b] = r
            b += 1
        else:
            src2[r], dst2[r] = src[a], dst[a]
            trust2[r], damage2[r], familiarity2[r] = trust[a], damage[a], familiarity[a]
            formed2[r], last_met2[r] = formed[a], last_met[a]
            moved[a] = r
            a += 1
    arrays = (src2, dst2, trust2, damage2, familiarity2, formed2, last_met2, _out_start(src2, n))
    return arrays, moved, new_rows


@compiled
def _moved_rows(rows, keys, moved, new_keys, new_rows):  # pragma: no cover - compiled
    """Rows of the queried pairs after an insert: old ties moved, new ones found by key."""
    out = np.empty(len(rows), dtype=np.int64)
    for k in range(len(rows)):
        out[k] = moved[rows[k]] if rows[k] >= 0 else new_rows[np.searchsorted(new_keys, keys[k])]
    return out


@compiled
def _compact(src, dst, trust, damage, familiarity, formed, last_met, drop,
             n):  # pragma: no cover - compiled
    """The store without the rows flagged in ``drop``, in one pass (FIELDS, then start)."""
    m = len(src) - np.count_nonzero(drop)
    src2, dst2 = np.empty(m, np.int64), np.empty(m, np.int64)
    trust2, damage2, familiarity2 = np.empty(m), np.empty(m), np.empty(m)
    formed2, last_met2 = np.empty(m, np.int64), np.empty(m, np.int64)
    w = 0
    for r in range(len(src)):
        if not drop[r]:
            src2[w], dst2[w] = src[r], dst[r]
            trust2[w], damage2[w], familiarity2[w] = trust[r], damage[r], familiarity[r]
            formed2[w], last_met2[w] = formed[r], last_met[r]
            w += 1
    return src2, dst2, trust2, damage2, familiarity2, formed2, last_met2, _out_start(src2, n)


@compiled
def _touching(src, dst, gone):  # pragma: no cover - compiled
    hit = np.empty(len(src), dtype=np.bool_)
    for r in range(len(src)):
        hit[r] = gone[src[r]] or gone[dst[r]]
    return hit


@compiled
def _touch(familiarity, last_met, rows, gain, month):  # pragma: no cover - compiled
    seen = np.zeros(len(familiarity), dtype=np.bool_)
    for r in rows:
        if not seen[r]:
            seen[r] = True
            familiarity[r] += gain * (1.0 - familiarity[r])
            last_met[r] = month


@compiled
def _mean_out_trust(start, trust):  # pragma: no cover - compiled
    n = len(start) - 1
    mean = np.zeros(n)
    degree = np.zeros(n, dtype=np.int64)
    for i in range(n):
        degree[i] = start[i + 1] - start[i]
        total = 0.0
        for r in range(start[i], start[i + 1]):
            total += trust[r]
        if degree[i] > 0:
            mean[i] = total / degree[i]
    return mean, degree
