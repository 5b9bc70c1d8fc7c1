"""Sweeps: many configs and grids of settings, every point a run folder under one sweep folder.

A sweep is a list of *points*, each a config file plus ``--set``-style overrides. From the command
line: every CONFIG times the product of the ``--grid key=v1,v2,...`` values, times the paired
``--zip key=v1,v2,...`` values (all zips the same length). A sweep file in YAML says the same::

    configs: [configs/paper/exp1_erg_3x2_lr05.yaml, configs/paper/exp1_erg_4x1_lr01.yaml]
    grid: {train.lr: [0.1, 0.2, 0.5]}
    zip: {model.blocks: [3, 4], model.cells_per_block: [2, 1]}
    set: {trials: 10}

The sweep folder holds ``sweep.json`` (the points, their overrides and run folders) and one run
folder per point (the format of ``lstmrun train``).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import yaml

from .config import ConfigError, load, parse_value, read_yaml


def parse_pairs(specs: list[str], what: str) -> list[tuple[str, list]]:
    out = []
    for spec in specs:
        if "=" not in spec:
            raise ConfigError(f"--{what} {spec!r}: expected key=v1,v2,...")
        key, vals = spec.split("=", 1)
        values = [parse_value(v) for v in vals.split(",")]
        if not key or not vals or any(v == "" for v in values):
            raise ConfigError(f"--{what} {spec!r}: expected key=v1,v2,...")
        out.append((key.strip(), values))
    return out


def expand(grids: list[tuple[str, list]], zips: list[tuple[str, list]]) -> list[dict]:
    """The override dicts: the product of the grids times the paired zip values."""
    if zips and len({len(v) for _, v in zips}) != 1:
        raise ConfigError("--zip lists must all have the same length")
    zipped = [dict(zip([k for k, _ in zips], combo)) for combo in zip(*[v for _, v in zips])] \
        if zips else [{}]
    keys = [k for k, _ in grids]
    out = []
    for combo in itertools.product(*[v for _, v in grids]):
        for z in zipped:
            d = dict(zip(keys, combo))
            d.update(z)
            out.append(d)
    return out


def _fmt(v) -> str:
    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()


def point_name(config: Path, overrides: dict, cfg: dict) -> str:
    parts = [cfg["experiment"]] + [f"{k.split('.')[-1]}={_fmt(v)}" for k, v in overrides.items()]
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", "__".join(parts))


def make_points(configs: list[str], grids, zips, common_sets: list[str]) -> list[dict]:
    """Resolve every point (validating each config) into ``{name, config, sets, cfg}``."""
    points = []
    names = set()
    for c in configs:
        for ov in expand(grids, zips):
            sets = list(common_sets) + [f"{k}={_fmt(v)}" for k, v in ov.items()]
            cfg = load(c, sets)
            name = point_name(Path(c), ov, cfg)
            if name in names:
                raise ConfigError(f"two sweep points share the name {name}")
            names.add(name)
            points.append({"name": name, "config": str(c), "sets": sets, "cfg": cfg})
    return points


def load_sweep_file(path: str) -> tuple[list[str], list, list, list[str]]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such sweep file")
    d = read_yaml(p) or {}
    if not isinstance(d, dict):
        raise ConfigError(f"{p}: a sweep file is a mapping")
    unknown = set(d) - {"configs", "config", "grid", "zip", "set"}
    if unknown:
        raise ConfigError(f"{p}: unknown key(s) {', '.join(sorted(unknown))} "
                          "(known: configs, config, grid, zip, set)")
    configs = d.get("configs") or ([d["config"]] if "config" in d else [])
    if not configs:
        raise ConfigError(f"{p}: needs 'configs' (a list) or 'config'")
    base = p.parent
    configs = [str(c if Path(c).is_absolute() or Path(c).exists() else base / c) for c in configs]
    for key in ("grid", "zip", "set"):
        if not isinstance(d.get(key) or {}, dict):
            raise ConfigError(f"{p}: {key}: expected a mapping of key: values")
    grids = [(k, v if isinstance(v, list) else [v]) for k, v in (d.get("grid") or {}).items()]
    zips = [(k, v if isinstance(v, list) else [v]) for k, v in (d.get("zip") or {}).items()]
    sets = [f"{k}={_fmt(v)}" for k, v in (d.get("set") or {}).items()]
    return configs, grids, zips, sets


def default_sweep_dir() -> Path:
    """``results/sweeps/<timestamp>-<id>/``."""
    import datetime as _dt
    import secrets

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / "sweeps" / f"{stamp}-{secrets.token_hex(3)}"


def manifest(points: list[dict]) -> dict:
    return {"points": [{"name": p["name"], "config": p["config"], "sets": p["sets"],
                        "run": p["name"]} for p in points]}


def write_manifest(out: Path, points: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "sweep.json.tmp"
    tmp.write_text(json.dumps(manifest(points), indent=2) + "\n")
    tmp.replace(out / "sweep.json")


def check_manifest(out: Path, points: list[dict]) -> None:
    p = out / "sweep.json"
    if not p.exists():
        raise ConfigError(f"{out}: not a sweep folder (no sweep.json)")
    old = json.loads(p.read_text())
    if old != manifest(points):
        raise ConfigError(f"{out}: the sweep's points differ from this command's; refusing to mix "
                          "results -- start a new sweep instead")
