"""Stop and success rules. Each module declares what it runs (``ACCEPTS``, :class:`base.Accepts`)
and has ``run(cfg, task, net, data_rng, train_rng) -> dict``; those that add to a run's summary
have ``summary(trials) -> dict`` (written under the protocol's name)."""

from __future__ import annotations

from . import cerg, cslang, exp1, guess, online, timing

MODULES = (exp1, online, guess, cerg, cslang, timing)
BY_NAME = {name: m for m in MODULES for name in m.ACCEPTS.names}


def check(pname: str, task_name: str, model_kind: str) -> str | None:
    """Why this protocol, task and model kind do not go together (None if they do)."""
    mod = BY_NAME.get(pname)
    if mod is None:
        return f"protocol.name: unknown protocol {pname!r} (known: {', '.join(BY_NAME)})"
    a, where = mod.ACCEPTS, f"lstmrun/protocols/{mod.__name__.rsplit('.', 1)[-1]}.py"
    for other in MODULES:
        b = other.ACCEPTS
        if b.exclusive and task_name in b.tasks and pname not in b.names:
            return (f"task.name {task_name} goes with protocol.name {' or '.join(b.names)} "
                    f"(lstmrun/protocols/{other.__name__.rsplit('.', 1)[-1]}.py)")
    if a.tasks is not None and task_name not in a.tasks:
        return f"protocol.name {pname} goes with task.name {' or '.join(a.tasks)} ({where})"
    if a.models is not None and model_kind not in a.models:
        return f"protocol.name {pname} needs model.kind {' or '.join(a.models)} ({where})"
    return None


def summary(pname: str, trials: list[dict]) -> dict | None:
    """The protocol's own part of a run's summary (GSC00's perfect/good/rest, GS01's
    generalisation), or None."""
    fn = getattr(BY_NAME[pname], "summary", None)
    return fn(trials) if fn is not None else None
