"""a^n b^n and a^n b^n c^n (GS01; PROTOCOLS §14): the strings and their legal-next sets against the
languages' definition, the protocol's pieces against the reference forward pass, and the configs
of configs/gers2001 through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from reference import ref_forward

from lstmrun.cli import main
from lstmrun.config import ConfigError, load, validate
from lstmrun.protocols import cslang
from lstmrun.runner import make_arch, make_model, run_trial
from lstmrun.tasks.registry import build_task, validate_task

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs" / "gers2001").glob("*.yaml"))


def task(name="anbncn", **kw):
    return build_task(validate_task({"name": name, **kw}))


def language(letters: int, n_max: int, empty: bool = True) -> list[str]:
    """The language's strings with n <= n_max, written out from its definition."""
    lo = 0 if empty else 1
    return ["S" + "".join(ch * n for ch in "abc"[:letters]) + "T" for n in range(lo, n_max + 1)]


def legal_by_definition(prefix: str, letters: int, empty: bool = True) -> set[str]:
    """The symbols x for which prefix + x is a prefix of some string of the language (strings
    up to n = len(prefix) + 1 are enough: a prefix with k a's extends only strings with n >= k)."""
    words = language(letters, len(prefix) + 1, empty)
    return {w[len(prefix)] for w in words if w.startswith(prefix) and len(w) > len(prefix)}


# --------------------------------------------------------------------------------------------
# the strings
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, letters", [("anbn", 2), ("anbncn", 3)])
def test_strings_are_the_language(name, letters):
    t = task(name)
    assert (t.n_in, t.n_out) == (letters + 1, letters + 1)
    assert t.inputs == ["S"] + list("abc"[:letters]) and t.outputs == list("abc"[:letters]) + ["T"]
    ns = [0, 1, 2, 3, 7, 12]
    c = t.strings(ns)
    assert c.lengths().tolist() == [letters * n + 1 for n in ns]   # S and the letters; T not read
    for i, n in enumerate(ns):
        s = "".join(c.symbols[i])
        assert s == language(letters, n)[n]
        a, b = c.offsets[i], c.offsets[i + 1]
        assert [t.inputs[k] for k in c.x_idx[a:b]] == list(s[:-1])


@pytest.mark.parametrize("name, letters", [("anbn", 2), ("anbncn", 3)])
@pytest.mark.parametrize("empty", [True, False])
def test_legal_next_sets_and_targets_follow_the_definition(name, letters, empty):
    t = task(name, empty_string=empty, target_on=0.9, target_off=0.1)
    ns = [1, 2, 5, 11] + ([0] if empty else [])
    c = t.strings(ns)
    for i, n in enumerate(ns):
        s = "".join(t.string(n))
        a = int(c.offsets[i])
        for k in range(len(s) - 1):
            want = legal_by_definition(s[:k + 1], letters, empty)
            got = {t.outputs[j] for j in range(t.n_out) if (c.legal[a + k] >> j) & 1}
            assert got == want, (s, k)
            assert s[k + 1] in got                    # the actual next symbol is always legal
            assert t.legal_sets(n)[k] == want if n else True
            bits = np.array([o in want for o in t.outputs], float)
            np.testing.assert_array_equal(c.clean_targets[a + k], bits)
            np.testing.assert_array_equal(c.targets[a + k], np.where(bits == 1, 0.9, 0.1))
    assert c.has_target.all()


@pytest.mark.parametrize("name, letters", [("anbn", 2), ("anbncn", 3)])
def test_prediction_becomes_deterministic_at_the_first_b(name, letters):
    """Before the first b two symbols are legal (after S: a or T; after an a: a or b); from the
    first b on exactly one, the one the count of a's determines."""
    t = task(name)
    for n in (1, 2, 4, 9, 30):
        c = t.strings([n])
        size = np.array([bin(int(m)).count("1") for m in c.legal])
        d = t.deterministic_from(n)
        assert d == n + 1 and t.string(n)[d] == "b"
        assert (size[:d] == 2).all() and (size[d:] == 1).all()
        # the deterministic part spells the rest of the string
        rest = [t.outputs[int(np.log2(int(m)))] for m in c.legal[d:]]
        assert rest == t.string(n)[d + 1:]
    # without the empty string, S alone predicts a
    c = task(name, empty_string=False).strings([3])
    assert c.legal[0] == 1


def test_sample_draws_the_training_range():
    t = task("anbn", n_min=3, n_max=6)
    c = t.sample(np.random.default_rng(0), 400)
    ns = c.extra["n"]
    assert ns.min() == 3 and ns.max() == 6
    np.testing.assert_array_equal(c.lengths(), 2 * ns + 1)
    assert t.training_ns().tolist() == [3, 4, 5, 6]


def test_records_roundtrip_and_rejects_other_strings():
    t = task("anbncn")
    c = t.sample(np.random.default_rng(1), 5)
    back = t.chunk_from_records([c.sequence(i) for i in range(c.n)])
    for key in ("x_idx", "targets", "offsets", "legal"):
        np.testing.assert_array_equal(getattr(back, key), getattr(c, key))
    assert t.chunk_from_records([{"symbols": list("ST")}]).n == 1
    for bad in ("SaabbcT", "SabT", "TcbaS", "aabbcc", "SabcTT", "SabbcT", "S"):
        with pytest.raises(ValueError, match="not a string"):
            t.chunk_from_records([{"symbols": list(bad)}])
    with pytest.raises(ValueError, match="not a string"):
        task("anbncn", empty_string=False).chunk_from_records([{"symbols": list("ST")}])


def test_task_parameters_are_checked():
    with pytest.raises(ValueError, match="n_min"):
        validate_task({"name": "anbn", "n_min": 5, "n_max": 4})
    with pytest.raises(ValueError, match="test_n_max"):
        validate_task({"name": "anbn", "n_max": 20, "test_n_max": 10})
    with pytest.raises(ValueError, match="unknown key"):
        validate_task({"name": "anbn", "letters": 4})
    p = validate_task({"name": "anbncn"})
    assert (p["n_min"], p["n_max"], p["test_n_max"], p["empty_string"]) == (1, 10, 1000, True)


# --------------------------------------------------------------------------------------------
# protocol
# --------------------------------------------------------------------------------------------
def _cfg(name, *sets):
    return load(ROOT / "configs" / "gers2001" / name, list(sets))


@pytest.fixture(scope="module")
def trained():
    """Trial 0 of anbn_forget.yaml, stopped at the first solve."""
    cfg = _cfg("anbn_forget.yaml", "protocol.train_after_solved=0")
    rec, w = run_trial(cfg, 0)
    t = build_task(cfg["task"])
    net = make_model(cfg, t, np.random.default_rng(0))
    net.Wh[...], net.Wo[...] = w["Wh"], w["Wo"]
    return cfg, t, net, rec


def test_generalisation_matches_the_reference_forward_pass(trained):
    """gen_n, first_wrong_n and test_correct recomputed string by string from the NumPy
    reference's outputs and the definition of a correct string."""
    cfg, t, net, rec = trained
    assert rec["solved"] and rec["train_correct"] == 1.0
    top = 60
    arch = make_arch(cfg, t)
    ok = []
    for n in range(1, top + 1):
        c = t.strings([n])
        y = ref_forward(arch, net.Wh, net.Wo, c, 0)
        legal = c.clean_targets == 1
        ok.append(bool((y[legal] > 0.5).all() and (y[~legal] < 0.5).all()))
    ok = np.array(ok)
    g = cslang.generalisation(net, t, 0.5, top)
    first = int(np.argmin(ok)) + 1 if not ok.all() else None
    assert g["first_wrong_n"] == first
    assert g["gen_n"] == (first - 1 if first else top) == cslang.gen_prefix(net, t, 0.5, top)
    assert g["test_correct"] == ok.sum()
    assert g["gen_n"] >= t.p["n_max"]                 # solved: the training set is all correct
    # the record's numbers are these (test_n_max 1000 there)
    assert rec["gen_n"] == rec["gen_n_at_solve"] == g["gen_n"]


def test_blocks_cover_the_test_range(monkeypatch):
    monkeypatch.setattr(cslang, "TEST_BLOCK_STEPS", 200)
    t = task("anbncn")
    for first in (200, 8):
        blocks = list(cslang._blocks(t, 1, 40, first=first))
        assert [n for b in blocks for n in b] == list(range(1, 41))
        assert all(sum(3 * n + 1 for n in b) <= 200 or len(b) == 1 for b in blocks)
    grown = [sum(3 * n + 1 for n in b) for b in cslang._blocks(t, 1, 40, first=8)]
    assert grown[0] <= 8 and max(grown) > 100              # small first, then doubling


def test_training_after_the_solve_tracks_generalisation():
    cfg = _cfg("anbn_forget.yaml", "protocol.train_after_solved=3000",
               "protocol.gen_check_every=1000")
    rec, _ = run_trial(cfg, 0)
    first, _ = run_trial(_cfg("anbn_forget.yaml", "protocol.train_after_solved=0"), 0)
    assert rec["solved"] and rec["sequences"] == first["sequences"]
    assert rec["sequences_trained"] == rec["sequences"] + 3000
    assert rec["gen_n_best"] >= rec["gen_n_at_solve"] == first["gen_n_at_solve"]
    assert rec["sequences"] <= rec["best_at"] <= rec["sequences_trained"]


def test_configs_are_valid_and_name_their_choices():
    assert len(CONFIGS) >= 4
    for p in CONFIGS:
        cfg = load(p)
        assert cfg["protocol"]["name"] == "cslang"
        assert cfg["task"]["name"] in ("anbn", "anbncn")
        assert cfg["model"]["forget_gate"] or "lstm" in p.stem
        assert cfg["notes"] and cfg["paper"] and cfg["paper"]["source"].startswith("GS01")


def test_protocol_and_task_go_together():
    with pytest.raises(ConfigError, match="cslang"):
        validate({"task": {"name": "embedded_reber"}, "protocol": {"name": "cslang"}})
    with pytest.raises(ConfigError, match="cslang"):
        load(CONFIGS[0], ["protocol.name=exp1"])


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
def test_cli_train_sample_eval(tmp_path):
    cfgp = str(ROOT / "configs" / "gers2001" / "anbncn_forget.yaml")
    r = CliRunner().invoke(main, ["sample", cfgp, "--n", "3", "--seed", "2"])
    assert r.exit_code == 0, r.output
    recs = [json.loads(x) for x in r.output.splitlines()]
    assert all(x["symbols"][0] == "S" and x["symbols"][-1] == "T" for x in recs)
    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["train", cfgp, "--trials", "1", "--quiet", "--out", str(out),
                                  "--set", "protocol.budget=300", "--set",
                                  "protocol.train_after_solved=0", "--set", "task.test_n_max=30"])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["trials"] == 1 and "cslang" in s and s["paper"]["source"].startswith("GS01")
    t = json.loads((out / "trials.jsonl").read_text().splitlines()[0])
    assert t["sequences"] == 300 and not t["solved"] and t["test_n_max"] == 30
    data = tmp_path / "strings.jsonl"
    data.write_text("\n".join(json.dumps(x) for x in recs) + "\n")
    r = CliRunner().invoke(main, ["eval", str(out), "--data", str(data), "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["sequences"]) == 3
