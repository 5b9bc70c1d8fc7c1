"""Engine throughput: training time steps per second and sequences per second, beside peers.

Run with ``make bench`` (or ``python bench/bench_engine.py [--rounds N] [--quick] [--no-torch]``).
Every case is measured in interleaved rounds (engine, then each peer, then the engine again, ...)
and reported as medians with the median per-round ratio, because this machine (2 cores) is shared.

Cases (each exactly as ``lstmrun train`` runs it):
- ``erg_3x2``: (a) Exp 1, 3x2 net (332 weights as configured, 276 literal), per-string weight
  changes, strings drawn from a 256-string training set;
- ``erg_3x2_step``: the same with per-step weight changes (the 1997 rule applied every step);
- ``adding_t100``: (b) Exp 4, the 93-weight net, T=100, error at the sequence end only;
- ``2c_q1000``: (c) Exp 2c, q = p = 1000, 6,064 weights, one-hot input over 1004 symbols;
- ``rtrl_h3``, ``rtrl_h12``: (d) the RTRL baseline of Exp 1 (HS97 Table 1: a fully recurrent net,
  7 visible output units, 3 / 12 hidden units, 170 / 494 weights, exact RTRL, per-step changes);
- extra cases, run only when named in ``--cases``: ``rtrl_2a_p4``, ``rtrl_2a_p100``,
  ``bptt_2a_p100``: the Exp 2a baselines of HS97 Table 2 (36 / 10,404 weights; one self-recurrent
  hidden unit, non-recurrent outputs); the numpy peer of ``bptt_2a_p100`` is the NumPy RTRL with
  per-sequence changes (the same exact gradient); ``2b_p100``: Exp 2b's net with all 10 cells
  grown (104 logistic outputs judged every step: the most exps a step of any LSTM row).

Peers:
- ``engine-generic``: the same Numba kernel without per-architecture specialisation (LSTM cases);
- ``engine-fastexp`` / ``engine-exactexp``: the engine with the other ``train.exp`` setting than
  the case's config (``fastexp.py``; the LSTM cases and the 2a p=100 baselines);
- ``engine-vectorexp`` / ``engine-inlineexp`` / ``engine-callexp`` (LSTM cases with
  ``train.exp: exact``): the engine computing the exact exp the other ways than
  ``exactexp.exact_impl()`` chose on this machine: the port as vector code over blocks of units,
  the port inlined value by value, or the C library's call where that is the same algorithm (the
  same bits every way);
- ``plain-numba`` (the Exp 1 cases): ``bench/plain_lstm.py``, the same rule written plainly in
  Numba (2-D arrays, dense partials, the C library's exp, no specialisation): issue 19's speed
  reference (``tests/test_bench_peers.py`` checks it equal to the engine); ``plain-numba-const``:
  the same code with the net's sizes as compile-time constants (as a kernel written for one net);
- ``lanes-L`` (cases b and c): the case's sequences split over L nets (L = the CPU's vector
  width in doubles) trained in one call of the lanes kernel (``engine/lanes.py``: every weight a
  vector over the L nets; bit-identical to training each net alone, ``tests/test_lanes.py``);
  steps/s counts the steps of all L nets; ``lanes-L-fastexp``: the same with ``train.exp: fast``
  (cases with the exact exp), which says how much of the lanes kernel's time the exact exp takes;
- ``numpy``: a vectorised NumPy implementation of the same rule (LSTM: ``tests/reference.py``;
  RTRL: ``bench/numpy_rtrl.py``; the tests check both equal to the engine to 1e-10), timed on
  fewer sequences and scaled;
- ``torch-online``, ``torch-batchN`` (cases a-c, when PyTorch is installed): ``nn.LSTM`` of the
  same size trained one sequence at a time with BPTT and an SGD step per sequence, and N sequences
  per batch (a different rule, for throughput only); see ``bench/torch_peers.py``.

Everything runs on one thread (Numba, BLAS, torch).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

for _v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from cases import case_data  # noqa: E402  (bench/)

from lstmrun.config import load
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task

TORCH_HINT = ("torch rows skipped: PyTorch is not installed "
              "(pip install torch==2.13.0, then pip install -e '.[bench]')")


def make_case(name, config, sets, n_seqs, n_numpy, n_torch=0, torch_opts=None):
    """A case: the engine timing ``n_seqs`` sequences, and its peers. ``n_torch`` > 0 adds the
    PyTorch peers (online on ``n_torch`` sequences, batched on all)."""
    cfg = load(ROOT / "configs" / "paper" / config, sets)
    task = build_task(cfg["task"])
    rng = np.random.default_rng(0)
    chunk, order = case_data(cfg, task, rng, n_seqs)
    net0 = make_model(cfg, task, rng)
    lstm = cfg["model"]["kind"] == "lstm97"
    if lstm and cfg["train"].get("grow"):
        # sequential construction (2a, 2b): every block on, as a trial that fails runs most of
        # its budget
        net0.enable_blocks(net0.arch.blocks)
    per_step = cfg["train"]["update"] == "step"
    lr = cfg["train"]["lr"]
    steps = int(chunk.lengths()[order].sum())

    def engine():
        net = net0.copy()
        t0 = time.perf_counter()
        net.train(chunk, order, lr=lr, update_per_step=per_step)
        return time.perf_counter() - t0

    def generic():
        os.environ["LSTMRUN_SPECIALIZE"] = "0"
        try:
            return engine()
        finally:
            os.environ.pop("LSTMRUN_SPECIALIZE")

    def numpy_peer():
        sub = order[:n_numpy]
        t0 = time.perf_counter()
        if lstm:
            from reference import ref_train

            ref_train(net0.arch, net0.Wh.copy(), net0.Wo.copy(), chunk, sub, lr, per_step,
                      net0.reset_act)
        else:
            from numpy_rtrl import rtrl_train

            rtrl_train(net0.arch, net0.Wh, net0.Wo, chunk, sub, lr, per_step, net0.reset_act)
        dt = time.perf_counter() - t0
        return dt * steps / int(chunk.lengths()[sub].sum())  # scaled to the full case

    def plain(const=False):
        import plain_lstm

        run = plain_lstm.run_plain_const if const else plain_lstm.run_plain
        Wh, Wo = net0.Wh.copy(), net0.Wo.copy()
        a = net0.arch
        t0 = time.perf_counter()
        run(Wh, Wo, net0.Mh, net0.Mo, a.blocks, a.cells_per_block, chunk.x_idx, chunk.x_real,
            chunk.onehot, chunk.offsets, chunk.targets, chunk.has_target, order, lr, per_step)
        return time.perf_counter() - t0

    def other_exp():
        net = net0.copy()
        net.fast_exp = not net0.fast_exp
        t0 = time.perf_counter()
        net.train(chunk, order, lr=lr, update_per_step=per_step)
        return time.perf_counter() - t0

    def exact_other_impl(impl):
        from lstmrun.engine.exactexp import set_exact_impl

        net = net0.copy()
        old = set_exact_impl(impl)
        try:
            t0 = time.perf_counter()
            net.train(chunk, order, lr=lr, update_per_step=per_step)
            return time.perf_counter() - t0
        finally:
            set_exact_impl(old)

    def lanes(fast_exp=None):
        from lstmrun.engine.model import train_lanes

        L = vector_width()
        nets = [net0.copy() for _ in range(L)]
        if fast_exp is not None:
            for net in nets:
                net.fast_exp = fast_exp
        parts = np.array_split(order, L)
        t0 = time.perf_counter()
        train_lanes(nets, [chunk] * L, parts, lr=lr)
        return time.perf_counter() - t0

    peers, weights, notes = {}, {}, []
    if lstm:
        peers["engine-generic"] = generic
    if lstm and per_step and net0.lanes_ok() and name in LANES_CASES:
        # the same sequences split over the CPU's vector width of nets in one call (engine/lanes.py)
        peers[f"lanes-{vector_width()}"] = lanes
        if net0.exp_mode == "exact":
            # the same with the fast exp: how much of the lanes kernel's time the exact exp takes
            # (a bound for issue 19's target 2: what is left with an exp that costs little)
            peers[f"lanes-{vector_width()}-fastexp"] = lambda: lanes(True)
    if lstm and name.startswith("erg"):       # the Exp 1 nets: 1997 blocks, logistic outputs
        peers["plain-numba"] = plain
        peers["plain-numba-const"] = lambda: plain(True)
    if lstm or "p100" in name:
        peers["engine-exactexp" if net0.fast_exp else "engine-fastexp"] = other_exp
    if lstm and net0.exp_mode == "exact":
        # train.exp: exact computed the other ways than exactexp.exact_impl() chose here: the
        # port as vector code, inlined, or the C library's call (the same bits every way)
        from lstmrun.engine.exactexp import exact_impl, libm_is_gexp

        impl = exact_impl()
        for other in ("vector", "inline", "call"):
            if other != impl and (other != "call" or libm_is_gexp()):
                peers[f"engine-{other}exp"] = lambda o=other: exact_other_impl(o)
    if n_numpy:
        peers["numpy"] = numpy_peer
    if n_torch and torch_opts is not None:
        import torch_peers

        arch = net0.arch
        fns, desc = torch_peers.make_peers(
            chunk, order, hidden=arch.blocks * arch.cells_per_block, output_act=arch.output_act,
            n_online=n_torch, lr=lr, **torch_opts)
        peers.update(fns)
        weights.update({k: v[0] for k, v in desc.items()})
        notes += [f"{name} {k}: {v[1]}" for k, v in desc.items()]
    return {"name": name, "net": net0, "weights": net0.n_weights(), "steps": steps, "seqs": n_seqs,
            "engine": engine, "peers": peers, "peer_weights": weights, "notes": notes}


LANES_CASES = ("adding_t100", "2c_q1000")


def vector_width() -> int:
    """Doubles in the widest vector LLVM targets here: 8 with AVX-512, 4 with AVX/AVX2, else 2."""
    from llvmlite import binding

    feats = binding.get_host_cpu_features()
    return 8 if feats.get("avx512f") else 4 if feats.get("avx2") or feats.get("avx") else 2


def cpu_line() -> str:
    """The CPU the numbers hold for: its model and the widest double vector LLVM targets on it
    (8 lanes with AVX-512, 4 with AVX2); the README's and docs' speed numbers name it."""
    import platform

    from llvmlite import binding

    model = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    feats = binding.get_host_cpu_features()
    lanes = vector_width()
    isa = "AVX-512" if lanes == 8 else "AVX2" if feats.get("avx2") else "AVX" if lanes == 4 else "SSE2"
    return (f"CPU: {model} ({binding.get_host_cpu_name()}), {os.cpu_count()} cores; vector width "
            f"{lanes} doubles ({isa})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller cases (a smoke run)")
    ap.add_argument("--no-torch", action="store_true", help="leave out the PyTorch peers")
    ap.add_argument("--torch-dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--torch-batch", type=int, default=1024, help="sequences per batch")
    ap.add_argument("--cases", default="",
                    help="comma-separated case names to run (default: all but the extra 2a "
                         "cases rtrl_2a_p4, rtrl_2a_p100, bptt_2a_p100, which run when named)")
    a = ap.parse_args(argv)
    s = 0.1 if a.quick else 1.0
    torch_opts = None
    if not a.no_torch:
        try:
            import torch_peers  # noqa: F401
        except ImportError:
            pass                      # said once, under the table
        else:
            torch_opts = {"dtype": a.torch_dtype, "batch": a.torch_batch}

    def n(full, least):
        return max(int(full * s), least)

    extra = ("rtrl_2a_p4", "rtrl_2a_p100", "bptt_2a_p100", "2b_p100")
    wanted = [x for x in a.cases.split(",") if x]

    def case(name, *args):
        if (name in wanted) if wanted else (name not in extra):
            return make_case(name, *args)
        return None

    cases = [
        case("erg_3x2", "exp1_erg_3x2_lr05.yaml", [], n(20000, 1), n(100, 10), n(200, 20),
             torch_opts),
        case("erg_3x2_step", "exp1_erg_3x2_lr05.yaml", ["train.update=step"],
             n(20000, 1), n(100, 10)),
        case("adding_t100", "exp4_adding_t100.yaml", [], n(5000, 1), n(20, 2), n(40, 4),
             torch_opts),
        case("2c_q1000", "exp2c_q1000_p1000.yaml", [], n(1024, 1), n(5, 1), n(20, 2),
             torch_opts),
        case("2b_p100", "exp2b_p100.yaml", [], n(1000, 1), n(5, 1)),
        case("rtrl_h3", "exp1_erg_rtrl_h3.yaml", [], n(5000, 1), n(500, 50)),
        case("rtrl_h12", "exp1_erg_rtrl_h12.yaml", [], n(2000, 1), n(500, 50)),
        case("rtrl_2a_p4", "exp2a_rtrl_p4_lr1.yaml", [], n(50000, 1), n(2000, 200)),
        case("rtrl_2a_p100", "exp2a_rtrl_p100.yaml", [], n(5000, 1), n(50, 5)),
        case("bptt_2a_p100", "exp2a_bptt_p100.yaml", [], n(5000, 1), n(50, 5)),
    ]
    cases = [c for c in cases if c is not None]
    for c in cases:  # compile / warm up
        c["engine"]()
        for fn in c["peers"].values():
            fn()
    times = {c["name"]: {"engine": [], **{p: [] for p in c["peers"]}} for c in cases}
    for _ in range(a.rounds):
        for c in cases:
            times[c["name"]]["engine"].append(c["engine"]())
            for p, fn in c["peers"].items():
                times[c["name"]][p].append(fn())
    print(cpu_line())
    print(f"training throughput, one thread, median of {a.rounds} interleaved rounds "
          f"(speed-up = median of per-round peer/engine time){' [--quick]' if a.quick else ''}")
    print("| case | weights | implementation | time steps/s | sequences/s | ns/step | engine speed-up |")
    print("|---|---|---|---|---|---|---|")
    for c in cases:
        t = times[c["name"]]
        e = t["engine"]
        for impl, ts in t.items():
            med = statistics.median(ts)
            ratio = "1.0" if impl == "engine" else \
                f"{statistics.median(p / q for p, q in zip(ts, e)):.1f}x"
            w = c["peer_weights"].get(impl, c["weights"])
            print(f"| {c['name']} | {w} | {impl} | {c['steps'] / med:,.0f} | "
                  f"{c['seqs'] / med:,.0f} | {1e9 * med / c['steps']:.0f} | {ratio} |")
    notes = [x for c in cases for x in c["notes"]]
    if notes:
        print("\n" + "\n".join(f"- {x}" for x in notes))
    elif torch_opts is None and not a.no_torch:
        print("\n" + TORCH_HINT)


if __name__ == "__main__":
    main()
