"""The NumPy trace equals the kernel; plots and inspect write their files."""

from __future__ import annotations

import numpy as np
import pytest

from pathlib import Path

from lstmrun.engine import LSTM97, Arch, Init, lstm97
from lstmrun.inspect import inspect_run, plot_trace, sse, trace
from lstmrun.tasks.registry import build_task, validate_task


def _task(**raw):
    return build_task(validate_task(raw))


def _check_same(net, chunk):
    m = net.evaluate(chunk, criterion="none")
    for i in range(chunk.n):
        tr = trace(net, chunk, i)
        assert abs(sse(tr) - m[i, lstm97.M_SSE]) <= 1e-10 * max(1.0, m[i, lstm97.M_SSE])
        assert int(tr["judged"].sum()) == int(m[i, lstm97.M_NTGT])
        T = int(chunk.offsets[i + 1] - chunk.offsets[i])
        C, B = net.arch.n_cells, net.arch.blocks
        assert tr["s"].shape == (T, C) and tr["cells"].shape == (T, C)
        assert tr["in_gates"].shape == (T, B) and tr["out_gates"].shape == (T, B)
        assert tr["outputs"].shape == (T, net.arch.n_out)


@pytest.mark.parametrize("reset_act", [0.0, 0.5])
def test_trace_matches_kernel_exp1_onehot(reset_act):
    task = _task(name="embedded_reber")
    chunk = task.sample(np.random.default_rng(1), 6)
    arch = Arch(7, 7, 3, 2, input_to_output=True, output_bias=True)
    net = LSTM97.random(arch, Init(scale=1.0, output_gate_bias=(-1.0, -2.0, -3.0)),
                        np.random.default_rng(2), reset_act=reset_act)
    _check_same(net, chunk)


def test_trace_matches_kernel_other_squashes():
    task = _task(name="embedded_reber")
    chunk = task.sample(np.random.default_rng(3), 4)
    arch = Arch(7, 7, 2, 2, connectivity="B", biases="b1", g="h1", h="g2")
    net = LSTM97.random(arch, Init(scale=1.0), np.random.default_rng(4))
    _check_same(net, chunk)


def test_trace_matches_kernel_adding_real():
    task = _task(name="adding", T=20)
    chunk = task.sample(np.random.default_rng(5), 5)
    arch = Arch(2, 1, 2, 2, biases="all", output_act="identity")
    net = LSTM97.random(arch, Init(scale=0.5, input_gate_bias=(-1.0, -2.0)),
                        np.random.default_rng(6))
    _check_same(net, chunk)
    # the marked values ride the CEC: a cell state changes over the sequence
    assert np.ptp(trace(net, chunk, 0)["s"]) > 0


@pytest.mark.parametrize("cells_on", [True, False])
def test_trace_matches_kernel_no_output_gate(cells_on):
    task = _task(name="exp2a", p=10)
    chunk = task.sample(np.random.default_rng(7), 4)
    arch = Arch(task.n_in, task.n_out, 1, 1, output_gate=False, connectivity="B", biases="none",
                g="logistic", h="identity")
    net = LSTM97.random(arch, Init(scale=1.0), np.random.default_rng(8))
    net.enable_cells(cells_on)
    _check_same(net, chunk)
    tr = trace(net, chunk, 0)
    assert np.all(tr["out_gates"] == 1.0)
    if not cells_on:
        assert np.all(tr["cells"] == 0.0)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from click.testing import CliRunner

    from lstmrun.cli import main

    out = tmp_path_factory.mktemp("run") / "exp1"
    config = Path(__file__).resolve().parents[1] / "configs/paper/exp1_erg_3x2_lr05.yaml"
    res = CliRunner().invoke(main, [
        "train", str(config), "--trials", "2", "--out", str(out),
        "-q", "--set", "protocol.budget=300", "--set", "task.n_train=16",
        "--set", "task.n_test=16"])
    assert res.exit_code == 0, res.output
    return out


def test_plot_runs(tiny_run, tmp_path):
    pytest.importorskip("matplotlib")
    from lstmrun.plots import plot_runs

    paths = plot_runs([tiny_run], tmp_path / "figs")
    names = sorted(p.name for p in paths)
    assert names == ["exp1_erg_3x2_lr05_curves.png", "exp1_erg_3x2_lr05_curves.svg",
                     "exp1_erg_3x2_lr05_sequences.png", "exp1_erg_3x2_lr05_sequences.svg"]
    for p in paths:
        assert p.exists() and p.stat().st_size > 1000
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(paths[0]) as im:    # the compact palette PNG a committed report keeps
        assert im.mode == "P" and len(im.getcolors()) <= 64


def test_inspect_run_and_plot_trace(tiny_run, tmp_path):
    tr = inspect_run(tiny_run, 1, seed=3)
    T = tr["outputs"].shape[0]
    assert tr["experiment"] == "exp1_erg_3x2_lr05" and tr["trial"] == 1
    assert tr["inputs"].shape == (T, 7) and tr["targets"].shape == (T, 7)
    assert tr["s"].shape == (T, 6) and tr["in_gates"].shape == (T, 3)
    assert tr["out_gates"].shape == (T, 3)
    assert len(tr["symbols"]) == T + 1 and tr["alphabet"] is not None
    # the same sequence and outputs as the kernel with the run's trained weights
    from lstmrun.inspect import load_net

    _cfg, task, net, rec = load_net(tiny_run, 1)
    assert rec["trial"] == 1
    chunk = task.sample(np.random.default_rng(3), 1)
    assert np.array_equal(tr["inputs"].argmax(1), chunk.x_idx)
    m = net.evaluate(chunk, criterion="none")
    assert abs(sse(tr) - m[0, lstm97.M_SSE]) <= 1e-10
    pytest.importorskip("matplotlib")
    p = plot_trace(tr, tmp_path / "trace.png")
    assert p.exists() and p.stat().st_size > 1000


def test_report_with_plots_links_every_figure(tiny_run, tmp_path):
    pytest.importorskip("matplotlib")
    from click.testing import CliRunner

    from lstmrun.cli import main

    out = tmp_path / "rep"
    r = CliRunner().invoke(main, ["report", str(tiny_run), "--out", str(out), "--plots"])
    assert r.exit_code == 0, r.output
    md = (out / "REPORT.md").read_text()
    assert "![every LSTM row, ours / paper](overview.png)" in md and "## Provenance" in md
    links = [ln for ln in md.split("## Plots\n")[1].splitlines() if ln.startswith("- [")]
    assert links == [f"- [exp1_erg_3x2_lr05_{k}](plots/exp1_erg_3x2_lr05_{k}.png)"
                     for k in ("curves", "sequences")]
    assert all((out / ln.split("(")[1].rstrip(")")).is_file() for ln in links)
