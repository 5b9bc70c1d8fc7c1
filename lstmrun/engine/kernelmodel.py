"""What every network of the engine shares: the Python side of one Numba kernel call (the 1997 LSTM
in ``model.py``, the baselines in ``frnn.py``, ``elman.py``, ``guessnet.py``)."""

from __future__ import annotations

import numpy as np

from . import judge
from .chunk import Chunk

CRITERIA = {"legal": judge.CRIT_LEGAL, "abs": judge.CRIT_ABS, "none": judge.CRIT_NONE}


def step_flags(chunk: Chunk) -> np.ndarray:
    """Per-step kernel flags: learn where ``has_target``; judge where ``criterion_mask`` (a task's
    ``chunk.extra``) says, else where there is a target."""
    judged = chunk.extra.get("criterion_mask")
    if judged is None:
        judged = chunk.has_target
    # in uint8 throughout (bool viewed as 0/1 bytes): a tenth of the time of int64 arithmetic and
    # a cast, which was 9% of a 2c q = 1000 trial (a million steps a chunk; issue 19, item 3)
    flags = (chunk.has_target != 0).view(np.uint8) * np.uint8(judge.FLAG_TRAIN)
    flags |= (judged != 0).view(np.uint8) * np.uint8(judge.FLAG_JUDGE)
    return flags


class KernelModel:
    """What every network shares: weights ``Wh``/``Wo`` with masks ``Mh``/``Mo``, an ``ip`` array
    of integer parameters (entry ``onehot_slot`` says the chunk's coding) and one Numba kernel
    call, ``_kernel``, that runs sequences with the common signature tail (see ``lstm97``)."""

    onehot_slot: int

    def _set_weights(self, arch, Wh: np.ndarray, Wo: np.ndarray, reset_act: float) -> None:
        """Check the shapes against ``arch.masks()`` and keep the weights; entries outside the
        masks are forced to zero (they are not connections of this net)."""
        Mh, Mo = arch.masks()
        if Wh.shape != Mh.shape or Wo.shape != Mo.shape:
            raise ValueError(f"weight shapes {Wh.shape}, {Wo.shape} do not fit the architecture "
                             f"({Mh.shape}, {Mo.shape})")
        self.arch = arch
        self.Wh = np.ascontiguousarray(Wh * Mh, dtype=np.float64)
        self.Wo = np.ascontiguousarray(Wo * Mo, dtype=np.float64)
        self.Mh, self.Mo = Mh, Mo
        self.reset_act = float(reset_act)

    @staticmethod
    def _draw(arch, init_scale, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Every connection U[-a, a]; ``init_scale`` is a number or an ``arch.Init``."""
        a = float(getattr(init_scale, "scale", init_scale))
        Mh, Mo = arch.masks()
        return rng.uniform(-a, a, size=Mh.shape) * Mh, rng.uniform(-a, a, size=Mo.shape) * Mo

    def n_weights(self) -> int:
        return int(self.Mh.sum() + self.Mo.sum())

    def _check(self, chunk: Chunk):
        if chunk.n_in != self.arch.n_in or chunk.n_out != self.arch.n_out:
            raise ValueError(f"task has {chunk.n_in} inputs / {chunk.n_out} outputs, the network "
                             f"{self.arch.n_in} / {self.arch.n_out}")

    def _kernel(self, ip, chunk, flags, clean, order, lr, learn, update_per_step, crit, thr,
                early_exit, metrics) -> int:
        raise NotImplementedError

    def run(self, chunk: Chunk, order: np.ndarray | None = None, *, learn: bool = False,
            lr: float = 0.0, update_per_step: bool = True, criterion: str = "none",
            threshold: float = 0.0, early_exit: bool = False) -> np.ndarray:
        """Run ``chunk`` (sequences in ``order``; default all in turn). Returns the metrics rows of
        the sequences processed (columns: see ``judge.M_*``)."""
        self._check(chunk)
        if order is None:
            order = np.arange(chunk.n, dtype=np.int64)
        order = np.ascontiguousarray(order, dtype=np.int64)
        ip = self.ip.copy()
        ip[self.onehot_slot] = int(chunk.onehot)
        metrics = np.empty((len(order), judge.N_METRICS))
        clean = chunk.clean_targets if chunk.clean_targets is not None else chunk.targets
        n = self._kernel(ip, chunk, step_flags(chunk), clean, order, float(lr), bool(learn),
                         bool(update_per_step), CRITERIA[criterion], float(threshold),
                         bool(early_exit), metrics)
        return metrics[:n]

    def train(self, chunk: Chunk, order=None, *, lr: float, update_per_step: bool = True,
              criterion: str = "none", threshold: float = 0.0) -> np.ndarray:
        return self.run(chunk, order, learn=True, lr=lr, update_per_step=update_per_step,
                        criterion=criterion, threshold=threshold)

    def evaluate(self, chunk: Chunk, order=None, *, criterion: str, threshold: float = 0.0,
                 early_exit: bool = False) -> np.ndarray:
        return self.run(chunk, order, learn=False, criterion=criterion, threshold=threshold,
                        early_exit=early_exit)

    def all_correct(self, chunk: Chunk, *, criterion: str, threshold: float = 0.0) -> bool:
        """True when every sequence meets the criterion (stops at the first that does not)."""
        m = self.evaluate(chunk, criterion=criterion, threshold=threshold, early_exit=True)
        return len(m) == chunk.n and bool(m[:, judge.M_CORRECT].all())

    def save(self, path) -> None:
        np.savez(path, Wh=self.Wh, Wo=self.Wo, Mh=self.Mh, Mo=self.Mo)
