"""The compiled tie store against a plain dictionary doing the same operations."""

from __future__ import annotations

import numpy as np
import pytest

from partnersim.model.network import Ties


def _contents(ties: Ties) -> dict[tuple[int, int], tuple[float, float, float, int, int]]:
    return {(int(s), int(d)): (float(t), float(dm), float(f), int(fo), int(lm))
            for s, d, t, dm, f, fo, lm in zip(ties.src, ties.dst, ties.trust, ties.damage,
                                              ties.familiarity, ties.formed, ties.last_met,
                                              strict=True)}


def _check_index(ties: Ties) -> None:
    assert np.all(np.diff(ties.key) > 0)  # sorted by (src, dst), no duplicates
    for i in range(ties.n):
        assert np.all(ties.src[ties.start[i]:ties.start[i + 1]] == i)
    assert ties.start[-1] == len(ties)


@pytest.mark.parametrize("seed", range(5))
def test_ties_match_a_dictionary_through_meetings_lapses_and_departures(seed):
    rng = np.random.default_rng(seed)
    n, gain, lapse = 30, 0.2, 3
    ties, reference, most = Ties(n), {}, 0
    for month in range(40):  # grows well past the initial buffers (64 rows)
        ties.remove_lapsed(month, lapse)
        reference = {k: v for k, v in reference.items() if v[4] >= month - lapse}
        k = int(rng.integers(0, 60))
        src, dst = rng.integers(0, n, k), rng.integers(0, n, k)
        keep = src != dst
        src, dst = src[keep], dst[keep]
        first_trust, first_familiarity = rng.random(len(src)), rng.random(len(src))
        rows = ties.meet(src, dst, month, gain, first_trust, first_familiarity)
        for q, pair in enumerate(zip(src.tolist(), dst.tolist(), strict=True)):
            if pair not in reference:  # a new tie takes its first listing's values
                reference[pair] = (float(first_trust[q]), 0.0, float(first_familiarity[q]), month,
                                   month)
        for pair in set(zip(src.tolist(), dst.tolist(), strict=True)):
            t, dm, f, fo, _ = reference[pair]
            reference[pair] = (t, dm, f + gain * (1.0 - f), fo, month)
        assert [(int(ties.src[r]), int(ties.dst[r])) for r in rows] == list(
            zip(src.tolist(), dst.tolist(), strict=True))
        if month % 7 == 6:
            leavers = rng.choice(n, 2, replace=False)
            group = rng.integers(0, 3, n)  # members in no particular group order
            before = dict(reference)
            held, dropped = ties.remove_members(leavers, group, 3)
            reference = {p: v for p, v in reference.items()
                         if p[0] not in leavers and p[1] not in leavers}
            for a in range(3):
                for b in range(3):
                    between = {p for p in before if group[p[0]] == a and group[p[1]] == b}
                    assert held[a, b] == len(between)
                    assert dropped[a, b] == len(between - set(reference))
        assert _contents(ties) == reference  # the same arithmetic, so the same bits
        _check_index(ties)
        most = max(most, len(ties))
    assert most > 64  # the buffers grew
