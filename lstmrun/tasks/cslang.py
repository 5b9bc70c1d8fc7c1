"""The counting languages a^n b^n (context-free) and a^n b^n c^n (context-sensitive) of Gers &
Schmidhuber 2001 (GS01; PROTOCOLS §14), as next-symbol prediction.

A string of the language with ``letters`` = L letters (L = 2: a^n b^n, L = 3: a^n b^n c^n) is
``S a^n b^n [c^n] T``: the start symbol S, n copies of each letter in turn, the end symbol T. The
net reads S and the letters one per step (T is never an input) and must predict, at every step,
the set of symbols that may come next (PROTOCOLS §14 states no coding or criterion: these are
our choices, the legal-set targets as in our CERG rows, GSC00):

    after S              {a, T} (the empty string ST belongs to the language: ``empty_string``)
                         or {a} (``empty_string: false``)
    after an a           {a, b}          (the net cannot know n yet)
    after the j-th b     {b} for j < n, {c} for j = n (a^n b^n: {T})
    after the j-th c     {c} for j < n, {T} for j = n

From the first b on (step n+1 of a string, counting S as step 0) exactly one symbol is legal: the
prediction is deterministic, and getting it right needs the count of the a's.

Coding: one input unit per input symbol (S, a, b[, c]; T is never read) and one output unit per
predictable symbol (a, b[, c], T; S is never predicted). Targets ``target_on`` (1.0) for each
legal next symbol, ``target_off`` (0.0) for the others, at every step. The criterion is judged on
the 0/1 legal-set vector (``chunk.clean_targets``) with the ``abs`` rule and threshold 0.5: every
legal symbol's output above 0.5, every other one below (ours: all possible next symbols
predicted, none of the others). A string is correct when every one of its steps is.

Training strings have n in [``n_min``, ``n_max``] (1..10: PROTOCOLS §14's secondary account of
GS01); generalisation is tested on n = 1..``test_n_max``. :meth:`CSLangTask.strings` builds the
chunk of any list of n.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


from ..engine.chunk import Chunk, empty_real
from .common import yaml_defaults

LETTERS = "abcdefgh"


class CSLangTask:
    """S a^n b^n ... T next-symbol prediction (module docstring); ``letters`` fixed per alias."""

    letters = 3
    file = "anbncn"
    criterion = "abs"
    threshold = 0.5
    onehot = True

    def __init__(self, p: dict) -> None:
        self.p = dict(p)
        lo, hi, top = p["n_min"], p["n_max"], p["test_n_max"]
        if not 1 <= lo <= hi:
            raise ValueError(f"task.n_min/n_max: need 1 <= n_min <= n_max (got {lo}, {hi})")
        if top < hi:
            raise ValueError(f"task.test_n_max: must be at least n_max ({hi}), got {top}")
        if not p["target_on"] > p["target_off"]:
            raise ValueError("task.target_on must exceed task.target_off")
        L = self.letters
        self.inputs = ["S"] + list(LETTERS[:L])          # input units
        self.outputs = list(LETTERS[:L]) + ["T"]          # output units
        self.alphabet = self.inputs                       # input symbol names (lstmrun inspect)
        self.n_in, self.n_out = L + 1, L + 1
        self.T = L                                         # output index of T

    # --- definition ----------------------------------------------------------------------------

    def string(self, n: int) -> list[str]:
        """The string with ``n`` of each letter: S a^n b^n ... T."""
        return ["S"] + [a for a in LETTERS[:self.letters] for _ in range(n)] + ["T"]

    def legal_sets(self, n: int) -> list[set[str]]:
        """Entry t: the symbols that may follow the first t+1 symbols of the n-string (the
        prefix S a^k of a string is shared by every string with more a's)."""
        L = self.letters
        first = {"a", "T"} if (self.p["empty_string"]) else {"a"}
        out = [first] + [{"a", "b"}] * n
        for ell in range(1, L):
            nxt = LETTERS[ell + 1] if ell + 1 < L else "T"
            out += [{LETTERS[ell]}] * (n - 1) + [{nxt}]
        return out

    def deterministic_from(self, n: int) -> int:
        """The first step (S = step 0) from which exactly one symbol is legal: the first b."""
        return n + 1

    # --- coding --------------------------------------------------------------------------------

    def strings(self, ns: Iterable[int], symbols: bool = True) -> Chunk:
        """The chunk of the strings with the given n's, one sequence each (n = 0 is the empty
        string ST; only with ``empty_string``)."""
        ns = np.asarray([int(n) for n in ns], np.int64)
        if len(ns) and (ns.min() < 0 or (not self.p["empty_string"] and (ns == 0).any())):
            raise ValueError(f"n = {int(ns.min())} is not a string length of this language")
        L, K = self.letters, self.n_out
        lengths = L * ns + 1
        offsets = np.zeros(len(ns) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        T = int(offsets[-1])
        # step t of its string: p = 0 reads S; p >= 1 reads letter ell = (p-1)//n, its j-th copy
        n = np.repeat(ns, lengths)
        p = np.arange(T, dtype=np.int64) - np.repeat(offsets[:-1], lengths)
        q = np.maximum(p - 1, 0)
        nn = np.maximum(n, 1)
        ell, j = q // nn, q % nn + 1
        x_idx = np.where(p == 0, 0, ell + 1).astype(np.int32)
        first = 1 | ((1 << self.T) if self.p["empty_string"] else 0)
        legal = np.where(ell == 0, 0b11, np.where(j < n, 1 << ell, 1 << (ell + 1)))
        legal = np.where(p == 0, first, legal).astype(np.int64)   # 1 << L is T's bit
        bits = ((legal[:, None] >> np.arange(K)) & 1).astype(np.float64)
        on, off = self.p["target_on"], self.p["target_off"]
        targets = np.where(bits == 1, on, off)
        return Chunk(offsets=offsets, x_idx=x_idx, x_real=empty_real(self.n_in), targets=targets,
                     has_target=np.ones(T, np.uint8), legal=legal, onehot=True, n_in=self.n_in,
                     n_out=K, symbols=[self.string(int(k)) for k in ns] if symbols else None,
                     clean_targets=bits, extra={"n": ns})

    def training_ns(self) -> np.ndarray:
        return np.arange(self.p["n_min"], self.p["n_max"] + 1)

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        """``n`` training strings, each n uniform in [n_min, n_max]."""
        return self.strings(rng.integers(self.p["n_min"], self.p["n_max"] + 1, size=n))

    def chunk_from_records(self, records: list[dict]) -> Chunk:
        ns = []
        for i, r in enumerate(records):
            if "symbols" not in r:
                raise ValueError(f"sequence {i}: a {self.file} task needs 'symbols' (the whole "
                                 "string, S ... T)")
            syms = [str(s) for s in r["symbols"]]
            n = (len(syms) - 2) // self.letters
            if len(syms) < 2 or syms != self.string(max(n, 0)) or (n == 0 and not
                                                                   self.p["empty_string"]):
                raise ValueError(f"sequence {i}: {''.join(syms)} is not a string of "
                                 f"{self.file} (S a^n ... T)")
            ns.append(n)
        return self.strings(ns)


_SPEC = {
    "n_min": (int, 1),             # training strings: n uniform in [n_min, n_max]
    "n_max": (int, 10),
    "test_n_max": (int, 1000),     # generalisation test: every n = 1..test_n_max
    "empty_string": (bool, True),  # ST is in the language: T is legal after S
    "target_on": (float, 1.0),
    "target_off": (float, 0.0),
}


class AnBnTask(CSLangTask):
    letters = 2
    file = "anbn"
    params = yaml_defaults("anbn", _SPEC)


class AnBnCnTask(CSLangTask):
    letters = 3
    file = "anbncn"
    params = yaml_defaults("anbncn", _SPEC)


TASKS = {"anbn": AnBnTask, "anbncn": AnBnCnTask}
