"""What the protocols share: the order of training strings, the learning curve, the train settings
read once from a config, the criterion threshold and the divergence check."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.judge import M_CORRECT, M_NTGT, M_SSE

DIVERGED = "weights diverged (non-finite)"


@dataclass(frozen=True)
class Accepts:
    """What a protocol module declares it runs (``ACCEPTS`` in each module; config validation and
    the runner read these instead of naming protocols)."""

    names: tuple[str, ...]                  # the protocol.name values the module's run() serves
    tasks: tuple[str, ...] | None = None    # task.name values it runs (None: any)
    models: tuple[str, ...] | None = None   # model.kind values it runs (None: any)
    exclusive: bool = False                 # its tasks run under this protocol only


def diverged(net) -> bool:
    """Whether a weight has become NaN or infinite."""
    return not (np.isfinite(net.Wh).all() and np.isfinite(net.Wo).all())


def threshold(cfg: dict, task) -> float:
    """The criterion threshold: the config's ``protocol.threshold``, else the task's."""
    thr = cfg["protocol"].get("threshold")
    return float(task.threshold if thr is None else thr)


@dataclass(frozen=True)
class TrainSettings:
    """The ``train`` section as a protocol uses it, read once."""

    lr: float
    per_step: bool      # weight changes at every step (True) or summed per sequence (A3)
    sampling: str

    @classmethod
    def of(cls, cfg: dict) -> TrainSettings:
        tr = cfg["train"]
        return cls(lr=float(tr["lr"]), per_step=tr["update"] == "step", sampling=tr["sampling"])


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
    """A light learning curve: at most ``points`` rows of (sequences seen, on-line MSE, fraction of
    on-line sequences meeting the criterion), each aggregated over the training sequences since
    the previous row.

    Rows are due at ``points`` marks spaced evenly on a log scale between 1 and ``budget`` (a row
    is written at the first batch of metrics that reaches a mark), so a trial that solves early in
    a long budget still draws a curve: one that solves at 80,000 of 5,000,000 sequences, trained
    in chunks of 1,000, has 24 rows (evenly spaced marks gave it 2)."""

    def __init__(self, budget: int, points: int, n_out: int):
        self.n_out = n_out
        self.rows: list[list[float]] = []
        self.marks = (sorted({math.ceil(budget ** (i / points)) for i in range(1, points + 1)})
                      if points and budget > 0 else [])
        self._next = 0
        self._reset()

    def _reset(self):
        self.sse = self.ntgt = self.nseq = self.ncorrect = 0.0

    def add(self, metrics: np.ndarray, seen: int):
        if not self.marks:
            return
        self.sse += metrics[:, M_SSE].sum()
        self.ntgt += metrics[:, M_NTGT].sum()
        self.ncorrect += metrics[:, M_CORRECT].sum()
        self.nseq += len(metrics)
        if self._next < len(self.marks) and seen >= self.marks[self._next]:
            while self._next < len(self.marks) and self.marks[self._next] <= seen:
                self._next += 1
            self.flush(seen)

    def flush(self, seen: int):
        if self.nseq:
            mse = self.sse / max(1.0, self.ntgt * self.n_out)
            self.rows.append([int(seen), round(float(mse), 6),
                              round(float(self.ncorrect / self.nseq), 4)])
        self._reset()


@dataclass
class StreamRun:
    """What :func:`stream_loop` did: streams trained, time steps, whether a check passed (then
    ``lengths`` are that check's), the curve rows, and whether the weights diverged."""
    seen: int
    steps: int
    solved: bool
    lengths: list
    curve: list
    diverged: bool

    def reason(self, solved: str, budget: int) -> str:
        """The trial record's ``reason``: ``solved`` (the protocol's words) when a check passed."""
        if self.diverged:
            return DIVERGED
        return solved if self.solved else f"budget of {budget} training streams exhausted"


def stream_loop(net, budget: int, curve_points: int, check_every: int, train_one,
                check) -> StreamRun:
    """The continual-stream protocols' loop (GSC00's CERG, ``cerg``; GS00's timing tasks,
    ``timing``): train one stream at a time, ``train_one() -> (symbols or events predicted
    before the first error, time steps)``; every ``budget // curve_points`` streams log a curve row
    [streams, mean, max] of the predicted counts; every ``check_every`` streams and at the budget
    ``check() -> (lengths, passed)``, stopping when it passes; stop when the weights diverge."""
    every = max(1, budget // curve_points) if curve_points else 0
    curve, acc = [], []
    seen = steps = 0
    lengths: list = []
    solved = bad = False
    while seen < budget:
        k, n = train_one()
        seen += 1
        steps += n
        acc.append(k)
        if diverged(net):
            bad = True
            break
        if every and seen % every == 0:
            curve.append([seen, round(float(np.mean(acc)), 2), int(np.max(acc))])
            acc = []
        if seen % check_every == 0 or seen == budget:
            lengths, solved = check()
            if solved:
                break
    if acc and every:            # the last, partial row
        curve.append([seen, round(float(np.mean(acc)), 2), int(np.max(acc))])
    return StreamRun(seen, steps, solved, lengths, curve, bad)
