"""Where the time of one ``lstmrun train`` command goes: the lanes kernel, ``train_lanes`` around
it, one-net training calls, checks (``evaluate``) and sequence generation (``task.sample``),
measured by timers wrapped around those calls in this process (issue 19, item 3).

Usage: python bench/lockstep_split.py [lstmrun train arguments, without "train"]
e.g.   python bench/lockstep_split.py configs/paper/exp4_adding_t100.yaml --trials 16 --jobs 1 \\
           --lanes 8 --out /tmp/split -q

Generation runs in the trials' threads under the GIL, so its time can include waits for it; the
kernels hold the GIL, so the parts of one thread never overlap a kernel call. Run with
``--jobs 1`` (worker processes are not timed).
"""

from __future__ import annotations

import collections
import sys
import time

from lstmrun.engine import codegen, kernelmodel, lanes, model
from lstmrun.tasks import registry

spent: collections.Counter = collections.Counter()
calls: collections.Counter = collections.Counter()
filled: collections.Counter = collections.Counter()     # lanes calls by the number of live trials


def timed(name, fn):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - t0
            calls[name] += 1
    return wrapper


def main(argv: list[str]) -> None:
    import lstmrun.lockstep as lockstep

    train_lanes = timed("train_lanes (all)", lockstep.train_lanes)

    def train_lanes_counted(nets, *args, **kwargs):
        filled[len(nets)] += 1
        return train_lanes(nets, *args, **kwargs)

    lockstep.train_lanes = train_lanes_counted
    kernel = codegen.kernel

    def kernel_timed(*args, **kwargs):
        fn = kernel(*args, **kwargs)
        return timed("lanes kernel", fn) if len(args) > 1 and args[1] is lanes else fn

    model.codegen.kernel = kernel_timed
    model.LSTM97.train = timed("one-net train", model.LSTM97.train)
    kernelmodel.KernelModel.evaluate = timed("evaluate (checks)", kernelmodel.KernelModel.evaluate)
    build = registry.build_task

    def build_timed(*args, **kwargs):
        task = build(*args, **kwargs)
        task.sample = timed("task.sample", task.sample)
        return task

    registry.build_task = build_timed
    for mod in list(sys.modules.values()):          # modules that imported build_task by name
        if getattr(mod, "build_task", None) is build:
            mod.build_task = build_timed
    from lstmrun.cli import main as cli

    t0 = time.perf_counter()
    try:
        cli(["train", *argv], standalone_mode=False)
    finally:
        total = time.perf_counter() - t0
        print(f"whole command (after imports): {total:.2f} s")
        print("| part | s | calls |")
        print("|---|---|---|")
        for name, s in spent.most_common():
            print(f"| {name} | {s:.2f} | {calls[name]} |")
        if filled:
            print("lanes calls by live trials: " + ", ".join(
                f"{n}: {filled[n]}" for n in sorted(filled, reverse=True)))


if __name__ == "__main__":
    main(sys.argv[1:])
