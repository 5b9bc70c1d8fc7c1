"""Make ``lstmrun`` (repo root) and the test helpers in this folder (``reference``) importable."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _p in (str(_HERE.parent), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)
