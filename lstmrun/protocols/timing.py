"""The stream protocol of GSS02's timing tasks (PROTOCOLS §13.2; tasks in lstmrun/tasks/timing.py).

Secondary source (PFX02, A22): "a training stream stops at the first error or after 100 correct
events; a test stream after 1000. Up to 10^7 training streams (10^8 for MSD); one test after each
training stream; 10 trials".

Training: one *training stream* after another (``protocol.budget`` of them). Each is a fresh
stream of the task (continual, no reset, unless the task resets itself, e.g. ``nmsd``), read with
weight changes at every step (``train.update: step``) until the first judged step whose output is
not within ``threshold`` of its target (that step's change is still applied) or until
``task.train_events`` events are done correctly.

Testing: every ``protocol.check_every`` training streams (GSS02: 1) the weights are frozen and
``task.test_streams`` fresh streams are run, each until its first error or ``task.test_events``
correct events. The trial is solved when all of them reach ``test_events``; ``sequences`` is then
the number of training streams seen (GSS02's "training streams until solved"). Test streams are
run in growing prefixes (10 events, then x4) so a net that fails after 3 events costs 3 events.

At the end the final net gets one full test (``test_streams`` streams, not stopped early) and an
error measurement on one more fresh stream of ``test_events`` events run to its end without
stopping: trials.jsonl records ``test_events_correct`` (events before the first error, per test
stream), ``test_rmse`` (root mean squared error over that stream's judged steps -- GSS02 reports
RMSE for PFG; null when the net's state overflowed, which GSS02's unbounded cell -- g identity,
no h -- allows) and ``training_steps``.
"""

from __future__ import annotations

import numpy as np

from ..engine.judge import M_CORRECT, M_NTGT, M_SSE
from .base import Accepts, TrainSettings, stream_loop, threshold

FIRST_PREFIX = 10
GROWTH = 4

ACCEPTS = Accepts(("timing",), tasks=("msd", "nmsd", "gts", "pfg"), models=("lstm97",),
                  exclusive=True)



def _events_before_error(stream, chunk, m: np.ndarray, n: int) -> tuple[int, bool]:
    """(events completed correctly, whether all ``n`` were) after a stop-at-error run."""
    if not len(m) or m[-1, M_CORRECT] != 0:
        return n, True
    judged = int(m[:, M_NTGT].sum())                    # the failing step is the last judged one
    pos = int(np.flatnonzero(chunk.extra["criterion_mask"])[judged - 1])
    return int(np.searchsorted(stream.event_ends(n), pos, side="left")), False


def run_stream(net, task, rng, n_events: int, *, learn: bool, lr: float = 0.0,
               per_step: bool = True, thr: float = 0.49, grow: bool = False) -> tuple[int, bool, int]:
    """One fresh stream until the first error or ``n_events`` correct events. Returns (events
    correct, reached ``n_events``, steps run). ``net.stop_at_error`` must be set. ``grow`` (frozen
    weights only): run growing prefixes of the stream."""
    stream = task.stream(rng)
    n = min(n_events, FIRST_PREFIX) if grow and not learn else n_events
    while True:
        chunk = stream.chunk(n)
        m = net.run(chunk, learn=learn, lr=lr, update_per_step=per_step, criterion="abs",
                    threshold=thr)
        k, full = _events_before_error(stream, chunk, m, n)
        steps = int(chunk.offsets[len(m) - 1]) + int(_steps_in_last(chunk, m))
        if not full or n >= n_events:
            return k, full, steps
        n = min(n_events, GROWTH * n)


def _steps_in_last(chunk, m) -> int:
    """Steps run in the last processed sequence (up to and including a failing step)."""
    q = len(m) - 1
    a, b = int(chunk.offsets[q]), int(chunk.offsets[q + 1])
    if m[-1, M_CORRECT] != 0:
        return b - a
    judged = np.flatnonzero(chunk.extra["criterion_mask"][a:b])
    return int(judged[int(m[-1, M_NTGT]) - 1]) + 1


def test_net(net, task, rng, thr: float, stop_early: bool) -> list[int]:
    """Correct events of up to ``task.test_streams`` fresh streams, frozen weights."""
    out = []
    for _ in range(task.p["test_streams"]):
        k, full, _ = run_stream(net, task, rng, task.p["test_events"], learn=False, thr=thr,
                                grow=True)
        out.append(k)
        if stop_early and not full:
            break
    return out


def stream_rmse(net, task, rng) -> float:
    """RMSE over the judged steps of one fresh stream of ``test_events`` events, run to its end."""
    chunk = task.stream(rng).chunk(task.p["test_events"])
    stop = net.stop_at_error
    net.stop_at_error = False
    try:
        m = net.evaluate(chunk, criterion="none")
    finally:
        net.stop_at_error = stop
    n = float(m[:, M_NTGT].sum()) * task.n_out
    return float(np.sqrt(m[:, M_SSE].sum() / n)) if n else float("nan")


def run(cfg: dict, task, net, data_rng: np.random.Generator,
        train_rng: np.random.Generator) -> dict:
    pr, ts = cfg["protocol"], TrainSettings.of(cfg)
    thr = threshold(cfg, task)
    budget = pr["budget"]
    n_test = task.p["test_events"]
    net.stop_at_error = True

    def train_one():
        k, full, n = run_stream(net, task, train_rng, task.p["train_events"], learn=True,
                                lr=ts.lr, per_step=ts.per_step, thr=thr)
        return k, n

    def check():
        first = test_net(net, task, data_rng, thr, stop_early=True)
        return first, len(first) == task.p["test_streams"] and min(first) >= n_test

    r = stream_loop(net, budget, pr["curve_points"], pr["check_every"], train_one, check)
    seen, steps, solved, curve = r.seen, r.steps, r.solved, r.curve
    reason = r.reason((f"solved: {task.p['test_streams']} test stream(s) of {n_test} events "
                            "without an error"), budget)
    lengths = r.lengths if solved else test_net(net, task, data_rng, thr, stop_early=False)
    rmse = stream_rmse(net, task, data_rng)
    return {"solved": solved, "sequences": seen, "reason": reason,
            "test_events_correct": [int(v) for v in lengths],
            "test_rmse": round(rmse, 5) if np.isfinite(rmse) else None,
            "training_steps": int(steps), "curve": curve}
