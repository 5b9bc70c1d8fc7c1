"""Where the lanes kernel's time goes: the kernel timed with parts of its arithmetic taken out.

Usage: python bench/lanes_ablation.py [CONFIG] [--variants a,b,...] [--sequences N] [--rounds R]
e.g.   python bench/lanes_ablation.py configs/paper/exp4_adding_t100.yaml

Each variant is a copy of ``engine/lanes.py`` with one part removed or replaced by text
substitution, specialised and compiled like the real kernel (``codegen.kernel``), and run by
``model.train_lanes`` on 8 copies of one net (N sequences split over the lanes, as
``bench_engine.py``'s ``lanes-L`` peer). **Timing only**: a variant computes something else, so
its nets' values are meaningless (a variant that zeroes net inputs can even be slower, since a
net input of exactly 0 leaves the exp's main path). The differences to ``full`` bound what each
part costs (issue 19; docs/speed.md, "Zen 4, session 15").

Variants: ``full``; ``no_backward`` (the backward pass and weight changes, which on-line rows
with one target a sequence run once a sequence); ``no_partials`` (eqs. 25, 27); ``no_logistic``
(every logistic block left as its argument); ``exp_only`` / ``div_only`` / ``check_only`` (a
logistic block computing only the exact exp's main path, only a division, only the main-path
test); ``no_check`` (the block without the test or its fix-up: wrong where an argument leaves the
main path); ``factors8`` (not an ablation: the partials' loop with its 8 lanes written out
and each cell's factors read once into scalars, the same arithmetic; session 19).

Doubled parts (session 24): a variant that takes a part out leaves the nets' values meaningless,
and those values can change its speed. ``twice_forward`` (the hidden units' sums, eqs. 7-9, run
twice), ``twice_partials`` (eqs. 25 and 27 twice) and ``twice_logistic`` (one more logistic of
the hidden units' block) do a part twice instead. The values stay those of a training net (the
sums twice as large, the partials drifting), so each variant's extra time is what the part costs.

Single precision (session 24; not an ablation but the question of issue 19 whether a lanes mode
that is *not* bit-identical would pay): ``f32`` is the kernel with its lane buffer in float32
(every weight, state, partial and activation; the float literals of its arithmetic float32 too),
twice as many lanes (``2 x --lanes``: a vector holds twice as many floats as doubles), and each
logistic block computed by a vectorisable single-precision exp (Cephes' ``expf``: round, two-part
reduction, degree-5 polynomial, the power of two by an integer bit cast); ``f32_no_logistic``
the same with the logistic blocks left out (a floor for any single-precision logistic). Both are
timing only too, but ``f32`` trains: the script prints how far lane 0's weights end from the
one-net float64 kernel's on the same sequences, so that the figure is that of a real
single-precision net and not of an arithmetic that went astray.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import types
from pathlib import Path

import numpy as np

from lstmrun.config import load
from lstmrun.engine import codegen, model
from lstmrun.engine import lanes as lanes_mod
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task

BLOCKS = '''

from lstmrun.engine.exactexp import exp_main, exp_main_ok


@njit(inline="always")
def _get8(w, i):
    return (w[i], w[i + 1], w[i + 2], w[i + 3], w[i + 4], w[i + 5], w[i + 6], w[i + 7])


@njit(inline="always")
def _blk_none(w, base, n, expm, scr):
    return None


@njit(inline="always")
def _blk_exp(w, base, n, expm, scr):
    for i in range(n):
        w[base + i] = exp_main(-w[base + i]) * 1e-3


@njit(inline="always")
def _blk_div(w, base, n, expm, scr):
    for i in range(n):
        w[base + i] = 1.0 / (1.0 + w[base + i] * w[base + i])


@njit(inline="always")
def _blk_chk(w, base, n, expm, scr):
    main = True
    for i in range(n):
        x = w[base + i]
        w[scr + i] = x
        main = main & exp_main_ok(-x)
    if not main:
        w[scr] = 0.0


@njit(inline="always")
def _blk_nochk(w, base, n, expm, scr):
    for i in range(n):
        w[base + i] = 1.0 / (1.0 + exp_main(-w[base + i]))


@njit(inline="always")
def _blk_extra(w, base, n, expm, scr):
    # one more logistic of the block, into scratch, kept by an addition too small to change
    # anything (so that LLVM cannot drop it)
    for i in range(n):
        w[scr + i] = 1.0 / (1.0 + exp_main(-w[base + i]))
    for i in range(n):
        w[base + i] += w[scr + i] * 1e-30
'''

# single precision (the f32 variants): a vectorisable expf (Cephes'), the power of two 2**k built
# from k's bits, and the block's logistic 1 / (1 + e^-x) in float32 throughout
BLOCKS_F32 = '''

from llvmlite import ir as _ir
from numba import types as _types
from numba.extending import intrinsic as _intrinsic

_F = np.float32


@_intrinsic
def _i32_as_f32(typingctx, x):
    sig = _types.float32(_types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _ir.FloatType())
    return sig, codegen


@njit(inline="always", error_model="numpy")
def _blk_f32(w, base, n, expm, scr):
    for i in range(n):
        x = -w[base + i]
        x = min(max(x, _F(-87.0)), _F(88.0))
        k = np.floor(x * _F(1.44269504088896341) + _F(0.5))
        r = x - k * _F(0.693359375)
        r = r + k * _F(2.12194440e-4)
        p = _F(1.9875691500e-4)
        p = p * r + _F(1.3981999507e-3)
        p = p * r + _F(8.3334519073e-3)
        p = p * r + _F(4.1665795894e-2)
        p = p * r + _F(1.6666665459e-1)
        p = p * r + _F(5.0000001201e-1)
        e = p * r * r + r + _F(1.0)
        e = e * _i32_as_f32((np.int32(k) + np.int32(127)) << np.int32(23))
        w[base + i] = _F(1.0) / (_F(1.0) + e)
'''
F32_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\w.])")

BACKWARD = "        if anytr:\n            # ---- backward"
PARTIALS = "        for c in range(C):\n            pi = oPin + c * NZ\n            pc = oPc + c * NZ\n"
FORWARD = """        for m in range(m0, ze):
            for h in range(H):
                for l in range(NL):
                    w[(osg + h) * NL + l] += w[(oWh + h * NW + m) * NL + l] * w[(oz + m) * NL + l]
"""
HIDDEN_LOGISTIC = "        logistic_block(w, (osg + h0) * NL, (H - h0) * NL, expm, oscr * NL)\n"
PARTIALS_LOOP = """            for m in range(m0, ze):
                for l in range(NL):
                    zm = w[(oz + m) * NL + l]
                    w[(pi + m) * NL + l] += w[(oain + c) * NL + l] * zm
                    w[(pc + m) * NL + l] += w[(oac + c) * NL + l] * zm
"""
# the same arithmetic with 8 lanes written out and each cell's factors read once into scalars
FACTORS8 = """            a0, a1, a2, a3, a4, a5, a6, a7 = _get8(w, (oain + c) * 8)
            b0, b1, b2, b3, b4, b5, b6, b7 = _get8(w, (oac + c) * 8)
            for m in range(m0, ze):
                zo = (oz + m) * 8
                po = (pi + m) * 8
                co = (pc + m) * 8
                z0, z1, z2, z3, z4, z5, z6, z7 = _get8(w, zo)
""" + "".join(f"                w[po + {i}] += a{i} * z{i}\n" for i in range(8)) + "".join(
    f"                w[co + {i}] += b{i} * z{i}\n" for i in range(8))
VARIANTS = {
    "full": [],
    "no_backward": [(BACKWARD, BACKWARD.replace("if anytr:", "if anytr and False:"))],
    "no_partials": [(PARTIALS, PARTIALS.replace("range(C)", "range(0)"))],
    "no_logistic": [("logistic_block(w,", "_blk_none(w,")],
    "exp_only": [("logistic_block(w,", "_blk_exp(w,")],
    "div_only": [("logistic_block(w,", "_blk_div(w,")],
    "check_only": [("logistic_block(w,", "_blk_chk(w,")],
    "no_check": [("logistic_block(w,", "_blk_nochk(w,")],
    "factors8": [(PARTIALS_LOOP, FACTORS8)],     # 8 lanes only; the same results
    "twice_forward": [(FORWARD, FORWARD + FORWARD)],
    "twice_partials": [(PARTIALS_LOOP, PARTIALS_LOOP + PARTIALS_LOOP)],
    "twice_logistic": [(HIDDEN_LOGISTIC, HIDDEN_LOGISTIC.replace("logistic_block", "_blk_extra")
                        + HIDDEN_LOGISTIC)],
    "f32": [],                                    # single precision: F32 below
    "f32_no_logistic": [("logistic_block(w,", "_blk_none(w,")],
}
F32 = {"f32", "f32_no_logistic"}         # variants in float32, with 2 x --lanes lanes


def variant_module(name: str, folder: Path) -> types.ModuleType:
    """A module object whose source is lanes.py with variant ``name``'s substitutions."""
    src = Path(lanes_mod.__file__).read_text()
    for old, new in VARIANTS[name]:
        if old not in src:
            sys.exit(f"variant {name}: {old!r} is not in lanes.py any more; update this script")
        src = src.replace(old, new)
    blocks = BLOCKS
    if name in F32:
        alloc = "w = np.zeros(n_ent * NL)"
        if alloc not in src:
            sys.exit(f"variant {name}: {alloc!r} is not in lanes.py any more; update this script")
        src = F32_LITERAL.sub(r"np.float32(\1)", src)
        src = src.replace(alloc, "w = np.zeros(n_ent * NL, np.float32)")
        src = src.replace("logistic_block(w,", "_blk_f32(w,")
        blocks = BLOCKS + BLOCKS_F32
    src = src.replace("\nIP_LANES = N_IP ", blocks + "\n\nIP_LANES = N_IP ", 1)
    path = folder / f"lanes_ablation_{name}.py"
    path.write_text(src)
    mod = types.ModuleType(f"lanes_ablation_{name}")
    mod.__file__ = str(path)
    mod.IP_LANES = lanes_mod.IP_LANES
    return mod


def variant_kernel(mod: types.ModuleType, real=None):
    """A stand-in for ``codegen.kernel`` that compiles ``mod`` (a :func:`variant_module`) where
    the real one would compile ``engine/lanes.py`` (set it as ``model.codegen.kernel``). ``real``:
    the kernel it wraps, by default ``codegen.kernel`` as it is when this is called (not when the
    module was imported), so call it before putting a stand-in in place."""
    if real is None:
        real = codegen.kernel

    def kernel(ip, module=codegen.lstm97, entry="run_sequences", static=codegen.STATIC):
        return real(ip, mod if module is lanes_mod else module, entry, static)
    return kernel


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config", nargs="?", default="configs/paper/exp4_adding_t100.yaml")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--sequences", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lanes", type=int, default=8)
    args = ap.parse_args(argv)
    names = args.variants.split(",")
    for n in names:
        if n not in VARIANTS:
            ap.error(f"unknown variant {n!r}; variants: {', '.join(VARIANTS)}")
    if "factors8" in names and args.lanes != 8:
        ap.error("variant factors8 is written for 8 lanes (--lanes 8)")
    cfg = load(args.config)
    if cfg["train"]["update"] != "step":
        ap.error("the lanes kernel trains per-step configs (train.update: step)")
    task = build_task(cfg["task"])
    net0 = make_model(cfg, task, np.random.default_rng(1))
    chunk = task.sample(np.random.default_rng(2), args.sequences)
    nlanes = {n: 2 * args.lanes if n in F32 else args.lanes for n in names}
    parts = {L: np.array_split(np.arange(args.sequences), L) for L in set(nlanes.values())}
    folder = codegen.cache_dir() / "ablation"
    folder.mkdir(parents=True, exist_ok=True)
    mods = {n: variant_module(n, folder) for n in names}
    real = codegen.kernel
    lr = cfg["train"]["lr"]
    times: dict[str, list[float]] = {n: [] for n in names}
    f32_lane0 = None                   # lane 0's weights after f32's first call
    try:
        for rnd in range(args.rounds + 1):          # round 0 compiles
            for n in names:
                model.codegen.kernel = variant_kernel(mods[n], real)
                L = nlanes[n]
                nets = [net0.copy() for _ in range(L)]
                t0 = time.perf_counter()
                model.train_lanes(nets, [chunk] * L, parts[L], lr=lr, lanes=L)
                if rnd:
                    times[n].append((time.perf_counter() - t0) / chunk.total_steps * 1e9)
                elif n == "f32":
                    f32_lane0 = np.concatenate([nets[0].Wh.ravel(), nets[0].Wo.ravel()])
    finally:
        model.codegen.kernel = real
    print(f"{args.config}: {chunk.total_steps:,} net-steps a call over {args.lanes} lanes "
          f"({2 * args.lanes} for the f32 variants), best of {args.rounds} rounds (train_lanes, "
          "whole call)")
    print("| variant | lanes | ns a net-step | rounds |")
    print("|---|---|---|---|")
    for n in names:
        print(f"| {n} | {nlanes[n]} | {min(times[n]):.1f} | "
              f"{', '.join(f'{t:.1f}' for t in times[n])} |")
    if "f32" in names:
        # lane 0 of the f32 call against the one-net float64 kernel on the same sequences
        ref = net0.copy()
        ref.train(chunk, parts[nlanes["f32"]][0], lr=lr)
        w64 = np.concatenate([ref.Wh.ravel(), ref.Wo.ravel()])
        w0 = np.concatenate([net0.Wh.ravel(), net0.Wo.ravel()])
        diff = np.abs(f32_lane0 - w64).max()
        print(f"f32, lane 0 after {len(parts[nlanes['f32']][0])} sequences: largest weight "
              f"difference to float64 {diff:.2e} (largest weight {np.abs(w64).max():.2f}, largest "
              f"change from the initial weights {np.abs(w64 - w0).max():.2f})")


if __name__ == "__main__":
    main()
