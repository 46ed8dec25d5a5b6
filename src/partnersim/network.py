"""The contact network: ties between ordered pairs of staff, held as arrays sorted by (src, dst).

A tie i -> j exists once i and j have met; it carries i's trust in j, the
reputation damage j has done to i's trust (a ceiling on trust after an
integrity breach), familiarity, and the month it formed. Every operation costs
O(ties) or less, so a month never costs O(staff^2). Inserting, dropping and
looking up ties are single-pass compiled loops (numba; docs/decisions.md, D13).
"""

from __future__ import annotations

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
        # capacity grows by doubling; the attributes are views of the first len(self) rows
        self._buffers = _empty_buffers(64)
        self._view(0)

    def __len__(self) -> int:
        return len(self.src)

    @property
    def key(self) -> np.ndarray:
        """src * n + dst: strictly increasing along the store."""
        return self.src * self.n + self.dst

    def _reserve(self, capacity: int) -> None:
        """Grow the buffers (doubling) to hold ``capacity`` rows, keeping the current ones."""
        if capacity > len(self._buffers[0]):
            grown = _empty_buffers(max(capacity, 2 * len(self._buffers[0])))
            for old, new in zip(self._buffers, grown, strict=True):
                new[: len(self)] = old[: len(self)]
            self._buffers = grown
            self._view(len(self))

    def _view(self, length: int, *, index: bool = True) -> None:
        """Make the attributes views of the first ``length`` rows; index the out-ties (unless
        the caller has)."""
        for name, buffer in zip(FIELDS, self._buffers, strict=True):
            setattr(self, name, buffer[:length])
        if index:
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
        self._insert(q[order], np.asarray(trust, dtype=float)[order],
                     np.asarray(familiarity, dtype=float)[order], month)

    def _insert(self, keys: np.ndarray, trust: np.ndarray, familiarity: np.ndarray,
                month: int) -> tuple[np.ndarray, np.ndarray]:
        """Insert ties with sorted new keys; return each old row's new row and the new rows."""
        m = len(self)
        self._reserve(m + len(keys))
        moved, new_rows = _insert(*self._buffers, m, keys, trust, familiarity, self.n, int(month))
        self._view(m + len(keys))
        return moved, new_rows

    def meet(self, src: np.ndarray, dst: np.ndarray, month: int, familiarity_gain: float,
             first_trust: np.ndarray, first_familiarity: np.ndarray) -> np.ndarray:
        """Record this month's meetings src[k] -> dst[k]; return each one's tie row.

        A pair without a tie gets one, with trust ``first_trust[k]`` and familiarity
        ``first_familiarity[k]`` (what the pair would start with; ignored where a tie exists).
        Every tie that met gains ``familiarity_gain`` of its gap to full familiarity, once
        however often the pair met, and is stamped with ``month``.
        """
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        m = len(self)
        self._reserve(m + len(src))
        rows, length, self.start = _meet(*self._buffers, m, self.start, src, dst, first_trust,
                                         first_familiarity, self.n, int(month), familiarity_gain)
        self._view(length, index=False)
        return rows

    def remove_members(self, rows: np.ndarray) -> None:
        """Drop every tie to or from the given members (they left)."""
        if len(rows) == 0 or len(self) == 0:
            return
        gone = np.zeros(self.n, dtype=np.bool_)
        gone[rows] = True
        self._drop(_touching(self.src, self.dst, gone))

    def remove_lapsed(self, month: int, lapse_months: int) -> None:
        """Drop ties whose pair has not met for more than ``lapse_months``."""
        self._drop(_lapsed(self.last_met, month - lapse_months))

    def _drop(self, drop: np.ndarray | None) -> None:
        """Drop the rows flagged in ``drop`` (None: nothing to drop)."""
        if drop is not None:
            length, self.start = _compact(*self._buffers, drop, self.n)
            self._view(length, index=False)


# --- compiled kernels -------------------------------------------------------------------------

def _empty_buffers(capacity: int) -> tuple[np.ndarray, ...]:
    return tuple(np.empty(capacity, dtype=np.int64 if name in ("src", "dst", "formed", "last_met")
                          else float) for name in FIELDS)


@compiled
def _out_start(src, n):  # pragma: no cover - compiled
    """First row of each member's out-ties (src is sorted), and the number of rows last."""
    start = np.empty(n + 1, dtype=np.int64)
    i = 0
    for r in range(len(src)):
        while i <= src[r]:
            start[i] = r
            i += 1
    while i <= n:
        start[i] = len(src)
        i += 1
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
def _meet(src, dst, trust, damage, familiarity, formed, last_met, m, start, q_src, q_dst,
          first_trust, first_familiarity, n, month, gain):  # pragma: no cover - compiled
    """``Ties.meet`` on the first ``m`` rows of the buffers (room for len(q_src) more): find
    each pair's tie, insert the missing ones (each once, sorted), stamp the meetings.
    Returns the rows, the new number of ties and the new out-tie index."""
    rows = _find(start, dst, q_src, q_dst)
    missing = np.flatnonzero(rows < 0)
    keys = q_src[missing] * n + q_dst[missing]
    order = np.argsort(keys, kind="mergesort")
    new_key = np.empty(len(order), np.int64)
    new_trust, new_familiarity = np.empty(len(order)), np.empty(len(order))
    k = 0
    for o in order:  # unique keys, in order, with their pair's first values
        if k == 0 or keys[o] != new_key[k - 1]:
            new_key[k] = keys[o]
            new_trust[k], new_familiarity[k] = first_trust[missing[o]], first_familiarity[missing[o]]
            k += 1
    new_key, new_trust, new_familiarity = new_key[:k], new_trust[:k], new_familiarity[:k]
    if k:
        moved, new_rows = _insert(src, dst, trust, damage, familiarity, formed, last_met, m,
                                  new_key, new_trust, new_familiarity, n, month)
        for q in range(len(rows)):
            rows[q] = (moved[rows[q]] if rows[q] >= 0
                       else new_rows[np.searchsorted(new_key, q_src[q] * n + q_dst[q])])
    seen = np.zeros(m + k, dtype=np.bool_)
    for r in rows:
        if not seen[r]:
            seen[r] = True
            familiarity[r] += gain * (1.0 - familiarity[r])
            last_met[r] = month
    return rows, m + k, _out_start(src[:m + k], n)


@compiled
def _insert(src, dst, trust, damage, familiarity, formed, last_met, m, new_key, new_trust,
            new_familiarity, n, month):  # pragma: no cover - compiled
    """Merge sorted new keys into the first ``m`` rows of the buffers, in place, from the
    back. Returns each old row's new position and each new tie's row."""
    k = len(new_key)
    moved, new_rows = np.empty(m, np.int64), np.empty(k, np.int64)
    a, b = m - 1, k - 1
    for r in range(m + k - 1, -1, -1):
        if b >= 0 and (a < 0 or new_key[b] > src[a] * n + dst[a]):  # the last new tie goes here
            src[r], dst[r] = new_key[b] // n, new_key[b] % n
            trust[r], damage[r], familiarity[r] = new_trust[b], 0.0, new_familiarity[b]
            formed[r] = last_met[r] = month
            new_rows[b] = r
            b -= 1
        elif b < 0:  # the rows before every new tie stay where they are
            for q in range(a + 1):
                moved[q] = q
            break
        else:
            src[r], dst[r] = src[a], dst[a]
            trust[r], damage[r], familiarity[r] = trust[a], damage[a], familiarity[a]
            formed[r], last_met[r] = formed[a], last_met[a]
            moved[a] = r
            a -= 1
    return moved, new_rows


@compiled
def _compact(src, dst, trust, damage, familiarity, formed, last_met, drop,
             n):  # pragma: no cover - compiled
    """Drop the rows flagged in ``drop`` (one per stored row), in place; return the number
    of rows left and the new out-tie index."""
    w = 0
    for r in range(len(drop)):
        if not drop[r]:
            if w != r:
                src[w], dst[w] = src[r], dst[r]
                trust[w], damage[w], familiarity[w] = trust[r], damage[r], familiarity[r]
                formed[w], last_met[w] = formed[r], last_met[r]
            w += 1
    return w, _out_start(src[:w], n)


@compiled
def _touching(src, dst, gone):  # pragma: no cover - compiled
    """Rows of ties to or from a member flagged in ``gone`` (None if there are none)."""
    hit = np.empty(len(src), dtype=np.bool_)
    for r in range(len(src)):
        hit[r] = gone[src[r]] or gone[dst[r]]
    return hit if hit.any() else None


@compiled
def _lapsed(last_met, since):  # pragma: no cover - compiled
    """Rows of ties whose pair last met before month ``since`` (None if there are none)."""
    lapsed = last_met < since
    return lapsed if lapsed.any() else None
