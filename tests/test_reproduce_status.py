"""scripts/reproduce_status.py: the per-row progress and projection of a long sweep."""
import json
import runpy
from pathlib import Path

import yaml

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_status.py"


CONFIG = Path(__file__).resolve().parents[1] / "configs" / "paper" / "exp4_adding_t100.yaml"


def _run(d: Path, trials: int, recs: list[tuple[bool, float]], torn: bool = False):
    d.mkdir(parents=True)
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg["trials"] = trials
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    text = "".join(json.dumps({"trial": k, "solved": s, "wall_seconds": w}) + "\n"
                   for k, (s, w) in enumerate(recs))
    if torn:                     # a writer caught mid-line, as a running sweep can leave it
        text += '{"trial": 9, "sol'
    (d / "trials.jsonl").write_text(text)


def test_rows_projection_and_totals(tmp_path, capsys):
    _run(tmp_path / "a", 4, [(True, 3600.0), (False, 7200.0)], torn=True)  # 2 left, 1.5 h each
    _run(tmp_path / "b", 3, [])                                  # not started: no projection
    _run(tmp_path / "c", 1, [(True, 1800.0)])                    # finished
    (tmp_path / "sweep.json").write_text(json.dumps({"points": [{"run": r} for r in "abc"]}))
    mod = runpy.run_path(str(SCRIPT))
    mod["main"]([str(tmp_path), "--jobs", "2"])
    out = capsys.readouterr().out
    assert "| a | 2/4 | 1 | 3.0 | 3.0 |" in out
    assert "| b | 0/3 | 0 | 0.0 | - |" in out
    assert "| c | 1/1 | 1 | 0.5 | 0.0 |" in out
    assert "3 of 8 trials done; 3.5 trial-hours spent; at least 3.0 trial-hours to come" in out
    assert "(~1.5 h wall with 2 workers), plus 1 row(s) not started: b" in out


def test_a_row_without_a_folder_counts_its_configs_trials(tmp_path, capsys):
    """Rows run one at a time (scripts/reproduce_queue.sh) have no folder until they start."""
    _run(tmp_path / "a", 4, [(True, 3600.0)])
    (tmp_path / "sweep.json").write_text(json.dumps({"points": [
        {"run": "a", "config": str(CONFIG)}, {"run": "exp4_adding_t100", "config": str(CONFIG)}]}))
    mod = runpy.run_path(str(SCRIPT))
    mod["main"]([str(tmp_path), "--jobs", "2"])
    out = capsys.readouterr().out
    assert "| exp4_adding_t100 | 0/10 | 0 | 0.0 | - |" in out
    assert "1 of 14 trials done" in out and "not started: exp4_adding_t100" in out
