"""Sequential construction one block at a time (train.grow: one): per-block enabling in the
kernels, the protocol's record, and the loader. The default (grow: all) is unchanged."""

from pathlib import Path

import numpy as np

from lstmrun.config import load
from lstmrun.engine import LSTM97
from lstmrun.runner import make_arch, make_init, run_trial
from lstmrun.tasks.registry import build_task

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / "configs/paper/exp2b_p100.yaml"


def _net(blocks: int, seed: int = 0):
    cfg = load(CFG, ["task.p=10", f"model.blocks={blocks}"])
    task = build_task(cfg["task"])
    rng = np.random.default_rng(seed)
    return LSTM97.random(make_arch(cfg, task), make_init(cfg), rng), task, rng


def _block_cols(net, j):
    """Wh rows of block j (its cell, its input gate), Wo column of its cell (S = 1, no OG)."""
    I, B = net.arch.n_in, net.arch.blocks
    return [j, B + j], I + 1 + j


def test_enable_cells_off_means_every_block_off():
    net, _, _ = _net(3)
    net.enable_cells(False)
    assert net.blocks_enabled == 0 and not net.cells_enabled
    net.enable_cells(True)
    assert net.blocks_enabled == 3 and net.cells_enabled
    assert net.copy().blocks_enabled == 3


def test_an_off_block_is_invisible_and_does_not_learn():
    net, task, rng = _net(2)
    net.enable_blocks(1)
    chunk = task.sample(rng, 20)
    other = net.copy()
    rows, col = _block_cols(net, 1)
    other.Wh[rows] = rng.uniform(-1, 1, other.Wh[rows].shape)   # block 1 differs
    other.Wo[:, col] = rng.uniform(-1, 1, other.Wo.shape[0])
    assert np.array_equal(net.evaluate(chunk, criterion="abs", threshold=0.25),
                          other.evaluate(chunk, criterion="abs", threshold=0.25))
    wh0, wo0 = net.Wh.copy(), net.Wo.copy()
    net.train(chunk, lr=1.0, update_per_step=True)
    assert np.array_equal(net.Wh[rows], wh0[rows]) and np.array_equal(net.Wo[:, col], wo0[:, col])
    r0, c0 = _block_cols(net, 0)
    assert not np.array_equal(net.Wh[r0], wh0[r0])             # block 0 learns
    net.enable_blocks(2)
    net.train(chunk, lr=1.0, update_per_step=True)
    assert not np.array_equal(net.Wh[rows], wh0[rows])


def test_one_block_on_equals_the_one_block_net():
    """Block 0 of a 2-block net with block 1 off computes what a 1-block net computes."""
    net2, task, rng = _net(2, seed=1)
    net2.enable_blocks(1)
    net1, _, _ = _net(1, seed=1)
    I = net1.arch.n_in
    net1.Wh[0, :] = net2.Wh[0, :net1.Wh.shape[1]]      # cell 0 (no recurrence: inputs + bias)
    net1.Wh[1, :] = net2.Wh[2, :net1.Wh.shape[1]]      # input gate 0
    net1.Wo[:, :I + 2] = net2.Wo[:, :I + 2]
    chunk = task.sample(rng, 10)
    m1 = net1.train(chunk, lr=1.0, update_per_step=True)
    m2 = net2.train(chunk, lr=1.0, update_per_step=True)
    assert np.array_equal(m1, m2)


def test_grow_one_records_each_join_and_the_loader_restores_it(tmp_path):
    cfg = load(CFG, ["task.p=10", "model.blocks=3", "train.grow=one", "train.plateau_chunks=1",
                     "protocol.budget=3000", "protocol.window=50", "trials=1"])
    rec, w = run_trial(cfg, 0)
    at = rec["blocks_added_at"]
    assert 1 <= len(at) <= 3 and at == sorted(at) and rec["cells_added_at"] == at[0]
    assert len(set(at)) == len(at)
    cfg_all = load(CFG, ["task.p=10", "model.blocks=3", "train.grow=all", "train.plateau_chunks=1",
                         "protocol.budget=3000", "protocol.window=50", "trials=1"])
    rec_all, _ = run_trial(cfg_all, 0)
    assert "blocks_added_at" not in rec_all
