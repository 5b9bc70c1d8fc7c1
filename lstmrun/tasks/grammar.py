"""Finite-state grammars read from YAML: the (embedded) Reber grammar of HS97 §5.1 (Exp 1).

The graphs are data (``data/reber.yaml``, Fig. 3; ``data/embedded_reber.yaml``, Fig. 4). A
string is a walk from ``start`` to ``final`` that appends each edge's symbol; at every branch the
options are equally likely unless the file gives ``p:`` (HS97 §5.1: "each option has probability
0.5"). The task is next-symbol prediction with an error at every step, and a trial succeeds when
the legal next symbols are always the most active outputs (HS97 §5.1; PROTOCOLS §2.1, A12).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..engine.chunk import Chunk, empty_real
from .common import TASKS_DIR


_P_TOL = 1e-9


@dataclass(frozen=True)
class Edge:
    """One transition: emit ``symbol`` and move to state ``to`` with probability ``p``."""

    symbol: str
    to: str
    p: float


class Grammar:
    """A finite-state grammar with probabilistic edges (HS97 §5.1, Fig. 3-4).

    ``states`` maps every state to its outgoing edges; the final state maps to ``[]``. The
    grammar may be nondeterministic (two edges with the same symbol); recognition tracks the set
    of possible states.
    """

    def __init__(self, name: str, alphabet: list[str], start: str, final: str,
                 states: dict[str, list[Edge]], source: str = "<grammar>") -> None:
        self.name = name
        self.alphabet = list(alphabet)
        self.index: dict[str, int] = {a: k for k, a in enumerate(self.alphabet)}
        self.start = start
        self.final = final
        self.states = states
        self.source = source
        self._cum = {q: np.cumsum([e.p for e in es]) for q, es in states.items() if es}
        self._legal_mask_cache: dict[frozenset[str], int] = {}

    # --- loading -------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path_or_name: str | Path) -> Grammar:
        """Load and validate a grammar; a bare name ``foo`` means ``TASKS_DIR/foo.yaml``."""
        p = Path(path_or_name)
        if p.suffix not in (".yaml", ".yml") and p.parent == Path("."):
            p = TASKS_DIR / f"{p.name}.yaml"
        if not p.is_file():
            raise FileNotFoundError(f"grammar file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text())
        except yaml.YAMLError as exc:
            raise ValueError(f"{p}: invalid YAML: {exc}") from exc
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<grammar>") -> Grammar:
        """Build a grammar from parsed YAML, raising ``ValueError`` naming ``source`` and key."""

        def err(key: str, msg: str) -> ValueError:
            return ValueError(f"{source}: {key}: {msg}")

        if not isinstance(data, dict):
            raise ValueError(f"{source}: top level must be a mapping, got {type(data).__name__}")
        for key in ("alphabet", "start", "final", "states"):
            if key not in data or data[key] is None:
                raise err(key, "missing required key")
        name = str(data.get("name", Path(source).stem))

        alphabet = data["alphabet"]
        if not isinstance(alphabet, list) or not alphabet:
            raise err("alphabet", "must be a non-empty list of symbols")
        for k, a in enumerate(alphabet):
            if not isinstance(a, str):
                raise err(f"alphabet[{k}]", f"symbol must be a string, got {a!r} (quote it)")
        dup = sorted({a for a in alphabet if alphabet.count(a) > 1})
        if dup:
            raise err("alphabet", f"duplicate symbol(s) {dup}")

        start, final = data["start"], data["final"]
        for key, v in (("start", start), ("final", final)):
            if not isinstance(v, str):
                raise err(key, f"must be a state name, got {v!r}")

        raw = data["states"]
        if not isinstance(raw, dict) or not raw:
            raise err("states", "must be a non-empty mapping state -> list of edges")
        raw = dict(raw)
        raw.setdefault(final, [])
        if start not in raw:
            raise err("start", f"undefined state {start!r}")

        states: dict[str, list[Edge]] = {}
        for q, edges in raw.items():
            key = f"states.{q}"
            if not isinstance(q, str):
                raise err(key, "state name must be a string")
            if edges is None:
                edges = []
            if not isinstance(edges, list):
                raise err(key, "must be a list of edges")
            if q == final and edges:
                raise err(key, f"the final state {final!r} must have no outgoing edges")
            if q != final and not edges:
                raise err(key, f"no outgoing edges, but {q!r} is not the final state {final!r}")
            given = [isinstance(e, dict) and "p" in e for e in edges]
            if any(given) and not all(given):
                raise err(key, "give p for every edge of a state or for none")
            out: list[Edge] = []
            for j, e in enumerate(edges):
                ek = f"{key}[{j}]"
                if not isinstance(e, dict):
                    raise err(ek, "edge must be a mapping {symbol: ..., to: ...}")
                extra = set(e) - {"symbol", "to", "p"}
                if extra:
                    raise err(ek, f"unexpected key(s) {sorted(extra)}; allowed: symbol, to, p")
                if "symbol" not in e:
                    raise err(ek, "missing key 'symbol'")
                if "to" not in e:
                    raise err(ek, "missing key 'to'")
                sym, to = e["symbol"], e["to"]
                if sym not in alphabet:
                    raise err(f"{ek}.symbol", f"unknown symbol {sym!r} (alphabet: {alphabet})")
                if to not in raw:
                    raise err(f"{ek}.to", f"edge to undefined state {to!r}")
                if all(given):
                    prob = e["p"]
                    if (isinstance(prob, bool) or not isinstance(prob, (int, float))
                            or not 0.0 <= prob <= 1.0):
                        raise err(f"{ek}.p", f"must be a number in [0, 1], got {prob!r}")
                    prob = float(prob)
                else:
                    prob = 1.0 / len(edges)
                out.append(Edge(sym, to, prob))
            total = sum(e.p for e in out)
            if out and abs(total - 1.0) > _P_TOL:
                raise err(key, f"edge probabilities must sum to 1, got {total:g}")
            states[q] = out

        g = cls(name, alphabet, start, final, states, source)
        stuck = g._states_not_reaching_final()
        if stuck:
            raise err("states", f"state(s) {stuck} reachable from start cannot reach the final "
                                f"state {final!r}")
        return g

    def _states_not_reaching_final(self) -> list[str]:
        """States reachable from ``start`` (by edges with p > 0) with no path to ``final``."""
        reach = {self.start}
        todo = [self.start]
        while todo:
            for e in self.states[todo.pop()]:
                if e.p > 0 and e.to not in reach:
                    reach.add(e.to)
                    todo.append(e.to)
        back = {self.final}
        changed = True
        while changed:
            changed = False
            for q, es in self.states.items():
                if q not in back and any(e.p > 0 and e.to in back for e in es):
                    back.add(q)
                    changed = True
        return sorted(reach - back)

    # --- generation ----------------------------------------------------------------------------

    def generate(self, rng: np.random.Generator) -> list[str]:
        """One random string: a walk from ``start`` to ``final`` (HS97 §5.1)."""
        out: list[str] = []
        q = self.start
        while q != self.final:
            edges = self.states[q]
            if len(edges) == 1:
                e = edges[0]
            else:
                k = int(np.searchsorted(self._cum[q], rng.random(), side="right"))
                e = edges[min(k, len(edges) - 1)]
            out.append(e.symbol)
            q = e.to
        return out

    def min_length(self) -> int:
        """Length of the shortest string (breadth-first search; HS97 §5.1: 9 for Fig. 4)."""
        dist = {self.start: 0}
        queue = deque([self.start])
        while queue:
            q = queue.popleft()
            if q == self.final:
                return dist[q]
            for e in self.states[q]:
                if e.p > 0 and e.to not in dist:
                    dist[e.to] = dist[q] + 1
                    queue.append(e.to)
        raise ValueError(f"{self.source}: final state unreachable")

    # --- recognition ---------------------------------------------------------------------------

    def parse(self, symbols: Sequence[str]) -> list[frozenset[str]]:
        """The set of possible states before each symbol and after the last.

        Entry ``t`` is the state set after reading ``symbols[:t]``; entry 0 is ``{start}``. Once
        the prefix leaves the grammar the sets are empty.
        """
        cur = frozenset([self.start])
        path = [cur]
        for a in symbols:
            cur = frozenset(e.to for q in cur for e in self.states[q] if e.symbol == a and e.p > 0)
            path.append(cur)
        return path

    def legal_next(self, symbols: Sequence[str]) -> list[set[str]]:
        """Entry ``t``: the symbols that may follow ``symbols[0..t]`` (empty off the grammar)."""
        return [{e.symbol for q in s for e in self.states[q] if e.p > 0}
                for s in self.parse(symbols)[1:]]

    def accepts(self, symbols: Sequence[str]) -> bool:
        """Whether ``symbols`` is a complete string of the grammar (start to final)."""
        return len(symbols) > 0 and self.final in self.parse(symbols)[-1]

    def _legal_mask(self, states: frozenset[str]) -> int:
        m = self._legal_mask_cache.get(states)
        if m is None:
            m = 0
            for q in states:
                for e in self.states[q]:
                    if e.p > 0:
                        m |= 1 << self.index[e.symbol]
            self._legal_mask_cache[states] = m
        return m

    # --- coding --------------------------------------------------------------------------------

    def to_chunk(self, strings: Sequence[Sequence[str]], target_on: float = 1.0,
                 target_off: float = 0.0) -> Chunk:
        """One-hot code strings for next-symbol prediction (HS97 §5.1; PROTOCOLS §2.1, A12).

        A string of n symbols gives n-1 steps: input ``symbols[t]``, target the one-hot of
        ``symbols[t+1]`` (``target_on`` / ``target_off``), an error at every step, and ``legal[t]``
        the bitmask of the symbols legal after ``symbols[0..t]``. Raises ``ValueError`` for a
        string the grammar does not accept.
        """
        K = len(self.alphabet)
        lengths = np.array([max(len(s) - 1, 0) for s in strings], np.int64)
        offsets = np.zeros(len(strings) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        T = int(offsets[-1])
        x_idx = np.empty(T, np.int32)
        nxt = np.empty(T, np.int64)
        legal = np.empty(T, np.int64)
        for i, s in enumerate(strings):
            if not self.accepts(s):
                raise ValueError(f"{self.name}: string {i} is not in the grammar: {''.join(s)}")
            a = int(offsets[i])
            path = self.parse(s)
            for t in range(len(s) - 1):
                x_idx[a + t] = self.index[s[t]]
                nxt[a + t] = self.index[s[t + 1]]
                legal[a + t] = self._legal_mask(path[t + 1])
        targets = np.full((T, K), float(target_off), np.float64)
        targets[np.arange(T), nxt] = float(target_on)
        return Chunk(
            offsets=offsets, x_idx=x_idx, x_real=empty_real(K), targets=targets,
            has_target=np.ones(T, np.uint8), legal=legal, onehot=True, n_in=K, n_out=K,
            symbols=[list(s) for s in strings],
        )

    def __repr__(self) -> str:
        return (f"Grammar({self.name!r}, {len(self.states)} states, "
                f"alphabet={self.alphabet}, source={self.source!r})")


def make_train_test(grammar: Grammar, rng: np.random.Generator, n_train: int = 256,
                    n_test: int = 256, max_draws: int | None = None
                    ) -> tuple[list[list[str]], list[list[str]]]:
    """Exp 1's sets (HS97 §5.1): ``n_train`` random strings (duplicates kept as drawn), then
    ``n_test`` random strings none of which occurs in the training set (such draws are redrawn).

    Raises ``RuntimeError`` after ``max_draws`` test draws (default ``100 * n_test + 1000``), e.g.
    when the language is too small to leave strings for a disjoint test set.
    """
    train = [grammar.generate(rng) for _ in range(n_train)]
    seen = {tuple(s) for s in train}
    limit = max_draws if max_draws is not None else 100 * n_test + 1000
    test: list[list[str]] = []
    draws = 0
    while len(test) < n_test:
        if draws >= limit:
            raise RuntimeError(
                f"{grammar.name}: could not draw {n_test} test strings outside the training set "
                f"in {limit} draws (got {len(test)}); is the language too small?")
        s = grammar.generate(rng)
        draws += 1
        if tuple(s) not in seen:
            test.append(s)
    return train, test


def grammar_for(p: dict) -> "Grammar":
    """The grammar a grammar task's parameters name (``p["grammar"]``), once their ``targets``
    is checked: "next" (the actual next symbol) or "legal" (every legal next symbol)."""
    if p["targets"] not in ("next", "legal"):
        raise ValueError(f"targets must be 'next' or 'legal', got {p['targets']!r}")
    return Grammar.from_yaml(p["grammar"])
