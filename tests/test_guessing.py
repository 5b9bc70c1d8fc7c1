"""Random weight guessing as an experiment (PROTOCOLS §10; RG01 node2-4, NIPS96 node1).

- the guessing nets (``engine.guessnet``): connection counts, forward pass against a NumPy
  reference (ordered and synchronous updates, logistic and tanh), synchronous == FRNN's visible
  net, a hand-built A1 (n = 1) parity solver that works only under ordered updates;
- draws uniform in [-100, 100] (fixed seed), fixed weights untouched;
- the search stops at the first solver (scripted draws with a known solver);
- the latch and parity generators and the balanced sets against their definitions;
- a config end to end through the CLI in-process, with guesses as the unit everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lstmrun.cli import main
from lstmrun.config import ConfigError, load, validate
from lstmrun.engine.frnn import FRNN
from lstmrun.engine.guessing import arch_a1, arch_a2, draw_weights, guess
from lstmrun.engine.guessnet import GuessArch, GuessNet
from lstmrun.engine.lstm97 import M_CORRECT, M_SSE
from lstmrun.protocols.guess import draw_set, take
from lstmrun.rundir import summarize
from lstmrun.runner import run_trial, warm_up
from lstmrun.tasks.registry import build_task, validate_task

ROOT = Path(__file__).resolve().parents[1]
GUESS_CONFIGS = sorted((ROOT / "configs" / "paper").glob("*guess*.yaml"))


def task(**p):
    return build_task(validate_task(p))


def short(name, **p):
    """A task with short sequences (the definitions do not depend on the length)."""
    p.setdefault("length_min", 20)
    p.setdefault("length_max", 30)
    return task(name=name, **p)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_forward(arch: GuessArch, Wh, chunk):
    """Dense NumPy forward pass of a guessing net: the output at every step, per sequence."""
    I, N = arch.n_in, arch.n_units
    f = np.tanh if arch.act == 1 else sig
    outs = []
    for q in range(chunk.n):
        y = np.zeros(N)
        seq = []
        for t in range(chunk.offsets[q], chunk.offsets[q + 1]):
            x = chunk.x_real[t]
            new = np.zeros(N)
            for r in range(N):
                state = np.where(np.arange(N) < r, new, y) if arch.order == "ordered" else y
                new[r] = f(Wh[r, :I] @ x + Wh[r, I] + Wh[r, I + 1:] @ state)
            y = new
            seq.append(y[-1])
        outs.append(np.array(seq))
    return outs


def random_net(arch, rng, scale=3.0):
    net = GuessNet(arch)
    draw_weights(net, rng, scale)
    return net


# --------------------------------------------------------------------------------------------
# the nets
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_weight_counts(n):
    assert GuessArch("a1", n_hidden=n).n_weights() == n * (n + 3) + (n + 2)
    assert GuessArch("a2", n_hidden=n).n_weights() == 4 * n + (n + 2)
    assert GuessArch("a2", n_hidden=n, hidden_self=False).n_weights() == 3 * n + (n + 2)
    assert GuessArch("a1", n_hidden=n).n_free() == GuessArch("a1", n_hidden=n).n_weights()
    # the same connectivity as the FRNN readings in engine.guessing
    assert GuessArch("a1", n_hidden=n).n_weights() == arch_a1(n).n_weights()
    assert GuessArch("a2", n_hidden=n).n_weights() == arch_a2(n).n_weights()


def test_latch_nets_have_three_free_parameters():
    a = GuessArch("latch1", n_in=3)
    assert (a.n_weights(), a.n_free()) == (4, 3) and a.n_units == 1
    net = GuessNet(a)
    # unit 0 reads [ind1, ind2, noise, bias, self]: the noise weight is fixed at 1, no bias
    np.testing.assert_array_equal(net.Mh, [[1, 1, 1, 0, 1]])
    np.testing.assert_array_equal(net.Fh, [[1, 1, 0, 0, 1]])
    assert net.Wh[0, 2] == 1.0
    b = GuessArch("latch2")
    assert (b.n_weights(), b.n_free()) == (3, 3)
    np.testing.assert_array_equal(GuessNet(b).Mh, [[1, 1, 1]])
    with pytest.raises(ValueError, match="input line"):
        GuessArch("latch1", n_in=1)


@pytest.mark.parametrize("name, n, order", [("a1", 1, "ordered"), ("a1", 3, "ordered"),
                                            ("a2", 4, "ordered"), ("a1", 3, "synchronous"),
                                            ("a2", 4, "synchronous")])
def test_forward_matches_reference(name, n, order):
    rng = np.random.default_rng(n)
    arch = GuessArch(name, n_hidden=n, order=order)
    net = random_net(arch, rng)
    chunk = short("parity", input_noise=0.3).sample(rng, 6)
    m = net.evaluate(chunk, criterion="abs", threshold=0.1)
    outs = ref_forward(arch, net.Wh, chunk)
    for q, o in enumerate(outs):
        last = chunk.offsets[q + 1] - 1
        err = chunk.targets[last, 0] - o[-1]
        assert m[q, M_SSE] == pytest.approx(err ** 2, rel=1e-12, abs=1e-15)
        assert m[q, M_CORRECT] == float(abs(err) < 0.1)


@pytest.mark.parametrize("variant, name", [("I", "latch1"), ("II", "latch2")])
def test_tanh_latch_forward_matches_reference(variant, name):
    rng = np.random.default_rng(7)
    t = short("latch", variant=variant)
    arch = GuessArch(name, n_in=t.n_in)
    net = random_net(arch, rng, 2.0)
    chunk = t.sample(rng, 8)
    m = net.evaluate(chunk, criterion="abs", threshold=0.8)
    for q, o in enumerate(ref_forward(arch, net.Wh, chunk)):
        err = chunk.targets[chunk.offsets[q + 1] - 1, 0] - o[-1]
        assert m[q, M_SSE] == pytest.approx(err ** 2, rel=1e-12, abs=1e-15)
        assert -1.0 <= o.min() and o.max() <= 1.0


@pytest.mark.parametrize("name, n", [("a1", 1), ("a1", 3), ("a2", 4)])
def test_synchronous_equals_frnn_visible_net(name, n):
    """order="synchronous" is FRNN's visible net (outputs first there, last here)."""
    rng = np.random.default_rng(3 + n)
    ga = GuessArch(name, n_hidden=n, order="synchronous")
    fa = arch_a1(n) if name == "a1" else arch_a2(n)
    g = random_net(ga, rng)
    N, zr = ga.n_units, 2
    perm = np.r_[np.arange(1, N), 0]             # guess unit -> FRNN unit
    Wf = np.zeros((N, zr + N))
    for r in range(N):
        Wf[perm[r], :zr] = g.Wh[r, :zr]
        Wf[perm[r], zr + perm] = g.Wh[r, zr:]
    Mf = fa.masks()[0]
    np.testing.assert_array_equal(Mf != 0, Wf != 0)
    f = FRNN(fa, Wf, None)
    chunk = short("parity", input_noise=0.2).sample(rng, 5)
    a = g.evaluate(chunk, criterion="abs", threshold=0.1)
    b = f.evaluate(chunk, criterion="abs", threshold=0.1)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def parity_solver() -> np.ndarray:
    """Weights of A1 (n = 1, ordered) computing parity exactly (all within [-100, 100]): the
    hidden unit is AND(x = +1, previous output), the output XOR(x = +1, previous output)."""
    # columns: input, bias, hidden (prev), output (prev); rows: hidden, output
    return np.array([[50.0, -75.0, 0.0, 50.0],
                     [25.0, 0.0, -100.0, 50.0]])


def test_hand_built_parity_solver_needs_ordered_updates():
    chunk = task(name="parity").sample(np.random.default_rng(0), 40)
    ordered = GuessNet(GuessArch("a1", n_hidden=1), parity_solver())
    assert ordered.all_correct(chunk, criterion="abs", threshold=1e-6)
    # synchronous: the output is monotone in the last input given the state -> cannot be parity
    sync = GuessNet(GuessArch("a1", n_hidden=1, order="synchronous"), parity_solver())
    assert not sync.all_correct(chunk, criterion="abs", threshold=0.1)


def test_guessnet_does_not_learn():
    net = GuessNet(GuessArch("a1"))
    with pytest.raises(ValueError, match="does not learn"):
        net.train(task(name="parity").sample(np.random.default_rng(0), 1), lr=0.1)


# --------------------------------------------------------------------------------------------
# draws and the search
# --------------------------------------------------------------------------------------------
def test_draws_uniform_in_range_and_fixed_weights_kept():
    rng = np.random.default_rng(2024)
    net = GuessNet(GuessArch("a2", n_hidden=10))
    vals = []
    for _ in range(1000):
        draw_weights(net, rng, 100.0)
        assert np.all(net.Wh[net.Mh == 0] == 0.0)
        vals.append(net.Wh[net.Fh == 1].copy())
    v = np.concatenate(vals)                               # 52,000 draws
    n = len(v)
    assert v.min() >= -100.0 and v.max() <= 100.0
    assert v.min() < -99.9 and v.max() > 99.9
    sd = 100 / np.sqrt(3)
    assert abs(v.mean()) < 5 * sd / np.sqrt(n)             # ~0.0 +- 0.25 (5 sd)
    assert abs(v.var() / sd ** 2 - 1) < 0.03               # Var U[-a, a] = a^2/3
    assert abs(np.mean(v ** 4) / (100 ** 4 / 5) - 1) < 0.05  # E x^4 = a^4/5
    hist = np.histogram(v, bins=20, range=(-100, 100))[0] / n
    assert np.abs(hist - 0.05).max() < 0.005
    # latch I: the noise weight stays 1.0; the three free ones span the range
    latch = GuessNet(GuessArch("latch1", n_in=3))
    free = []
    for _ in range(2000):
        draw_weights(latch, rng, 100.0)
        assert latch.Wh[0, 2] == 1.0 and latch.Wh[0, 3] == 0.0
        free.append(latch.Wh[0, [0, 1, 4]].copy())
    free = np.array(free)
    assert np.all(np.abs(free) <= 100.0) and np.all(np.abs(free).max(axis=0) > 99.0)
    assert np.all(np.abs(free.mean(axis=0)) < 5 * sd / np.sqrt(2000))


class Scripted:
    """A stand-in for the generator: ``uniform`` returns the given weight matrices in turn."""

    def __init__(self, mats):
        self.mats = list(mats)
        self.calls = 0

    def uniform(self, lo, hi, size):
        m = self.mats[self.calls]
        assert m.shape == size
        self.calls += 1
        return m.copy()


def test_search_stops_at_first_solver():
    t = task(name="parity")
    rng = np.random.default_rng(5)
    train, test = draw_set(t, rng, 100), draw_set(t, rng, 100)
    arch = GuessArch("a1", n_hidden=1)
    zeros = np.zeros((2, 4))                 # output 0.5 everywhere: fails the first sequence
    other = -parity_solver()
    script = Scripted([zeros] * 6 + [other, parity_solver(), parity_solver()])
    stats = {}
    res = guess(GuessNet(arch), train, test, script, 1000, weight_range=100.0,
                criterion="abs", threshold=0.1, stats=stats)
    assert res["solved"] and res["guesses"] == 8 and script.calls == 8
    np.testing.assert_array_equal(res["weights"]["Wh"], parity_solver())
    assert res["test_fraction_correct"] == 1.0
    # every failing guess stopped at its first wrong training sequence
    net = GuessNet(arch, other)
    k = len(net.evaluate(train, criterion="abs", threshold=0.1, early_exit=True))
    assert stats["sequences_evaluated"] == 6 * 1 + k + 100
    lens = np.diff(train.offsets)
    assert stats["steps_evaluated"] == 6 * lens[0] + lens[:k].sum() + lens.sum()
    # no solver within the budget
    res2 = guess(GuessNet(arch), train, test, Scripted([zeros] * 3), 3, criterion="abs",
                 threshold=0.1)
    assert res2 == {"solved": False, "guesses": 3, "test_fraction_correct": None, "weights": None}


def test_guess_count_is_geometric_on_latch_ii():
    """On a fixed training set the count is Geometric(p), p = the share of single draws that
    solve it: the mean count times p (estimated from separate draws) is about 1."""
    t = short("latch", variant="II")
    rng = np.random.default_rng(9)
    train = draw_set(t, rng, 40)
    net = GuessNet(GuessArch("latch2"))
    hits = 0
    n_draws = 20_000
    for _ in range(n_draws):
        draw_weights(net, rng, 100.0)
        hits += net.all_correct(train, criterion="abs", threshold=1.0)
    p = hits / n_draws
    assert 0.002 < p < 0.2
    counts = []
    for _ in range(300):
        r = guess(net, train, None, rng, 100_000, criterion="abs", threshold=1.0)
        assert r["solved"] and net.all_correct(train, criterion="abs", threshold=1.0)
        counts.append(r["guesses"])
    assert abs(np.mean(counts) * p - 1) < 0.25        # ~4 standard errors
    assert abs(np.mean(np.array(counts) == 1) / p - 1) < 0.8


# --------------------------------------------------------------------------------------------
# generators
# --------------------------------------------------------------------------------------------
def _check_lengths(chunk, lo, hi):
    L = chunk.lengths()
    assert L.min() >= lo and L.max() <= hi
    return L


def test_latch_generators_match_definition():
    rng = np.random.default_rng(11)
    for variant, target in (("I", 0.8), ("II", 1.0)):
        t = task(name="latch", variant=variant)
        c = t.sample(rng, 400)
        L = _check_lengths(c, 500, 600)
        assert L.min() < 510 and L.max() > 590
        cls = c.extra["cls"]
        assert 150 < (cls == 0).sum() < 250
        starts, last = c.offsets[:-1], c.offsets[1:] - 1
        np.testing.assert_array_equal(np.flatnonzero(c.has_target), last)
        np.testing.assert_array_equal(c.targets[last, 0], np.where(cls == 0, target, -target))
        if variant == "I":
            assert c.n_in == 3
            first = c.x_real[starts]
            np.testing.assert_array_equal(first[:, 0], (cls == 0) * 1.0)
            np.testing.assert_array_equal(first[:, 1], (cls == 1) * 1.0)
            assert np.all(first[:, 2] == 0.0)
            rest = np.ones(c.total_steps, bool)
            rest[starts] = False
            assert np.all(c.x_real[rest, :2] == 0.0)
            noise = c.x_real[rest, 2]
        else:
            assert c.n_in == 1
            np.testing.assert_array_equal(c.x_real[starts, 0], 1.0 - 2.0 * cls)
            rest = np.ones(c.total_steps, bool)
            rest[starts] = False
            noise = c.x_real[rest, 0]
        # Gaussian, mean 0, variance 0.2 (A14), on every element but the first
        assert abs(noise.mean()) < 5 * np.sqrt(0.2 / len(noise))
        assert abs(noise.var() / 0.2 - 1) < 0.02
        assert abs(np.mean(noise ** 4) / (3 * 0.04) - 1) < 0.05


def test_parity_generator_matches_definition():
    rng = np.random.default_rng(12)
    c = task(name="parity").sample(rng, 300)
    _check_lengths(c, 500, 600)
    assert set(np.unique(c.x_real)) == {-1.0, 1.0}
    assert abs(np.mean(c.x_real == 1.0) - 0.5) < 0.01
    for q in range(c.n):
        a, b = c.offsets[q], c.offsets[q + 1]
        ones = int((c.x_real[a:b, 0] > 0).sum())
        assert c.targets[b - 1, 0] == float(ones % 2)          # 1.0 odd, 0.0 even
        assert c.extra["cls"][q] == ones % 2 and c.extra["ones"][q] == ones
        assert c.has_target[a:b].sum() == 1 and c.has_target[b - 1] == 1
    # noisy variant: U[-0.2, 0.2] on top of the +-1, the target still counts the +1s
    cn = task(name="parity", input_noise=0.2).sample(np.random.default_rng(12), 300)
    np.testing.assert_array_equal(np.sign(cn.x_real), c.x_real)
    d = cn.x_real - c.x_real
    assert np.abs(d).max() <= 0.2 and np.abs(d).max() > 0.199
    assert abs(d.var() / (0.04 / 3) - 1) < 0.02
    np.testing.assert_array_equal(cn.targets, c.targets)


@pytest.mark.parametrize("spec", [{"name": "parity"}, {"name": "latch", "variant": "I"},
                                  {"name": "exp3a", "T": 100, "N": 3}])
def test_balanced_sets(spec):
    t = task(**spec)
    rng = np.random.default_rng(13)
    s = draw_set(t, rng, 100)
    assert s.n == 100 and (s.extra["cls"] == 0).sum() == 50
    last = s.offsets[1:] - 1
    if spec["name"] == "exp3a":        # class 1: first 3 elements +1, target 1.0
        first = s.x_real[s.offsets[:-1], 0]
        np.testing.assert_array_equal(first, np.where(s.extra["cls"] == 0, 1.0, -1.0))
        np.testing.assert_array_equal(s.targets[last, 0], np.where(s.extra["cls"] == 0, 1.0, 0.0))
        assert np.all((s.lengths() >= 100) & (s.lengths() <= 110))
    assert s.extra["criterion_mask"].sum() == 100 and np.all(s.extra["criterion_mask"][last] == 1)
    odd = draw_set(t, rng, 7)
    assert (odd.extra["cls"] == 0).sum() == 4
    assert draw_set(t, rng, 9, balanced=False).n == 9


def test_take_keeps_the_sequences():
    c = short("latch", variant="I").sample(np.random.default_rng(14), 10)
    idx = [7, 2, 2, 9]
    s = take(c, idx)
    for j, i in enumerate(idx):
        a, b = c.offsets[i], c.offsets[i + 1]
        p, q = s.offsets[j], s.offsets[j + 1]
        np.testing.assert_array_equal(s.x_real[p:q], c.x_real[a:b])
        np.testing.assert_array_equal(s.targets[p:q], c.targets[a:b])
        np.testing.assert_array_equal(s.has_target[p:q], c.has_target[a:b])
        assert s.extra["cls"][j] == c.extra["cls"][i]


# --------------------------------------------------------------------------------------------
# configs, runner, CLI
# --------------------------------------------------------------------------------------------
def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_guess_configs_exist_and_state_the_paper():
    names = {p.stem for p in GUESS_CONFIGS}
    assert {"exp3a_guess_t100_n3", "latch_guess", "latch_guess_v2", "parity_guess",
            "parity_guess_a2", "parity_guess_a2_noself"} <= names
    for p in GUESS_CONFIGS:
        cfg = load(p)
        assert cfg["model"]["kind"] == "guess" and cfg["protocol"]["name"] == "guess"
        assert cfg["protocol"]["weight_range"] == 100.0
        assert cfg["protocol"]["train_size"] == 100 and cfg["protocol"]["test_size"] == 100
        assert "mean_guesses" in cfg["paper"] and cfg["notes"]


def test_guess_kind_needs_guess_protocol():
    with pytest.raises(ConfigError, match="protocol.name guess"):
        validate({"task": {"name": "parity"}, "model": {"kind": "guess"},
                  "protocol": {"name": "abs"}})


def test_train_through_cli_counts_guesses(tmp_path):
    cfg = ROOT / "configs/paper/latch_guess_v2.yaml"
    out = tmp_path / "run"
    small = ["--set", "protocol.budget=3000", "--set", "task.length_min=50",
             "--set", "task.length_max=60", "--set", "protocol.train_size=20",
             "--set", "protocol.test_size=20"]
    r = run("train", cfg, "--trials", 3, "--seed", 4, "--out", out, *small)
    assert r.exit_code == 0, r.output
    assert "mean guesses to solve" in r.output
    trials = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
    assert len(trials) == 3
    for t in trials:
        assert "sequences" not in t and 1 <= t["guesses"] <= 3000
        assert t["train_size"] == 20 and t["test_size"] == 20
        assert t["sequences_evaluated"] >= t["guesses"]
        if t["solved"]:
            assert 0.0 <= t["test_fraction_correct"] <= 1.0
        assert (out / "weights" / f"trial_{t['trial']:03d}.npz").exists()
    s = json.loads((out / "summary.json").read_text())
    assert s["unit"] == "guesses" and "guesses_to_solve" in s and "sequences_to_solve" not in s
    assert s["paper"]["mean_guesses"] == 22
    # the same seed gives the same trials
    out2 = tmp_path / "run2"
    assert run("train", cfg, "--trials", 3, "--seed", 4, "--out", out2, "-q", *small).exit_code == 0
    strip = (lambda p: [{k: v for k, v in json.loads(x).items() if k != "wall_seconds"}
                        for x in p.read_text().splitlines()])
    assert strip(out / "trials.jsonl") == strip(out2 / "trials.jsonl")
    # report and show
    r = run("report", out)
    assert r.exit_code == 0 and "mean guesses" in r.output and "test correct" in r.output
    assert "| 22 |" in r.output
    r = run("show", ROOT / "configs/paper/latch_guess.yaml")
    assert "weights: 4" in r.output and "guessed weights: 3" in r.output
    r = run("show", ROOT / "configs/paper/parity_guess_a2.yaml")
    assert "weights: 52" in r.output


def test_solver_weights_are_saved_and_eval_reproduces_them(tmp_path):
    cfg = load(ROOT / "configs/paper/parity_guess_a2_noself.yaml",
               ["protocol.budget=20000", "task.length_min=40", "task.length_max=50"])
    rec, w = run_trial(cfg, 0)
    assert rec["solved"] and rec["test_fraction_correct"] is not None
    t = build_task(cfg["task"])
    net = GuessNet(GuessArch("a2", n_hidden=10, hidden_self=False), w["Wh"])
    chunk = t.sample(np.random.default_rng(1), 50)
    m = net.evaluate(chunk, criterion="abs", threshold=0.1)
    assert m.shape == (50, 5)
    s = summarize(cfg, [rec])
    assert s["guesses_to_solve"]["mean"] == rec["guesses"]
    warm_up(cfg)                      # the process-pool warm-up runs forward only
