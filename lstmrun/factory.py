"""Networks from configs: the one place that turns a config's ``model``/``init``/``train`` sections
into a freshly initialised network of the engine (the LSTM or a baseline)."""

from __future__ import annotations

import numpy as np

from .engine import LSTM97, Arch, Init


def make_arch(cfg: dict, task) -> Arch:
    m = cfg["model"]
    return Arch(n_in=task.n_in, n_out=task.n_out, blocks=m["blocks"],
                cells_per_block=m["cells_per_block"], output_gate=m["output_gate"],
                connectivity=m["connectivity"], biases=m["biases"], output_bias=m["output_bias"],
                input_to_output=m["input_to_output"], g=m["g"], h=m["h"],
                output_act=m["output_act"], forget_gate=m["forget_gate"],
                state_decay=m["state_decay"], peepholes=m["peepholes"],
                gate_sources=m["gate_sources"])


def make_model(cfg: dict, task, rng: np.random.Generator):
    """A freshly initialised network of the config's ``model.kind``."""
    m = cfg["model"]
    if m["kind"] == "lstm97":
        net = LSTM97.random(make_arch(cfg, task), make_init(cfg), rng, reset_act=m["reset_act"])
        net.full_gradient = cfg["train"].get("gradient") == "full"
        net.exp_mode = cfg["train"].get("exp", "exact")
        net.set_momentum(float(cfg["train"].get("momentum", 0.0)))
        return net
    if m["kind"] == "guess":
        from .engine.guessnet import make_guess_net

        return make_guess_net(m, task)
    scale = cfg["init"]["scale"]
    if m["kind"] == "frnn":
        from .engine.frnn import FRNN, FRNNArch

        arch = FRNNArch(task.n_in, task.n_out, m["hidden"], outputs=m["outputs"],
                        hidden_bias=m["hidden_bias"], output_bias=bool(m["output_bias"]),
                        hidden_self_only=m["hidden_self_only"],
                        outputs_from_inputs=m["input_to_output"] is not False)
        net = FRNN.random(arch, scale, rng, rule=m["rule"], reset_act=m["reset_act"])
        net.fast_exp = cfg["train"].get("exp") == "fast"
        return net
    from .engine.elman import Elman, ElmanArch

    arch = ElmanArch(task.n_in, task.n_out, m["hidden"], hidden_bias=m["hidden_bias"],
                     output_bias=bool(m["output_bias"]),
                     outputs_from_inputs=bool(m["input_to_output"]))
    return Elman.random(arch, scale, rng, reset_act=m["reset_act"])


def make_init(cfg: dict) -> Init:
    i = cfg["init"]
    tup = (lambda v: None if v is None else tuple(float(x) for x in v))
    return Init(scale=i["scale"], input_gate_bias=tup(i["input_gate_bias"]),
                output_gate_bias=tup(i["output_gate_bias"]),
                forget_gate_bias=tup(i["forget_gate_bias"]), bias_mode=i["bias_mode"])
