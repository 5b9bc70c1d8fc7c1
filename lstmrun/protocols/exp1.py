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
from ..engine.judge import M_CORRECT
from ..tasks.grammar import make_train_test
from .base import DIVERGED, Accepts, Curve, diverged, TrainOrder, TrainSettings

ACCEPTS = Accepts(("exp1",), tasks=("embedded_reber", "reber", "grammar"))



def run(cfg: dict, task, net: LSTM97, data_rng: np.random.Generator,
        train_rng: np.random.Generator) -> dict:
    tp, pr, ts = cfg["task"], cfg["protocol"], TrainSettings.of(cfg)
    train_s, test_s = make_train_test(task.grammar, data_rng, tp["n_train"], tp["n_test"])
    train_c, test_c = task.chunk(train_s), task.chunk(test_s)
    order = TrainOrder(train_c.n, ts.sampling, train_rng)
    curve = Curve(pr["budget"], pr["curve_points"], task.n_out)
    seen = 0
    solved = False
    while seen < pr["budget"]:
        m = min(pr["check_every"], pr["budget"] - seen)
        metrics = net.train(train_c, order.take(m), lr=ts.lr, update_per_step=ts.per_step,
                            criterion="legal")
        seen += m
        curve.add(metrics, seen)
        if diverged(net):
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
        reason = DIVERGED
    train_ok = net.evaluate(train_c, criterion="legal")[:, M_CORRECT].mean()
    test_ok = net.evaluate(test_c, criterion="legal")[:, M_CORRECT].mean()
    return {
        "solved": solved,
        "sequences": seen,
        "reason": reason,
        "final": {"train_correct": round(float(train_ok), 4), "test_correct": round(float(test_ok), 4)},
        "curve": curve.rows,
    }
