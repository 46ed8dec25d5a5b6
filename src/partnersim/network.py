"""The contact network: ties between ordered pairs of staff, held as arrays sorted by (src, dst).

A tie i -> j exists once i and j have met; it carries i's trust in j, the
reputation damage j has done to i's trust (a ceiling on trust after an
integrity breach), familiarity, and the month it formed. Every operation is
vectorised and costs O(ties) or less, so a month never costs O(staff^2).
"""

from __future__ import annotations

import numpy as np


class Ties:
    """Tie arrays kept sorted by ``key = src * n + dst`` (so each member's out-ties are contiguous).

    The hot fields (key, src, dst, trust) are contiguous arrays; the others share
    one structured array, so inserting or dropping ties moves few blocks of memory.

    Attributes:
        key: src * n + dst, strictly increasing.
        src, dst: member rows.
        trust: trust of src in dst, in [0, 1 - damage].
        damage: reputation damage (integrity breaches), in [0, 1].
        familiarity: how well src knows dst, in [0, 1].
        formed: month the tie formed.
        last_met: month the pair last met.
    """

    DTYPE = np.dtype([("damage", float), ("familiarity", float), ("formed", np.int64),
                      ("last_met", np.int64)])
    """Fields used less often share one structured array; the hot ones are contiguous."""

    def __init__(self, n_staff: int):
        self.n = int(n_staff)
        self.key = np.empty(0, dtype=np.int64)
        self.src = np.empty(0, dtype=np.int64)
        self.dst = np.empty(0, dtype=np.int64)
        self.trust = np.empty(0)
        self.data = np.empty(0, dtype=self.DTYPE)

    damage = property(lambda self: self.data["damage"])
    familiarity = property(lambda self: self.data["familiarity"])
    formed = property(lambda self: self.data["formed"])
    last_met = property(lambda self: self.data["last_met"])

    def __len__(self) -> int:
        return len(self.key)

    def find(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Row of each tie src -> dst, or -1 where there is none."""
        q = np.asarray(src, dtype=np.int64) * self.n + np.asarray(dst, dtype=np.int64)
        pos = np.searchsorted(self.key, q)
        pos_c = np.minimum(pos, len(self.key) - 1) if len(self.key) else pos
        found = (pos < len(self.key)) & (self.key[pos_c] == q) if len(self.key) else np.zeros(
            len(q), dtype=bool)
        return np.where(found, pos, -1)

    def add(self, src: np.ndarray, dst: np.ndarray, trust: np.ndarray,
            familiarity: np.ndarray, month: int) -> None:
        """Insert new ties (the caller guarantees none exists yet and pairs are unique)."""
        if len(src) == 0:
            return
        q = np.asarray(src, dtype=np.int64) * self.n + np.asarray(dst, dtype=np.int64)
        order = np.argsort(q, kind="stable")
        q = q[order]
        m, k = len(self.key), len(q)
        new_rows = np.searchsorted(self.key, q) + np.arange(k)
        old_rows = np.ones(m + k, dtype=bool)
        old_rows[new_rows] = False
        for name, values in (("key", q), ("src", q // self.n), ("dst", q % self.n),
                             ("trust", np.asarray(trust, dtype=float)[order])):
            current = getattr(self, name)
            merged = np.empty(m + k, dtype=current.dtype)
            merged[old_rows] = current
            merged[new_rows] = values
            setattr(self, name, merged)
        data = np.empty(m + k, dtype=self.DTYPE)
        data[old_rows] = self.data
        added = np.zeros(k, dtype=self.DTYPE)
        added["familiarity"] = np.asarray(familiarity, dtype=float)[order]
        added["formed"] = added["last_met"] = month
        data[new_rows] = added
        self.data = data

    def remove_members(self, rows: np.ndarray) -> None:
        """Drop every tie to or from the given members (they left)."""
        if len(rows) == 0 or len(self.key) == 0:
            return
        gone = np.zeros(self.n, dtype=bool)
        gone[rows] = True
        self._keep(~(gone[self.src] | gone[self.dst]))

    def remove_lapsed(self, month: int, lapse_months: int) -> None:
        """Drop ties whose pair has not met for more than ``lapse_months``."""
        lapsed = month - self.last_met > lapse_months
        if lapsed.any():
            self._keep(~lapsed)

    def _keep(self, keep: np.ndarray) -> None:
        self.key, self.src, self.dst = self.key[keep], self.src[keep], self.dst[keep]
        self.trust, self.data = self.trust[keep], self.data[keep]

    def out_range(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end positions of each member's out-ties."""
        rows = np.asarray(rows, dtype=np.int64)
        start = np.searchsorted(self.key, rows * self.n)
        end = np.searchsorted(self.key, (rows + 1) * self.n)
        return start, end

    def mean_out_trust(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean trust each member holds in their contacts, and their out-degree."""
        deg = np.bincount(self.src, minlength=self.n)
        total = np.bincount(self.src, weights=self.trust, minlength=self.n)
        return np.divide(total, deg, out=np.zeros(self.n), where=deg > 0), deg
