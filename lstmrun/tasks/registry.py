"""Task kinds by name: their parameters (with defaults and checks) and how to build them.

A config's ``task`` section is ``{name: <kind>, ...parameters}``. :func:`validate_task` resolves
the defaults and checks every key; :func:`build_task` returns a task object with

- ``n_in``, ``n_out``, ``onehot``, ``criterion`` (``"legal"`` or ``"abs"``), ``threshold``;
- ``sample(rng, n) -> Chunk``: ``n`` fresh sequences (``lstmrun sample``);
- ``chunk_from_records(records) -> Chunk``: sequences given by a user (``lstmrun eval``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .cerg import TASKS as CERG
from .cslang import TASKS as CSLANG
from .grammar import grammar_for
from .guesstasks import TASKS as GUESS
from .longlag import TASKS as LONGLAG
from .timing import TASKS as TIMING


class GrammarTask:
    """Next-symbol prediction on strings of a finite-state grammar (HS97 §5.1, Exp 1)."""

    params = {
        "grammar": (str, "embedded_reber"),
        "n_train": (int, 256),
        "n_test": (int, 256),
        "data_sets": (int, 3),
        "target_on": (float, 1.0),
        "target_off": (float, 0.0),
        "targets": (str, "next"),  # "next": the actual next symbol (A12); "legal": every legal one
    }
    criterion = "legal"
    threshold = 0.0
    onehot = True

    def __init__(self, p: dict):
        self.p = p
        self.grammar = grammar_for(p)
        self.n_in = self.n_out = len(self.grammar.alphabet)

    def chunk(self, strings) -> Any:
        on, off = self.p["target_on"], self.p["target_off"]
        c = self.grammar.to_chunk(strings, on, off)
        if self.p["targets"] == "legal":  # multi-hot: every legal next symbol is a target
            bits = (c.legal[:, None] >> np.arange(self.n_out)) & 1
            c.targets = np.where(bits == 1, on, off).astype(np.float64)
        return c

    def sample(self, rng: np.random.Generator, n: int):
        return self.chunk([self.grammar.generate(rng) for _ in range(n)])

    def chunk_from_records(self, records: list[dict]):
        strings = []
        for i, r in enumerate(records):
            if "symbols" not in r:
                raise ValueError(f"sequence {i}: a grammar task needs 'symbols' (the whole string)")
            syms = list(r["symbols"])
            if not self.grammar.accepts(syms):
                raise ValueError(f"sequence {i}: {''.join(syms)} is not a string of the grammar "
                                 f"{self.grammar.name}")
            strings.append(syms)
        return self.chunk(strings)


KINDS = {"grammar": GrammarTask, **LONGLAG, **GUESS, **CERG, **CSLANG, **TIMING}
# names a config may use for `task.name`, with the kind and fixed parameters they imply
ALIASES = {
    "embedded_reber": ("grammar", {"grammar": "embedded_reber"}),
    "reber": ("grammar", {"grammar": "reber"}),
    "grammar": ("grammar", {}),
    **{k: (k, {}) for k in LONGLAG},
    **{k: (k, {}) for k in GUESS},  # random weight guessing: latch, parity
    "cerg": ("cerg", {}),           # continual embedded Reber grammar (GSC00)
    **{k: (k, {}) for k in CSLANG},  # a^n b^n, a^n b^n c^n (GS01)
    **{k: (k, {}) for k in TIMING},  # timing: msd, gts, pfg (GSS02; tasks/timing.py)
    "nmsd": ("msd", {"continual": False}),   # GSS02's non-continual MSD
    "exp3a": ("exp3", {"variant": "a"}),
    "exp3b": ("exp3", {"variant": "b"}),
    "exp3c": ("exp3", {"variant": "c"}),
    "exp6a": ("temporal_order", {"variant": "a"}),
    "exp6b": ("temporal_order", {"variant": "b"}),
}


def validate_task(raw: dict) -> dict:
    if "name" not in raw:
        raise ValueError(f"task.name is required (one of {', '.join(ALIASES)})")
    name = raw["name"]
    if not isinstance(name, str) or name not in ALIASES:
        raise ValueError(f"task.name: unknown task {name!r} (known: {', '.join(ALIASES)})")
    kind, fixed = ALIASES[name]
    cls = KINDS[kind]
    out = {"name": name}
    for k, (_typ, default) in cls.params.items():
        out[k] = fixed.get(k, default)
    for k, v in raw.items():
        if k == "name":
            continue
        if k not in cls.params:
            raise ValueError(f"unknown key task.{k} for task {name!r} (known: "
                             f"{', '.join(cls.params)})")
        typ = cls.params[k][0]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if typ is int and isinstance(v, float) and v.is_integer():  # 1e3, as typed
            v = int(v)
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"task.{k}: must be finite (got {v!r})")
        if not isinstance(v, typ) or (isinstance(v, bool) and typ is not bool):
            raise ValueError(f"task.{k}: expected {typ.__name__}, got {v!r}")
        if typ is int and v < 1:
            raise ValueError(f"task.{k}: must be at least 1 (got {v})")
        if k in fixed and v != fixed[k]:
            raise ValueError(f"task.{k}: task {name!r} fixes it to {fixed[k]!r}")
        out[k] = v
    try:
        cls(out)  # the task's own checks (e.g. N < T)
    except (OSError, ValueError) as e:
        raise ValueError(f"task: {e}") from None
    return out


def build_task(p: dict):
    kind, _ = ALIASES[p["name"]]
    return KINDS[kind](p)
