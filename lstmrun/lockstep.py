"""Trials in lockstep: several trials of one config trained in one call of the lanes kernel.

``lstmrun train --lanes L`` (issue 19, "many trials per kernel call"): a process runs L trials of
a config at once, each in its own thread with the protocol code unchanged. Every training call a
trial's protocol makes (``net.train``) waits at a barrier; when every live trial waits, one call
of :func:`lstmrun.engine.model.train_lanes` trains all of them (each on its own sequences, in its
own lane), and each gets its own metrics back. Checks, post-tests and sequence generation run in
the trials' threads as before (under the GIL, one at a time). When a trial ends, its thread
takes the next trial of the process's list (a finished lane is refilled).

Results are those of the one-trial path, bit for bit: the lanes kernel repeats the one-net
kernel's arithmetic per lane (``tests/test_lanes.py``), every trial keeps its own random streams,
and nothing a trial computes depends on the others (``tests/test_lockstep.py`` compares whole
``trials.jsonl`` files). A training call the lanes kernel cannot take (``LSTM97.lanes_ok``: e.g.
cells not yet added by sequential construction) runs on the trial's own one-net kernel.

A trial's ``wall_seconds`` in ``trials.jsonl`` is then the wall time it ran beside the others
(the trials of a kernel call share it), so summed trial-seconds over-count a lockstep run's work.

Which configs qualify: the 1997 LSTM with per-step weight changes and none of the later variants
(:func:`reason_not`), i.e. the on-line rows of Exps 2c-6. Others run one trial at a time.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

import numpy as np

from .engine import LSTM97
from .engine.model import train_lanes
from .runner import make_model, run_trial
from .tasks.registry import build_task


def reason_not(cfg: dict) -> str | None:
    """None when ``cfg``'s trials can run in lockstep; else why not, in a few words."""
    per_step = cfg["train"]["update"] == "step"
    if not per_step:
        return "weight changes per sequence, not per step"
    task = build_task(cfg["task"])
    net = make_model(cfg, task, np.random.default_rng(0))
    if not isinstance(net, LSTM97):
        return f"model.kind {cfg['model'].get('kind', 'lstm')} (the lanes kernel is the 1997 LSTM's)"
    if not net.lanes_ok(True):
        return "a variant the lanes kernel does not have (forget gates, peepholes, momentum, ...)"
    return None


def warm_up(cfg: dict, lanes: int) -> None:
    """Compile (or load from Numba's cache) the lanes kernel of ``lanes`` lanes for ``cfg``."""
    task = build_task(cfg["task"])
    net = make_model(cfg, task, np.random.default_rng(0))
    train_lanes([net], [task.sample(np.random.default_rng(0), 2)], [None], lr=0.1, lanes=lanes)


class Aborted(Exception):
    """Raised in a trial's thread when another trial of the process failed."""


@dataclass(eq=False)
class _Call:
    """One trial's training call, waiting at the barrier."""
    net: LSTM97
    chunk: object
    order: object
    settings: tuple        # (lr, criterion, threshold): calls that share them share a kernel call
    own: object            # the net's own ``train`` (the one-net kernel)
    metrics: object = None
    error: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self.metrics is not None or self.error is not None


class _Barrier:
    """Gathers the training calls of the live trials; the last to arrive trains them all."""

    def __init__(self, lanes: int):
        self.lanes = lanes
        self.cv = threading.Condition()
        self.live = 0
        self.waiting: list[_Call] = []
        self.error: BaseException | None = None

    def join(self) -> None:
        with self.cv:
            self.live += 1

    def leave(self) -> None:
        with self.cv:
            self.live -= 1
            self._run_if_all_wait()

    def abort(self, error: BaseException) -> None:
        with self.cv:
            if self.error is None:
                self.error = error
            for call in self.waiting:
                call.error = Aborted()
            self.waiting = []
            self.cv.notify_all()

    def wrap(self, net: LSTM97) -> None:
        """Route ``net.train`` through the barrier (an instance attribute shadowing the method)."""
        own = net.train

        def train(chunk, order=None, *, lr, update_per_step=True, criterion="none",
                  threshold=0.0):
            if not net.lanes_ok(update_per_step):
                return own(chunk, order, lr=lr, update_per_step=update_per_step,
                           criterion=criterion, threshold=threshold)
            call = _Call(net, chunk, order, (float(lr), criterion, float(threshold)), own)
            with self.cv:
                if self.error is not None:
                    raise Aborted()
                self.waiting.append(call)
                self._run_if_all_wait()
                while not call.answered:
                    self.cv.wait()
            if call.error is not None:
                raise call.error
            return call.metrics

        net.train = train

    def _run_if_all_wait(self) -> None:
        """With the lock held: when every live trial waits, train them (one call per distinct
        (lr, criterion, threshold); a config's trials share them) and wake them."""
        if not self.waiting or len(self.waiting) < self.live:
            return
        batch, self.waiting = self.waiting, []
        groups: dict[tuple, list[_Call]] = {}
        for call in batch:
            groups.setdefault(call.settings, []).append(call)
        for (lr, crit, thr), calls in groups.items():
            try:
                if len(calls) == 1:     # a lone trial (the others have ended): the one-net kernel
                    c = calls[0]
                    ms = [c.own(c.chunk, c.order, lr=lr, update_per_step=True, criterion=crit,
                                threshold=thr)]
                else:
                    ms = train_lanes([c.net for c in calls], [c.chunk for c in calls],
                                     [c.order for c in calls], lr=lr, criterion=crit,
                                     threshold=thr, lanes=self.lanes)
            except BaseException as e:  # noqa: BLE001  (handed to the trials' threads)
                for c in calls:
                    c.error = e
            else:
                for c, m in zip(calls, ms):
                    c.metrics = m
        self.cv.notify_all()


def run_trials(cfg: dict, ks, lanes: int, on_result) -> None:
    """Run trials ``ks`` of ``cfg`` on ``lanes`` lanes; ``on_result(k, rec, weights)`` is called
    in the calling thread as each trial ends. An error in a trial stops the others and is
    raised here; so is a KeyboardInterrupt (the threads end at their next training call)."""
    todo = list(ks)
    n = len(todo)
    next_k = iter(todo)
    take = threading.Lock()
    done: queue.Queue = queue.Queue()
    barrier = _Barrier(lanes)

    def worker():
        while True:
            with take:
                k = next(next_k, None)
            if k is None or barrier.error is not None:
                return
            barrier.join()
            try:
                rec, weights = run_trial(cfg, k, wrap=barrier.wrap)
            except BaseException as e:  # noqa: BLE001
                barrier.leave()
                if not isinstance(e, Aborted):
                    barrier.abort(e)
                    done.put(("error", k, e))
                return
            barrier.leave()
            done.put(("ok", k, (rec, weights)))

    threads = [threading.Thread(target=worker, name=f"lstmrun-lane-{i}", daemon=True)
               for i in range(min(lanes, n))]
    for t in threads:
        t.start()
    received = 0
    try:
        while received < n:
            try:
                kind, k, payload = done.get(timeout=0.2)
            except queue.Empty:
                if any(t.is_alive() for t in threads) or not done.empty():
                    continue
                raise RuntimeError("lockstep: the trials' threads ended early") from None
            if kind == "error":
                raise payload
            received += 1
            on_result(k, *payload)
    except BaseException as e:
        barrier.abort(e)
        raise
    for t in threads:
        t.join()
