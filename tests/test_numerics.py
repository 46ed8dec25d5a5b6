"""The compiled helpers: numpy's sums to the bit, and random streams opened inside compiled
code drawing what numpy's own methods draw."""

from __future__ import annotations

import copy

import numba
import numpy as np
import pytest

from partnersim.model.numerics import compiled, mean, open_stream, std, stream_handle, total


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 127, 128, 129, 1000, 4099])
def test_sums_match_numpy_to_the_bit(size):
    a = np.random.default_rng(size).normal(1.0, 1e3, size)
    assert total(a) == a.sum()
    if size:
        assert mean(a) == a.mean()
        assert std(a) == a.std()


@compiled
def _draws(stream, m):  # pragma: no cover - compiled
    rng = open_stream(stream)
    one = np.empty(m)
    for k in range(m):
        one[k] = rng.normal(0.0, 0.05)
    return (rng.random(m), rng.integers(0, 37, m), rng.normal(0.0, 0.06, m),
            rng.beta(6.0, 4.0, m), rng.uniform(0.45, 0.75, m), one, rng.random(m))


def _numpy_draws(rng, m):
    one = np.array([rng.normal(0.0, 0.05) for _ in range(m)])
    return (rng.random(m), rng.integers(0, 37, m), rng.normal(0.0, 0.06, m),
            rng.beta(6.0, 4.0, m), rng.uniform(0.45, 0.75, m), one, rng.random(m))


def test_an_opened_stream_draws_numpys_numbers_and_advances_its_state():
    compiled_rng, numpy_rng = np.random.default_rng(11), np.random.default_rng(11)
    got = _draws(stream_handle(compiled_rng), 500)
    want = _numpy_draws(numpy_rng, 500)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        assert np.array_equal(g, w)
    # the numpy generator has advanced past every draw, and draws on in step with numpy
    assert compiled_rng.bit_generator.state == numpy_rng.bit_generator.state
    assert compiled_rng.normal(size=3).tolist() == numpy_rng.normal(size=3).tolist()


def test_a_copied_generator_has_its_own_handle():
    rng = np.random.default_rng(3)
    twin = copy.deepcopy(rng)
    assert not np.array_equal(stream_handle(rng), stream_handle(twin))
    _draws(stream_handle(twin), 10)  # drawing from the copy leaves the original alone
    assert rng.bit_generator.state == np.random.default_rng(3).bit_generator.state


def test_only_a_handle_opens_a_stream():
    @compiled
    def first_draw(stream):  # pragma: no cover - compiled
        return open_stream(stream).random()

    with pytest.raises(numba.core.errors.TypingError):
        first_draw(np.zeros(6))  # addresses must be unsigned 64-bit integers
