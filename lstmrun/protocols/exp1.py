"""Experiment 1's protocol (HS97 §5.1): fixed training and test sets, success = both fully correct.

- One (training, test) set pair per data set: 256 random strings and 256 strings none of which is in
  the training set. Training strings are drawn at random from the training set (``sampling``).
- Every ``check_every`` training strings the weights are frozen and every symbol of every training
  and test string is checked: the legal next symbols must be the most active outputs (A12). The
  paper does not say how often it checked (A9); the sequence count reported is the number of
  training strings seen when the first passing check ran, so its resolution is ``check_every``.
- A trial that has not passed after ``budget`` training strings has failed (the paper states no
  budget for Exp 1; A16).
"""

from __future__ import annotations

import numpy as np

from ..engine import LSTM97
from ..engine.lstm97 import M_CORRECT, M_NTGT, M_SSE
from ..tasks.grammar import make_train_test


class TrainOrder:
    """Which training string comes next: random draws, epochs in order, or reshuffled epochs."""

    def __init__(self, n: int, mode: str, rng: np.random.Generator):
        self.n, self.mode, self.rng = n, mode, rng
        self.perm = np.arange(n) if mode == "epoch" else rng.permutation(n)
        self.pos = 0

    def take(self, m: int) -> np.ndarray:
        if self.mode == "random":
            return self.rng.integers(0, self.n, m)
        out = np.empty(m, np.int64)
        for i in range(m):
            if self.pos == self.n:
                self.pos = 0
                if self.mode == "shuffle":
                    self.perm = self.rng.permutation(self.n)
            out[i] = self.perm[self.pos]
            self.pos += 1
        return out


class Curve:
    """A light learning curve: about ``points`` rows of (sequences seen, online MSE, fraction of
    online sequences meeting the criterion), aggregated over the training strings since the
    previous row."""

    def __init__(self, budget: int, points: int, n_out: int):
        self.every = max(1, budget // points) if points else 0
        self.n_out = n_out
        self.rows: list[list[float]] = []
        self._reset()

    def _reset(self):
        self.sse = self.ntgt = self.nseq = self.ncorrect = 0.0

    def add(self, metrics: np.ndarray, seen: int):
        if not self.every:
            return
        self.sse += metrics[:, M_SSE].sum()
        self.ntgt += metrics[:, M_NTGT].sum()
        self.ncorrect += metrics[:, M_CORRECT].sum()
        self.nseq += len(metrics)
        if seen // self.every > (seen - len(metrics)) // self.every:
            self.flush(seen)

    def flush(self, seen: int):
        if self.nseq:
            mse = self.sse / max(1.0, self.ntgt * self.n_out)
            self.rows.append([int(seen), round(float(mse), 6), round(float(self.ncorrect / self.nseq), 4)])
        self._reset()


def run(cfg: dict, task, net: LSTM97, data_rng: np.random.Generator,
        train_rng: np.random.Generator) -> dict:
    tp, pr, tr = cfg["task"], cfg["protocol"], cfg["train"]
    train_s, test_s = make_train_test(task.grammar, data_rng, tp["n_train"], tp["n_test"])
    train_c, test_c = task.chunk(train_s), task.chunk(test_s)
    order = TrainOrder(train_c.n, tr["sampling"], train_rng)
    curve = Curve(pr["budget"], pr["curve_points"], task.n_out)
    per_step = tr["update"] == "step"
    seen = 0
    solved = False
    while seen < pr["budget"]:
        m = min(pr["check_every"], pr["budget"] - seen)
        metrics = net.train(train_c, order.take(m), lr=tr["lr"], update_per_step=per_step,
                            criterion="legal")
        seen += m
        curve.add(metrics, seen)
        if not np.isfinite(net.Wh).all() or not np.isfinite(net.Wo).all():
            break
        if net.all_correct(train_c, criterion="legal") and net.all_correct(test_c, criterion="legal"):
            solved = True
            break
    curve.flush(seen)
    if solved:
        reason = "criterion met: all training and test strings correct"
    elif seen >= pr["budget"]:
        reason = f"budget of {pr['budget']} training sequences exhausted"
    else:
        reason = "weights diverged (non-finite)"
    train_ok = net.evaluate(train_c, criterion="legal")[:, M_CORRECT].mean()
    test_ok = net.evaluate(test_c, criterion="legal")[:, M_CORRECT].mean()
    return {
        "solved": solved,
        "sequences": seen,
        "reason": reason,
        "final": {"train_correct": round(float(train_ok), 4), "test_correct": round(float(test_ok), 4)},
        "curve": curve.rows,
    }
