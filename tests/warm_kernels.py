"""Compile the generic kernels of the baselines and of the full gradient, for the fast tier's
pytest controller to run in a second process while it compiles the LSTM's (conftest.py): each
kernel is then compiled once, side by side, and the test workers load them from Numba's on-disk
cache. Run as a script; it only trains tiny nets."""

import numpy as np

from lstmrun.engine import LSTM97, Arch, Init
from lstmrun.engine.chunk import Chunk
from lstmrun.engine.elman import Elman, ElmanArch
from lstmrun.engine.frnn import FRNN, FRNNArch


def chunk(n_in: int, n_out: int, onehot: bool, end_only: bool = False) -> Chunk:
    T = 4
    has = np.zeros(T, np.uint8) if end_only else np.ones(T, np.uint8)
    has[-1] = 1
    return Chunk(np.array([0, T], np.int64),
                 np.zeros(T if onehot else 0, np.int32),
                 np.zeros((0, n_in)) if onehot else np.full((T, n_in), 0.5),
                 np.full((T, n_out), 0.5), has, np.zeros(T, np.int64), onehot, n_in, n_out)


def main() -> None:
    rng = np.random.default_rng(0)
    for rule in ("rtrl", "bptt"):
        for onehot in (True, False):
            net = FRNN.random(FRNNArch(3, 2, 2), 0.1, rng, rule=rule)
            net.train(chunk(3, 2, onehot), lr=0.1)
    for onehot in (True, False):
        Elman.random(ElmanArch(3, 2, 2), 0.1, rng).train(chunk(3, 2, onehot), lr=0.1)
    net = LSTM97.random(Arch(2, 1, 1, 1), Init(0.1), rng)
    net.full_gradient = True
    net.train(chunk(2, 1, False, end_only=True), lr=0.1, update_per_step=False)


if __name__ == "__main__":
    main()
