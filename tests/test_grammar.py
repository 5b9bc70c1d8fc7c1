"""Tests for the finite-state grammar tasks (HS97 §5.1, Fig. 3-4; PROTOCOLS §2.1)."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from lstmrun.engine.chunk import Chunk
from lstmrun.tasks.grammar import TASKS_DIR, Grammar, make_train_test

ALPHABET = ["B", "T", "P", "S", "X", "V", "E"]
N_STRINGS = 4000


@pytest.fixture(scope="module")
def reber() -> Grammar:
    return Grammar.from_yaml("reber")


@pytest.fixture(scope="module")
def embedded() -> Grammar:
    return Grammar.from_yaml("embedded_reber")


@pytest.fixture(scope="module")
def emb_strings(embedded: Grammar) -> list[list[str]]:
    rng = np.random.default_rng(1997)
    return [embedded.generate(rng) for _ in range(N_STRINGS)]


# --- loading -----------------------------------------------------------------------------------

def test_tasks_dir_and_names(reber: Grammar, embedded: Grammar) -> None:
    assert TASKS_DIR.is_dir() and (TASKS_DIR / "reber.yaml").is_file()
    assert reber.name == "reber" and embedded.name == "embedded_reber"
    assert reber.alphabet == ALPHABET and embedded.alphabet == ALPHABET
    # a path works as well as a bare name
    g = Grammar.from_yaml(TASKS_DIR / "reber.yaml")
    assert g.alphabet == reber.alphabet and g.start == reber.start


def test_unknown_name_raises() -> None:
    with pytest.raises(FileNotFoundError):
        Grammar.from_yaml("no_such_grammar")


# --- generation and acceptance -----------------------------------------------------------------

def test_generated_strings_are_accepted(reber: Grammar, embedded: Grammar,
                                        emb_strings: list[list[str]]) -> None:
    rng = np.random.default_rng(5)
    for _ in range(N_STRINGS):
        s = reber.generate(rng)
        assert reber.accepts(s), s
        assert s[0] == "B" and s[-1] == "E"
    for s in emb_strings:
        assert embedded.accepts(s), s


def test_embedded_structure(reber: Grammar, emb_strings: list[list[str]]) -> None:
    for s in emb_strings:
        assert s[0] == "B" and s[-1] == "E"
        assert s[1] in ("T", "P") and s[1] == s[-2]
        assert reber.accepts(s[2:-2]), s


def test_shortest_embedded_string_is_9(embedded: Grammar, reber: Grammar,
                                        emb_strings: list[list[str]]) -> None:
    lengths = [len(s) for s in emb_strings]
    assert min(lengths) == 9            # HS97 §5.1: "time lags as short as 9 steps"
    assert embedded.min_length() == 9   # exhaustive: none shorter exists
    assert reber.min_length() == 5


def test_accepts_rejects(embedded: Grammar, reber: Grammar) -> None:
    assert reber.accepts(list("BTXSE"))
    assert reber.accepts(list("BPVVE"))
    assert not reber.accepts(list("BTXS"))          # incomplete
    assert not reber.accepts(list("BTXSEE"))        # past the final state
    assert not reber.accepts(list("BTQSE"))         # unknown symbol
    assert not reber.accepts([])
    assert embedded.accepts(list("BTBTXSETE"))
    assert not embedded.accepts(list("BTBTXSEPE"))  # wrong embedded symbol


def test_branch_frequencies_are_half(embedded: Grammar, emb_strings: list[list[str]]) -> None:
    """Every two-way branch is taken with p = 0.5 (HS97 §5.1); binomial z-test, |z| < 4.5."""
    counts: dict[str, Counter] = {}
    for s in emb_strings:
        path = embedded.parse(s)
        for t, sym in enumerate(s):
            states = path[t]
            assert len(states) == 1            # the grammar is deterministic
            (state,) = states
            if len(embedded.states[state]) == 2:
                counts.setdefault(state, Counter())[sym] += 1
    two_way = [q for q, es in embedded.states.items() if len(es) == 2]
    assert sorted(counts) == sorted(two_way) and len(two_way) == 11
    for state, c in counts.items():
        n = sum(c.values())
        assert n >= 500, (state, n)
        first = embedded.states[state][0].symbol
        z = (c[first] - 0.5 * n) / math.sqrt(0.25 * n)
        assert abs(z) < 4.5, (state, dict(c), z)


def test_explicit_probabilities(tmp_path: Path) -> None:
    f = tmp_path / "biased.yaml"
    f.write_text(
        "name: biased\nalphabet: [a, b, E]\nstart: q\nfinal: end\nstates:\n"
        "  q: [{symbol: a, to: r, p: 0.9}, {symbol: b, to: r, p: 0.1}]\n"
        "  r: [{symbol: E, to: end}]\n")
    g = Grammar.from_yaml(f)
    rng = np.random.default_rng(0)
    n = 4000
    k = sum(g.generate(rng)[0] == "a" for _ in range(n))
    z = (k - 0.9 * n) / math.sqrt(0.09 * n)
    assert abs(z) < 4.5


# --- legal next symbols ------------------------------------------------------------------------

def test_legal_sets(embedded: Grammar, emb_strings: list[list[str]]) -> None:
    for s in emb_strings[:500]:
        legal = embedded.legal_next(s)
        assert len(legal) == len(s)
        assert legal[0] == {"T", "P"}               # after the initial B
        assert legal[1] == {"B"}
        assert legal[-3] == {s[1]}                  # after the inner E: the matching T/P only
        assert legal[-2] == {"E"}
        assert legal[-1] == set()                   # at the final state
        for t in range(len(s) - 1):
            assert s[t + 1] in legal[t]


def test_legal_off_grammar_is_empty(reber: Grammar) -> None:
    legal = reber.legal_next(list("BTQSE"))
    assert legal[0] == {"T", "P"}
    assert legal[1] == {"S", "X"}
    assert legal[2:] == [set(), set(), set()]


# --- chunks ------------------------------------------------------------------------------------

def test_to_chunk(embedded: Grammar, emb_strings: list[list[str]]) -> None:
    strings = emb_strings[:50]
    c = embedded.to_chunk(strings, target_on=0.9, target_off=0.1)
    assert isinstance(c, Chunk)
    K = len(ALPHABET)
    T = sum(len(s) - 1 for s in strings)
    assert c.onehot and c.n_in == K and c.n_out == K and c.n == 50 and c.total_steps == T
    assert c.offsets.dtype == np.int64 and c.offsets.shape == (51,) and c.offsets[0] == 0
    assert np.array_equal(c.lengths(), [len(s) - 1 for s in strings])
    assert c.x_idx.dtype == np.int32 and c.x_idx.shape == (T,)
    assert c.x_real.dtype == np.float64 and c.x_real.shape == (0, K)
    assert c.targets.dtype == np.float64 and c.targets.shape == (T, K)
    assert c.has_target.dtype == np.uint8 and np.all(c.has_target == 1)
    assert c.legal.dtype == np.int64 and c.legal.shape == (T,)
    assert c.symbols == strings
    assert set(np.unique(c.targets)) == {0.1, 0.9}
    idx = {a: k for k, a in enumerate(ALPHABET)}
    for i, s in enumerate(strings):
        a = int(c.offsets[i])
        legal = embedded.legal_next(s)
        for t in range(len(s) - 1):
            assert c.x_idx[a + t] == idx[s[t]]
            assert int(np.argmax(c.targets[a + t])) == idx[s[t + 1]]
            assert c.legal[a + t] >> idx[s[t + 1]] & 1
            assert c.legal[a + t] == sum(1 << idx[x] for x in legal[t])
    # the Chunk's own view agrees
    seq = c.sequence(0)
    assert len(seq["inputs"]) == len(strings[0]) - 1 and seq["symbols"] == strings[0]


def test_to_chunk_rejects_illegal_string(reber: Grammar) -> None:
    with pytest.raises(ValueError):
        reber.to_chunk([list("BTQSE")])


# --- training and test sets --------------------------------------------------------------------

def test_make_train_test(embedded: Grammar) -> None:
    train, test = make_train_test(embedded, np.random.default_rng(42))
    assert len(train) == 256 and len(test) == 256
    seen = {tuple(s) for s in train}
    assert not any(tuple(s) in seen for s in test)
    assert all(embedded.accepts(s) for s in train + test)
    train2, test2 = make_train_test(embedded, np.random.default_rng(42))
    assert train == train2 and test == test2
    train3, _ = make_train_test(embedded, np.random.default_rng(43))
    assert train3 != train


def test_make_train_test_impossible_raises(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text("name: tiny\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
                 "  q: [{symbol: a, to: r}]\n  r: [{symbol: E, to: end}]\n")
    g = Grammar.from_yaml(f)
    with pytest.raises(RuntimeError, match="test"):
        make_train_test(g, np.random.default_rng(0), n_train=4, n_test=4)


# --- malformed files ---------------------------------------------------------------------------

GOOD_STATES = "  q: [{symbol: a, to: r}]\n  r: [{symbol: E, to: end}]\n"


@pytest.mark.parametrize("text, needle", [
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
     "  q: [{symbol: z, to: r}]\n  r: [{symbol: E, to: end}]\n", "unknown symbol"),
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
     "  q: [{symbol: a, to: nowhere}]\n  r: [{symbol: E, to: end}]\n", "undefined state"),
    ("name: x\nalphabet: [a, E]\nfinal: end\nstates:\n" + GOOD_STATES, "start"),
    ("name: x\nalphabet: [a, E]\nstart: q\nstates:\n" + GOOD_STATES, "final"),
    ("name: x\nalphabet: [a, E]\nstart: nope\nfinal: end\nstates:\n" + GOOD_STATES, "start"),
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
     "  q: [{symbol: a, to: r, p: 0.5}, {symbol: E, to: r, p: 0.4}]\n"
     "  r: [{symbol: E, to: end}]\n", "sum to 1"),
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
     "  q: [{symbol: a, to: r, p: 1.0}, {symbol: E, to: r}]\n"
     "  r: [{symbol: E, to: end}]\n", "p"),
    ("name: x\nalphabet: [a, a, E]\nstart: q\nfinal: end\nstates:\n" + GOOD_STATES, "duplicate"),
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n" + GOOD_STATES
     + "  end: [{symbol: a, to: q}]\n", "final"),
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
     "  q: [{symbol: a, to: r}]\n  r: []\n", "no outgoing edges"),
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
     "  q: [{symbol: a, to: q}]\n", "cannot reach"),
    ("name: x\nalphabet: [a, E]\nstart: q\nfinal: end\nstates:\n"
     "  q: [{symbl: a, to: r}]\n  r: [{symbol: E, to: end}]\n", "symbol"),
    ("- just\n- a list\n", "mapping"),
    ("name: x\nalphabet: [a, E\n", "YAML"),
])
def test_malformed_yaml_raises(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ValueError) as ei:
        Grammar.from_yaml(f)
    msg = str(ei.value)
    assert str(f) in msg
    assert needle in msg
