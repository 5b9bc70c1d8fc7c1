"""Experiment configs: plain YAML data, defaults in code, strict validation.

A config has the sections ``task``, ``model``, ``init``, ``train``, ``protocol`` and the scalars
``experiment``, ``trials``, ``seed`` plus free-form ``paper`` (the paper's reference numbers) and
``notes``. An unknown key, a wrong type or an impossible value is a :class:`ConfigError` whose
message names the key (and the file); the CLI turns it into one line and exit code 2.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class F:
    """One config field: allowed types, default, and an optional check returning an error text."""

    types: tuple
    default: Any
    check: Callable[[Any], str | None] | None = None
    help: str = ""


def _pos(x):
    return None if x > 0 else "must be positive"


def _nonneg(x):
    return None if x >= 0 else "must be non-negative"


def _one_of(*opts):
    def chk(x):
        return None if x in opts else f"must be one of {', '.join(map(str, opts))}"
    return chk


def _floats(x):
    if x is None:
        return None
    if not isinstance(x, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                          for v in x):
        return "must be a list of numbers or null"
    return None


NUM = (int, float)
NONE = type(None)

SCHEMA: dict[str, dict[str, F]] = {
    "model": {
        "kind": F((str,), "lstm97", _one_of("lstm97", "frnn", "elman", "guess"),
                  "lstm97: the 1997 LSTM; frnn: fully recurrent net (RTRL/BPTT); elman: SRN; "
                  "guess: a random-weight-guessing net (protocol guess)"),
        "blocks": F((int,), 1, _pos, "memory blocks"),
        "cells_per_block": F((int,), 1, _pos, "cells per block (S)"),
        "output_gate": F((bool,), True),
        "connectivity": F((str,), "F", _one_of("F", "B", "C"),
                          "HS97 Table 10 'conn'; C: inputs + previous cell outputs (GSC00)"),
        "biases": F((str,), "ga", _one_of("ga", "b1", "all", "none"), "HS97 Table 10 'bias'"),
        "output_bias": F((bool, NONE), None, None, "override: bias on output units"),
        "input_to_output": F((bool, NONE), None, None, "override: input->output weights"),
        "g": F((str,), "g2", _one_of("g2", "h1", "logistic", "identity"), "cell input squash"),
        "h": F((str,), "h1", _one_of("g2", "h1", "logistic", "identity"), "cell output squash"),
        "output_act": F((str,), "logistic", _one_of("logistic", "identity")),
        "reset_act": F(NUM, 0.0, None, "hidden activations at a sequence start (HS97: 0)"),
        "gate_sources": F((str,), "raw", _one_of("raw", "centred"),
                          "how units read the gates' outputs (connectivity F): raw y (HS97) or "
                          "centred y - 0.5 (a reading for Exp 2c; docs/fidelity/exp2c.md)"),
        "forget_gate": F((bool,), False, None, "one forget gate per block (GSC00; PROTOCOLS §12.1)"),
        "state_decay": F((float, NONE), None, lambda x: None if 0 <= x <= 1 else "must lie in [0, 1]",
                         "constant cell-state decay factor, no gate (GSC00 Table 2); null: none"),
        "peepholes": F((bool,), False, None, "weights from each cell state to its block's gates "
                       "(Gers & Schmidhuber 2000, GSS02; PROTOCOLS §13.1)"),
        # baselines (kind frnn / elman)
        "hidden": F((int,), 1, _pos, "frnn/elman: hidden units"),
        "outputs": F((str,), "separate", _one_of("separate", "visible"),
                     "frnn: outputs a separate non-recurrent layer, or among the recurrent units"),
        "rule": F((str,), "rtrl", _one_of("rtrl", "bptt"), "frnn: learning rule"),
        "hidden_bias": F((bool,), False, None, "frnn/elman: bias on hidden units"),
        "hidden_self_only": F((bool,), False, None, "frnn: hidden units read only themselves"),
        # random weight guessing (kind guess; lstmrun/engine/guessnet.py, PROTOCOLS §10)
        "guess_arch": F((str,), "a1", _one_of("a1", "a2", "latch1", "latch2"),
                        "guess: architecture A1/A2 (RG01; n = model.hidden) or a latch net"),
        "guess_hidden_self": F((bool,), True, None, "guess A2: hidden self-connections"),
        "guess_update": F((str,), "ordered", _one_of("ordered", "synchronous"),
                          "guess: units updated in order within a step, or all from step t-1"),
    },
    "init": {
        "scale": F(NUM, 0.2, _nonneg, "weights U[-scale, scale]"),
        "input_gate_bias": F((list, NONE), None, _floats, "per block; null = random"),
        "output_gate_bias": F((list, NONE), None, _floats, "per block; null = random"),
        "forget_gate_bias": F((list, NONE), None, _floats,
                              "per block; null = random (GSC00: +0.5, +1.0, +1.5, +2.0)"),
        "bias_mode": F((str,), "exact", _one_of("exact", "offset"), "A5"),
    },
    "train": {
        "lr": F(NUM, 0.1, _pos, "learning rate alpha"),
        "update": F((str,), "step", _one_of("step", "sequence"), "when weight changes apply (A3)"),
        "sampling": F((str,), "random", _one_of("random", "epoch", "shuffle"),
                      "how training strings are drawn from a fixed training set"),
        "sequential": F((bool,), False, None, "sequential construction (HS97 §4 remedy 1): "
                        "memory cells join once the error stops falling"),
        "plateau_chunks": F((int,), 5, _pos, "sequential: chunks without improvement = plateau"),
        "plateau_tol": F((float,), 0.01, _nonneg, "sequential: relative improvement that counts"),
        "grow": F((str,), "all", _one_of("all", "one"),
                  "sequential: at a plateau all blocks join at once (all) or the next block joins, "
                  "one at a time, until model.blocks are in (one; HS97 §4: 'a memory cell and the "
                  "corresponding gate units are added ... whenever the error stops decreasing')"),
        "lr_decay": F(NUM, 1.0, lambda x: None if 0 < x <= 1 else "must lie in (0, 1]",
                      "cerg: rate x lr_decay per step, back to lr at every training stream "
                      "(GSC00 'sequential alpha decay'); 1.0: off"),
        "momentum": F(NUM, 0.0, lambda x: None if 0 <= x < 1 else "must lie in [0, 1)",
                      "lstm97 (truncated): on-line momentum, dw(t) = lr * (-grad) + momentum * "
                      "dw(t-1) at every weight change (GSS02); the velocity carries over from "
                      "sequence to sequence within a trial; 0: off"),
        "gradient": F((str,), "truncated", _one_of("truncated", "full"),
                      "lstm97: truncated (HS97's rule, PROTOCOLS §9.2) or full (exact BPTT "
                      "through each whole sequence, engine/lstm_full.py; weights change at "
                      "sequence ends, so train.update: sequence unless targets are at the end)"),
        "exp": F((str,), "exact", _one_of("exact", "fast", "libm"),
                 "exp in the logistic units: exact (glibc's exp inlined, engine/exactexp.py: the C "
                 "library's bits on x86-64 glibc >= 2.28 with FMA, and the same on every "
                 "platform), fast (engine/fastexp.py: vectorisable, within 2 ulp, changes low "
                 "bits; lstm97 truncated and frnn) or libm (a call of the platform's C library; "
                 "lstm97)"),
    },
    "protocol": {
        "name": F((str,), "exp1", _one_of("exp1", "abs", "st12", "st3", "nseq", "guess",
                                                    "cerg", "cslang", "timing"),
                  "stopping/success protocol (see lstmrun/protocols)"),
        "budget": F((int,), 100_000, _pos, "training sequences before a trial is failed"),
        "check_every": F((int,), 100, _pos, "training sequences between frozen-weight checks"),
        "chunk": F((int,), 1000, _pos, "training sequences per kernel call (on-line rules)"),
        "curve_points": F((int,), 100, _nonneg, "points of the recorded learning curve"),
        "threshold": F((float, NONE), None, _pos, "criterion threshold; null = the task's"),
        "window": F((int,), 2000, _pos, "sequences in the success window (ABS, ST3, n_seq)"),
        "abs_mode": F((str,), "frozen", _one_of("frozen", "online"), "how ABS is checked (A9)"),
        "beta": F((float,), 0.01, _pos, "ST3(beta): bound on the average training error"),
        "error_kind": F((str,), "mae", _one_of("mae", "mse"), "ST3's average error (A10)"),
        "st3_halves": F((bool,), False, None, "st3: also record, per trial, the first sequence at "
                        "which each half of ST3 held alone (all of the last window correct; their "
                        "mean error < beta); diagnostic only, the stop rule is unchanged"),
        "test_size": F((int,), 256, _pos, "ST1/ST2 test-set size"),
        "st1_max_wrong": F((int,), 0, _nonneg, "ST1: misclassified test sequences allowed"),
        "st2_max_error": F((float,), 0.01, _pos, "ST2: bound on the mean absolute test error"),
        "st_test_set": F((str,), "fresh", _one_of("fresh", "fixed"),
                         "ST1/ST2: a fresh random test set at every check, or one drawn at the "
                         "trial's start and reused (A13)"),
        "st_consecutive": F((int,), 1, _pos, "ST1/ST2: checks in a row the rule must hold on "
                            "(count reported at the last of them; A13)"),
        "n_seq": F((int,), 140, _pos, "Exp 5: n_seq"),
        "post_test": F((int,), 2560, _nonneg, "fresh sequences tested after success (0: none)"),
        # guess (random weight guessing): budget counts guesses; test_size is its test set
        "weight_range": F(NUM, 100.0, _pos, "guess: weights U[-weight_range, weight_range]"),
        "train_size": F((int,), 100, _pos, "guess: training-set size"),
        "balanced": F((bool,), True, None, "guess: half of each set per class"),
        # cerg (continual embedded Reber grammar, GSC00 §4; lstmrun/protocols/cerg.py): budget
        # counts training streams, check_every the training streams between tests
        "stream_cap": F((int,), 100_000, _pos, "cerg: symbols after which a training stream ends"),
        "test_streams": F((int,), 10, _pos, "cerg: test streams per test"),
        "test_cap": F((int,), 100_000, _pos, "cerg: symbols of a perfect test stream"),
        "good_length": F((int,), 1000, _pos, "cerg: mean error-free test length above which a "
                         "net that is not perfect counts as good"),
        # cslang (a^n b^n, a^n b^n c^n, GS01; lstmrun/protocols/cslang.py): budget counts
        # training strings until the training set is first correct
        "train_after_solved": F((int,), 0, _nonneg, "cslang: training strings after the training "
                                "set is first correct, generalisation tracked (0: stop there)"),
        "gen_check_every": F((int,), 1000, _pos, "cslang: training strings between "
                             "generalisation tests after the training set is first correct"),
    },
}
TOP: dict[str, F] = {
    "experiment": F((str,), "experiment"),
    "trials": F((int,), 1, _pos),
    "seed": F((int,), 0, _nonneg),
    "notes": F((str, NONE), None),
    "paper": F((dict, NONE), None),
}
TASK_KEYS = "task"


def defaults() -> dict:
    d = {k: f.default for k, f in TOP.items()}
    for sec, fields in SCHEMA.items():
        d[sec] = {k: copy.deepcopy(f.default) for k, f in fields.items()}
    d["task"] = {}
    return d


def _check_field(where: str, f: F, v: Any) -> Any:
    if isinstance(v, bool) and bool not in f.types:
        raise ConfigError(f"{where}: expected {_tname(f.types)}, got a boolean")
    if isinstance(v, float) and not math.isfinite(v):
        raise ConfigError(f"{where}: must be finite (got {v!r})")
    if float in f.types and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if int in f.types and float not in f.types and isinstance(v, float) and v.is_integer():
        v = int(v)                      # budget: 5e3, as researchers type it
    if not isinstance(v, f.types):
        raise ConfigError(f"{where}: expected {_tname(f.types)}, got {type(v).__name__} {v!r}")
    if f.check is not None and v is not None:
        msg = f.check(v)
        if msg:
            raise ConfigError(f"{where}: {msg} (got {v!r})")
    return v


def _tname(types) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false",
             list: "a list", dict: "a mapping", NONE: "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def validate(raw: dict, source: str = "<config>") -> dict:
    """Merge ``raw`` onto the defaults and check every key. Returns the resolved config."""
    from .tasks import registry  # tasks sit below the config layer

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a config must be a mapping of sections")
    cfg = defaults()
    for key, val in raw.items():
        if key in TOP:
            cfg[key] = _check_field(f"{source}: {key}", TOP[key], val)
        elif key in SCHEMA:
            if not isinstance(val, dict):
                raise ConfigError(f"{source}: {key}: expected a mapping")
            for k, v in val.items():
                if k not in SCHEMA[key]:
                    raise ConfigError(f"{source}: unknown key {key}.{k} (known: "
                                      f"{', '.join(SCHEMA[key])})")
                cfg[key][k] = _check_field(f"{source}: {key}.{k}", SCHEMA[key][k], v)
        elif key == "task":
            if not isinstance(val, dict):
                raise ConfigError(f"{source}: task: expected a mapping")
            cfg["task"] = dict(val)
        else:
            raise ConfigError(f"{source}: unknown key {key} (known: "
                              f"{', '.join(list(TOP) + list(SCHEMA) + ['task'])})")
    try:
        cfg["task"] = registry.validate_task(cfg["task"])
    except ValueError as e:
        raise ConfigError(f"{source}: {e}") from None
    _cross_checks(cfg, source)
    return cfg


def _cross_checks(cfg: dict, source: str) -> None:
    m, i = cfg["model"], cfg["init"]
    if m["kind"] == "guess" and cfg["protocol"]["name"] != "guess":
        raise ConfigError(f"{source}: model.kind guess needs protocol.name guess (a guessing "
                          "net does not learn)")
    for key in ("input_gate_bias", "output_gate_bias", "forget_gate_bias"):
        if i[key] is not None and len(i[key]) != m["blocks"]:
            raise ConfigError(f"{source}: init.{key}: needs one value per block "
                              f"({m['blocks']}), got {len(i[key])}")
    if i["output_gate_bias"] is not None and not m["output_gate"]:
        raise ConfigError(f"{source}: init.output_gate_bias: the model has no output gate")
    if i["forget_gate_bias"] is not None and not m["forget_gate"]:
        raise ConfigError(f"{source}: init.forget_gate_bias: the model has no forget gate "
                          "(model.forget_gate: true)")
    if m["forget_gate"] and m["state_decay"] is not None:
        raise ConfigError(f"{source}: model.state_decay: not with model.forget_gate (the gate "
                          "replaces the constant decay)")
    if (m["forget_gate"] or m["state_decay"] is not None) and m["kind"] != "lstm97":
        raise ConfigError(f"{source}: model.forget_gate/state_decay: only for model.kind lstm97")
    if m["peepholes"] and m["kind"] != "lstm97":
        raise ConfigError(f"{source}: model.peepholes: only for model.kind lstm97")
    if m["gate_sources"] != "raw" and (m["kind"] != "lstm97" or m["connectivity"] != "F"):
        raise ConfigError(f"{source}: model.gate_sources: centred is for model.kind lstm97 with "
                          "connectivity F (where units read the gates' outputs)")
    pname = cfg["protocol"]["name"]
    if cfg["train"]["lr_decay"] != 1.0 and pname != "cerg":
        raise ConfigError(f"{source}: train.lr_decay: only with protocol.name cerg (the rate "
                          "goes back to train.lr at every training stream)")
    from .protocols import check as protocol_check

    why = protocol_check(pname, cfg["task"].get("name"), m["kind"])
    if why:
        raise ConfigError(f"{source}: {why}")
    if any(i[k] is not None for k in ("input_gate_bias", "output_gate_bias", "forget_gate_bias")) \
            and m["biases"] == "none":
        raise ConfigError(f"{source}: init: gate biases given but model.biases is 'none'")
    if cfg["train"]["exp"] == "fast" and m["kind"] not in ("lstm97", "frnn"):
        raise ConfigError(f"{source}: train.exp: fast is for model.kind lstm97 and frnn; the "
                          "other kernels use the exact exp")
    if cfg["train"]["exp"] == "libm" and m["kind"] != "lstm97":
        raise ConfigError(f"{source}: train.exp: libm is for model.kind lstm97; the other "
                          "kernels use the exact exp")
    if cfg["train"]["momentum"] and m["kind"] != "lstm97":
        raise ConfigError(f"{source}: train.momentum is for model.kind lstm97")
    if cfg["train"]["gradient"] == "full":
        if m["kind"] != "lstm97":
            raise ConfigError(f"{source}: train.gradient: full is for model.kind lstm97 (frnn: "
                              "model.rule bptt)")
        if m["peepholes"]:
            raise ConfigError(f"{source}: train.gradient: full is not implemented with "
                              "model.peepholes (peephole nets learn with the truncated rule, "
                              "PROTOCOLS §13.1)")
        if m["gate_sources"] != "raw":
            raise ConfigError(f"{source}: train.gradient: full reads the gates' outputs raw "
                              "(model.gate_sources: raw)")
        if cfg["train"]["update"] == "step" and not _final_targets_only(cfg["task"]):
            raise ConfigError(f"{source}: train.update: step is not available with "
                              "train.gradient: full (BPTT changes the weights once per sequence; "
                              "the two are the same only when each sequence's last step is its "
                              "only target) -- use train.update: sequence")


def _final_targets_only(task_cfg: dict) -> bool:
    """Whether the task's training targets sit at the last step of each sequence only (checked on
    a few sampled sequences)."""
    import numpy as np

    from .engine.lstm_full import only_final_targets
    from .tasks.registry import build_task

    chunk = build_task(task_cfg).sample(np.random.default_rng(0), 4)
    return only_final_targets(chunk.offsets, chunk.has_target)


class _Loader(yaml.SafeLoader):
    """YAML as configs are typed: ``1e-3`` and ``5e3`` are numbers (YAML 1.2; PyYAML's 1.1 rules
    read them as strings), and a key given twice in one mapping is an error, not "last one wins"."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                dup = key in seen
            except TypeError:   # an unhashable key: the base class reports it
                break
            if dup:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def yaml_load(text: str) -> Any:
    """Parse config text (see :class:`_Loader`)."""
    return yaml.load(text, Loader=_Loader)


def parse_value(text: str) -> Any:
    """A ``--set`` value is read as YAML: ``0.2`` -> float, ``1e-3`` -> float, ``true`` -> bool,
    ``[1, 2]`` -> list."""
    try:
        return yaml_load(text) if text.strip() else ""
    except yaml.YAMLError as e:
        raise ConfigError(f"--set value {text!r}: not valid YAML ({str(e).splitlines()[0]})") \
            from None


def apply_overrides(raw: dict, sets: list[str]) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError("a config must be a mapping of sections (this file is a "
                          f"{type(raw).__name__}), so --set/--trials/--seed cannot apply")
    raw = copy.deepcopy(raw)
    for s in sets:
        if "=" not in s:
            raise ConfigError(f"--set {s!r}: expected key=value")
        key, val = s.split("=", 1)
        parts = key.strip().split(".")
        node = raw
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {p} is not a section")
        node[parts[-1]] = parse_value(val)
    return raw


def load(path: str | Path, sets: list[str] | None = None) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if sets:
        try:
            raw = apply_overrides(raw, sets)
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None
    return validate(raw, str(path))


def read_yaml(path: Path) -> Any:
    """The YAML data of a config file; ConfigError (one line) if it cannot be read or parsed."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                          f"{e.start}); a config is a YAML text file") from None
    try:
        return yaml_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({_yaml_msg(e)})") from None


def _yaml_msg(e: yaml.YAMLError) -> str:
    problem = getattr(e, "problem", None)
    mark = getattr(e, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem}, line {mark.line + 1}"
    return str(e).splitlines()[0]


def dump(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)
