"""A branch-free ``exp`` that LLVM can vectorise, and the logistic function built on it.

Numba calls the C library's scalar ``exp`` for ``np.exp(x)`` on a float: one call per unit and
step, which LLVM cannot vectorise (the pip build of llvmlite has no SVML). The exact path now
inlines glibc's algorithm instead (``exactexp.py``: the same bits, with branches and a table).
This module computes ``exp`` without branches, calls or tables, so that a loop of them becomes
vector code:

    n = round(x / ln 2)                      (the 1.5 * 2**52 rounding trick: n sits in the
                                              low bits of t = x log2(e) + 1.5 * 2**52)
    r = x - n ln2_hi - n ln2_lo              (Cody-Waite, |r| <= ln(2)/2)
    exp(r) = sum_{k<=13} r^k / k!            (Taylor, truncation < 2e-16 relative; Estrin's
                                              scheme, depth 4 instead of Horner's 13)
    exp(x) = exp(r) * 2**(n-1) * 2           (2**(n-1) from its bits; two factors so that n may
                                              reach 1024 near the overflow bound)

Accuracy: within 2 ulp of the C library's ``exp`` on [-708, 709.78] (``tests/test_fastexp.py``
measures it); below -708 it returns exp(-708) (about 3.3e-308, where the library returns a
subnormal or 0), above 709.78 ``inf``; NaN stays NaN. Whether a kernel uses it is a switch
(``IP_FASTEXP``; config ``train.exp``, default ``exact``): it changes low bits, so fixed-seed
trials can end at other sequence counts than with the exact path.
"""

from __future__ import annotations

import math

from numba import njit, types
from numba.extending import intrinsic

_LOG2E = 1.4426950408889634073599
_LN2_HI = 6.93145751953125e-1
_LN2_LO = 1.42860682030941723212e-6
_MAGIC = 6755399441055744.0            # 1.5 * 2**52
_MAGIC_BITS = 0x4338000000000000       # its bits
_EXP_LO = -708.0
_EXP_AT_LO = 3.307553003638408e-308    # exp(-708)
_EXP_HI = 709.782712893384             # log(DBL_MAX)
(_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12,
 _C13) = [1.0 / math.factorial(k) for k in range(14)]


@intrinsic
def _bits_to_f64(typingctx, x):
    """Reinterpret an int64's bits as a float64 (an LLVM bitcast; vectorises)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@intrinsic
def _f64_to_bits(typingctx, x):
    """Reinterpret a float64's bits as an int64."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


@njit(inline="always", error_model="numpy")
def fexp(x):
    t = x * _LOG2E + _MAGIC
    fn = t - _MAGIC
    r = x - fn * _LN2_HI
    r = r - fn * _LN2_LO
    n = _f64_to_bits(t) - _MAGIC_BITS
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q0 = (_C0 + _C1 * r) + (_C2 + _C3 * r) * r2
    q4 = (_C4 + _C5 * r) + (_C6 + _C7 * r) * r2
    q8 = (_C8 + _C9 * r) + (_C10 + _C11 * r) * r2
    q12 = _C12 + _C13 * r
    e = (q0 + q4 * r4) + (q8 + q12 * r4) * r8
    e = (e * _bits_to_f64((n + 1022) << 52)) * 2.0
    # out of range (n's bits are then meaningless), NaN
    e = e if x < _EXP_HI else math.inf
    e = e if x > _EXP_LO else _EXP_AT_LO
    return e if x == x else x


@njit(inline="always", error_model="numpy")
def flogistic(x):
    """1 / (1 + exp(-x)) with :func:`fexp`."""
    return 1.0 / (1.0 + fexp(-x))
