"""PyTorch peers of the engine for ``make bench`` (optional: ``pip install torch==2.13.0``).

The net is ``nn.LSTM`` (one layer, ``hidden`` = the LSTM's number of memory cells) followed by an
``nn.Linear`` output layer with the case's output function (logistic or identity), loss 1/2 SSE
over the steps that carry a target, plain SGD. It is a net *of the same size*, not the 1997 LSTM:
``nn.LSTM`` has forget gates and two bias vectors, and it learns with full BPTT, not the 1997
truncated rule. Two ways to train it:

- ``torch-online``: one sequence at a time (batch 1), BPTT over the sequence and one SGD step per
  sequence -- the same schedule as the engine's per-sequence weight changes;
- ``torch-batchN``: N sequences per batch (padded to the batch's longest, the padding masked out of
  the loss), one SGD step per batch -- a different learning rule (fewer, averaged weight changes),
  shown for its throughput only.

Inputs: real-valued and small one-hot codings (Exp 1: 7 symbols) go in as dense vectors; a large
one-hot coding (Exp 2c: 1004 symbols) goes in as indices through an ``nn.Embedding(n_in, 4*hidden)``
whose rows are the input weights of the four gates, into an ``nn.LSTM`` whose own input weights are
frozen to the identity: the same weights and arithmetic as the one-hot matmul, without a dense
(steps x batch x 1004) input (4 GB for a batch of 1024 at q = 1000).

Everything on the CPU, ``torch.set_num_threads(1)``, float32 unless asked (``dtype``).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set (a second import in the same process)
    pass

ONEHOT_EMBED_MIN = 64   # one-hot codings with at least this many symbols go in as indices


class Net(nn.Module):
    def __init__(self, n_in: int, hidden: int, n_out: int, output_act: str, embed: bool):
        super().__init__()
        self.embed = nn.Embedding(n_in, 4 * hidden) if embed else None
        self.lstm = nn.LSTM(4 * hidden if embed else n_in, hidden)
        if embed:
            with torch.no_grad():
                self.lstm.weight_ih_l0.copy_(torch.eye(4 * hidden))
            self.lstm.weight_ih_l0.requires_grad_(False)
        self.out = nn.Linear(hidden, n_out)
        self.logistic = output_act == "logistic"

    def forward(self, x, where):
        """``x``: (L, B, n_in) floats or (L, B) indices; ``where``: a (L, B) bool mask or a tuple
        of index tensors of the steps with targets. Returns the outputs at those steps."""
        if self.embed is not None:
            x = self.embed(x)
        h, _ = self.lstm(x)
        y = self.out(h[where])
        return torch.sigmoid(y) if self.logistic else y

    def n_weights(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def _inputs(chunk, a, b, embed, dtype):
    if chunk.onehot:
        idx = torch.from_numpy(chunk.x_idx[a:b].astype(np.int64))
        if embed:
            return idx
        return nn.functional.one_hot(idx, chunk.n_in).to(dtype)
    return torch.from_numpy(chunk.x_real[a:b]).to(dtype)


def make_peers(chunk, order, *, hidden: int, output_act: str, n_online: int, batch: int = 1024,
               dtype: str = "float32", lr: float = 0.1, seed: int = 0) -> tuple[dict, dict]:
    """Peers timing training on the sequences ``order`` of ``chunk``: ``torch-online`` on the first
    ``n_online`` (its time scaled to all of ``order`` by time steps), ``torch-batch{batch}`` on all
    of them. Returns ``({name: fn() -> seconds}, {name: (weights, description)})``."""
    dt = getattr(torch, dtype)
    torch.manual_seed(seed)
    embed = bool(chunk.onehot and chunk.n_in >= ONEHOT_EMBED_MIN)
    net0 = Net(chunk.n_in, hidden, chunk.n_out, output_act, embed).to(dt)
    lens = chunk.lengths()[order]
    steps = int(lens.sum())

    # batch 1: (L, 1, ...) inputs, target rows and their steps, built before any timing
    sub = order[:n_online]
    online_data = []
    for q in sub:
        a, b = int(chunk.offsets[q]), int(chunk.offsets[q + 1])
        m = np.flatnonzero(chunk.has_target[a:b])
        where = (torch.from_numpy(m), torch.zeros(len(m), dtype=torch.int64))
        tgt = torch.from_numpy(chunk.targets[a:b][m]).to(dt)
        online_data.append((_inputs(chunk, a, b, embed, dt).unsqueeze(1), where, tgt))
    sub_steps = int(chunk.lengths()[sub].sum())

    # batches: (Lmax, B, ...) padded inputs, a (Lmax, B) target mask, the targets in mask order
    batches = []
    for s in range(0, len(order), batch):
        qs = order[s:s + batch]
        Lmax = int(chunk.lengths()[qs].max())
        shape = (Lmax, len(qs)) if embed else (Lmax, len(qs), chunk.n_in)
        x = torch.zeros(shape, dtype=torch.int64 if embed else dt)
        mask = torch.zeros((Lmax, len(qs)), dtype=torch.bool)
        tgt = torch.zeros((Lmax, len(qs), chunk.n_out), dtype=dt)
        for j, q in enumerate(qs):
            a, b = int(chunk.offsets[q]), int(chunk.offsets[q + 1])
            x[:b - a, j] = _inputs(chunk, a, b, embed, dt)
            mask[:b - a, j] = torch.from_numpy(chunk.has_target[a:b] != 0)
            tgt[:b - a, j] = torch.from_numpy(chunk.targets[a:b]).to(dt)
        batches.append((x, mask, tgt[mask], len(qs)))

    def online():
        net = copy.deepcopy(net0)
        opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr)
        t0 = time.perf_counter()
        for x, where, tgt in online_data:
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * ((net(x, where) - tgt) ** 2).sum()
            loss.backward()
            opt.step()
        return (time.perf_counter() - t0) * steps / sub_steps   # scaled to the full case

    def batched():
        net = copy.deepcopy(net0)
        opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr)
        t0 = time.perf_counter()
        for x, mask, tgt, nb in batches:
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * ((net(x, mask) - tgt) ** 2).sum() / nb
            loss.backward()
            opt.step()
        return time.perf_counter() - t0

    coding = ("one-hot as indices: nn.Embedding(%d, %d) into identity input weights"
              % (chunk.n_in, 4 * hidden) if embed else
              "one-hot as dense vectors" if chunk.onehot else "real-valued inputs")
    w = net0.n_weights()
    nb = min(batch, len(order))
    bname = f"torch-batch{nb}"
    fns = {"torch-online": online, bname: batched}
    desc = {"torch-online": (w, f"nn.LSTM({hidden}) + Linear, {dtype}, batch 1, BPTT and one SGD "
                                f"step per sequence; {coding}"),
            bname: (w, f"the same net, {nb} sequences per batch, one SGD step per batch "
                       f"(a different rule: throughput only)")}
    return fns, desc
