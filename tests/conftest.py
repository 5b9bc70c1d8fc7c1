"""Make ``lstmrun`` (repo root) and the test helpers in this folder (``reference``) importable."""

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _p in (str(_HERE.parent), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# in-process CLI tests run their trials in the test process unless they ask for --jobs
os.environ.setdefault("LSTMRUN_JOBS", "1")


# The fast tier runs every LSTM on the generic kernel, which compiles once for all architectures
# (a specialised kernel compiles once per architecture, 10-30 s each on a fresh machine). The
# specialised kernels are the same source with the sizes as constants; the tests that check them
# bit for bit against the generic one set LSTMRUN_SPECIALIZE themselves. `make test-slow` runs the
# whole suite on the specialised kernels (LSTMRUN_TEST_SPECIALIZE=1). Set here, at import, so that
# module-scoped fixtures (set up before any function-scoped one) see it too.
if os.environ.get("LSTMRUN_TEST_SPECIALIZE", "0") in ("0", "", "false", "no"):
    os.environ["LSTMRUN_SPECIALIZE"] = "0"


def pytest_configure(config):
    """Compile the generic kernels once, here, before pytest-xdist starts its workers: the LSTM's
    in this process and, side by side in a second process, the baselines' and the full
    gradient's (warm_kernels.py). The workers then load them from Numba's on-disk cache instead
    of each compiling them at the same time (about two minutes of a fresh 2-core machine)."""
    if hasattr(config, "workerinput") or os.environ.get("LSTMRUN_SPECIALIZE") != "0":
        return
    if not getattr(config.option, "numprocesses", None):
        return      # one process: it compiles on first use as it would here
    import subprocess

    import numpy as np

    from lstmrun.engine import LSTM97, Arch, Init
    from lstmrun.engine.chunk import Chunk

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(_HERE.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    others = subprocess.Popen([sys.executable, str(_HERE / "warm_kernels.py")], cwd=_HERE.parent,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        net = LSTM97.random(Arch(2, 1, 1, 1), Init(0.1), np.random.default_rng(0))
        chunk = Chunk(np.array([0, 3], np.int64), np.zeros(0, np.int32), np.zeros((3, 2)),
                      np.zeros((3, 1)), np.ones(3, np.uint8), np.zeros(3, np.int64), False, 2, 1)
        net.train(chunk, lr=0.1)
    finally:
        try:
            others.wait(timeout=900)
        except subprocess.TimeoutExpired:
            others.kill()
