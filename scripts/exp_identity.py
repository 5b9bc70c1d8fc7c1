"""Whole trials with the inlined exact exp against the C library's call: the same records?

For each ``ROW:N`` (a config of ``configs/paper``, N trials), runs ``lstmrun train`` twice, with
``--set train.exp=exact`` (``engine/exactexp.py``) and ``--set train.exp=libm`` (a call of the C
library's ``exp``), and compares the two ``trials.jsonl`` files record by record, wall times
aside; with ``--against RUNS_DIR`` also against the records of the same trials in a run folder per
row there (e.g. a reproduction run at an older commit). Finished runs in OUT are reused.

Usage: python scripts/exp_identity.py --out /tmp/xc exp4_adding_t100:3 exp2c_q50_p50:3 ...
Exit status 1 if any pair differs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def records(path: Path) -> dict[int, dict]:
    out = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        r.pop("wall_seconds", None)
        out[r["trial"]] = r
    return out


def run(row: str, n: int, mode: str, out: Path) -> Path:
    d = out / f"{row}_{mode}"
    f = d / "trials.jsonl"
    if f.exists() and len(f.read_text().splitlines()) >= n:
        return f
    subprocess.run(["rm", "-rf", str(d)], check=True)
    subprocess.run([sys.executable, "-m", "lstmrun.cli", "train", str(ROOT / "configs/paper" / f"{row}.yaml"),
                    "--trials", str(n), "--jobs", "1", "-q", "--set", f"train.exp={mode}",
                    "--out", str(d)], check=True)
    return f


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", nargs="+", help="ROW:N, e.g. exp4_adding_t100:3")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--against", type=Path, help="a folder of run folders named by row")
    a = ap.parse_args(argv)
    bad = 0
    for spec in a.rows:
        row, n = spec.split(":")
        ex, lm = (records(run(row, int(n), m, a.out)) for m in ("exact", "libm"))
        same = ex == lm
        bad += not same
        line = (f"{row}: {len(ex)} trials, exact == libm: {same}; sequences "
                f"{[ex[k]['sequences'] for k in sorted(ex)]}")
        old = a.against / row / "trials.jsonl" if a.against else None
        rec = records(old) if old is not None and old.exists() else {}
        common = sorted(k for k in ex if k in rec)
        if common:
            eq = all(ex[k] == rec[k] for k in common)
            bad += not eq
            line += f"; equal to {old.parent}'s trials {common}: {eq}"
        print(line, flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
