"""Checkpoints inside a trial, so that an interrupted run loses minutes, not hours.

A trial of the long rows runs for hours on one core (adding at T = 1000: ~3 million sequences of
~1,050 steps). Run folders keep finished trials, and `lstmrun train --resume` reruns the unfinished
ones, but a rerun starts them again from their first sequence. A protocol that takes a
:class:`TrialCheckpoint` saves its whole state every ``every`` seconds, between two training
chunks:
- its loop variables;
- the net's weights and other arrays;
- the state of both random generators.

When the trial is run again with the same checkpoint file, the protocol restores that state and
goes on from there. The trial's record is then the one an uninterrupted run writes, bit for bit,
except ``wall_seconds``, which adds the time spent before the checkpoint to the time after it
(tests/test_checkpoint.py).

The file is written to a temporary name and renamed, so a kill leaves the previous checkpoint
whole. A checkpoint written by other protocol code (a hash of ``lstmrun/protocols/*.py``, whose
objects it pickles) is ignored: its trial starts afresh, with a note. The run folder deletes a
trial's checkpoint once the trial's record is written (:mod:`lstmrun.rundir`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

FORMAT = 1
_CODE: str | None = None


def code_hash() -> str:
    """A hash of the protocols' source, whose loop objects a checkpoint holds."""
    global _CODE
    if _CODE is None:
        h = hashlib.sha256()
        for f in sorted(Path(__file__).parent.glob("*.py")):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        _CODE = h.hexdigest()[:16]
    return _CODE


class TrialCheckpoint:
    """The checkpoint file of one trial. ``every``: seconds between saves. The first save comes
    ``every`` seconds after the trial starts; ``every`` = 0 saves between every two chunks (tests)."""

    def __init__(self, path, every: float):
        self.path = Path(path)
        self.every = float(every)
        self.prior_seconds = 0.0       # wall time spent before the restored checkpoint
        self._t0 = self._last = time.monotonic()

    def load(self) -> dict | None:
        """The saved state, or None (no file, or one this version cannot use)."""
        try:
            with open(self.path, "rb") as f:
                blob = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001  (a torn or foreign file: start afresh, say why)
            print(f"note: {self.path}: unreadable checkpoint ({type(e).__name__}); the trial "
                  "starts afresh", file=sys.stderr)
            return None
        if (not isinstance(blob, dict) or blob.get("format") != FORMAT
                or blob.get("code") != code_hash()):
            print(f"note: {self.path}: a checkpoint written by other protocol code; the trial "
                  "starts afresh", file=sys.stderr)
            return None
        self.prior_seconds = float(blob["elapsed"])
        self._t0 = self._last = time.monotonic()
        return blob["state"]

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.every

    def elapsed(self) -> float:
        """Wall seconds of the trial so far, across restarts."""
        return self.prior_seconds + time.monotonic() - self._t0

    def save(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            pickle.dump({"format": FORMAT, "code": code_hash(), "elapsed": self.elapsed(),
                         "state": state}, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)
        self._last = time.monotonic()


def net_state(net) -> dict:
    """Everything about ``net`` that training can change: copies of its numpy arrays (weights,
    momentum velocities, the kernel's switch and factor arrays) and its plain scalar attributes."""
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(net).items()
            if isinstance(v, (np.ndarray, np.generic, bool, int, float, str))}


def restore_net(net, state: dict) -> None:
    """Put :func:`net_state`'s values back into ``net``: arrays of the same shape are
    overwritten in place (views of them stay valid), the rest are set anew."""
    for k, v in state.items():
        cur = getattr(net, k, None)
        if isinstance(v, np.ndarray) and isinstance(cur, np.ndarray) and cur.shape == v.shape \
                and cur.dtype == v.dtype:
            cur[...] = v
        else:
            setattr(net, k, v.copy() if isinstance(v, np.ndarray) else v)


def rng_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def restore_rng(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = state
