"""Experiment configs: plain YAML data, defaults in code, strict validation.

A config has the sections ``task``, ``model``, ``init``, ``train``, ``protocol`` and the scalars
``experiment``, ``trials``, ``seed`` plus free-form ``paper`` (the paper's reference numbers) and
``notes``. An unknown key, a wrong type or an impossible value is a :class:`ConfigError` whose
message names the key (and the file); the CLI turns it into one line and exit code 2.
"""

from __future__ import annotations

import copy
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
        "kind": F((str,), "lstm97", _one_of("lstm97", "frnn", "elman"),
                  "lstm97: the 1997 LSTM; frnn: fully recurrent net (RTRL/BPTT); elman: SRN"),
        "blocks": F((int,), 1, _pos, "memory blocks"),
        "cells_per_block": F((int,), 1, _pos, "cells per block (S)"),
        "output_gate": F((bool,), True),
        "connectivity": F((str,), "F", _one_of("F", "B"), "HS97 Table 10 'conn'"),
        "biases": F((str,), "ga", _one_of("ga", "b1", "all", "none"), "HS97 Table 10 'bias'"),
        "output_bias": F((bool, NONE), None, None, "override: bias on output units"),
        "input_to_output": F((bool, NONE), None, None, "override: input->output weights"),
        "g": F((str,), "g2", _one_of("g2", "h1", "logistic", "identity"), "cell input squash"),
        "h": F((str,), "h1", _one_of("g2", "h1", "logistic", "identity"), "cell output squash"),
        "output_act": F((str,), "logistic", _one_of("logistic", "identity")),
        "reset_act": F(NUM, 0.0, None, "hidden activations at a sequence start (HS97: 0)"),
        # baselines (kind frnn / elman)
        "hidden": F((int,), 1, _pos, "frnn/elman: hidden units"),
        "outputs": F((str,), "separate", _one_of("separate", "visible"),
                     "frnn: outputs a separate non-recurrent layer, or among the recurrent units"),
        "rule": F((str,), "rtrl", _one_of("rtrl", "bptt"), "frnn: learning rule"),
        "hidden_bias": F((bool,), False, None, "frnn/elman: bias on hidden units"),
        "hidden_self_only": F((bool,), False, None, "frnn: hidden units read only themselves"),
    },
    "init": {
        "scale": F(NUM, 0.2, _nonneg, "weights U[-scale, scale]"),
        "input_gate_bias": F((list, NONE), None, _floats, "per block; null = random"),
        "output_gate_bias": F((list, NONE), None, _floats, "per block; null = random"),
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
    },
    "protocol": {
        "name": F((str,), "exp1", _one_of("exp1", "abs", "st12", "st3", "nseq"),
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
        "test_size": F((int,), 256, _pos, "ST1/ST2 test-set size"),
        "st1_max_wrong": F((int,), 0, _nonneg, "ST1: misclassified test sequences allowed"),
        "st2_max_error": F((float,), 0.01, _pos, "ST2: bound on the mean absolute test error"),
        "n_seq": F((int,), 140, _pos, "Exp 5: n_seq"),
        "post_test": F((int,), 2560, _nonneg, "fresh sequences tested after success (0: none)"),
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
    if float in f.types and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
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
    for key in ("input_gate_bias", "output_gate_bias"):
        if i[key] is not None and len(i[key]) != m["blocks"]:
            raise ConfigError(f"{source}: init.{key}: needs one value per block "
                              f"({m['blocks']}), got {len(i[key])}")
    if i["output_gate_bias"] is not None and not m["output_gate"]:
        raise ConfigError(f"{source}: init.output_gate_bias: the model has no output gate")
    if (i["input_gate_bias"] is not None or i["output_gate_bias"] is not None) \
            and m["biases"] == "none":
        raise ConfigError(f"{source}: init: gate biases given but model.biases is 'none'")


def parse_value(text: str) -> Any:
    """A ``--set`` value is read as YAML: ``0.2`` -> float, ``true`` -> bool, ``[1, 2]`` -> list."""
    return yaml.safe_load(text) if text.strip() else ""


def apply_overrides(raw: dict, sets: list[str]) -> dict:
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
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if sets:
        raw = apply_overrides(raw, sets)
    return validate(raw, str(path))


def dump(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)
