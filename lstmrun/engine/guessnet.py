"""The small recurrent nets of random weight guessing (PROTOCOLS §10; RG01 node2-4, NIPS96 node1),
evaluated forward only by one Numba kernel.

Why a net of its own (and not :class:`lstmrun.engine.frnn.FRNN`): guessing never learns, and the
sources' nets need two things the gradient kernels do not have:

- **unit update order.** RG01 and NIPS96 say which unit sees which, not when. In the
  Williams-Zipser ("synchronous") reading every unit reads the input of step t and the other
  units' activations of step t-1, so the output unit is a fixed monotone function of the current
  input given the previous state. Parity then cannot be solved at all (the last +1/-1 must flip the
  output for one parity and not for the other, which needs the sign of the output's input weight to
  depend on the state), yet RG01 node4 reports A1 with n = 1 solving it in 2906 guesses on average.
  Our reading ("ordered", the default): units are updated one after another in index order
  within a step -- hidden units first, the output unit last -- and a unit reads the *current*
  activation of every unit updated before it and the previous one of the others (itself
  included). This is HS97's input -> hidden -> output order (PROTOCOLS A2) applied to the guessing
  nets; hidden units still read the output's previous activation (A2: "each hidden unit sees the
  input unit, the output unit, and itself"). ``order="synchronous"`` gives the other reading and
  equals ``FRNN`` with ``outputs="visible"`` (tested).
- **tanh units and fixed weights** for the latch problem (RG01 node3): variant I's net has one
  tanh unit whose only free weight is its self-connection; the two other free parameters are the
  initial input values of the two classes. We feed those as two class-indicator input lines (on at
  step 1 only, so their weights *are* the initial input values) and the noise on a third line
  whose weight is fixed at 1.0 -- a weight that is not guessed (``Fh``, the mask of free weights).

Layout (like FRNN's visible net, but outputs last): ``N = n_hidden + n_out`` units, units
``0 .. n_hidden-1`` hidden, the last ``n_out`` the outputs; ``Wh`` (N, I+1+N), row r reads
``[x(t), 1, y_0 .. y_{N-1}]``; ``Wo`` is empty (0, I+1+N). ``Mh``: the connections, ``Fh``: the
guessed ones (a sub-mask of ``Mh``), ``fixed`` values sit in ``Wh`` where ``Mh`` and not ``Fh``.
Activations are reset to ``reset_act`` (0) at every sequence start (RG01 node2).

Architectures (:func:`guess_arch`):

- ``a1`` (RG01 node2, NIPS96 node1): 1 input, n hidden, 1 output, fully connected (every unit
  reads the input and every unit, itself included); hidden units biased through the "true" unit,
  the output not (only the hidden units' bias is stated). Weights n (n + 3) + (n + 2).
- ``a2``: n hidden (RG01 node2: n = 10); hidden unit j reads the input, the bias, the output and
  itself (``hidden_self``; RG01 node4 also runs A2 "without self-connections for the hidden
  units"); the output reads the input, the bias and every hidden unit, not itself ("sees all
  other units"). Weights 4n + (n + 2), or 3n + (n + 2) without self-connections.
- ``latch1``: one tanh unit (the output), inputs [class-1 indicator, class-2 indicator, noise]:
  free weights self, indicator 1, indicator 2; the noise weight fixed at 1.0; no bias.
- ``latch2``: one tanh unit reading the input (+-1 at step 1, then noise), a bias and itself: 3
  free weights, none fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .chunk import Chunk
from .judge import FLAG_JUDGE, N_METRICS, finish_metrics, judge_step
from .kernelmodel import CRITERIA, KernelModel, step_flags

ARCHS = ("a1", "a2", "latch1", "latch2")
ORDERS = ("ordered", "synchronous")
ACT_LOGISTIC, ACT_TANH = 0, 1

# ip layout
IP_NIN, IP_NOUT, IP_N, IP_ORDERED, IP_ONEHOT = range(5)


@dataclass(frozen=True)
class GuessArch:
    """One of the guessing nets (module docstring). ``n_hidden`` is ignored by the latch nets."""

    name: str
    n_in: int = 1
    n_out: int = 1
    n_hidden: int = 1
    hidden_self: bool = True
    order: str = "ordered"

    def __post_init__(self):
        if self.name not in ARCHS:
            raise ValueError(f"guessing architecture must be one of {', '.join(ARCHS)} "
                             f"(got {self.name!r})")
        if self.order not in ORDERS:
            raise ValueError(f"update order must be one of {', '.join(ORDERS)}")
        if self.n_out != 1:
            raise ValueError("the guessing nets have one output unit (the tasks of RG01 have "
                             f"one); got {self.n_out}")
        need_in = {"latch1": 3}.get(self.name, 1)
        if self.n_in != need_in:
            raise ValueError(f"architecture {self.name} needs a task with {need_in} input "
                             f"line(s), this one has {self.n_in}")
        if self.name in ("a1", "a2") and self.n_hidden < 1:
            raise ValueError("A1/A2 need at least one hidden unit")

    @property
    def hidden(self) -> int:
        return 0 if self.name.startswith("latch") else self.n_hidden

    @property
    def n_units(self) -> int:
        return self.hidden + self.n_out

    @property
    def act(self) -> int:
        """Activation of every unit: tanh for the latch nets (RG01 node3), else logistic."""
        return ACT_TANH if self.name.startswith("latch") else ACT_LOGISTIC

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """Connection masks ``(Mh, Mo)``; ``Mo`` is empty (all outputs are units of ``Wh``)."""
        Mh, _, _ = self._masks()
        return Mh, np.zeros((0, self.n_in + 1 + self.n_units))

    def free_mask(self) -> np.ndarray:
        """The weights that are guessed (a sub-mask of ``Mh``)."""
        return self._masks()[1]

    def fixed_weights(self) -> np.ndarray:
        """The values of the connections that are not guessed (0 elsewhere)."""
        return self._masks()[2]

    def _masks(self):
        I, H, N = self.n_in, self.hidden, self.n_units
        zr = I + 1
        out = N - 1
        Mh = np.zeros((N, I + 1 + N))
        fixed = np.zeros_like(Mh)
        if self.name == "a1":
            Mh[:, :I] = 1.0
            Mh[:H, I] = 1.0                     # hidden units biased, the output not
            Mh[:, zr:] = 1.0
        elif self.name == "a2":
            for j in range(H):
                Mh[j, :I] = 1.0
                Mh[j, I] = 1.0
                Mh[j, zr + out] = 1.0
                if self.hidden_self:
                    Mh[j, zr + j] = 1.0
            Mh[out, :I] = 1.0
            Mh[out, I] = 1.0
            Mh[out, zr:zr + H] = 1.0
        elif self.name == "latch1":
            Mh[out, :3] = 1.0                   # indicators of class 1 and 2, the noise line
            Mh[out, zr + out] = 1.0
            fixed[out, 2] = 1.0
        else:                                   # latch2
            Mh[out, 0] = Mh[out, I] = Mh[out, zr + out] = 1.0
        free = Mh.copy()
        free[fixed != 0] = 0.0
        return Mh, free, fixed

    def n_weights(self) -> int:
        return int(self.masks()[0].sum())

    def n_free(self) -> int:
        return int(self.free_mask().sum())

    def describe(self) -> str:
        act = "tanh" if self.act == ACT_TANH else "logistic"
        extra = "" if self.name != "a2" or self.hidden_self else ", no hidden self-connections"
        nf, nw = self.n_free(), self.n_weights()
        fixed = f" ({nw - nf} fixed)" if nw != nf else ""
        return (f"guessing net {self.name.upper()} ({self.order} updates, {act}): {self.n_in} "
                f"input(s), {self.hidden} hidden, {self.n_out} output{extra}; {nw} weights, "
                f"{nf} guessed{fixed}")


@njit(cache=True)
def _act(a, x):
    if a == ACT_TANH:
        return np.tanh(x)
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True, error_model="numpy")
def run_guessnet(Wh, ip, act, reset_act, x_idx, x_real, offsets, step_flags, legal,
                 clean_targets, order, crit, thr, early_exit, metrics):
    """Forward pass over sequences ``order[0], order[1], ...`` with frozen weights; fills the
    common metrics rows (see ``judge``) and returns how many sequences were processed (fewer than
    ``len(order)`` with ``early_exit`` after the first that fails the criterion)."""
    I = ip[IP_NIN]
    K = ip[IP_NOUT]
    N = ip[IP_N]
    ordered = ip[IP_ORDERED] != 0
    onehot = ip[IP_ONEHOT] != 0
    zr = I + 1
    y = np.zeros(N)        # activations of the previous step
    ynew = np.zeros(N)     # this step's
    yo = np.zeros(K)
    stats = np.zeros(3)
    n_done = 0
    for oi in range(order.shape[0]):
        q = order[oi]
        for r in range(N):
            y[r] = reset_act
        stats[:] = 0.0
        ntgt = 0
        ok = True
        for t in range(offsets[q], offsets[q + 1]):
            for r in range(N):
                if onehot:
                    acc = Wh[r, x_idx[t]]
                else:
                    acc = 0.0
                    for i in range(I):
                        acc += Wh[r, i] * x_real[t, i]
                acc += Wh[r, I]
                for m in range(N):
                    w = Wh[r, zr + m]
                    if w != 0.0:
                        acc += w * (ynew[m] if (ordered and m < r) else y[m])
                ynew[r] = _act(act, acc)
            for r in range(N):
                y[r] = ynew[r]
            if step_flags[t] & FLAG_JUDGE:
                ntgt += 1
                for k in range(K):
                    yo[k] = y[N - K + k]
                if not judge_step(yo, clean_targets[t], legal[t], K, crit, thr, stats):
                    ok = False
        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if early_exit and not ok:
            break
    return n_done


class GuessNet(KernelModel):
    """A guessing net: weights ``Wh`` (and an empty ``Wo``), connection mask ``Mh``, guessed
    weights ``Fh``. Forward only: ``evaluate``/``all_correct`` as every model; ``train`` raises."""

    onehot_slot = IP_ONEHOT

    def __init__(self, arch: GuessArch, Wh: np.ndarray | None = None, reset_act: float = 0.0):
        Mh, Mo = arch.masks()
        if Wh is None:
            Wh = arch.fixed_weights()
        self._set_weights(arch, Wh, np.zeros(Mo.shape), reset_act)
        self.Fh = arch.free_mask()
        self.Fo = np.zeros(Mo.shape)
        fixed = arch.fixed_weights()
        self.Wh[(Mh != 0) & (self.Fh == 0)] = fixed[(Mh != 0) & (self.Fh == 0)]
        self.ip = np.array([arch.n_in, arch.n_out, arch.n_units, int(arch.order == "ordered"), 0],
                           dtype=np.int64)
        self._flags = (None, None)

    def n_free(self) -> int:
        return int(self.Fh.sum())

    def copy(self) -> GuessNet:
        return GuessNet(self.arch, self.Wh.copy(), self.reset_act)

    def run(self, chunk: Chunk, order: np.ndarray | None = None, *, learn: bool = False,
            lr: float = 0.0, update_per_step: bool = True, criterion: str = "none",
            threshold: float = 0.0, early_exit: bool = False) -> np.ndarray:
        if learn:
            raise ValueError("a guessing net does not learn (its weights are drawn by the "
                             "'guess' protocol)")
        self._check(chunk)
        if order is None:
            order = np.arange(chunk.n, dtype=np.int64)
        order = np.ascontiguousarray(order, dtype=np.int64)
        # the same training set is evaluated once per guess: keep its step flags
        if self._flags[0] is not chunk:
            self._flags = (chunk, step_flags(chunk))
        ip = self.ip.copy()
        ip[IP_ONEHOT] = int(chunk.onehot)
        metrics = np.empty((len(order), N_METRICS))
        clean = chunk.clean_targets if chunk.clean_targets is not None else chunk.targets
        n = run_guessnet(self.Wh, ip, self.arch.act, self.reset_act, chunk.x_idx, chunk.x_real,
                         chunk.offsets, self._flags[1], chunk.legal, clean, order,
                         CRITERIA[criterion], float(threshold), bool(early_exit), metrics)
        return metrics[:n]

    def save(self, path) -> None:
        np.savez(path, Wh=self.Wh, Wo=self.Wo, Mh=self.Mh, Fh=self.Fh)


def make_guess_net(model: dict, task) -> GuessNet:
    """The guessing net of a config's ``model`` section (``kind: guess``) for ``task``."""
    arch = GuessArch(model["guess_arch"], n_in=task.n_in, n_out=task.n_out,
                     n_hidden=model["hidden"], hidden_self=model["guess_hidden_self"],
                     order=model["guess_update"])
    return GuessNet(arch, reset_act=model["reset_act"])
