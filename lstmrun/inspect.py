"""Look inside a trained 1997 LSTM: a plain NumPy forward pass that records every unit's activity.

:func:`trace` runs one sequence of a chunk through an :class:`~lstmrun.engine.model.LSTM97` with
frozen weights and records, per step, the inputs, the cell states ``s`` (the CECs), the cell
outputs, the input- and output-gate activations and the outputs next to the targets. It is the
same maths as the Numba kernel (:mod:`lstmrun.engine.lstm97`), written for reading, not speed;
``tests/test_plots_inspect.py`` checks that both give the same outputs.

:func:`inspect_run` does this for a trained trial of a run folder, :func:`plot_trace` draws it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from .engine import lstm97
from .engine.arch import SQ_G2, SQ_IDENTITY, SQ_LOGISTIC, SQ_TANHLIKE
from .engine.model import step_flags


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _squash(code: int, x: np.ndarray) -> np.ndarray:
    """HS97's squashing functions, all built on the logistic f (as the kernel does)."""
    if code == SQ_IDENTITY:
        return x
    f = _logistic(x)
    if code == SQ_LOGISTIC:
        return f
    if code == SQ_TANHLIKE:
        return 2.0 * f - 1.0
    if code == SQ_G2:
        return 4.0 * f - 2.0
    raise ValueError(f"unknown squash code {code}")


def trace(net, chunk, i: int) -> dict:
    """Forward pass of ``net`` (an LSTM97, weights frozen) over sequence ``i`` of ``chunk``.

    Returns a dict of numpy arrays, one row per step (``T`` steps; ``C`` cells, ``B`` blocks,
    ``K`` outputs): ``inputs`` (T, I) (one-hot rows for a one-hot chunk), ``s`` (T, C) cell
    states after the step, ``cells`` (T, C) cell outputs, ``in_gates`` (T, B), ``out_gates``
    (T, B) (ones when the net has no output gates), ``forget_gates`` (T, B) (the forget-gate
    activations; the constant decay, or ones, without forget gates), ``outputs`` (T, K),
    ``targets`` (T, K) (NaN where the step has no target), ``clean_targets`` (T, K) (the
    noise-free targets the statistics use; NaN where the step is not judged), ``judged`` (T,)
    bool; plus the scalars ``onehot``, ``output_gate``, ``cells_enabled``, ``blocks``,
    ``cells_per_block``, ``reset_act``.
    """
    if not hasattr(net, "arch") or not hasattr(net.arch, "cells_per_block"):
        raise TypeError("trace needs an LSTM97 network")
    net._check(chunk)
    if not 0 <= i < chunk.n:
        raise IndexError(f"sequence {i} out of range ({chunk.n} sequences)")
    ip = net.ip
    I, K, B, S = (int(ip[lstm97.IP_NIN]), int(ip[lstm97.IP_NOUT]), int(ip[lstm97.IP_B]),
                  int(ip[lstm97.IP_S]))
    og = bool(ip[lstm97.IP_OG])
    gcode, hcode, ocode = int(ip[lstm97.IP_G]), int(ip[lstm97.IP_H]), int(ip[lstm97.IP_OUT])
    rec = bool(ip[lstm97.IP_REC])
    oin = bool(ip[lstm97.IP_OIN])
    n_on = net.blocks_enabled          # sequential construction: blocks 0..n_on-1 on
    fgm = int(ip[lstm97.IP_FG])          # forget gates (GSC00) or a constant state decay
    C = B * S
    F0 = C + B + (B if og else 0)
    H = F0 + (B if fgm == lstm97.FG_GATE else 0)
    zb, zr = I, I + 1
    Wh, Wo = np.asarray(net.Wh, float), np.asarray(net.Wo, float)
    # the columns the kernel reads: inputs and bias always; previous hidden only if recurrent
    Wh_in = Wh[:, :zr]
    Wh_rec = Wh[:, zr:zr + H] if rec else np.zeros((H, H))
    # peepholes (GSS02; PROTOCOLS §13.1): columns after the hidden ones, cell state -> gates
    peep = bool(ip[lstm97.IP_PEEP])
    Wp = Wh[:, zr + H:] if peep else np.zeros((H, C))
    Wo_in = Wo[:, :I] if oin else np.zeros((K, I))
    Wo_b = Wo[:, zb]
    Wo_c = Wo[:, zr:]
    block = np.arange(C) // S
    cells_on = (block < n_on).astype(np.float64)

    a, b = int(chunk.offsets[i]), int(chunk.offsets[i + 1])
    T = b - a
    if chunk.onehot:
        X = np.zeros((T, I))
        X[np.arange(T), chunk.x_idx[a:b]] = 1.0
    else:
        X = np.array(chunk.x_real[a:b], dtype=float)
    flags = step_flags(chunk)[a:b]
    has = chunk.has_target[a:b] != 0
    judged = (flags & lstm97.FLAG_JUDGE) != 0
    targets = np.where(has[:, None], chunk.targets[a:b], np.nan)
    clean = chunk.clean_targets if chunk.clean_targets is not None else chunk.targets
    clean_targets = np.where(judged[:, None], clean[a:b], np.nan)

    out = {k: np.zeros((T, n)) for k, n in (("s", C), ("cells", C), ("in_gates", B),
                                             ("out_gates", B), ("forget_gates", B),
                                             ("outputs", K))}
    y_prev = np.full(H, float(net.reset_act))   # y_hidden(t-1), reset at the sequence start
    zoff = np.zeros(H)        # model.gate_sources centred: the gates' outputs are read as y - 0.5
    if getattr(net.arch, "gate_sources", "raw") == "centred":
        zoff[C:] = 0.5
    s = np.zeros(C)
    for t in range(T):
        x = X[t]
        net_h = Wh_in @ np.concatenate([x, [1.0]]) + Wh_rec @ (y_prev - zoff)
        s_prev = s
        if peep:      # input and forget gates read s(t-1); the output gate s(t), below
            net_h[C:C + B] += (Wp @ s_prev)[C:C + B]
            net_h[F0:H] += (Wp @ s_prev)[F0:H]
        y_in = _logistic(net_h[C:C + B])
        y_out = _logistic(net_h[C + B:C + 2 * B]) if og else np.ones(B)
        if fgm == lstm97.FG_GATE:
            y_phi = _logistic(net_h[F0:F0 + B])
        else:
            y_phi = np.full(B, float(net.fp[0]))     # 1.0: the 1997 CEC
        g = _squash(gcode, net_h[:C])
        if fgm == lstm97.FG_NONE:
            s = s + y_in[block] * g                  # the CEC: self-weight 1.0
        else:
            s = y_phi[block] * s + y_in[block] * g   # forget gate / decay (GSC00)
        if peep and og:
            y_out = _logistic(net_h[C + B:C + 2 * B] + (Wp @ s)[C + B:C + 2 * B])
        y_c = y_out[block] * _squash(hcode, s) * cells_on
        net_k = Wo_b + Wo_in @ x + Wo_c @ y_c
        y_k = _logistic(net_k) if ocode == SQ_LOGISTIC else net_k
        y_prev = np.concatenate([y_c, y_in, y_out if og else np.zeros(0),
                                 y_phi if fgm == lstm97.FG_GATE else np.zeros(0)])
        out["s"][t], out["cells"][t] = s, y_c
        out["in_gates"][t], out["out_gates"][t] = y_in, y_out
        out["forget_gates"][t] = y_phi
        out["outputs"][t] = y_k
    out.update(inputs=X, targets=targets, clean_targets=clean_targets, judged=judged,
               onehot=bool(chunk.onehot), output_gate=og, cells_enabled=bool(n_on > 0),
               forget_gate=fgm == lstm97.FG_GATE,
               blocks=B, cells_per_block=S, reset_act=float(net.reset_act))
    return out


def sse(tr: dict) -> float:
    """Sum of squared errors of a trace against its clean targets at the judged steps (the
    kernel's ``M_SSE``)."""
    j = tr["judged"]
    return float(((tr["clean_targets"][j] - tr["outputs"][j]) ** 2).sum())


def load_net(run_dir, trial: int, config=None):
    """``(cfg, task, net, record)`` of an LSTM run (:func:`lstmrun.rundir.load_trained`)."""
    from .rundir import load_config, load_trained

    cfg = load_config(run_dir, config)
    if cfg["model"]["kind"] != "lstm97":
        raise ValueError(f"{run_dir}: inspect works for model.kind lstm97 only "
                         f"(this run: {cfg['model']['kind']})")
    return load_trained(run_dir, trial, config)


def inspect_run(run_dir, trial: int, seed: int = 0, config=None) -> dict:
    """Trace trial ``trial`` of the run in ``run_dir`` on one fresh sequence of its task
    (``task.sample(default_rng(seed), 1)``). Returns :func:`trace`'s dict plus ``experiment``,
    ``trial``, ``seed``, ``solved``, ``symbols`` (the sequence's symbols, or None) and
    ``alphabet`` (the input symbol names, or None)."""
    cfg, task, net, rec = load_net(run_dir, trial, config)
    chunk = task.sample(np.random.default_rng(seed), 1)
    tr = trace(net, chunk, 0)
    syms = None
    if chunk.symbols is not None:
        syms = [str(x) for x in chunk.symbols[0]]
    alphabet = None
    if getattr(task, "grammar", None) is not None:
        alphabet = list(task.grammar.alphabet)
    elif getattr(task, "alphabet", None) is not None:
        alphabet = list(task.alphabet)
    tr.update(experiment=cfg.get("experiment", Path(run_dir).name), trial=int(trial),
              seed=int(seed), solved=rec.get("solved"), symbols=syms, alphabet=alphabet)
    if getattr(task, "outputs", None) is not None:  # output names when not the inputs' (cslang)
        tr["output_alphabet"] = list(task.outputs)
    return tr


def to_jsonable(tr: dict) -> dict:
    """A trace with its arrays as lists (NaN -> None), for JSON output."""
    out = {}
    for k, v in tr.items():
        if isinstance(v, np.ndarray):
            v = np.where(np.isnan(v), None, v).tolist() if v.dtype.kind == "f" else v.tolist()
        out[k] = v
    return out


def plot_trace(tr: dict, path) -> Path:
    """Draw a trace: stacked panels over time -- inputs, cell states (the CECs), input gates,
    output gates, outputs vs targets. Writes ``path`` (PNG, or any format matplotlib knows by
    the suffix) and returns it."""
    from .plots import _figure, _save

    path = Path(path)
    T = tr["outputs"].shape[0]
    steps = np.arange(T)
    panels = ["inputs", "s", "in_gates"] + (["out_gates"] if tr.get("output_gate", True) else [])
    panels += (["forget_gates"] if tr.get("forget_gate") else []) + ["outputs"]
    fig = _figure(figsize=(10, 1.7 * len(panels) + 0.8))
    axes = fig.subplots(len(panels), 1, sharex=True)
    title = f"{tr.get('experiment', '')} trial {tr.get('trial', '')}".strip()
    if tr.get("solved") is not None:
        title += " (solved)" if tr["solved"] else " (not solved)"
    if not tr.get("cells_enabled", True):
        title += " -- cells not added"
    fig.suptitle(title or "LSTM trace")
    for ax, name in zip(axes, panels):
        if name == "inputs":
            X = tr["inputs"]
            if tr.get("onehot"):
                ax.imshow(X.T, aspect="auto", interpolation="nearest", cmap="Greys",
                          extent=(-0.5, T - 0.5, X.shape[1] - 0.5, -0.5))
                names = tr.get("alphabet")
                if names and len(names) == X.shape[1] and len(names) <= 12:
                    ax.set_yticks(range(len(names)))
                    ax.set_yticklabels(names, fontsize=7)
                ax.set_ylabel("input")
            else:
                for j in range(X.shape[1]):
                    ax.plot(steps, X[:, j], lw=0.9, label=f"x{j}")
                ax.set_ylabel("input")
                ax.legend(fontsize=7, loc="upper right")
        elif name == "s":
            S = tr.get("cells_per_block", 1)
            for c in range(tr["s"].shape[1]):
                ax.plot(steps, tr["s"][:, c], lw=1.1, label=f"s b{c // S} c{c % S}")
            ax.axhline(0.0, color="0.7", lw=0.5)
            ax.set_ylabel("cell state s")
            ax.legend(fontsize=7, loc="upper right", ncol=2)
        elif name in ("in_gates", "out_gates", "forget_gates"):
            for j in range(tr[name].shape[1]):
                ax.plot(steps, tr[name][:, j], lw=1.0, label=f"block {j}")
            ax.set_ylim(-0.05, 1.05)
            ax.set_ylabel({"in_gates": "input gate", "out_gates": "output gate",
                           "forget_gates": "forget gate"}[name])
            ax.legend(fontsize=7, loc="upper right")
        else:
            Y, Tg = tr["outputs"], tr["targets"]
            names = tr.get("output_alphabet") or tr.get("alphabet")  # cslang: outputs differ
            if not (tr.get("onehot") and names and len(names) == Y.shape[1]):
                names = [f"y{k}" for k in range(Y.shape[1])]
            for k in range(Y.shape[1]):
                line, = ax.plot(steps, Y[:, k], lw=1.0, label=names[k] if Y.shape[1] <= 8 else None)
                ok = ~np.isnan(Tg[:, k])
                if ok.any():
                    ax.plot(steps[ok], Tg[ok, k], ls="none", marker="o", ms=3, mfc="none",
                            color=line.get_color())
            ax.set_ylabel("output (o = target)")
            if Y.shape[1] <= 8:
                ax.legend(fontsize=7, loc="upper right", ncol=2)
    syms = tr.get("symbols")
    if syms and T <= 60:
        axes[-1].set_xticks(range(T))
        axes[-1].set_xticklabels(syms[:T], fontsize=7)
    axes[-1].set_xlabel("step")
    fig.tight_layout()
    _save(fig, path)
    return path
