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
"""

from __future__ import annotations

import argparse
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
'''

BACKWARD = "        if anytr:\n            # ---- backward"
PARTIALS = "        for c in range(C):\n            pi = oPin + c * NZ\n            pc = oPc + c * NZ\n"
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
}


def variant_module(name: str, folder: Path) -> types.ModuleType:
    """A module object whose source is lanes.py with variant ``name``'s substitutions."""
    src = Path(lanes_mod.__file__).read_text()
    for old, new in VARIANTS[name]:
        if old not in src:
            sys.exit(f"variant {name}: {old!r} is not in lanes.py any more; update this script")
        src = src.replace(old, new)
    src = src.replace("\nIP_LANES = N_IP ", BLOCKS + "\n\nIP_LANES = N_IP ", 1)
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

    def kernel(ip, module=None, entry="run_sequences", static=codegen.STATIC):
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
    parts = np.array_split(np.arange(args.sequences), args.lanes)
    folder = codegen.cache_dir() / "ablation"
    folder.mkdir(parents=True, exist_ok=True)
    mods = {n: variant_module(n, folder) for n in names}
    real = codegen.kernel
    times: dict[str, list[float]] = {n: [] for n in names}
    try:
        for rnd in range(args.rounds + 1):          # round 0 compiles
            for n in names:
                model.codegen.kernel = variant_kernel(mods[n], real)
                nets = [net0.copy() for _ in range(args.lanes)]
                t0 = time.perf_counter()
                model.train_lanes(nets, [chunk] * args.lanes, parts, lr=cfg["train"]["lr"],
                                  lanes=args.lanes)
                if rnd:
                    times[n].append((time.perf_counter() - t0) / chunk.total_steps * 1e9)
    finally:
        model.codegen.kernel = real
    print(f"{args.config}: {args.lanes} lanes, {chunk.total_steps:,} net-steps a call, best of "
          f"{args.rounds} rounds (train_lanes, whole call)")
    print("| variant | ns a net-step | rounds |")
    print("|---|---|---|")
    for n in names:
        print(f"| {n} | {min(times[n]):.1f} | {', '.join(f'{t:.1f}' for t in times[n])} |")


if __name__ == "__main__":
    main()
