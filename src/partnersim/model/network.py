"""The contact network: ties between ordered pairs of staff, held as arrays sorted by (src, dst).

A tie i -> j exists once i and j have met; it carries i's trust in j, the
reputation damage j has done to i's trust (a ceiling on trust after an
integrity breach), familiarity, and the month it formed. Every operation costs
O(ties) or less, so a month never costs O(staff^2). Inserting, dropping and
looking up ties are single-pass compiled loops (numba; docs/decisions.md, D13).
"""

from __future__ import annotations

import numpy as np

from partnersim.model.numerics import compiled

FIELDS = ("src", "dst", "trust", "damage", "familiarity", "formed", "last_met")
"""Every per-tie array, in the order the compiled kernels take them."""


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
        return self.src.astype(np.int64) * self.n + self.dst

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
        m = len(self)
        self._reserve(m + len(q))
        _insert(*self._buffers, m, q[order], np.asarray(trust, dtype=float)[order],
                np.asarray(familiarity, dtype=float)[order], self.n, int(month))
        self._view(m + len(q))

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

    def remove_members(self, rows: np.ndarray, group: np.ndarray,
                       n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        """Drop every tie to or from the given members (they left), in one pass.

        Also counts, for each pair of groups (``group`` labels every member), the ties between
        them before the removal (``held[a, b]``: from a member of a to a member of b) and the
        ties dropped (``dropped[a, b]``); the caller decides what a lost tie between groups
        means.
        """
        held = np.zeros((n_groups, n_groups), dtype=np.int64)
        dropped = np.zeros((n_groups, n_groups), dtype=np.int64)
        if len(rows) == 0 or len(self) == 0:
            return held, dropped
        gone = np.zeros(self.n, dtype=np.bool_)
        gone[rows] = True
        self._view(_drop_members(*self._buffers, self.start, gone, group, held, dropped),
                   index=False)
        return held, dropped

    def remove_lapsed(self, month: int, lapse_months: int) -> None:
        """Drop ties whose pair has not met for more than ``lapse_months``."""
        length = _drop_lapsed(*self._buffers, self.start, month - lapse_months)
        if length < len(self):
            self._view(length, index=False)


# --- compiled kernels -------------------------------------------------------------------------

def _empty_buffers(capacity: int) -> tuple[np.ndarray, ...]:
    return tuple(np.empty(capacity, dtype=np.int32 if name in ("src", "dst", "formed", "last_met")
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
    new_key, first, slot = _missing(rows, q_src, q_dst, n)
    k = len(new_key)
    if k:
        moved, new_rows = _insert(src, dst, trust, damage, familiarity, formed, last_met, m,
                                  new_key, first_trust[first], first_familiarity[first], n,
                                  month)
        for q in range(len(rows)):
            rows[q] = moved[rows[q]] if rows[q] >= 0 else new_rows[slot[q]]
        start = _shift_start(start, new_key, n)
    seen = np.zeros(m + k, dtype=np.bool_)
    for r in rows:
        if not seen[r]:
            seen[r] = True
            familiarity[r] += gain * (1.0 - familiarity[r])
            last_met[r] = month
    return rows, m + k, start


@compiled
def _missing(rows, q_src, q_dst, n):  # pragma: no cover - compiled
    """Keys of the queried pairs without a tie (rows -1), each once and sorted; the query
    that lists each first; and each such query's position among the keys (its slot).
    Sorting key x (number of queries) + query keeps equal keys in query order."""
    queries = len(rows)
    code = np.empty(queries, np.int64)
    c = 0
    for q in range(queries):
        if rows[q] < 0:
            code[c] = (q_src[q] * n + q_dst[q]) * queries + q
            c += 1
    code = np.sort(code[:c])
    new_key, first = np.empty(c, np.int64), np.empty(c, np.int64)
    slot = np.empty(queries, np.int64)
    k = 0
    for x in code:
        key = x // queries
        q = x - key * queries
        if k == 0 or key != new_key[k - 1]:
            new_key[k], first[k] = key, q
            k += 1
        slot[q] = k - 1
    return new_key[:k], first[:k], slot


@compiled
def _shift_start(start, new_key, n):  # pragma: no cover - compiled
    """The out-tie index after inserting ``new_key`` (sorted): each member's first row moves
    down by the number of new ties from members before it."""
    shifted = np.empty(len(start), np.int64)
    b = 0
    for i in range(len(start)):
        while b < len(new_key) and new_key[b] < i * n:
            b += 1
        shifted[i] = start[i] + b
    return shifted


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
            _move(src, dst, trust, damage, familiarity, formed, last_met, r, a)
            moved[a] = r
            a -= 1
    return moved, new_rows


@compiled
def _move(src, dst, trust, damage, familiarity, formed, last_met, to,
          row):  # pragma: no cover - compiled
    """Copy tie ``row`` to row ``to``."""
    src[to], dst[to] = src[row], dst[row]
    trust[to], damage[to], familiarity[to] = trust[row], damage[row], familiarity[row]
    formed[to], last_met[to] = formed[row], last_met[row]


@compiled
def _drop_lapsed(src, dst, trust, damage, familiarity, formed, last_met, start,
                 since):  # pragma: no cover - compiled
    """Drop, in place, the ties whose pair last met before month ``since``, updating the
    out-tie index ``start``; return the number of rows left."""
    w = 0
    for i in range(len(start) - 1):
        lo, hi = start[i], start[i + 1]
        start[i] = w
        for r in range(lo, hi):
            if last_met[r] >= since:
                if w != r:
                    _move(src, dst, trust, damage, familiarity, formed, last_met, w, r)
                w += 1
    start[len(start) - 1] = w
    return w


@compiled
def _drop_members(src, dst, trust, damage, familiarity, formed, last_met, start, gone, group,
                  held, dropped):  # pragma: no cover - compiled
    """Drop, in place, the ties to or from a member flagged in ``gone``, counting the ties
    held and dropped between groups (from a member of a to a member of b), and updating
    the out-tie index ``start``; return the number of rows left."""
    w = 0
    for i in range(len(start) - 1):
        lo, hi = start[i], start[i + 1]
        start[i] = w
        a = group[i]
        for r in range(lo, hi):
            b = group[dst[r]]
            held[a, b] += 1
            if gone[i] or gone[dst[r]]:
                dropped[a, b] += 1
            else:
                if w != r:
                    _move(src, dst, trust, damage, familiarity, formed, last_met, w, r)
                w += 1
    start[len(start) - 1] = w
    return w
