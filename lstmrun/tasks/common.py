"""What the sequence tasks share: the task data folder, its defaults reader, length and offset
helpers, parameter checks, a lazily decoded symbol view and the base class that parses records and
assembles chunks. ``longlag`` (Exps 2-6), ``guesstasks`` (latch, parity), ``timing`` (GSS02) and
``cslang`` build on it.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from ..engine.chunk import Chunk, empty_idx, empty_real

TASKS_DIR: Path = Path(__file__).resolve().parent / "data"


def yaml_defaults(name: str, spec: dict) -> dict:
    """``spec`` with its defaults replaced by ``data/<name>.yaml``'s ``params`` (if the file
    exists). Unknown keys and wrongly typed values raise ``ValueError`` naming the file; true/false
    only for a boolean parameter."""
    path = TASKS_DIR / f"{name}.yaml"
    if not path.is_file():
        return dict(spec)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML: {exc}") from exc
    raw = (data or {}).get("params") or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: params must be a mapping name -> default")
    out = dict(spec)
    for k, v in raw.items():
        if k not in spec:
            raise ValueError(f"{path}: params.{k}: unknown parameter (known: {', '.join(spec)})")
        typ = spec[k][0]
        if isinstance(v, dict):
            if "default" not in v:
                raise ValueError(f"{path}: params.{k}: a mapping needs a 'default' key")
            v = v["default"]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or (isinstance(v, bool) and typ is not bool):
            raise ValueError(f"{path}: params.{k}: expected {typ.__name__}, got {v!r}")
        out[k] = (typ, v)
    return out


def offsets_of(lengths: np.ndarray) -> np.ndarray:
    off = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


def uniform_lengths(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """``n`` integers uniform in [lo, hi] inclusive (A18)."""
    return rng.integers(lo, hi + 1, size=n).astype(np.int64)


def end_mask(offsets: np.ndarray) -> np.ndarray:
    m = np.zeros(int(offsets[-1]), np.uint8)
    m[offsets[1:][np.diff(offsets) > 0] - 1] = 1
    return m


def check_choice(key: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"task.{key}: must be one of {', '.join(map(repr, allowed))} "
                         f"(got {value!r})")


def check_nonneg(key: str, value: float) -> None:
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"task.{key}: must be a finite number >= 0 (got {value!r})")


class SymbolView(Sequence):
    """Per-sequence symbol names decoded on demand from ``x_idx`` (plus an optional final symbol
    per sequence that is not an input, e.g. the class symbol that ends an Exp 2 string).

    Behaves like a read-only list of lists of str: ``len``, indexing, slicing, iteration, ``==``.
    """

    def __init__(self, names: Sequence[str], x_idx: np.ndarray, offsets: np.ndarray,
                 final: np.ndarray | None = None) -> None:
        self._names = np.array(list(names), dtype=object)
        self._x_idx = x_idx
        self._offsets = offsets
        self._final = final

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = operator.index(i)
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"sequence index {i} out of range ({n} sequences)")
        a, b = int(self._offsets[i]), int(self._offsets[i + 1])
        out = self._names[self._x_idx[a:b]].tolist()
        if self._final is not None:
            out.append(self._names[self._final[i]])
        return out

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(list(a) == list(b) for a, b in zip(self, other))

    def __repr__(self) -> str:
        return f"SymbolView({len(self)} sequences)"


class SequenceTask:
    """Shared parts: record parsing and chunk assembly."""

    params: dict = {}
    onehot = False
    criterion = "abs"
    threshold = 0.0
    n_in = 1
    n_out = 1
    alphabet: list[str] | None = None
    end_only = True  # the criterion looks at the sequence end only

    def __init__(self, p: dict) -> None:
        self.p = dict(p)

    # assembly ---------------------------------------------------------------------------------

    def _chunk(self, offsets, *, x_idx=None, x_real=None, targets, has_target, clean=None,
               final=None, criterion_mask=None, extra=None, symbols=True) -> Chunk:
        T = int(offsets[-1])
        if self.onehot:
            x_real = empty_real(self.n_in)
            x_idx = np.ascontiguousarray(x_idx, np.int32)
            syms = SymbolView(self.alphabet, x_idx, offsets, final) if symbols else None
        else:
            x_idx = empty_idx()
            x_real = np.ascontiguousarray(x_real, np.float64)
            syms = None
        ex = dict(extra or {})
        ex["criterion_mask"] = (has_target.copy() if criterion_mask is None
                                else criterion_mask.astype(np.uint8))
        ex["end_only_criterion"] = bool(self.end_only)
        return Chunk(offsets=offsets, x_idx=x_idx, x_real=x_real, targets=targets,
                     has_target=has_target, legal=np.zeros(T, np.int64), onehot=self.onehot,
                     n_in=self.n_in, n_out=self.n_out, symbols=syms, clean_targets=clean,
                     extra=ex)

    # records ----------------------------------------------------------------------------------

    def _parse_records(self, records):
        """Validate ``records`` (dicts with ``inputs`` and ``targets`` lists, one entry per step;
        a target is a vector or ``None``; optional ``clean_targets`` alike) and return
        (offsets, x_idx or x_real, targets, has_target, clean or None)."""
        if isinstance(records, (str, bytes, dict)) or not isinstance(records, Sequence):
            raise ValueError("records must be a list of sequences")
        xs, ts, hs, cs = [], [], [], []
        any_clean = False
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                raise ValueError(f"sequence {i}: expected a mapping with 'inputs' and 'targets'")
            for key in ("inputs", "targets"):
                if key not in r:
                    raise ValueError(f"sequence {i}: missing key {key!r}")
            inputs, targets = r["inputs"], r["targets"]
            if not isinstance(inputs, (list, tuple)) or not inputs:
                raise ValueError(f"sequence {i}: 'inputs' must be a non-empty list of input "
                                 f"vectors")
            if not isinstance(targets, (list, tuple)) or len(targets) != len(inputs):
                raise ValueError(f"sequence {i}: 'targets' must be a list with one entry per step "
                                 f"({len(inputs)} steps; null where there is no target)")
            try:
                x = np.array(inputs, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"sequence {i}: 'inputs' must be a list of numeric vectors of "
                                 f"length {self.n_in}") from None
            if x.ndim != 2 or x.shape[1] != self.n_in:
                raise ValueError(f"sequence {i}: every input vector must have length {self.n_in} "
                                 f"(got shape {list(x.shape)})")
            if not np.all(np.isfinite(x)):
                raise ValueError(f"sequence {i}: inputs must be finite numbers")
            if self.onehot:
                ok = (np.count_nonzero(x, axis=1) == 1) & (x.max(axis=1) == 1.0)
                if not ok.all():
                    t = int(np.flatnonzero(~ok)[0])
                    raise ValueError(f"sequence {i}, step {t}: a one-hot input needs exactly one "
                                     f"1.0 and zeros elsewhere")
                x = x.argmax(axis=1)
            tgt, has = self._parse_targets(i, "targets", targets)
            clean = None
            if r.get("clean_targets") is not None:
                ct = r["clean_targets"]
                if not isinstance(ct, (list, tuple)) or len(ct) != len(inputs):
                    raise ValueError(f"sequence {i}: 'clean_targets' must have one entry per step")
                clean, chas = self._parse_targets(i, "clean_targets", ct)
                if not np.array_equal(chas, has):
                    raise ValueError(f"sequence {i}: 'clean_targets' must be given exactly where "
                                     f"'targets' are")
                any_clean = True
            xs.append(x)
            ts.append(tgt)
            hs.append(has)
            cs.append(clean if clean is not None else tgt)
        if not xs:
            raise ValueError("no sequences given")
        offsets = offsets_of(np.array([len(x) for x in xs], np.int64))
        x = np.concatenate(xs)
        return (offsets, x, np.concatenate(ts), np.concatenate(hs),
                np.concatenate(cs) if any_clean else None)

    def _parse_targets(self, i: int, key: str, targets):
        L = len(targets)
        tgt = np.zeros((L, self.n_out), np.float64)
        has = np.zeros(L, np.uint8)
        for t, v in enumerate(targets):
            if v is None:
                continue
            try:
                a = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"sequence {i}, step {t}: {key} must be a numeric vector of "
                                 f"length {self.n_out} or null") from None
            if a.shape != (self.n_out,) or not np.all(np.isfinite(a)):
                raise ValueError(f"sequence {i}, step {t}: {key} must be a vector of "
                                 f"{self.n_out} finite numbers or null (got {v!r})")
            tgt[t] = a
            has[t] = 1
        return tgt, has

    def chunk_from_records(self, records) -> Chunk:
        offsets, x, targets, has, clean = self._parse_records(records)
        kw = {"x_idx": x} if self.onehot else {"x_real": x}
        crit = None
        if self.end_only:
            crit = has & end_mask(offsets)
        return self._chunk(offsets, targets=targets, has_target=has, clean=clean,
                           criterion_mask=crit, **kw)
