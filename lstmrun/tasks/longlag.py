"""Generators for the long-time-lag tasks of HS97 §5.2-§5.6 (Exps 2a-6; PROTOCOLS §3-§8).

One class per task kind, with the interface of :class:`lstmrun.tasks.registry.GrammarTask`:
``params`` (name -> (type, default)), ``n_in``, ``n_out``, ``onehot``, ``criterion``,
``threshold``, ``sample(rng, n) -> Chunk`` and ``chunk_from_records(records) -> Chunk``.
:data:`TASKS` maps task names to classes.

Defaults come from the code below and, where present, from ``data/<name>.yaml`` (the paper's
parameters with their sources); the YAML may only restate or change defaults of known keys.

Every generator is vectorised over the whole chunk (no Python loop per step or per sequence).
Sequences lie end to end; ``chunk.extra`` holds per-sequence facts as numpy arrays (class labels,
marked positions, ...) plus

- ``criterion_mask`` uint8 (T,): where the success criterion is checked (= ``has_target`` except
  in Exp 2b, where only the last step counts);
- ``end_only_criterion`` bool: whether the criterion looks at the sequence end only.

One-hot tasks fill ``symbols`` with a :class:`SymbolView`: a read-only, lazily decoded sequence
of per-sequence symbol-name lists (the whole string as drawn, like the grammar tasks), so that
building a chunk does not create millions of Python strings.
"""

from __future__ import annotations

import numpy as np

from ..engine.chunk import Chunk
from .common import (
    TASKS_DIR,  # noqa: F401  (re-exported)
    SequenceTask,
    SymbolView,  # noqa: F401  (re-exported: longlag.SymbolView)
    check_choice,
    check_nonneg,
    end_mask,
    offsets_of,
    uniform_lengths,
    yaml_defaults,
)


# --- Exp 2a / 2b -------------------------------------------------------------------------------


class _Exp2abTask(SequenceTask):
    """Next-symbol prediction on (c, middle, c), c in {x, y} (HS97 §5.2; PROTOCOLS §3.1-3.2).

    Alphabet (p+1 symbols, index = symbol number - 1): a1..a{p-1}, x = a_p, y = a_{p+1}. A string
    has p+1 symbols, i.e. p steps: input symbols[0..p-1], target the one-hot of symbols[1..p]
    (``target_on`` / ``target_off``) at every step. ``extra["cls"]``: 0 = x, 1 = y.
    """

    name = ""
    random_middle = False
    onehot = True
    criterion = "abs"
    threshold = 0.25  # ABS(0.25), §5.2
    _spec = {"p": (int, 100), "target_on": (float, 1.0), "target_off": (float, 0.0),
             "train_steps": (str, "all")}

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        self.P = int(p["p"])
        if self.P < 1:
            raise ValueError(f"task.p: must be at least 1 (got {self.P})")
        self.n_in = self.n_out = self.P + 1
        self.alphabet = [f"a{i}" for i in range(1, self.P)] + ["x", "y"]
        if p["train_steps"] not in ("all", "end"):
            raise ValueError(f"task.train_steps: 'all' or 'end' (got {p['train_steps']!r})")

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        P = self.P
        cls = rng.integers(0, 2, size=n).astype(np.int64)
        first = (P - 1 + cls).astype(np.int32)  # x = index p-1, y = index p
        if self.random_middle:
            mid = rng.integers(0, max(P - 1, 1), size=(n, P - 1)).astype(np.int32)
        else:
            mid = np.broadcast_to(np.arange(P - 1, dtype=np.int32), (n, P - 1))
        full = np.empty((n, P + 1), np.int32)
        full[:, 0] = first
        full[:, 1:P] = mid
        full[:, P] = first
        offsets = np.arange(n + 1, dtype=np.int64) * P
        x_idx = full[:, :P].reshape(-1).copy()
        nxt = full[:, 1:].reshape(-1)
        T = n * P
        targets = np.full((T, P + 1), float(self.p["target_off"]))
        targets[np.arange(T), nxt] = float(self.p["target_on"])
        # HS97 §5.2: a target at every step; "end" (an alternative reading for 2b, README)
        # trains on the final prediction only
        has = end_mask(offsets) if self.p["train_steps"] == "end" else np.ones(T, np.uint8)
        crit = end_mask(offsets) if self.end_only else np.ones(T, np.uint8)
        return self._chunk(offsets, x_idx=x_idx, targets=targets, has_target=has,
                           final=full[:, P].copy(), criterion_mask=crit, extra={"cls": cls})


class Exp2aTask(_Exp2abTask):
    """Exp 2a: the two fixed sequences (y, a1, ..., a{p-1}, y) and (x, a1, ..., a{p-1}, x)."""

    name = "exp2a"
    random_middle = False
    end_only = False  # ABS(0.25) over every output at every step
    params = yaml_defaults("exp2a", _Exp2abTask._spec)


class Exp2bTask(_Exp2abTask):
    """Exp 2b: like 2a with a middle of p-1 symbols i.i.d. uniform over a1..a{p-1}; targets at
    every step for training, criterion only at the sequence end (``criterion_mask``)."""

    name = "exp2b"
    random_middle = True
    end_only = True
    params = yaml_defaults("exp2b", _Exp2abTask._spec)


# --- Exp 2c ------------------------------------------------------------------------------------


class Exp2cTask(SequenceTask):
    """Exp 2c: very long lags with p distractors and a trigger e (HS97 §5.2; PROTOCOLS §3.3, A8).

    Alphabet (p+4): a1..ap (indices 0..p-1), e = a_{p+1}, b = a_{p+2}, x = a_{p+3}, y = a_{p+4}.
    String: b, c (x or y, p = 0.5), q distractors, then k >= 0 further distractors with
    P(k) = 0.9^k * 0.1 (continue with prob. 0.9), then e, then c again. Inputs are all symbols but
    the last (q + k + 3 steps; expected q + 12, the string q + 13: A8), one target at the e step:
    outputs (x, y), one-hot of c. ``extra``: ``cls`` (0 = x, 1 = y), ``n_distractors`` (q + k).
    """

    name = "exp2c"
    onehot = True
    criterion = "abs"
    threshold = 0.2  # ABS(0.2)
    continue_prob = 0.9  # A8: "9/10" as written
    params = yaml_defaults("exp2c", {"q": (int, 50), "p": (int, 50), "target_on": (float, 1.0),
                                      "target_off": (float, 0.0)})

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        self.q, self.P = int(p["q"]), int(p["p"])
        if self.P < 1:
            raise ValueError(f"task.p: must be at least 1 (got {self.P})")
        if self.q < 0:
            raise ValueError(f"task.q: must be at least 0 (got {self.q})")
        self.n_in, self.n_out = self.P + 4, 2
        self.alphabet = [f"a{i}" for i in range(1, self.P + 1)] + ["e", "b", "x", "y"]
        self.E, self.B, self.X = self.P, self.P + 1, self.P + 2

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        cls = rng.integers(0, 2, size=n).astype(np.int64)
        k = rng.geometric(1.0 - self.continue_prob, size=n).astype(np.int64) - 1
        n_dist = self.q + k
        lengths = n_dist + 3  # b, c, distractors, e
        offsets = offsets_of(lengths)
        T = int(offsets[-1])
        # drawn as int32 directly: the same values and generator state as the int64 draw and cast
        # of earlier versions (tests/test_longlag_tasks.py), without the 8 MB array and copy of a
        # q = 1000 chunk (issue 19, item 3)
        x_idx = rng.integers(0, self.P, size=T, dtype=np.int32)
        starts, last = offsets[:-1], offsets[1:] - 1
        x_idx[starts] = self.B
        x_idx[starts + 1] = self.X + cls
        x_idx[last] = self.E
        targets = np.zeros((T, 2))
        targets[last] = float(self.p["target_off"])
        targets[last, cls] = float(self.p["target_on"])
        has = np.zeros(T, np.uint8)
        has[last] = 1
        return self._chunk(offsets, x_idx=x_idx, targets=targets, has_target=has,
                           final=(self.X + cls).astype(np.int32),
                           extra={"cls": cls, "n_distractors": n_dist})


# --- Exp 3 -------------------------------------------------------------------------------------


class Exp3Task(SequenceTask):
    """Exp 3a/3b/3c: the 2-sequence problem on one real input line (HS97 §5.3; PROTOCOLS §4-5).

    Length uniform in [T, T + T//10] (A18). Class 1 (``cls`` 0): the first N elements +1.0;
    class 2 (``cls`` 1): -1.0; later elements Gaussian(0, ``noise_var``) (A14: a variance). 3b adds
    the same kind of noise to the first N elements. Target at the last step only: 3a/3b 1.0 / 0.0
    (ABS(0.2)); 3c noise-free 0.2 / 0.8 (``clean_targets``), trained on that plus
    Gaussian(0, ``target_noise_var``), misclassified when |output - noise-free| > 0.1.
    """

    name = "exp3"
    onehot = False
    criterion = "abs"
    n_in = n_out = 1
    params = yaml_defaults("exp3", {"T": (int, 100), "N": (int, 3), "variant": (str, "a"),
                                     "noise_var": (float, 0.2),
                                     "target_noise_var": (float, 0.1)})

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        check_choice("variant", p["variant"], ("a", "b", "c"))
        check_nonneg("noise_var", p["noise_var"])
        check_nonneg("target_noise_var", p["target_noise_var"])
        self.T, self.N, self.variant = int(p["T"]), int(p["N"]), p["variant"]
        if not 1 <= self.N < self.T:
            raise ValueError(f"task.N: must be in [1, T-1] = [1, {self.T - 1}] (got {self.N})")
        self.threshold = 0.1 if self.variant == "c" else 0.2

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        lengths = uniform_lengths(rng, n, self.T, self.T + self.T // 10)
        cls = rng.integers(0, 2, size=n).astype(np.int64)
        offsets = offsets_of(lengths)
        T = int(offsets[-1])
        x = rng.normal(0.0, np.sqrt(self.p["noise_var"]), size=T)
        info = (offsets[:-1, None] + np.arange(self.N)).reshape(-1)
        sign = np.repeat(1.0 - 2.0 * cls, self.N)
        if self.variant == "b":
            x[info] += sign
        else:
            x[info] = sign
        last = offsets[1:] - 1
        has = np.zeros(T, np.uint8)
        has[last] = 1
        targets = np.zeros((T, 1))
        clean = None
        if self.variant == "c":
            clean = np.zeros((T, 1))
            clean[last, 0] = np.where(cls == 0, 0.2, 0.8)
            targets[last, 0] = clean[last, 0] + rng.normal(
                0.0, np.sqrt(self.p["target_noise_var"]), size=n)
        else:
            targets[last, 0] = np.where(cls == 0, 1.0, 0.0)
        return self._chunk(offsets, x_real=x[:, None], targets=targets, has_target=has,
                           clean=clean, extra={"cls": cls})


# --- Exps 4 and 5 ------------------------------------------------------------------------------


class AddingTask(SequenceTask):
    """Exp 4, the adding problem (HS97 §5.4; PROTOCOLS §6.1, A11, A18).

    Steps are pairs (value, marker), value U[-1, 1], length uniform in [T, T + T//10]. Pair X1 is
    drawn uniformly from pairs 1..10, X2 uniformly from the first T//2 - 1 pairs other than X1's
    (both get marker 1.0); the first and last pairs carry -1.0 unless marked, the rest 0.0. If
    pair 1 is marked (by either draw) its value is set to 0 (A11). One target at the last step:
    0.5 + (X1 + X2) / 4. ``extra``: ``marked`` (n, 2) 0-based steps of X1, X2; ``x1``, ``x2``.
    """

    name = "adding"
    onehot = False
    criterion = "abs"
    threshold = 0.04
    n_in, n_out = 2, 1
    value_range = (-1.0, 1.0)
    pair1_value = 0.0
    params = yaml_defaults("adding", {"T": (int, 100)})

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        self.T = int(p["T"])
        if self.T < 11:
            raise ValueError(f"task.T: must be at least 11 so that pairs 1-10 and the first "
                             f"T/2-1 pairs lie before the last pair (got {self.T})")

    def target(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        return 0.5 + (x1 + x2) / 4.0

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        lengths = uniform_lengths(rng, n, self.T, self.T + self.T // 10)
        offsets = offsets_of(lengths)
        T = int(offsets[-1])
        lo, hi = self.value_range
        vals = rng.uniform(lo, hi, size=T)
        marks = np.zeros(T)
        starts, last = offsets[:-1], offsets[1:] - 1
        marks[starts] = -1.0
        marks[last] = -1.0
        K = self.T // 2 - 1  # "the first T/2 - 1 still unmarked pairs"
        m1 = rng.integers(0, 10, size=n)
        inside = m1 < K
        r = rng.integers(0, K - inside.astype(np.int64))  # K-1 choices when m1 is among them
        m2 = np.where(inside & (r >= m1), r + 1, r)
        marked = np.stack([m1, m2], axis=1).astype(np.int64)
        pos = starts[:, None] + marked
        marks[pos.reshape(-1)] = 1.0
        first_marked = (m1 == 0) | (m2 == 0)
        vals[starts[first_marked]] = self.pair1_value
        x1, x2 = vals[pos[:, 0]], vals[pos[:, 1]]
        targets = np.zeros((T, 1))
        targets[last, 0] = self.target(x1, x2)
        has = np.zeros(T, np.uint8)
        has[last] = 1
        return self._chunk(offsets, x_real=np.stack([vals, marks], axis=1), targets=targets,
                           has_target=has, extra={"marked": marked, "x1": x1, "x2": x2})


class MultiplicationTask(AddingTask):
    """Exp 5, the multiplication problem (HS97 §5.5; PROTOCOLS §7): as :class:`AddingTask` but
    values U[0, 1], a marked pair 1 has value 1.0 (A11), target X1 * X2."""

    name = "multiplication"
    value_range = (0.0, 1.0)
    pair1_value = 1.0
    params = yaml_defaults("multiplication", {"T": (int, 100)})

    def target(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        return x1 * x2


# --- Exp 6 -------------------------------------------------------------------------------------


class TemporalOrderTask(SequenceTask):
    """Exp 6a/6b, temporal order (HS97 §5.6; PROTOCOLS §8, A17).

    Symbols [E, B, a, b, c, d, X, Y]; length uniform in [100, 110]; 1-based positions: E at 1, B
    at the end, X/Y (p = 0.5 each) at t1 in [10, 20] and t2 in [50, 60] (6a) or t1 in [10, 20],
    t2 in [33, 43], t3 in [66, 76] (6b); elsewhere uniform over {a, b, c, d}. Class = the X/Y
    string read as binary (X = 0, first symbol most significant): 6a Q R S U = 0..3, 6b Q..C =
    0..7. One-hot target over the classes at the last step (input B). ``extra``: ``cls``,
    ``relevant`` (n, 2|3) 0-based steps, ``relevant_sym`` (n, 2|3) 0 = X, 1 = Y.
    """

    name = "temporal_order"
    onehot = True
    criterion = "abs"
    threshold = 0.3
    n_in = 8
    alphabet = ["E", "B", "a", "b", "c", "d", "X", "Y"]
    length_range = (100, 110)
    windows = {"a": ((10, 20), (50, 60)), "b": ((10, 20), (33, 43), (66, 76))}
    params = yaml_defaults("temporal_order", {"variant": (str, "a"), "target_on": (float, 1.0),
                                               "target_off": (float, 0.0)})

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        check_choice("variant", p["variant"], tuple(self.windows))
        self.variant = p["variant"]
        self.n_rel = len(self.windows[self.variant])
        self.n_out = 2 ** self.n_rel

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        lengths = uniform_lengths(rng, n, *self.length_range)
        offsets = offsets_of(lengths)
        T = int(offsets[-1])
        x_idx = rng.integers(2, 6, size=T).astype(np.int32)
        starts, last = offsets[:-1], offsets[1:] - 1
        x_idx[starts] = 0  # E
        x_idx[last] = 1  # B
        rel = np.stack([rng.integers(lo - 1, hi, size=n) for lo, hi in self.windows[self.variant]],
                       axis=1).astype(np.int64)  # 0-based steps
        sym = rng.integers(0, 2, size=(n, self.n_rel)).astype(np.int64)
        x_idx[(starts[:, None] + rel).reshape(-1)] = (6 + sym).reshape(-1)
        cls = sym @ (2 ** np.arange(self.n_rel - 1, -1, -1))
        targets = np.zeros((T, self.n_out))
        targets[last] = float(self.p["target_off"])
        targets[last, cls] = float(self.p["target_on"])
        has = np.zeros(T, np.uint8)
        has[last] = 1
        return self._chunk(offsets, x_idx=x_idx, targets=targets, has_target=has,
                           extra={"cls": cls, "relevant": rel, "relevant_sym": sym})


TASKS = {
    "exp2a": Exp2aTask,
    "exp2b": Exp2bTask,
    "exp2c": Exp2cTask,
    "exp3": Exp3Task,
    "adding": AddingTask,
    "multiplication": MultiplicationTask,
    "temporal_order": TemporalOrderTask,
}
