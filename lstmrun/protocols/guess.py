"""Random weight guessing as a protocol (PROTOCOLS §10.1; RG01 node2, NIPS96 node1).

One trial = one search: draw a training set of ``protocol.train_size`` sequences (RG01: 100, 50
per class) and a test set of ``protocol.test_size`` (RG01: 100) from the trial's data stream; then
REPEAT draw every guessed weight from U[-``weight_range``, ``weight_range``] (RG01: 100) UNTIL the
net classifies every training sequence correctly (``abs`` criterion at the sequence end with
``protocol.threshold``, or the task's; RG01: 0.1), at most ``protocol.budget`` guesses; then test
the solver on the test set.

The unit of a trial is the **guess** (one weight draw), not the training sequence: the record has
``guesses`` (the solver's index, or the budget when none solved), ``test_fraction_correct`` (the
solver's share of correct test sequences), ``train_size``/``test_size``, and, as the cost in the
LSTM rows' unit, ``sequences_evaluated`` / ``steps_evaluated`` (training sequences and time steps
run over all guesses; each guess stops at its first misclassified sequence).

``protocol.balanced`` (default true): both sets hold each class equally often (RG01 node2: "50 from
class 1 (target 0) and 50 from class 2 (target 1)"), taken in generation order from sequences of
the task's own generator (its ``chunk.extra["cls"]``); false: plain draws.
"""

from __future__ import annotations

import numpy as np

from ..engine.guessing import guess
from ..engine.chunk import Chunk
from .base import Accepts, threshold

ACCEPTS = Accepts(("guess",), models=("guess",))



def take(chunk: Chunk, idx) -> Chunk:
    """The sequences ``idx`` of ``chunk`` (in that order) as a new chunk. Per-step arrays of
    ``extra`` are cut like the data, per-sequence ones indexed."""
    idx = np.asarray(idx, np.int64)
    off = chunk.offsets
    lens = off[idx + 1] - off[idx]
    new_off = np.zeros(len(idx) + 1, np.int64)
    np.cumsum(lens, out=new_off[1:])
    steps = (np.concatenate([np.arange(off[i], off[i + 1]) for i in idx]) if len(idx)
             else np.zeros(0, np.int64))
    T, n = chunk.total_steps, chunk.n

    def cut(a):
        return None if a is None else np.ascontiguousarray(a[steps])

    extra = {}
    for k, v in chunk.extra.items():
        if isinstance(v, np.ndarray) and (k == "criterion_mask" or (v.shape[:1] == (T,) and T != n)):
            extra[k] = cut(v)
        elif isinstance(v, np.ndarray) and v.shape[:1] == (n,):
            extra[k] = v[idx]
        else:
            extra[k] = v
    syms = [chunk.symbols[i] for i in idx] if chunk.symbols is not None else None
    return Chunk(offsets=new_off,
                 x_idx=cut(chunk.x_idx) if chunk.onehot else chunk.x_idx,
                 x_real=chunk.x_real if chunk.onehot else cut(chunk.x_real),
                 targets=cut(chunk.targets), has_target=cut(chunk.has_target),
                 legal=cut(chunk.legal), onehot=chunk.onehot, n_in=chunk.n_in,
                 n_out=chunk.n_out, symbols=syms, clean_targets=cut(chunk.clean_targets),
                 extra=extra)


def draw_set(task, rng: np.random.Generator, n: int, balanced: bool = True) -> Chunk:
    """``n`` sequences of ``task``; with ``balanced``, ``n - n // 2`` of class 1 and ``n // 2`` of
    class 2, the first ones the generator yields (so each set is a uniform draw given its class
    counts), in generation order."""
    if not balanced:
        return task.sample(rng, n)
    need = (n - n // 2, n // 2)
    picked: list[Chunk] = []
    got = [0, 0]
    while got[0] < need[0] or got[1] < need[1]:
        c = task.sample(rng, max(16, 2 * n))
        if "cls" not in c.extra:
            raise ValueError(f"task {task.p.get('name', task)!r} does not label its classes; "
                             "set protocol.balanced: false")
        cls = np.asarray(c.extra["cls"])
        keep = []
        for i, k in enumerate(cls):
            k = int(k)
            if k in (0, 1) and got[k] < need[k]:
                keep.append(i)
                got[k] += 1
        picked.append(take(c, keep))
    if len(picked) == 1:
        return picked[0]
    return _concat(picked)


def _concat(chunks: list[Chunk]) -> Chunk:
    first = chunks[0]
    lens = np.concatenate([np.diff(c.offsets) for c in chunks])
    off = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=off[1:])

    def cat(name):
        vals = [getattr(c, name) for c in chunks]
        return None if vals[0] is None else np.concatenate(vals)

    extra = {}
    for k, v in first.extra.items():
        if isinstance(v, np.ndarray):
            extra[k] = np.concatenate([c.extra[k] for c in chunks])
        else:
            extra[k] = v
    syms = None
    if first.symbols is not None:
        syms = [s for c in chunks for s in c.symbols]
    return Chunk(offsets=off, x_idx=cat("x_idx"), x_real=cat("x_real"), targets=cat("targets"),
                 has_target=cat("has_target"), legal=cat("legal"), onehot=first.onehot,
                 n_in=first.n_in, n_out=first.n_out, symbols=syms,
                 clean_targets=cat("clean_targets"), extra=extra)


def run(cfg: dict, task, net, data_rng: np.random.Generator,
        train_rng: np.random.Generator) -> dict:
    pr = cfg["protocol"]
    thr = threshold(cfg, task)
    train = draw_set(task, data_rng, pr["train_size"], pr["balanced"])
    test = draw_set(task, data_rng, pr["test_size"], pr["balanced"]) if pr["test_size"] else None
    stats: dict = {}
    res = guess(net, train, test, train_rng, pr["budget"], weight_range=pr["weight_range"],
                criterion="abs", threshold=thr, stats=stats)
    reason = (f"guess {res['guesses']} classified all {train.n} training sequences "
              f"(|error| < {thr} at the end)" if res["solved"]
              else f"budget of {pr['budget']} guesses exhausted")
    out = {"solved": res["solved"], "guesses": int(res["guesses"]), "reason": reason,
           "test_fraction_correct": res["test_fraction_correct"],
           "train_size": train.n, "test_size": test.n if test is not None else 0}
    out.update(stats)
    return out
