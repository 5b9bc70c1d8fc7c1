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
