"""The package's imports point one way: engine <- tasks/protocols <- runner/config <-
report/plots/inspect <- cli (docs/architecture.md), and no module imports itself round a circle.
Every ``import`` counts, also those inside functions."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "lstmrun"

LAYERS = {
    "engine": 0,
    "tasks": 1, "protocols": 1,
    "runner": 2, "config": 2, "rundir": 2, "factory": 2, "executors": 2, "sweep": 2,
    "lockstep": 2,
    "report": 3, "plots": 3, "inspect": 3,
    "cli": 4,
}


def _modules():
    for f in sorted(PKG.rglob("*.py")):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), f


def _imports(mod: str, f: Path):
    is_pkg = f.name == "__init__.py"
    pkg = mod if is_pkg else mod.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(f.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [a.name for a in node.names]
            else:
                target, names = node.module or "", [a.name for a in node.names]
            if target == "lstmrun":     # from . import __version__ / from lstmrun import x
                yield from (f"lstmrun.{n}" for n in names if n != "__version__")
            elif target.startswith("lstmrun."):
                # from .protocols import cerg: the submodule when there is one (see _graph)
                yield from (f"{target}.{n}" for n in names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("lstmrun."))


def _layer(mod: str):
    parts = mod.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def _graph():
    known = {m for m, _ in _modules()}
    g = {}
    for mod, f in _modules():
        deps = set()
        for t in _imports(mod, f):
            while t not in known and "." in t:      # lstmrun.engine.judge.M_SSE -> the module
                t = t.rsplit(".", 1)[0]
            if t != mod and t in known and t != "lstmrun":
                deps.add(t)
        g[mod] = deps
    return g


def test_every_module_has_a_layer():
    missing = [m for m, _ in _modules() if m != "lstmrun" and _layer(m) is None]
    assert not missing, f"add these to LAYERS (and docs/architecture.md): {missing}"


def test_no_import_points_up():
    up = [f"{m} -> {t}" for m, deps in _graph().items() for t in deps
          if _layer(m) is not None and _layer(t) is not None and _layer(t) > _layer(m)]
    assert not up, up


def test_no_circles():
    g = _graph()
    # a package's __init__ re-exporting its own modules is not a circle
    g = {m: {t for t in d if not t.startswith(m + ".")} for m, d in g.items()}
    seen, stack, circles = set(), [], []

    def visit(m):
        if m in stack:
            circles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for t in sorted(g.get(m, ())):
            visit(t)
        stack.pop()

    for m in sorted(g):
        visit(m)
    assert not circles, circles
