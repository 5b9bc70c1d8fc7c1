"""The long-time-lag task generators (lstmrun.tasks.longlag) against their definitions
(HS97 §5.2-§5.6; PROTOCOLS §3-§8, A8, A11, A14, A17, A18).

Every statistical check uses a fixed seed and a z-style bound of 4.5 standard errors, so the tests
are deterministic and the bounds are loose enough to survive a change of seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from lstmrun.tasks.longlag import (
    TASKS,
    AddingTask,
    Exp2aTask,
    Exp2bTask,
    Exp2cTask,
    Exp3Task,
    MultiplicationTask,
    SymbolView,
    TemporalOrderTask,
)

Z = 4.5
TASKS_DIR = Path(__file__).resolve().parents[1] / "lstmrun" / "tasks" / "data"


def make(name: str, **over):
    cls = TASKS[name]
    p = {k: d for k, (_, d) in cls.params.items()}
    p.update(over)
    return cls(p)


def rng(seed: int = 12345) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_mean(values, mean: float, var: float, what: str = "mean") -> None:
    values = np.asarray(values, float)
    se = np.sqrt(var / len(values))
    z = (values.mean() - mean) / se
    assert abs(z) < Z, f"{what}: {values.mean():.5f} vs {mean} (z = {z:.2f})"


def assert_var(values, var: float, kurt_excess: float = 0.0, what: str = "variance") -> None:
    """Sample variance against ``var``; se of s^2 = var * sqrt((2 + kurt_excess) / n)."""
    values = np.asarray(values, float)
    se = var * np.sqrt((2.0 + kurt_excess) / len(values))
    z = (values.var() - var) / se
    assert abs(z) < Z, f"{what}: {values.var():.5f} vs {var} (z = {z:.2f})"


def assert_uniform(values, support, what: str = "values") -> None:
    """Every value in ``support``, each hit with frequency 1/len(support) (binomial z per bin)."""
    values = np.asarray(values).ravel()
    support = np.asarray(list(support))
    assert np.isin(values, support).all(), f"{what}: values outside {support.min()}..{support.max()}"
    n, k = len(values), len(support)
    counts = np.array([(values == s).sum() for s in support])
    z = (counts - n / k) / np.sqrt(n * (1 / k) * (1 - 1 / k))
    assert np.abs(z).max() < Z, f"{what}: not uniform over {k} values (max |z| = {np.abs(z).max():.2f})"


def assert_balanced(cls, k: int = 2, what: str = "classes") -> None:
    assert_uniform(cls, range(k), what)


def check_common(task, c, n: int) -> None:
    T = c.total_steps
    assert c.n == n and c.offsets.dtype == np.int64 and c.offsets[0] == 0
    assert (np.diff(c.offsets) > 0).all()
    assert c.targets.shape == (T, task.n_out) and c.targets.dtype == np.float64
    assert c.has_target.shape == (T,) and c.has_target.dtype == np.uint8
    assert c.legal.shape == (T,) and c.legal.dtype == np.int64 and not c.legal.any()
    assert c.onehot == task.onehot and c.n_in == task.n_in and c.n_out == task.n_out
    cm = c.extra["criterion_mask"]
    assert cm.shape == (T,) and cm.dtype == np.uint8
    assert not (cm & ~c.has_target).any(), "criterion checked where there is no target"
    assert isinstance(c.extra["end_only_criterion"], bool)
    if task.onehot:
        assert c.x_idx.shape == (T,) and c.x_idx.dtype == np.int32
        assert c.x_idx.min() >= 0 and c.x_idx.max() < task.n_in
        assert c.x_real.shape == (0, task.n_in)
        assert isinstance(c.symbols, SymbolView) and len(c.symbols) == n
    else:
        assert c.x_real.shape == (T, task.n_in) and c.x_real.dtype == np.float64
        assert c.x_idx.shape == (0,)
        assert c.symbols is None
    assert task.criterion == "abs"


def last_steps(c) -> np.ndarray:
    return c.offsets[1:] - 1


def only_last(c) -> np.ndarray:
    m = np.zeros(c.total_steps, np.uint8)
    m[last_steps(c)] = 1
    return m


# --- registry-facing shape ----------------------------------------------------------------------


def test_task_table_and_params():
    assert set(TASKS) == {"exp2a", "exp2b", "exp2c", "exp3", "adding", "multiplication",
                          "temporal_order"}
    for name, cls in TASKS.items():
        for k, spec in cls.params.items():
            assert isinstance(spec, tuple) and len(spec) == 2, (name, k)
            typ, default = spec
            assert isinstance(default, typ), (name, k)
    assert Exp2aTask.params["p"][1] == 100 and Exp2bTask.params["p"][1] == 100
    assert Exp2cTask.params["q"][1] == 50 and Exp2cTask.params["p"][1] == 50
    assert {k: v[1] for k, v in Exp3Task.params.items()} == {
        "T": 100, "N": 3, "variant": "a", "noise_var": 0.2, "target_noise_var": 0.1}
    assert AddingTask.params["T"][1] == 100 and MultiplicationTask.params["T"][1] == 100
    assert TemporalOrderTask.params["variant"][1] == "a"


@pytest.mark.parametrize("name", sorted(TASKS))
def test_yaml_documents_the_defaults(name):
    data = yaml.safe_load((TASKS_DIR / f"{name}.yaml").read_text())
    assert data["name"] == name
    cls = TASKS[name]
    assert set(data["params"]) == set(cls.params)
    for k, v in data["params"].items():
        assert v["default"] == cls.params[k][1], (name, k)
        assert v.get("source"), f"{name}.yaml: params.{k} has no source"
    assert data["criterion"] == cls.criterion
    if isinstance(data["threshold"], dict):
        for variant, thr in data["threshold"].items():
            assert make(name, variant=variant).threshold == thr
    else:
        assert make(name).threshold == data["threshold"]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_deterministic_given_seed(name):
    t = make(name)
    a, b = t.sample(rng(7), 20), t.sample(rng(7), 20)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_array_equal(a.x_idx, b.x_idx)
    np.testing.assert_array_equal(a.x_real, b.x_real)


@pytest.mark.parametrize("name,over", [
    ("exp3", {"variant": "d"}), ("exp3", {"N": 100}), ("exp3", {"noise_var": -1.0}),
    ("temporal_order", {"variant": "c"}), ("adding", {"T": 10}), ("multiplication", {"T": 5}),
    ("exp2c", {"p": 0}), ("exp2a", {"p": 0}),
])
def test_bad_params_raise(name, over):
    with pytest.raises(ValueError):
        make(name, **over)


# --- Exp 2a / 2b --------------------------------------------------------------------------------


@pytest.mark.parametrize("P", [4, 100])
def test_exp2a_two_fixed_sequences(P):
    t = make("exp2a", p=P)
    assert t.n_in == t.n_out == P + 1 and t.onehot and t.threshold == 0.25
    n = 2000
    c = t.sample(rng(), n)
    check_common(t, c, n)
    assert (c.lengths() == P).all()
    cls = c.extra["cls"]
    assert_balanced(cls)
    X, Y = P - 1, P
    inputs = c.x_idx.reshape(n, P)
    np.testing.assert_array_equal(inputs[:, 0], np.where(cls == 0, X, Y))
    np.testing.assert_array_equal(inputs[:, 1:], np.broadcast_to(np.arange(P - 1), (n, P - 1)))
    # targets: one-hot of the next symbol at every step; the last one is the first symbol again
    assert c.has_target.all()
    assert ((c.targets == 0.0) | (c.targets == 1.0)).all() and (c.targets.sum(1) == 1.0).all()
    nxt = c.targets.argmax(1).reshape(n, P)
    np.testing.assert_array_equal(nxt[:, :-1], inputs[:, 1:])
    np.testing.assert_array_equal(nxt[:, -1], inputs[:, 0])
    # criterion over every output at every step (ABS(0.25))
    np.testing.assert_array_equal(c.extra["criterion_mask"], c.has_target)
    assert c.extra["end_only_criterion"] is False
    # symbols: the whole string
    mid = [f"a{i}" for i in range(1, P)]
    for i in (0, 1, n - 1):
        s = "x" if cls[i] == 0 else "y"
        assert c.symbols[i] == [s] + mid + [s]


def test_exp2a_target_levels():
    c = make("exp2a", p=5, target_on=0.9, target_off=0.1).sample(rng(), 10)
    assert set(np.unique(c.targets)) == {0.1, 0.9}
    assert (np.isclose(c.targets, 0.9).sum(1) == 1).all()


def test_exp2b_random_middle_and_end_criterion():
    P, n = 20, 5000
    t = make("exp2b", p=P)
    assert t.threshold == 0.25 and t.n_in == t.n_out == P + 1
    c = t.sample(rng(), n)
    check_common(t, c, n)
    assert (c.lengths() == P).all()
    cls = c.extra["cls"]
    assert_balanced(cls)
    inputs = c.x_idx.reshape(n, P)
    np.testing.assert_array_equal(inputs[:, 0], np.where(cls == 0, P - 1, P))
    assert_uniform(inputs[:, 1:], range(P - 1), "2b middle symbols")
    # independence of neighbours: the same symbol twice in a row with prob. 1/(p-1)
    same = (inputs[:, 1:-1] == inputs[:, 2:]).ravel()
    assert_mean(same, 1 / (P - 1), (1 / (P - 1)) * (1 - 1 / (P - 1)), "repeat rate")
    # every step has a next-symbol target; the criterion looks at the end only
    assert c.has_target.all()
    nxt = c.targets.argmax(1).reshape(n, P)
    np.testing.assert_array_equal(nxt[:, :-1], inputs[:, 1:])
    np.testing.assert_array_equal(nxt[:, -1], inputs[:, 0])
    np.testing.assert_array_equal(c.extra["criterion_mask"], only_last(c))
    assert c.extra["end_only_criterion"] is True
    s = c.symbols[3]
    assert len(s) == P + 1 and s[0] == s[-1] == ("x" if cls[3] == 0 else "y")
    assert all(a.startswith("a") and 1 <= int(a[1:]) <= P - 1 for a in s[1:-1])


@pytest.mark.parametrize("name", ["exp2a", "exp2b"])
def test_exp2ab_train_steps_end(name):
    t = make(name, p=6, train_steps="end")
    c = t.sample(rng(), 50)
    np.testing.assert_array_equal(c.has_target, only_last(c))  # train on the final prediction only
    # the criterion is unchanged: every step for 2a, the end for 2b
    assert c.extra["criterion_mask"].all() == (name == "exp2a")
    with pytest.raises(ValueError, match="train_steps"):
        make(name, p=6, train_steps="middle")


# --- Exp 2c -------------------------------------------------------------------------------------


def test_exp2c_structure():
    q, P, n = 50, 50, 20000
    t = make("exp2c", q=q, p=P)
    assert t.n_in == P + 4 and t.n_out == 2 and t.threshold == 0.2
    E, B, X, _Y = P, P + 1, P + 2, P + 3
    c = t.sample(rng(), n)
    check_common(t, c, n)
    L = c.lengths()
    nd = c.extra["n_distractors"]
    cls = c.extra["cls"]
    assert_balanced(cls)
    np.testing.assert_array_equal(L, nd + 3)  # b, c, distractors, e
    assert nd.min() >= q and L.min() == q + 3
    starts, last = c.offsets[:-1], last_steps(c)
    assert (c.x_idx[starts] == B).all()
    np.testing.assert_array_equal(c.x_idx[starts + 1], X + cls)
    assert (c.x_idx[last] == E).all()  # the last input is e
    body = np.ones(c.total_steps, bool)
    body[starts] = body[starts + 1] = body[last] = False
    assert_uniform(c.x_idx[body], range(P), "distractors")
    # target only at the e step, one-hot of the class on outputs (x, y)
    np.testing.assert_array_equal(c.has_target, only_last(c))
    np.testing.assert_array_equal(c.extra["criterion_mask"], c.has_target)
    assert c.extra["end_only_criterion"] is True
    tl = c.targets[last]
    np.testing.assert_array_equal(tl.argmax(1), cls)
    assert ((tl == 0) | (tl == 1)).all() and (tl.sum(1) == 1).all()
    assert not c.targets[c.has_target == 0].any()
    # symbols: the whole string b, c, ..., e, c
    s = c.symbols[0]
    assert len(s) == L[0] + 1 and s[0] == "b" and s[-2] == "e" and s[1] == s[-1] in ("x", "y")


@pytest.mark.parametrize("P", [1, 2, 50, 1000, 65_537, 2**31 - 1])
def test_int32_draws_are_the_int64_draws(P):
    """Exp 2c draws its distractors as int32 directly (no int64 array and copy: issue 19, item 3).
    NumPy draws a range below 2**32 through the same buffered 32-bit Lemire routine for either
    dtype, so the values and the generator's state afterwards are those of the int64 draw that
    every earlier run made."""
    a, b = rng(7), rng(7)
    x = a.integers(0, P, size=10_001).astype(np.int32)
    y = b.integers(0, P, size=10_001, dtype=np.int32)
    assert y.dtype == np.int32 and np.array_equal(x, y)
    assert a.bit_generator.state == b.bit_generator.state


def test_exp2c_draws_in_the_documented_order():
    """cls (n), then k (n, geometric), then the T distractors, from one generator (a fixed
    order: the streams of earlier runs)."""
    q, P, n = 6, 5, 40
    c = make("exp2c", q=q, p=P).sample(rng(3), n)
    g = rng(3)
    cls = g.integers(0, 2, size=n)
    k = g.geometric(1.0 - Exp2cTask.continue_prob, size=n) - 1
    x = g.integers(0, P, size=int((q + k + 3).sum()))
    off = c.offsets
    assert np.array_equal(np.diff(off), q + k + 3)
    assert np.array_equal(c.extra["cls"], cls)
    inner = np.ones(len(x), bool)
    inner[off[:-1]] = inner[off[:-1] + 1] = inner[off[1:] - 1] = False
    assert np.array_equal(c.x_idx[inner], x[inner])
    g2 = rng(3)
    make("exp2c", q=q, p=P).sample(g2, n)
    assert g2.bit_generator.state == g.bit_generator.state


def test_exp2c_length_distribution_A8():
    """A8: k extra distractors with P(k) = 0.9^k * 0.1 (mean 9, variance 90). The string has
    q + k + 4 symbols (expected q + 13; the paper states q + 14), the net sees q + k + 3 inputs
    (expected q + 12), and each distractor occurs (q + 9) / p times on average."""
    q, P, n = 30, 10, 40000
    c = make("exp2c", q=q, p=P).sample(rng(99), n)
    k = c.extra["n_distractors"] - q
    assert k.min() == 0
    assert_mean(c.lengths(), q + 12, 90.0, "input steps per sequence")
    assert_mean(c.lengths() + 1, q + 13, 90.0, "string length")
    assert_mean(k == 0, 0.1, 0.09, "P(k = 0)")
    assert_var(k, 90.0, kurt_excess=6 + 0.01 / 0.9, what="var(k)")  # geometric: 6 + p^2/(1-p)
    # occurrences of distractor a1 per sequence: mean (q + 9) / p
    body = np.ones(c.total_steps, bool)
    body[c.offsets[:-1]] = body[c.offsets[:-1] + 1] = body[c.offsets[1:] - 1] = False
    hits = np.add.reduceat((c.x_idx == 0) & body, c.offsets[:-1])
    m = (q + 9) / P
    assert_mean(hits, m, m * (1 - 1 / P) + 90 / P**2, "occurrences of a1")


# --- Exp 3 --------------------------------------------------------------------------------------


def test_exp3a_structure_and_noise():
    Tn, N, n = 100, 3, 20000
    t = make("exp3", T=Tn, N=N, variant="a")
    assert t.threshold == 0.2 and t.n_in == t.n_out == 1 and not t.onehot
    c = t.sample(rng(), n)
    check_common(t, c, n)
    L = c.lengths()
    assert_uniform(L, range(Tn, Tn + Tn // 10 + 1), "lengths")
    cls = c.extra["cls"]
    assert_balanced(cls)
    x = c.x_real[:, 0]
    starts = c.offsets[:-1]
    info = np.zeros(c.total_steps, bool)
    for j in range(N):
        np.testing.assert_array_equal(x[starts + j], np.where(cls == 0, 1.0, -1.0))
        info[starts + j] = True
    noise = x[~info]
    assert_mean(noise, 0.0, 0.2, "noise mean")
    assert_var(noise, 0.2, what="noise variance (A14: variance 0.2)")
    # target only at the end: 1.0 for class 1, 0.0 for class 2
    np.testing.assert_array_equal(c.has_target, only_last(c))
    np.testing.assert_array_equal(c.targets[last_steps(c), 0], np.where(cls == 0, 1.0, 0.0))
    assert not c.targets[c.has_target == 0].any()
    assert c.clean_targets is None


def test_exp3b_noisy_information():
    N, n = 3, 20000
    c = make("exp3", N=N, variant="b").sample(rng(5), n)
    x = c.x_real[:, 0]
    cls = c.extra["cls"]
    starts = c.offsets[:-1]
    resid = np.concatenate([x[starts + j] - np.where(cls == 0, 1.0, -1.0) for j in range(N)])
    assert_mean(resid, 0.0, 0.2, "3b noise on informative elements")
    assert_var(resid, 0.2, what="3b noise variance on informative elements")
    info = np.zeros(c.total_steps, bool)
    for j in range(N):
        info[starts + j] = True
    assert_var(x[~info], 0.2)
    np.testing.assert_array_equal(c.targets[last_steps(c), 0], np.where(cls == 0, 1.0, 0.0))
    assert make("exp3", variant="b").threshold == 0.2


def test_exp3c_noisy_targets():
    N, n = 1, 40000
    t = make("exp3", N=N, variant="c")
    assert t.threshold == 0.1
    c = t.sample(rng(3), n)
    check_common(t, c, n)
    cls = c.extra["cls"]
    last = last_steps(c)
    # inputs as in 3a
    np.testing.assert_array_equal(c.x_real[c.offsets[:-1], 0], np.where(cls == 0, 1.0, -1.0))
    assert c.clean_targets is not None and c.clean_targets.shape == c.targets.shape
    np.testing.assert_array_equal(c.clean_targets[last, 0], np.where(cls == 0, 0.2, 0.8))
    assert not c.clean_targets[c.has_target == 0].any()
    np.testing.assert_array_equal(c.has_target, only_last(c))
    resid = c.targets[last, 0] - c.clean_targets[last, 0]
    assert_mean(resid, 0.0, 0.1, "target noise mean")
    assert_var(resid, 0.1, what="target noise variance (0.1)")
    for k in (0, 1):
        assert_var(resid[cls == k], 0.1, what=f"target noise variance, class {k}")


# --- Exps 4 and 5 -------------------------------------------------------------------------------


def check_marking(c, Tn: int, pair1_value: float):
    """Markers, marked positions and values of an adding/multiplication chunk (§6.1, A11)."""
    n = c.n
    L = c.lengths()
    starts, last = c.offsets[:-1], last_steps(c)
    vals, marks = c.x_real[:, 0], c.x_real[:, 1]
    assert set(np.unique(marks)) <= {-1.0, 0.0, 1.0}
    seq = np.repeat(np.arange(n), L)
    plus = np.bincount(seq, weights=(marks == 1.0), minlength=n)
    minus = np.bincount(seq, weights=(marks == -1.0), minlength=n)
    assert (plus == 2).all(), "exactly two marked pairs"
    m = c.extra["marked"]
    assert m.shape == (n, 2)
    np.testing.assert_array_equal(marks[starts + m[:, 0]], 1.0)
    np.testing.assert_array_equal(marks[starts + m[:, 1]], 1.0)
    K = Tn // 2 - 1
    assert (m[:, 0] >= 0).all() and (m[:, 0] <= 9).all(), "X1 among pairs 1-10"
    assert (m[:, 1] >= 0).all() and (m[:, 1] < K).all(), "X2 among the first T/2-1 pairs"
    assert (m[:, 0] != m[:, 1]).all(), "X2 drawn from the still unmarked pairs"
    first_marked = (m == 0).any(1)
    # the first pair: -1 unless marked (then +1 and value pair1_value); the last pair always -1
    np.testing.assert_array_equal(marks[starts], np.where(first_marked, 1.0, -1.0))
    np.testing.assert_array_equal(vals[starts[first_marked]], pair1_value)
    assert (marks[last] == -1.0).all()
    np.testing.assert_array_equal(minus, np.where(first_marked, 1, 2))
    # X1, X2 as stored
    np.testing.assert_array_equal(c.extra["x1"], vals[starts + m[:, 0]])
    np.testing.assert_array_equal(c.extra["x2"], vals[starts + m[:, 1]])
    # a single target, at the end
    np.testing.assert_array_equal(c.has_target, only_last(c))
    np.testing.assert_array_equal(c.extra["criterion_mask"], c.has_target)
    assert not c.targets[c.has_target == 0].any()
    return m, first_marked


def marked_values(c) -> np.ndarray:
    """The two values with marker 1.0 per sequence, recomputed from the inputs alone."""
    vals, marks = c.x_real[:, 0], c.x_real[:, 1]
    idx = np.flatnonzero(marks == 1.0)
    return vals[idx].reshape(c.n, 2)


def test_adding_problem():
    Tn, n = 100, 20000
    t = make("adding", T=Tn)
    assert t.n_in == 2 and t.n_out == 1 and t.threshold == 0.04 and not t.onehot
    c = t.sample(rng(), n)
    check_common(t, c, n)
    assert_uniform(c.lengths(), range(Tn, Tn + Tn // 10 + 1), "lengths (A18)")
    m, first_marked = check_marking(c, Tn, 0.0)
    # positions: X1 uniform over pairs 1-10; X2 uniform over the other 48 of the first 49 pairs
    assert_uniform(m[:, 0], range(10), "X1 position")
    assert_uniform(m[m[:, 1] >= 10, 1], range(10, Tn // 2 - 1), "X2 position (pairs 11-49)")
    assert_mean(m[:, 1] < 10, 10 * 0.9 / 48, 0.1875 * (1 - 0.1875), "P(X2 in pairs 1-10)")
    assert first_marked.sum() > 0 and (m[:, 1] == 0).sum() > 0  # both A11 cases occur
    # target recomputed from the inputs
    xv = marked_values(c)
    np.testing.assert_allclose(c.targets[last_steps(c), 0], 0.5 + xv.sum(1) / 4.0, atol=1e-12)
    assert (c.targets[last_steps(c), 0] >= 0).all() and (c.targets[last_steps(c), 0] <= 1).all()
    # unmarked values U[-1, 1]: mean 0, variance 1/3
    free = c.x_real[:, 1] != 1.0
    free[c.offsets[:-1]] = False
    v = c.x_real[free, 0]
    assert v.min() >= -1.0 and v.max() <= 1.0
    assert_mean(v, 0.0, 1 / 3, "value mean")
    assert_var(v, 1 / 3, kurt_excess=-1.2, what="value variance")


@pytest.mark.parametrize("Tn", [11, 20, 1000])
def test_adding_other_T(Tn):
    n = 3000 if Tn < 1000 else 300
    c = make("adding", T=Tn).sample(rng(Tn), n)
    L = c.lengths()
    assert L.min() >= Tn and L.max() <= Tn + Tn // 10
    check_marking(c, Tn, 0.0)
    np.testing.assert_allclose(c.targets[last_steps(c), 0], 0.5 + marked_values(c).sum(1) / 4.0,
                               atol=1e-12)


def test_multiplication_problem():
    Tn, n = 100, 20000
    t = make("multiplication", T=Tn)
    assert t.threshold == 0.04 and t.n_in == 2 and t.n_out == 1
    c = t.sample(rng(11), n)
    check_common(t, c, n)
    m, first_marked = check_marking(c, Tn, 1.0)
    assert first_marked.sum() > 0
    np.testing.assert_allclose(c.targets[last_steps(c), 0], marked_values(c).prod(1), atol=1e-12)
    free = c.x_real[:, 1] != 1.0
    free[c.offsets[:-1]] = False
    v = c.x_real[free, 0]
    assert v.min() >= 0.0 and v.max() <= 1.0
    assert_mean(v, 0.5, 1 / 12, "value mean")
    assert_var(v, 1 / 12, kurt_excess=-1.2, what="value variance")


# --- Exp 6 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant,windows", [
    ("a", [(10, 20), (50, 60)]), ("b", [(10, 20), (33, 43), (66, 76)])])
def test_temporal_order(variant, windows):
    n = 8000
    t = make("temporal_order", variant=variant)
    k = len(windows)
    assert t.n_in == 8 and t.n_out == 2 ** k and t.threshold == 0.3 and t.onehot
    c = t.sample(rng(), n)
    check_common(t, c, n)
    L = c.lengths()
    assert_uniform(L, range(100, 111), "lengths")
    starts, last = c.offsets[:-1], last_steps(c)
    assert (c.x_idx[starts] == 0).all() and (c.x_idx[last] == 1).all()  # E first, B last
    rel, sym, cls = c.extra["relevant"], c.extra["relevant_sym"], c.extra["cls"]
    for j, (lo, hi) in enumerate(windows):  # 1-based inclusive windows (A17)
        assert_uniform(rel[:, j] + 1, range(lo, hi + 1), f"t{j + 1}")
        np.testing.assert_array_equal(c.x_idx[starts + rel[:, j]], 6 + sym[:, j])
    # X/Y only at the relevant positions; a-d everywhere else
    is_xy = c.x_idx >= 6
    assert is_xy.sum() == n * k
    other = np.ones(c.total_steps, bool)
    other[starts] = other[last] = False
    other[(starts[:, None] + rel).ravel()] = False
    assert_uniform(c.x_idx[other], range(2, 6), "distractors a-d")
    # class = the relevant symbols read as binary, X = 0 (6a: XX Q, XY R, YX S, YY U)
    expect = np.zeros(n, np.int64)
    for j in range(k):
        expect = 2 * expect + (c.x_idx[starts + rel[:, j]] == 7)
    np.testing.assert_array_equal(cls, expect)
    assert_balanced(cls, 2 ** k)
    np.testing.assert_array_equal(c.has_target, only_last(c))
    tl = c.targets[last]
    np.testing.assert_array_equal(tl.argmax(1), cls)
    assert ((tl == 0) | (tl == 1)).all() and (tl.sum(1) == 1).all()
    assert not c.targets[c.has_target == 0].any()
    s = c.symbols[0]
    assert len(s) == L[0] and s[0] == "E" and s[-1] == "B"
    assert "".join(s[p] for p in rel[0]) == "".join("XY"[b] for b in sym[0])


def test_temporal_order_class_names():
    # 6a: XX -> Q (0), XY -> R (1), YX -> S (2), YY -> U (3)
    c = make("temporal_order", variant="a").sample(rng(1), 400)
    for i in range(40):
        s = c.symbols[i]
        word = "".join(a for a in s if a in "XY")
        assert ["XX", "XY", "YX", "YY"].index(word) == c.extra["cls"][i]


# --- records ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,over", [
    ("exp2a", {"p": 6}), ("exp2b", {"p": 6}), ("exp2c", {"q": 5, "p": 4}), ("exp3", {"T": 20}),
    ("exp3", {"T": 20, "variant": "c"}), ("adding", {"T": 20}), ("multiplication", {"T": 20}),
    ("temporal_order", {"variant": "b"})])
def test_records_round_trip(name, over):
    t = make(name, **over)
    c = t.sample(rng(2), 7)
    recs = [c.sequence(i) for i in range(c.n)]
    if c.clean_targets is not None:
        for i, r in enumerate(recs):
            a, b = c.offsets[i], c.offsets[i + 1]
            r["clean_targets"] = [c.clean_targets[s].tolist() if c.has_target[s] else None
                                  for s in range(a, b)]
    d = t.chunk_from_records(recs)
    check_common(t, d, c.n)
    for f in ("offsets", "x_idx", "x_real", "targets", "has_target", "legal"):
        np.testing.assert_array_equal(getattr(d, f), getattr(c, f), err_msg=f)
    np.testing.assert_array_equal(d.extra["criterion_mask"], c.extra["criterion_mask"])
    assert d.extra["end_only_criterion"] == c.extra["end_only_criterion"]
    if c.clean_targets is not None:
        np.testing.assert_array_equal(d.clean_targets, c.clean_targets)
    if t.onehot:  # record chunks name their input symbols
        assert d.symbols[0] == c.symbols[0][:c.lengths()[0]]


def test_records_errors_name_the_sequence():
    add = make("adding", T=20)
    good = add.sample(rng(), 2)
    recs = [good.sequence(0), good.sequence(1)]
    bad = [recs[0], dict(recs[1], inputs=[[0.1, 0.0, 0.0]] + recs[1]["inputs"][1:])]
    with pytest.raises(ValueError, match="sequence 1"):
        add.chunk_from_records(bad)
    bad = [recs[0], dict(recs[1], targets=recs[1]["targets"][:-1])]
    with pytest.raises(ValueError, match="sequence 1"):
        add.chunk_from_records(bad)
    bad = [dict(recs[0], targets=recs[0]["targets"][:-1] + [[0.5, 0.5]]), recs[1]]
    with pytest.raises(ValueError, match="sequence 0"):
        add.chunk_from_records(bad)
    with pytest.raises(ValueError, match="sequence 0"):
        add.chunk_from_records([{"inputs": [[0.0, 1.0]]}])
    with pytest.raises(ValueError, match="sequence 1"):
        add.chunk_from_records([recs[0], {"inputs": [], "targets": []}])
    to = make("temporal_order")
    r = to.sample(rng(), 1).sequence(0)
    r["inputs"][3] = [0.5] * 8
    with pytest.raises(ValueError, match="sequence 0, step 3"):
        to.chunk_from_records([r])
    r = to.sample(rng(), 1).sequence(0)
    r["inputs"][2] = [1.0] * 7
    with pytest.raises(ValueError, match="sequence 0"):
        to.chunk_from_records([r])


def test_records_exp2b_criterion_at_end_only():
    t = make("exp2b", p=5)
    c = t.sample(rng(), 3)
    d = t.chunk_from_records([c.sequence(i) for i in range(3)])
    assert d.has_target.all()
    np.testing.assert_array_equal(d.extra["criterion_mask"], only_last(d))


def test_symbol_view_behaves_like_a_list():
    c = make("exp2c", q=3, p=3).sample(rng(), 4)
    s = c.symbols
    assert len(s) == 4 and list(s)[2] == s[2] == s[-2]
    assert s[1:3] == [s[1], s[2]]
    assert s == [list(x) for x in s]
    with pytest.raises(IndexError):
        s[4]
    assert c.sequence(0)["symbols"] == s[0]
