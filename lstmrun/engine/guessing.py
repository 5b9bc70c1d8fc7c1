"""Random weight guessing (RS/RG; PROTOCOLS §10: BWG96, NIPS96 node1, RG01 node2-4).

The procedure (§10.1): repeat -- draw every weight of a fixed net at random from U[-100, 100] and
run the training set with frozen weights -- until a net classifies every training sequence
correctly; then test that net on a separate test set. One guess is one draw; the count reported
is the number of draws up to and including the first solver.

The nets are :class:`lstmrun.engine.frnn.FRNN` configurations (any model with ``Wh``/``Mh`` and
``Wo``/``Mo`` works, ``LSTM97`` and ``Elman`` included). Our readings of the two architectures:

- **A1** ("fully connected recurrent net with 1 input, 1 output and n hidden units; hidden units
  biased through a constant-1 'true' unit"): the Williams-Zipser net with a *visible* output,
  i.e. ``n + 1`` fully recurrent logistic units (the output unit among them, reading its own and
  every hidden unit's previous activation), every unit reading the current input; biases on the
  hidden units only (the output unit is not said to be biased). ``arch_a1(n)``; n = 1 is the
  architecture of Bengio et al. 1994 (RG01 node4). Weights: (n+2) + n (n+3).
- **A2** ("like A1 with a larger n; each hidden unit sees the input, the output and itself; the
  output sees all other units; every unit biased"): visible net, hidden unit reads input, bias,
  the output unit's and its own previous activation; the output unit reads the input, bias and all
  hidden units but not itself ("all *other* units"). ``arch_a2(n, hidden_self)``; n is a parameter
  because the number is lost in our source extractions (A20); ``hidden_self=False`` is the
  variant "A2 without hidden self-connections" (RG01 node4: 250 trials on parity).

All activations are reset to 0 at each sequence start (the bias unit is the constant 1 column).

The configs (``model.kind: guess``, ``protocol.name: guess``) use the nets of
:mod:`lstmrun.engine.guessnet` instead: the same connectivity, plus the reading of the unit update
order under which A1 with n = 1 can solve parity at all (see there), tanh units and fixed weights
for the latch problem. ``arch_a1``/``arch_a2`` here are that module's ``order="synchronous"``
nets (tested equal).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .chunk import Chunk
from .frnn import FRNNArch
from .lstm97 import M_CORRECT


def arch_a1(n_hidden: int = 1) -> FRNNArch:
    """Guessing architecture A1 (see the module docstring)."""
    return FRNNArch(1, 1, n_hidden, outputs="visible", hidden_bias=True, output_bias=False)


def arch_a2(n_hidden: int, hidden_self: bool = True) -> FRNNArch:
    """Guessing architecture A2 (see the module docstring; ``n_hidden`` is unknown, A20)."""
    return FRNNArch(1, 1, n_hidden, outputs="visible", hidden_bias=True, output_bias=True,
                    hidden_self_only=True, hidden_self=hidden_self, output_self=False)


def draw_weights(net, rng: np.random.Generator, weight_range: float = 100.0) -> None:
    """Set every connection of ``net`` to an independent U[-weight_range, weight_range] draw, in
    place (``Wh`` first, then ``Wo``, each in row-major order of its whole array; non-connections
    stay 0). A net with masks of guessed weights ``Fh``/``Fo`` (:class:`.guessnet.GuessNet`) keeps
    its other connections (fixed weights) as they are; the draws are the same either way."""
    for W, M, F in ((net.Wh, net.Mh, getattr(net, "Fh", None)),
                    (net.Wo, net.Mo, getattr(net, "Fo", None))):
        if W.size:
            u = rng.uniform(-weight_range, weight_range, size=W.shape)
            if F is None:
                W[...] = u * M
            else:
                W[...] = np.where(F != 0, u, W * M)


def guess(model_factory: Callable | object, train_chunk: Chunk, test_chunk: Chunk | None,
          rng: np.random.Generator, max_guesses: int, weight_range: float = 100.0,
          criterion: str = "abs", threshold: float = 0.1, stats: dict | None = None) -> dict:
    """Random weight guessing on ``train_chunk``, then test (PROTOCOLS §10.1).

    ``model_factory``: a model, or a zero-argument callable returning one; its weights are
    overwritten by every guess. Each guess is evaluated with early exit (the first training
    sequence that fails ends it). ``criterion``/``threshold``: NIPS96/RG01 use "abs" with 0.1
    (absolute error at the sequence end below 0.1; put the target on the last step only).

    Returns ``dict(solved, guesses, test_fraction_correct, weights)``: ``guesses`` is the number
    of draws made (the index of the solver, 1-based, or ``max_guesses``); ``weights`` a dict of
    copies of the solver's ``Wh``/``Wo`` (None if unsolved); ``test_fraction_correct`` the share
    of test sequences that meet the criterion (None if unsolved or no test set).

    ``stats``: a dict that, if given, receives ``sequences_evaluated`` (training sequences run
    over all guesses, each guess stopping at its first failure) and ``steps_evaluated``.
    """
    net = model_factory if hasattr(model_factory, "Wh") else model_factory()
    lengths = np.diff(train_chunk.offsets)
    n_seq = n_steps = 0
    for g in range(1, int(max_guesses) + 1):
        draw_weights(net, rng, weight_range)
        m = net.evaluate(train_chunk, criterion=criterion, threshold=threshold, early_exit=True)
        n_seq += len(m)
        n_steps += int(lengths[:len(m)].sum())
        if stats is not None:
            stats.update(sequences_evaluated=n_seq, steps_evaluated=n_steps)
        if len(m) == train_chunk.n and bool(m[:, M_CORRECT].all()):
            frac = None
            if test_chunk is not None:
                m = net.evaluate(test_chunk, criterion=criterion, threshold=threshold)
                frac = float(m[:, M_CORRECT].mean())
            return {"solved": True, "guesses": g, "test_fraction_correct": frac,
                    "weights": {"Wh": net.Wh.copy(), "Wo": net.Wo.copy()}}
    return {"solved": False, "guesses": int(max_guesses), "test_fraction_correct": None,
            "weights": None}
