"""Compiled numerical helpers shared by the stages and the measures.

The stages' inner loops are compiled with numba (docs/decisions.md, D13). Sums
inside them use numpy's own pairwise summation, so a compiled stage gives the
same floating-point result as the numpy expression it replaced and runs stay
reproducible to the bit across the two.
"""

from __future__ import annotations

import ctypes
import functools

import numba
import numpy as np
from numba.core import cgutils, types
from numba.core.extending import intrinsic

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


# --- random streams inside compiled code ---------------------------------------------------
#
# numba takes a numpy Generator as an argument, but rebuilds its view of the generator on
# every call through Python's ctypes (about 10 us a call, a month's worth of several small
# stages). A stream's handle, the C addresses of its bit generator in a small array, crosses
# for the cost of any array, and ``open_stream`` makes it a numba Generator again inside the
# compiled code: the same generator, drawing the same numbers and advancing the same state
# as numpy's methods would (tests/test_numerics.py).

_GENERATOR = types.NumPyRandomGeneratorType("generator")
_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")
_HANDLE_FIELDS = ("state_address", "state", "fnptr_next_uint64", "fnptr_next_uint32",
                  "fnptr_next_double", "bit_generator")
"""numba's fields of a bit generator, in the order of a handle."""


@functools.cache
def _entry_points(kind: type) -> tuple[int, int, int]:
    """The C functions that draw 64-bit, 32-bit and double values from a bit generator of
    this kind (the same for every instance of it)."""
    example = kind().ctypes
    return tuple(ctypes.cast(getattr(example, name), ctypes.c_void_p).value
                 for name in ("next_uint64", "next_uint32", "next_double"))


def stream_handle(rng: np.random.Generator) -> np.ndarray:
    """The handle of ``rng`` for ``open_stream``: valid while ``rng`` lives, and only for it
    (read it again after copying a model: a copy's streams are new generators)."""
    bits = rng.bit_generator
    c = bits.ctypes
    return np.array([c.state_address, c.state.value, *_entry_points(type(bits)),
                     c.bit_generator.value], dtype=np.uint64)


@intrinsic
def open_stream(typingctx, handle):  # pragma: no cover - compiled
    """The numba Generator of a stream's handle (``stream_handle``)."""
    if not (isinstance(handle, types.Array) and handle.ndim == 1
            and handle.dtype == types.uint64):
        return None  # not a handle: numba reports a typing error
    def codegen(context, builder, signature, args):
        addresses = context.make_array(signature.args[0])(context, builder, args[0])
        bits = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)
        for k, field in enumerate(_HANDLE_FIELDS):
            setattr(bits, field, builder.load(cgutils.gep_inbounds(builder, addresses.data, k)))
        generator = cgutils.create_struct_proxy(_GENERATOR)(context, builder)  # zeroed:
        generator.bit_generator = bits._getvalue()  # no Python parent, no reference held
        return generator._getvalue()
    return _GENERATOR(handle), codegen
