"""GSS02's timing tasks and their stream protocol (PROTOCOLS §13.2-13.3; lstmrun/tasks/timing.py,
lstmrun/protocols/timing.py) and the configs in configs/gers2002/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from lstmrun.config import ConfigError, load, validate
from lstmrun.engine.arch import Arch, Init
from lstmrun.engine.model import LSTM97
from lstmrun.protocols import timing as proto
from lstmrun.runner import make_arch, run_trial
from lstmrun.tasks.registry import build_task, validate_task
from lstmrun.tasks.timing import TASKS, periodic

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs" / "gers2002").glob("*.yaml"))


def make(name, **kw):
    return build_task(validate_task({"name": name, **kw}))


# --------------------------------------------------------------------------------------------
# generators
# --------------------------------------------------------------------------------------------
def test_msd_stream():
    task = make("msd", F=10, delays=[0, 1, 3])
    st = task.stream(np.random.default_rng(0))
    c = st.chunk(20)
    d = st.delays[:20]
    T = np.cumsum(10 + d)                                 # T(n), 1-based steps
    np.testing.assert_array_equal(st.event_ends(20), T - 1)
    assert c.offsets.tolist() == [0, T[-1]] and c.total_steps == T[-1]
    np.testing.assert_array_equal(np.flatnonzero(c.x_real[:, 0]), T - 1)
    np.testing.assert_array_equal(np.flatnonzero(c.has_target), T - 1)
    np.testing.assert_array_equal(c.targets[T - 1, 0], d)
    assert set(d.tolist()) <= {0, 1, 3} and len(set(d.tolist())) > 1
    # a prefix of the same stream is the same data
    c5 = st.chunk(5)
    np.testing.assert_array_equal(c5.x_real, c.x_real[:T[4]])
    # NMSD: one interval per sequence, the spike at its last step
    nm = make("nmsd", F=10, delays=[0, 1])
    st = nm.stream(np.random.default_rng(1))
    c = st.chunk(6)
    L = np.diff(c.offsets)
    np.testing.assert_array_equal(L, 10 + st.delays[:6])
    np.testing.assert_array_equal(np.flatnonzero(c.has_target), c.offsets[1:] - 1)
    with pytest.raises(ValueError, match="fixes"):
        validate_task({"name": "nmsd", "continual": True})


def test_gts_stream():
    task = make("gts", F=5)
    c = task.stream(np.random.default_rng(0)).chunk(4)
    assert c.total_steps == 20 and c.has_target.all() and not c.x_real.any()
    np.testing.assert_array_equal(np.flatnonzero(c.targets[:, 0]), [4, 9, 14, 19])
    task = make("gts", F=5, delays=[0, 2])
    st = task.stream(np.random.default_rng(0))
    c = st.chunk(8)
    ends = st.event_ends(8)
    np.testing.assert_array_equal(np.flatnonzero(c.targets[:, 0]), ends)
    starts = np.concatenate([[0], ends[:-1] + 1])
    np.testing.assert_array_equal(c.x_real[starts, 0], st.delays[:8])     # (ours) the delay
    assert np.count_nonzero(c.x_real) == np.count_nonzero(st.delays[:8])


def test_pfg_functions():
    t = np.arange(1, 51)
    for F in (10, 25):
        cos = periodic("cos", F, t)
        np.testing.assert_allclose(cos, 0.5 * (1 - np.cos(2 * np.pi * t / F)))
        tri = periodic("tri", F, t)
        assert tri.min() >= 0 and tri.max() <= 1
        if F % 2 == 0:
            assert tri[F // 2 - 1] == 1.0                 # the peak at t = F/2
        rect = periodic("rect", F, t)
        assert set(np.unique(rect)) == {0.0, 1.0}
        assert rect[: F // 2].sum() == 0
    task = make("pfg", F=10, shape="tri")
    c = task.stream(np.random.default_rng(0)).chunk(3)
    assert c.total_steps == 30 and c.has_target.all() and not c.x_real.any()
    np.testing.assert_allclose(c.targets[:10, 0], [.2, .4, .6, .8, 1., .8, .6, .4, .2, 0.])
    with pytest.raises(ValueError):
        validate_task({"name": "pfg", "shape": "saw"})


@pytest.mark.parametrize("name", sorted(TASKS))
def test_yaml_documents_the_defaults(name):
    data = yaml.safe_load((ROOT / "lstmrun" / "tasks" / "data" / f"{name}.yaml").read_text())
    cls = TASKS[name]
    assert data["name"] == name
    assert set(data["params"]) == set(cls.params) - {"continual"}   # bools: not YAML defaults
    for k, v in data["params"].items():
        assert v["default"] == cls.params[k][1] and v.get("source"), (name, k)
    assert data["criterion"] == cls.criterion and data["threshold"] == cls.threshold


def test_sample_and_records():
    for name in ("msd", "nmsd", "gts", "pfg"):
        task = make(name, F=6)
        c = task.sample(np.random.default_rng(0), 3)
        recs = [c.sequence(i) for i in range(c.n)]
        c2 = task.chunk_from_records(recs)
        np.testing.assert_array_equal(c2.x_real, c.x_real)
        np.testing.assert_array_equal(c2.has_target, c.has_target)


# --------------------------------------------------------------------------------------------
# the protocol
# --------------------------------------------------------------------------------------------
GSS02 = dict(n_in=1, n_out=1, blocks=1, cells_per_block=1, connectivity="C", biases="b1",
             output_bias=True, input_to_output=False, g="identity", h="identity",
             forget_gate=True, peepholes=True)


def _constant_net(value, out="logistic"):
    """A net whose output is ``value`` at every step (only the output bias is nonzero)."""
    arch = Arch(**dict(GSS02, output_act=out))
    net = LSTM97.random(arch, Init(0.1), np.random.default_rng(0))
    net.Wh[...] = 0.0
    net.Wo[...] = 0.0
    net.Wo[0, 1] = np.log(value / (1 - value)) if out == "logistic" else value
    net.stop_at_error = True
    return net


def test_events_before_error():
    net = _constant_net(0.1)
    gts = make("gts", F=5)
    k, full, steps = proto.run_stream(net, gts, np.random.default_rng(0), 100, learn=False)
    assert (k, full, steps) == (0, False, 5)                      # misses the first spike
    msd = make("msd", F=5, delays=[0, 1])
    rng = np.random.default_rng(3)
    st = msd.stream(np.random.default_rng(3))
    d = st._draw(50)
    first_one = int(np.argmax(d == 1))                             # output 0.1: I = 1 fails
    k, full, steps = proto.run_stream(net, msd, rng, 50, learn=False)
    assert (k, full) == (first_one, False) and steps == int(st.event_ends(50)[first_one]) + 1
    for grow in (False, True):                                    # same with growing prefixes
        assert proto.run_stream(net, msd, np.random.default_rng(3), 50, learn=False,
                                grow=grow)[:2] == (first_one, False)
    nm = make("nmsd", F=5, delays=[0, 1])
    st = nm.stream(np.random.default_rng(4))
    first_one = int(np.argmax(st._draw(50) == 1))
    k, full, steps = proto.run_stream(net, nm, np.random.default_rng(4), 50, learn=False)
    assert (k, full) == (first_one, False) and steps == int(st.event_ends(50)[first_one]) + 1
    pfg = make("pfg", F=10)                                       # cos: |0.1 - f| < 0.3 until
    net = _constant_net(0.1, "identity")
    k, full, steps = proto.run_stream(net, pfg, None, 20, learn=False, thr=0.3)
    f = periodic("cos", 10, np.arange(1, 11))
    assert (k, full) == (0, False) and steps == int(np.argmax(np.abs(f - 0.1) >= 0.3)) + 1
    k, full, _ = proto.run_stream(net, pfg, None, 20, learn=False, thr=0.95)
    assert (k, full) == (20, True)


def test_protocol_solves_and_records():
    cfg = validate({"task": {"name": "pfg", "F": 10, "test_events": 50}, "model": dict(
        {k: v for k, v in GSS02.items() if k not in ("n_in", "n_out")}, output_act="identity"),
        "init": {"scale": 0.1}, "train": {"lr": 1e-4},
        "protocol": {"name": "timing", "budget": 30, "check_every": 4, "threshold": 5.0}})
    rec, _ = run_trial(cfg, 0)
    assert rec["solved"] and rec["sequences"] == 4 and rec["test_events_correct"] == [50]
    assert rec["training_steps"] == 4 * 100 * 10 and rec["test_rmse"] > 0
    cfg["protocol"]["threshold"] = 1e-6                            # nothing is ever correct
    rec, _ = run_trial(cfg, 0)
    assert not rec["solved"] and rec["sequences"] == 30 and rec["test_events_correct"] == [0]
    assert rec["training_steps"] == 30


def test_protocol_needs_a_timing_task():
    with pytest.raises(ConfigError, match="timing"):
        validate({"task": {"name": "exp6a"}, "protocol": {"name": "timing"}})
    with pytest.raises(ConfigError, match="timing"):
        validate({"task": {"name": "msd"}, "protocol": {"name": "abs"}})


# --------------------------------------------------------------------------------------------
# configs/gers2002
# --------------------------------------------------------------------------------------------
def test_configs_exist():
    names = {p.stem for p in CONFIGS}
    assert any("nopeep" in n for n in names) and any("_peep" in n for n in names)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_valid(path):
    cfg = load(path)
    assert cfg["protocol"]["name"] == "timing" and cfg["model"]["forget_gate"]
    arch = make_arch(cfg, build_task(cfg["task"]))
    assert arch.n_weights() == (17 if cfg["model"]["peepholes"] else 14)   # PROTOCOLS §1.3
    paper = cfg["paper"]
    assert paper and paper.get("source") and cfg["notes"]
    # every config is a few --set away from its twin with / without peepholes
    twin = path.with_name(path.name.replace("_peep", "_nopeep") if "_peep" in path.name
                          else path.name.replace("_nopeep", "_peep"))
    assert twin.exists()
    other = load(twin)
    assert other["model"]["peepholes"] != cfg["model"]["peepholes"]
    for sec in ("task", "train", "init", "protocol"):
        assert other[sec] == cfg[sec], sec
