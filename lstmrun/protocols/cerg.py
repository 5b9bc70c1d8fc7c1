"""The continual embedded Reber grammar protocol (GSC00 §4, Table 2; PROTOCOLS §12.2, A21).

Training: one *training stream* after another (``protocol.budget`` of them; GSC00: 30,000). A
stream is a fresh continual CERG stream (:mod:`lstmrun.tasks.cerg`); the net reads it with weight
changes at every step (``train.update: step``) until its first wrong prediction (some output not
within ``threshold`` = 0.49 of its target) or until ``stream_cap`` symbols (A21: 10^5). The
learning rate starts at ``train.lr`` with every stream and is multiplied by ``train.lr_decay``
after each step (GSC00's "sequential alpha decay": 0.99; 1.0 = fixed rate). The step with the
error still changes the weights; then the stream ends.

Testing: every ``check_every`` training streams the weights are frozen and ``test_streams`` (10)
fresh streams are run, each until its first error or ``test_cap`` (100,000) symbols. A net is
*perfect* when all of them reach the cap; the trial then stops, and ``sequences`` is the number
of training streams seen (GSC00's "streams to solution"). A test stops at the first stream that
does not reach the cap (the net cannot be perfect then); this changes nothing but the cost.

At the end (perfect, or the budget spent) the final net gets one full test of ``test_streams``
streams. Their mean error-free length (symbols predicted correctly before the first error, or the
cap) sorts the trial into GSC00 Table 2's columns: *perfect*, *good* (mean > ``good_length`` =
1000) or *rest*. trials.jsonl records ``category``, ``test_mean_length`` and the lengths.

Streams are generated and run in growing prefixes (512 steps, then x4) so that a net that fails
after 30 symbols costs 30 steps, not 100,000: when a prefix ends without an error the weights
are put back to the stream's start and the longer prefix is run again from there. The result is
the same as running the whole stream once (the kernel is deterministic).
"""

from __future__ import annotations

import numpy as np

from ..engine import LSTM97
from ..engine.judge import M_CORRECT, M_NTGT
from .base import Accepts, TrainSettings, stream_loop, threshold

FIRST_PREFIX = 512
GROWTH = 4

ACCEPTS = Accepts(("cerg",), tasks=("cerg",), models=("lstm97",))



def run_stream(net: LSTM97, task, rng: np.random.Generator, cap: int, *, learn: bool,
               lr: float = 0.0, per_step: bool = True, thr: float = 0.49) -> tuple[int, bool]:
    """Run one fresh stream until the first error or ``cap`` steps. Returns (error-free length,
    reached the cap). ``net.stop_at_error`` must be set."""
    stream = task.stream(rng)
    n = min(cap, FIRST_PREFIX)
    while True:
        chunk = stream.chunk(n)
        if learn:
            saved = (net.Wh.copy(), net.Wo.copy())
        m = net.run(chunk, learn=learn, lr=lr, update_per_step=per_step, criterion="abs",
                    threshold=thr)
        steps = int(m[:, M_NTGT].sum())
        if len(m) and m[-1, M_CORRECT] == 0:
            return steps - 1, False
        if n >= cap:
            return steps, True
        if learn:
            net.Wh[...], net.Wo[...] = saved
        n = min(cap, GROWTH * n)


def test_net(net: LSTM97, task, rng, pr: dict, thr: float, stop_early: bool) -> list[int]:
    """Error-free lengths of up to ``test_streams`` fresh streams, frozen weights. With
    ``stop_early`` the test ends at the first stream that misses ``test_cap``."""
    lengths = []
    for _ in range(pr["test_streams"]):
        n, full = run_stream(net, task, rng, pr["test_cap"], learn=False, thr=thr)
        lengths.append(n)
        if stop_early and not full:
            break
    return lengths


def run(cfg: dict, task, net: LSTM97, data_rng: np.random.Generator,
        train_rng: np.random.Generator) -> dict:
    pr, tr, ts = cfg["protocol"], cfg["train"], TrainSettings.of(cfg)
    thr = threshold(cfg, task)
    budget = pr["budget"]
    net.lr_decay = float(tr["lr_decay"])
    net.stop_at_error = True

    def train_one():
        n, full = run_stream(net, task, train_rng, pr["stream_cap"], learn=True, lr=ts.lr,
                             per_step=ts.per_step, thr=thr)
        return n, n + (0 if full else 1)

    def check():
        first = test_net(net, task, data_rng, pr, thr, stop_early=True)
        return first, len(first) == pr["test_streams"] and min(first) >= pr["test_cap"]

    r = stream_loop(net, budget, pr["curve_points"], pr["check_every"], train_one, check)
    seen, steps, solved, curve = r.seen, r.steps, r.solved, r.curve
    reason = r.reason((f"perfect: all {pr['test_streams']} test streams predicted without "
                            f"error for {pr['test_cap']} symbols"), budget)
    lengths = r.lengths if solved else test_net(net, task, data_rng, pr, thr, stop_early=False)
    mean_len = float(np.mean(lengths))
    category = "perfect" if solved else ("good" if mean_len > pr["good_length"] else "rest")
    return {"solved": solved, "sequences": seen, "reason": reason, "category": category,
            "test_mean_length": round(mean_len, 2), "test_lengths": [int(v) for v in lengths],
            "training_steps": int(steps), "curve": curve}


def summary(trials: list[dict]) -> dict:
    """GSC00 Table 2's columns over a run's trials: % perfect (mean streams to solution), % good
    and % rest, each with the mean of the trials' mean error-free test lengths."""
    n = len(trials)
    out: dict = {}
    for cat in ("perfect", "good", "rest"):
        ts = [t for t in trials if t.get("category") == cat]
        out[cat] = {"n": len(ts), "pct": round(100.0 * len(ts) / n, 1) if n else None,
                    "mean_length": (round(float(np.mean([t["test_mean_length"] for t in ts])), 1)
                                    if ts else None)}
    out["perfect"]["mean_streams"] = (float(np.mean([t["sequences"] for t in trials
                                                     if t.get("category") == "perfect"]))
                                      if out["perfect"]["n"] else None)
    return out
