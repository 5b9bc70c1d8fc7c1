"""Protocols of the experiments whose sequences are generated on-line (HS97 Exps 2-6, T11).

Training sequences come fresh from the task's generator, ``chunk`` at a time per kernel call. The
kernel reports, per training sequence, whether it met the task's criterion (ABS(beta) at the judged
steps) and its error, computed as it was processed -- before the weight change of its last step.
Each stop rule below reports the exact number of training sequences at which it first held.

- ``abs``  (2a-2c): ABS(beta) holds for ``window`` successive sequences (HS97: 10,000). How the
  paper checked this is not stated (A9). ``abs_mode: frozen`` (default) freezes the weights every
  ``check_every`` sequences and tests ``window`` fresh sequences (stopping at the first failure);
  ``abs_mode: online`` looks for ``window`` consecutive correct on-line training sequences and
  counts the sequences seen when that run started.
- ``st12`` (3a-3c): every ``check_every`` sequences, a fresh test set of ``test_size`` (256)
  sequences: ST1 = at most ``st1_max_wrong`` misclassified (3a: 0, 3b: 5); ST2 = ST1 and mean
  absolute test error < ``st2_max_error`` (3a: 0.01, 3b: 0.04, 3c: 0.015 to the noise-free target).
  Stops at ST2; the sequence counts of ST1 and ST2 are both recorded. Readings of A13:
  ``st_test_set: fixed`` draws one test set at the trial's start and reuses it (default ``fresh``);
  ``st_consecutive: k`` needs the rule on k checks in a row (count at the k-th; default 1).
- ``st3``  (4, 6): ST3(beta): the most recent ``window`` (2000) training sequences all correct and
  their average error < ``beta`` (A10: ``error_kind`` mae or mse of the end-of-sequence error).
- ``nseq`` (5): fewer than ``n_seq`` of the most recent ``window`` (2000) training sequences have
  absolute error > the task's threshold.

Sequential construction (``train.sequential``, HS97 §4 remedy 1, used for 2a/2b): training starts
without the memory cells; once the mean on-line error of a chunk has not improved on the best so far
by a relative ``plateau_tol`` for ``plateau_chunks`` chunks, the cells (with their gates) are added.
``train.grow: one`` adds one block at a time instead: the next block joins at the next plateau
(measured afresh after each join), until all ``model.blocks`` are in; the trial records
``blocks_added_at``.

After a success, ``post_test`` fresh sequences (HS97: 2560) measure the number misclassified, the
fraction, the MSE and the mean absolute error.

Given a :class:`checkpoint.TrialCheckpoint`, :func:`run` saves its state between chunks every few
minutes and, when started again on the same file, goes on from the saved state: the same result,
bit for bit, as a run that was never stopped.
"""

from __future__ import annotations

import numpy as np

from ..engine import LSTM97
from ..engine.judge import M_CORRECT, M_MAXABS, M_NTGT, M_SSE, M_SUMABS
from .base import DIVERGED, Accepts, Curve, TrainSettings, diverged, threshold
from .checkpoint import TrialCheckpoint, net_state, restore_net, restore_rng, rng_state

ACCEPTS = Accepts(("abs", "st12", "st3", "nseq"))
CHECKPOINTS = True      # run() takes ``ckpt`` (lstmrun.runner.run_trial passes one)


def _stats(m: np.ndarray, n_out: int) -> dict:
    nt = max(1.0, m[:, M_NTGT].sum() * n_out)
    wrong = int((m[:, M_CORRECT] == 0).sum())
    return {"n": len(m), "wrong": wrong, "fraction_wrong": wrong / max(1, len(m)),
            "mse": float(m[:, M_SSE].sum() / nt), "mae": float(m[:, M_SUMABS].sum() / nt),
            "max_abs_error": float(m[:, M_MAXABS].max()) if len(m) else None}


def _seq_error(m: np.ndarray, n_out: int, kind: str) -> np.ndarray:
    """Per-sequence average error over the judged steps and outputs."""
    nt = np.maximum(1.0, m[:, M_NTGT] * n_out)
    return (m[:, M_SSE] if kind == "mse" else m[:, M_SUMABS]) / nt


class _Plateau:
    """Has the mean on-line error stopped falling? (sequential construction)"""

    def __init__(self, patience: int, tol: float):
        self.patience, self.tol = patience, tol
        self.best = np.inf
        self.since = 0

    def stalled(self, m: np.ndarray, n_out: int) -> bool:
        err = float(m[:, M_SSE].sum() / max(1.0, m[:, M_NTGT].sum() * n_out))
        if err < self.best * (1.0 - self.tol):
            self.best, self.since = err, 0
        else:
            self.since += 1
        return self.since >= self.patience


class _Window:
    """The most recent ``w`` on-line results, to find the first sequence at which a windowed rule
    holds, exactly, even inside a chunk."""

    def __init__(self, w: int):
        self.w = w
        self.ok = np.zeros(0, np.float64)
        self.err = np.zeros(0, np.float64)

    def first_hit(self, ok: np.ndarray, err: np.ndarray, rule) -> int | None:
        """Append a chunk; return the index within it of the first sequence completing a window
        for which ``rule(sum_ok, sum_err)`` holds, or None."""
        w = self.w
        okc = np.concatenate([self.ok, ok])
        erc = np.concatenate([self.err, err])
        n_old = len(self.ok)
        self.ok, self.err = okc[-(w - 1):] if w > 1 else okc[:0], erc[-(w - 1):] if w > 1 else erc[:0]
        if len(okc) < w:
            return None
        cs_ok = np.concatenate([[0.0], np.cumsum(okc)])
        cs_er = np.concatenate([[0.0], np.cumsum(erc)])
        ends = np.arange(max(w, n_old + 1), len(okc) + 1)  # window = [end-w, end)
        s_ok = cs_ok[ends] - cs_ok[ends - w]
        s_er = cs_er[ends] - cs_er[ends - w]
        hit = np.nonzero(rule(s_ok, s_er))[0]
        if len(hit) == 0:
            return None
        return int(ends[hit[0]] - 1 - n_old)


def _passes_frozen(net: LSTM97, task, rng, window: int, batch: int, thr: float) -> bool:
    """ABS(thr) on ``window`` fresh sequences with frozen weights, generated ``batch`` at a time
    and abandoned at the first failure (an untrained net fails at once, so checks stay cheap)."""
    left = window
    while left:
        n = min(batch, left)
        m = net.evaluate(task.sample(rng, n), criterion="abs", threshold=thr, early_exit=True)
        if len(m) < n or not m[:, M_CORRECT].all():
            return False
        left -= n
    return True


def run(cfg: dict, task, net: LSTM97, data_rng: np.random.Generator,
        train_rng: np.random.Generator, ckpt: TrialCheckpoint | None = None) -> dict:
    pr, tr, ts = cfg["protocol"], cfg["train"], TrainSettings.of(cfg)
    rule = pr["name"]
    thr = threshold(cfg, task)
    K = task.n_out
    budget = pr["budget"]
    curve = Curve(budget, pr["curve_points"], K)
    win = _Window(pr["window"])
    seen = 0
    result: dict = {"solved": False}
    st1_at = None
    abs_run = 0
    plateau = _Plateau(tr["plateau_chunks"], tr["plateau_tol"]) if tr["sequential"] else None
    if plateau is not None:
        net.enable_cells(False)

    def test(n):
        return net.evaluate(task.sample(data_rng, n), criterion="abs", threshold=thr)

    fixed_set = None
    if rule == "st12" and pr["st_test_set"] == "fixed":
        fixed_set = task.sample(data_rng, pr["test_size"])
    st_need = pr["st_consecutive"]
    st1_run = st2_run = 0

    w = pr["window"]
    halves = None
    if rule == "st3":
        beta = pr["beta"]
        window_rule = (lambda so, se: (so == w) & (se / w < beta))
        why = f"ST3({beta}): last {w} sequences correct, mean {pr['error_kind']} < {beta}"
        if pr.get("st3_halves"):
            # diagnostic: the first sequence at which each half of ST3 held on its own
            halves = {"st3_all_correct_at": (_Window(w), lambda so, se: so == w),
                      "st3_mean_below_at": (_Window(w), lambda so, se: se / w < beta)}
    elif rule == "nseq":
        nseq = pr["n_seq"]
        window_rule = (lambda so, se: (w - so) < nseq)
        why = f"fewer than {nseq} of the last {w} sequences with |error| > {thr}"
    chunk = pr["check_every"] if rule in ("st12",) or (rule == "abs" and pr["abs_mode"] == "frozen") \
        else pr["chunk"]

    def snapshot() -> dict:
        """The loop's whole state between two chunks (the checkpoint's contents)."""
        return {"seen": seen, "result": result, "st1_at": st1_at, "abs_run": abs_run,
                "st1_run": st1_run, "st2_run": st2_run, "plateau": plateau, "win": win,
                "halves": {k: hw for k, (hw, _) in halves.items()} if halves else None,
                "curve": curve, "fixed_set": fixed_set, "net": net_state(net),
                "train_rng": rng_state(train_rng), "data_rng": rng_state(data_rng)}

    saved = ckpt.load() if ckpt is not None else None
    if saved is not None:
        seen, result, st1_at, abs_run = (saved[k] for k in ("seen", "result", "st1_at", "abs_run"))
        st1_run, st2_run, plateau, win = (saved[k] for k in ("st1_run", "st2_run", "plateau",
                                                             "win"))
        curve, fixed_set = saved["curve"], saved["fixed_set"]
        if halves:
            halves = {k: (saved["halves"][k], rule_) for k, (_, rule_) in halves.items()}
        restore_net(net, saved["net"])
        restore_rng(train_rng, saved["train_rng"])
        restore_rng(data_rng, saved["data_rng"])
    while seen < budget and not result["solved"]:
        if ckpt is not None and ckpt.due():
            ckpt.save(snapshot())
        n = min(chunk, budget - seen)
        data = task.sample(train_rng, n)
        before = (net.Wh.copy(), net.Wo.copy())
        m = net.train(data, lr=ts.lr, update_per_step=ts.per_step, criterion="abs", threshold=thr)
        if diverged(net):
            seen += n
            result["reason"] = DIVERGED
            break
        ok = m[:, M_CORRECT]
        if rule == "abs" and pr["abs_mode"] == "online":
            for i in range(n):
                abs_run = abs_run + 1 if ok[i] else 0
                if abs_run == pr["window"]:
                    result.update(solved=True, sequences=seen + i + 1 - pr["window"],
                                  reason=f"ABS({thr}) held for {pr['window']} successive on-line "
                                         "sequences (count at the run's start)")
                    net.Wh[...], net.Wo[...] = before
                    m = net.train(data, np.arange(i + 1), lr=ts.lr, update_per_step=ts.per_step,
                                  criterion="abs", threshold=thr)
                    n = i + 1
                    break
        elif rule in ("st3", "nseq"):
            err = _seq_error(m, K, pr["error_kind"])
            if halves is not None:
                for key, (hw, hrule) in halves.items():
                    if key not in result:
                        h = hw.first_hit(ok, err, hrule)
                        if h is not None:
                            result[key] = seen + h + 1
            hit = win.first_hit(ok, err, window_rule)
            if hit is not None:
                result.update(solved=True, sequences=seen + hit + 1, reason=why)
                # the net to keep and post-test is the one right after sequence `hit`, not the
                # one at the chunk's end: replay the chunk's first hit+1 sequences
                net.Wh[...], net.Wo[...] = before
                m = net.train(data, np.arange(hit + 1), lr=ts.lr, update_per_step=ts.per_step,
                              criterion="abs", threshold=thr)
                n = hit + 1
        seen += n
        curve.add(m, seen)
        if plateau is not None and not net.cells_enabled and plateau.stalled(m, K):
            if tr["grow"] == "one":
                net.enable_blocks(net.blocks_enabled + 1)
                result.setdefault("cells_added_at", seen)
                result.setdefault("blocks_added_at", []).append(seen)
                plateau = _Plateau(tr["plateau_chunks"], tr["plateau_tol"])  # a fresh plateau
            else:
                net.enable_cells(True)
                result["cells_added_at"] = seen
        if result["solved"]:
            break
        if rule == "abs" and pr["abs_mode"] == "frozen":
            if _passes_frozen(net, task, data_rng, pr["window"], chunk, thr):
                result.update(solved=True, sequences=seen,
                              reason=f"ABS({thr}) held on {pr['window']} successive test sequences")
        elif rule == "st12":
            if fixed_set is None:
                st = _stats(test(pr["test_size"]), K)
            else:
                st = _stats(net.evaluate(fixed_set, criterion="abs", threshold=thr), K)
            st1 = st["wrong"] <= pr["st1_max_wrong"]
            st2 = st1 and st["mae"] < pr["st2_max_error"]
            st1_run = st1_run + 1 if st1 else 0
            st2_run = st2_run + 1 if st2 else 0
            if st1_run >= st_need and st1_at is None:
                st1_at = seen
            if st2_run >= st_need:
                result.update(solved=True, sequences=seen,
                              reason=f"ST2: <= {pr['st1_max_wrong']} of {pr['test_size']} wrong "
                                     f"and mean |error| < {pr['st2_max_error']}"
                                     + (f" on {st_need} checks in a row" if st_need > 1 else "")
                                     + (" (fixed test set)" if fixed_set is not None else ""))
    curve.flush(seen)
    if not result["solved"]:
        result["sequences"] = seen
        result.setdefault("reason", f"budget of {budget} training sequences exhausted")
    if rule == "st12":
        result["st1_sequences"] = st1_at
    if result["solved"] and pr["post_test"]:
        result["post_test"] = _stats(test(pr["post_test"]), K)
    result["curve"] = curve.rows
    return result
