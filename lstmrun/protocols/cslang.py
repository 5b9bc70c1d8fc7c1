"""The protocol of the counting languages a^n b^n and a^n b^n c^n (GS01; PROTOCOLS §14).

GS01's protocol was not retrieved (only its abstract; PROTOCOLS §14), so this one is designed, in
the manner of Exp 1 (``exp1.py``):

- Training set: the strings with n = ``task.n_min`` .. ``task.n_max`` (1..10 in the configs), one per n.
  Training strings are drawn from it on-line (``train.sampling``: ``random`` = uniform draws, or
  epochs in order / reshuffled); the state is reset at every string's S; the error is injected at
  every step (the legal-set targets) and the weights change per step or per string
  (``train.update``).
- Every ``protocol.check_every`` training strings the weights are frozen and every training
  string is checked (``task.criterion`` ``abs`` on the 0/1 legal-set targets with
  ``protocol.threshold``, default the task's 0.5: every legal symbol's output above 0.5, every
  other below, at every step). The trial is *solved* at the first check that finds every training
  string correct; ``sequences`` is the number of training strings seen then (resolution
  ``check_every``). ``protocol.budget`` training strings without that: failed.
- Generalisation: the largest N such that every string with n <= N is correct (0 if n = 1 is
  not) -- "learned the language up to N" -- tested on n = 1..``task.test_n_max``.
  ``gen_n_at_solve``: with the weights of the solving check. ``protocol.train_after_solved`` > 0
  goes on training for that many strings; every ``protocol.gen_check_every`` strings, if the
  training set is still all correct, generalisation is tested again: ``gen_n_best`` is the best
  of these (and the solving check's), ``best_at`` the training strings seen then,
  ``sequences_trained`` the total. (``sequences`` stays the count at the first solve.)
- The final weights (those saved) get a full test of n = 1..test_n_max: ``gen_n``,
  ``first_wrong_n`` (gen_n + 1; None when every test string is correct, gen_n = test_n_max is then
  a lower bound), ``test_correct`` (how many of the test_n_max strings are correct, in or out of
  the prefix) and ``train_correct`` (fraction of the training set).
"""

from __future__ import annotations

import numpy as np

from ..engine.lstm97 import M_CORRECT
from .base import DIVERGED, Accepts, Curve, diverged, threshold, TrainOrder, TrainSettings

TEST_BLOCK_STEPS = 1 << 20   # test strings are built and run in blocks of about this many steps

ACCEPTS = Accepts(("cslang",), tasks=("anbn", "anbncn"), exclusive=True)



def _blocks(task, lo: int, hi: int, first: int = TEST_BLOCK_STEPS):
    """The n's lo..hi in blocks of at most ``first`` steps, doubling up to ``TEST_BLOCK_STEPS``
    (a block holds at least one string)."""
    n, cap = lo, min(first, TEST_BLOCK_STEPS)
    while n <= hi:
        ns, steps = [], 0
        while n <= hi and (not ns or steps + task.letters * n + 1 <= cap):
            ns.append(n)
            steps += task.letters * n + 1
            n += 1
        yield ns
        cap = min(2 * cap, TEST_BLOCK_STEPS)


def generalisation(net, task, thr: float, n_max: int | None = None) -> dict:
    """Run every string n = 1..n_max (default ``task.test_n_max``) with frozen weights; see the
    module docstring for the fields."""
    top = int(task.p["test_n_max"] if n_max is None else n_max)
    ok = np.zeros(top + 1, bool)                       # ok[n]: the n-string is correct
    for ns in _blocks(task, 1, top):
        m = net.evaluate(task.strings(ns, symbols=False), criterion="abs", threshold=thr)
        ok[ns[0]:ns[-1] + 1] = m[:, M_CORRECT] == 1
    wrong = np.flatnonzero(~ok[1:]) + 1
    first = int(wrong[0]) if len(wrong) else None
    return {"gen_n": (first - 1) if first is not None else top, "first_wrong_n": first,
            "test_correct": int(ok[1:].sum()), "test_n_max": top}


def gen_prefix(net, task, thr: float, n_max: int | None = None) -> int:
    """Only ``gen_n`` of :func:`generalisation`: runs n = 1, 2, ... and stops at the first
    string that is wrong (cheap for a net that does not generalise far)."""
    top = int(task.p["test_n_max"] if n_max is None else n_max)
    for ns in _blocks(task, 1, top, first=1024):
        m = net.evaluate(task.strings(ns, symbols=False), criterion="abs", threshold=thr,
                         early_exit=True)
        bad = np.flatnonzero(m[:, M_CORRECT] == 0)
        if len(bad):
            return ns[int(bad[0])] - 1
        if len(m) < len(ns):                            # early exit without a failing row
            return ns[len(m)] - 1
    return top


def run(cfg: dict, task, net, data_rng: np.random.Generator,
        train_rng: np.random.Generator) -> dict:
    pr, ts = cfg["protocol"], TrainSettings.of(cfg)
    thr = threshold(cfg, task)
    train_c = task.strings(task.training_ns(), symbols=False)
    order = TrainOrder(train_c.n, ts.sampling, train_rng)
    curve = Curve(pr["budget"] + pr["train_after_solved"], pr["curve_points"], task.n_out)
    seen = 0
    solved = False
    went_off = False

    def train(m: int) -> bool:
        nonlocal seen
        metrics = net.train(train_c, order.take(m), lr=ts.lr, update_per_step=ts.per_step,
                            criterion="abs", threshold=thr)
        seen += m
        curve.add(metrics, seen)
        return not diverged(net)

    while seen < pr["budget"]:
        if not train(min(pr["check_every"], pr["budget"] - seen)):
            went_off = True
            break
        if net.all_correct(train_c, criterion="abs", threshold=thr):
            solved = True
            break
    res: dict = {"solved": solved, "sequences": seen}
    if solved:
        res["reason"] = (f"every training string (n = {task.p['n_min']}..{task.p['n_max']}) "
                         f"correct (threshold {thr:g})")
        res["gen_n_at_solve"] = gen_prefix(net, task, thr)
    elif went_off:
        res["reason"] = DIVERGED
    else:
        res["reason"] = f"budget of {pr['budget']} training strings exhausted"
    if solved and pr["train_after_solved"]:
        # keep training; whenever the training set is still all correct, test generalisation
        best, best_at, end = res["gen_n_at_solve"], seen, seen + pr["train_after_solved"]
        while seen < end:
            if not train(min(pr["gen_check_every"], end - seen)):
                went_off = True
                res["reason"] += f"; {DIVERGED} while training on"
                break
            if net.all_correct(train_c, criterion="abs", threshold=thr):
                g = gen_prefix(net, task, thr)
                if g > best:
                    best, best_at = g, seen
        res.update(gen_n_best=best, best_at=best_at, sequences_trained=seen)
    curve.flush(seen)
    if not went_off:
        ok = net.evaluate(train_c, criterion="abs", threshold=thr)[:, M_CORRECT]
        res["train_correct"] = round(float(ok.mean()), 4)
        res.update(generalisation(net, task, thr))
    res["curve"] = curve.rows
    return res


def summary(trials: list[dict]) -> dict:
    """Generalisation over a run's solved trials: ``gen_n`` of the final nets, ``gen_n_at_solve``
    and (with ``train_after_solved``) ``gen_n_best`` -- each as n, mean, median, min, max -- plus
    the test ceiling and how many final nets reached it."""
    def stats(key):
        vals = [t[key] for t in trials if t.get("solved") and t.get(key) is not None]
        if not vals:
            return None
        a = np.asarray(vals, float)
        return {"n": len(vals), "mean": round(float(a.mean()), 2), "median": float(np.median(a)),
                "min": int(a.min()), "max": int(a.max())}

    tops = {t["test_n_max"] for t in trials if t.get("test_n_max") is not None}
    return {"gen_n": stats("gen_n"), "gen_n_at_solve": stats("gen_n_at_solve"),
            "gen_n_best": stats("gen_n_best"), "test_n_max": max(tops) if tops else None,
            "reached_test_n_max": sum(1 for t in trials if "first_wrong_n" in t
                                      and t["first_wrong_n"] is None)}
