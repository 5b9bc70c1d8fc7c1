"""Tabulate run folders beside the paper's numbers, with uncertainty and flags.

A run folder (``lstmrun train``) holds ``config.yaml`` (with a ``paper:`` mapping of HS97's
reference numbers), ``meta.json`` and ``trials.jsonl``; ``summary.json`` is not needed (a run that
is still going has none), everything is recomputed from the trials.

Statistics (numpy / the standard library only):

* success rate: exact Clopper-Pearson interval (``clopper_pearson``; ``wilson`` is also offered);
* sequences to solve, over the solved trials: mean with a percentile-bootstrap interval
  (``bootstrap_mean_ci``, fixed seed, so reports are reproducible), median, quartiles, min, max.

Random-weight-guessing runs (``protocol.name: guess``) count *guesses* instead of sequences: their
rows carry ``unit: guesses``, the statistics under ``guesses``, the paper's ``mean_guesses`` and
the solvers' mean test fraction correct (``test_fraction_correct``).

Flags (a row's ``flags`` list):

* ``paper mean outside our 95% CI``: the paper's mean is a number, we have >= 2 solved trials and
  it lies outside the bootstrap interval of our mean;
* ``success significantly below the paper's``: the paper's ``success_pct`` is above our
  Clopper-Pearson upper bound. The paper's percentages are whole numbers, so the paper's value is
  taken as ``success_pct - 0.5`` (the least it can have been before rounding): e.g. 29/30 (upper
  bound 99.92%) is not flagged against 100%, 27/30 (97.9%) is;
* ``no trial solved``;
* ``unfinished run (status)`` when ``meta.json`` says the run is not finished;
* ``setup differs from the paper's row (--set keys)`` when ``lstmrun train --set`` changed what
  the config's paper row describes (``paper.setup_differs``, written by the CLI).
* ``trial-s count time shared by --lanes N trials`` when a session of the run trained N trials
  side by side in one kernel call (``meta.json``'s ``lanes``, ``resumed_lanes``): each trial's
  ``wall_seconds`` is then the time it ran beside the others, and their sum over-counts the work.

Rows whose paper reports a failing baseline (``success_pct: 0`` or a mean like ``'>5,000,000'``)
get neither of the two low-success flags.

``report_command(run_dirs, fmt, out)`` is the entry point for the CLI.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import yaml

from .rundir import git_info, read_trials

__all__ = ["wilson", "clopper_pearson", "bootstrap_mean_ci", "row_stats", "render",
           "report_command", "FORMATS"]

FORMATS = ("md", "csv", "json")
OUT_NAMES = {"md": "REPORT.md", "csv": "summary.csv", "json": "report.json"}

FLAG_MEAN = "paper mean outside our 95% CI"
FLAG_SUCCESS = "success significantly below the paper's"
FLAG_NONE = "no trial solved"


# --------------------------------------------------------------------------- intervals
def _check(k, n, conf):
    if not (isinstance(n, (int, np.integer)) and isinstance(k, (int, np.integer))):
        raise TypeError(f"k and n must be integers (got k={k!r}, n={n!r})")
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0 (got k={k}, n={n})")
    if not 0 < conf < 1:
        raise ValueError(f"conf must lie in (0, 1) (got {conf})")


def wilson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n."""
    _check(k, n, conf)
    z = NormalDist().inv_cdf(0.5 + conf / 2)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def _log_pmf(n: int, p: float) -> np.ndarray:
    """log P(X = i), i = 0..n, for X ~ Binomial(n, p) with 0 < p < 1."""
    i = np.arange(n + 1)
    lchoose = (math.lgamma(n + 1) - np.array([math.lgamma(j + 1) for j in i])
               - np.array([math.lgamma(n - j + 1) for j in i]))
    return lchoose + i * math.log(p) + (n - i) * math.log1p(-p)


def _tail(k: int, n: int, p: float, upper: bool) -> float:
    """P(X >= k) (upper) or P(X <= k) for X ~ Binomial(n, p), summed in log space."""
    if p <= 0.0:
        return 1.0 if (not upper or k <= 0) else 0.0
    if p >= 1.0:
        return 1.0 if (upper or k >= n) else 0.0
    lp = _log_pmf(n, p)
    part = lp[k:] if upper else lp[:k + 1]
    m = part.max()
    return float(min(1.0, math.exp(m) * np.exp(part - m).sum()))


def _bisect(f, target: float, increasing: bool, tol: float = 1e-13) -> float:
    """The p in [0, 1] where the monotone f(p) crosses target."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        below = f(mid) < target
        if below == increasing:
            lo = mid
        else:
            hi = mid
        if hi - lo < tol:
            break
    return 0.5 * (lo + hi)


def clopper_pearson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion k/n.

    lower: the p with P(X >= k | n, p) = alpha/2 (0 when k = 0);
    upper: the p with P(X <= k | n, p) = alpha/2 (1 when k = n).
    """
    _check(k, n, conf)
    a = (1 - conf) / 2
    lo = 0.0 if k == 0 else _bisect(lambda p: _tail(k, n, p, True), a, increasing=True)
    hi = 1.0 if k == n else _bisect(lambda p: _tail(k, n, p, False), a, increasing=False)
    return lo, hi


def bootstrap_mean_ci(values, conf: float = 0.95, n_boot: int = 10000,
                      seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``values`` (deterministic for a seed)."""
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("bootstrap_mean_ci needs at least one value")
    if not 0 < conf < 1:
        raise ValueError(f"conf must lie in (0, 1) (got {conf})")
    if x.size == 1 or np.all(x == x[0]):
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    step = max(1, 2_000_000 // x.size)          # bound the index matrix's memory
    for s in range(0, n_boot, step):
        e = min(n_boot, s + step)
        means[s:e] = x[rng.integers(0, x.size, size=(e - s, x.size))].mean(axis=1)
    a = (1 - conf) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(lo), float(hi)


# --------------------------------------------------------------------------- one run
def _num(v):
    """A paper value as a float, or None when it is not a plain number ('>5,000,000', 'about 435')."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, str):
        try:
            return float(v.replace(",", "").replace("_", "").strip())
        except ValueError:
            return None
    return None


def _is_failing_baseline(paper: dict) -> bool:
    sp = _num(paper.get("success_pct"))
    ms = paper.get("mean_sequences", paper.get("mean_guesses"))
    return (sp is not None and sp == 0) or (isinstance(ms, str) and ms.strip().startswith(">"))


def _mean(xs):
    return float(np.mean(xs)) if xs else None


def is_run_dir(path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "config.yaml").is_file() and (p / "meta.json").is_file()


def _label(run_dir: Path) -> str:
    parts = run_dir.resolve().parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else str(run_dir)


def row_stats(run_dir) -> dict:
    """Everything the report shows about one run folder, as a JSON-ready dict."""
    run_dir = Path(run_dir)
    if not is_run_dir(run_dir):
        raise ValueError(f"{run_dir}: not a run folder (needs config.yaml and meta.json, "
                         "as written by `lstmrun train`)")
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text()) or {}
    meta = json.loads((run_dir / "meta.json").read_text())
    by_trial = {}
    for t in read_trials(run_dir):                 # a resumed run could repeat one: keep the last
        by_trial[t.get("trial", len(by_trial))] = t
    trials = [by_trial[k] for k in sorted(by_trial)]
    paper = cfg.get("paper") or {}
    if not isinstance(paper, dict):
        paper = {}

    n = len(trials)
    # what a trial counts until it solves: training sequences, or guesses (random weight guessing)
    unit = "guesses" if (cfg.get("protocol") or {}).get("name") == "guess" else "sequences"
    solved_seq = [int(t[unit]) for t in trials if t.get("solved")]
    k = len(solved_seq)
    row: dict = {
        "run": _label(run_dir), "path": str(run_dir),
        "experiment": cfg.get("experiment", meta.get("experiment", run_dir.name)),
        "status": meta.get("status"), "planned_trials": cfg.get("trials", meta.get("trials")),
        "budget": (cfg.get("protocol") or {}).get("budget"),
        "trials": n, "solved": k, "success_rate": (k / n) if n else None,
        "success_ci": list(clopper_pearson(k, n)) if n else None, "unit": unit,
        "kind": (cfg.get("model") or {}).get("kind", "lstm97"), "seed": cfg.get("seed"),
        "solved_values": solved_seq,
        "commits": run_commits(meta),
    }

    seq = None
    if solved_seq:
        a = np.asarray(solved_seq, float)
        seq = {"mean": float(a.mean()), "ci": list(bootstrap_mean_ci(a)),
               "median": float(np.median(a)), "q25": float(np.percentile(a, 25)),
               "q75": float(np.percentile(a, 75)), "min": int(a.min()), "max": int(a.max())}
    row["sequences"] = seq if unit == "sequences" else None
    if unit != "sequences":
        row[unit] = seq
    fr = [t["test_fraction_correct"] for t in trials
          if t.get("solved") and t.get("test_fraction_correct") is not None]
    row["test_fraction_correct"] = _mean(fr)

    pts = [t["post_test"] for t in trials if isinstance(t.get("post_test"), dict)]
    post = None
    if pts:
        ns = sorted({p.get("n") for p in pts if p.get("n") is not None})
        post = {"trials": len(pts), "n": ns[0] if len(ns) == 1 else ns,
                "mean_wrong": _mean([p["wrong"] for p in pts if "wrong" in p]),
                "mean_fraction_wrong": _mean([p["fraction_wrong"] for p in pts
                                              if "fraction_wrong" in p]),
                "mean_mse": _mean([p["mse"] for p in pts if "mse" in p])}
    row["post_test"] = post
    st1 = [t["st1_sequences"] for t in trials if t.get("st1_sequences") is not None]
    row["st1_mean"] = _mean(st1)
    row["st1_trials"] = len(st1)
    row["trial_seconds"] = float(sum(t.get("wall_seconds") or 0.0 for t in trials))

    row["paper"] = paper
    pm = _num(paper.get(f"mean_{unit}"))
    row["ratio_mean"] = (seq["mean"] / pm) if (seq and pm) else None
    row["ratio_ci"] = [seq["ci"][0] / pm, seq["ci"][1] / pm] if (seq and pm) else None

    flags = []
    failing = _is_failing_baseline(paper)
    if pm is not None and seq and k >= 2 and not seq["ci"][0] <= pm <= seq["ci"][1]:
        flags.append(FLAG_MEAN)
    sp = _num(paper.get("success_pct"))
    if sp is not None and n and not failing and (sp - 0.5) / 100 > row["success_ci"][1]:
        flags.append(FLAG_SUCCESS)
    if n and k == 0 and not failing:
        flags.append(FLAG_NONE)
    if meta.get("status") not in (None, "finished"):
        flags.append(f"unfinished run ({meta.get('status')})")
    shared = max([v for v in [meta.get("lanes")] + list(meta.get("resumed_lanes") or [])
                  if isinstance(v, int)], default=1)
    if shared > 1:
        flags.append(f"trial-s count time shared by --lanes {shared} trials")
    if paper.get("setup_differs"):
        flags.append("setup differs from the paper's row (--set " +
                     ", ".join(map(str, paper["setup_differs"])) + ")")
    row["flags"] = flags
    row["verdict"] = verdict(row)
    return row


def run_commits(meta: dict) -> list:
    """The commits that ran a run folder, in order: the one that started it, then each other one
    that resumed it (``meta.json``'s ``git`` and ``resumed_git``); each listed once."""
    out = []
    for g in [meta.get("git")] + list(meta.get("resumed_git") or []):
        c = g.get("commit") if isinstance(g, dict) else None
        if c and c not in out:
            out.append(c)
    return out


# --------------------------------------------------------------------------- the scoreboard
BAND = (0.67, 1.5)          # a reproduced row's mean lies within x[0.67, 1.5] of the paper's
SUCCESS_FRACTION = 0.9      # ... and its success rate is at least 0.9 x the paper's
PAPER_LSTM_ROWS = 31        # HS97's LSTM rows with a mean (Tables 1-9; configs/paper)


def is_lstm_row(row: dict) -> bool:
    """An LSTM row of the paper: a 1997 LSTM (not a baseline, not guessing) whose paper row gives
    a mean number of sequences."""
    return (row.get("kind", "lstm97") == "lstm97" and row.get("unit") == "sequences"
            and _num((row.get("paper") or {}).get("mean_sequences")) is not None)


def verdict(row: dict) -> str | None:
    """Whether an LSTM row reproduces the paper's: "reproduces", or the reasons it does not (";"
    joined). None for other rows. The rule (issues 14-16): at least the paper's trial count, our
    mean sequences-to-solve (over the solved trials) within x[0.67, 1.5] of the paper's, and our
    success rate at least 0.9 x the paper's. Where the paper gives no success rate (Exps 2c-6 say
    only how many trials were made, and report means over all of them) it is taken as 100%."""
    if not is_lstm_row(row):
        return None
    p = row.get("paper") or {}
    why = []
    need = p.get("trials")
    if isinstance(need, int) and row["trials"] < need:
        why.append(f"{row['trials']} of the paper's {need} trials")
    sp = _num(p.get("success_pct"))
    sp = 100.0 if sp is None else sp
    if row["trials"] and row["success_rate"] < SUCCESS_FRACTION * sp / 100 - 1e-12:
        why.append(f"success {row['solved']}/{row['trials']} below 0.9 x the paper's {sp:g}%")
    r = row.get("ratio_mean")
    if not row["trials"]:
        why.append("no trial run yet")
    elif r is None:
        why.append("no trial solved")
    elif not BAND[0] <= r <= BAND[1]:
        why.append(f"mean x{r:.2f} outside x[{BAND[0]}, {BAND[1]}]")
    if _unfinished(row):
        why.append("run unfinished")
    if p.get("setup_differs"):
        why.append("not the paper's setup (--set " + ", ".join(map(str, p["setup_differs"])) + ")")
    return "; ".join(why) or "reproduces"


def _first_per_experiment(rows: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        if r["experiment"] not in seen:
            seen.add(r["experiment"])
            out.append(r)
    return out


def scoreboard_rows(rows: list[dict]) -> list[dict]:
    """The rows the scoreboard counts: the first run folder of each experiment, LSTM rows only."""
    return [r for r in _first_per_experiment(rows) if is_lstm_row(r)]


def seed_pools(rows: list[dict]) -> list[dict]:
    """For every experiment given as run folders with two or more seeds (the paper's setup, no
    ``--set`` departures): the pooled success rate with its Wilson 95% interval and the mean
    sequences-to-solve over all seeds' solved trials with a 95% interval from a bootstrap over
    the seeds (the trials of one seed share its data sets, so seeds, not trials, are resampled)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if is_lstm_row(r) and not (r.get("paper") or {}).get("setup_differs"):
            groups.setdefault(r["experiment"], []).append(r)
    out = []
    for name, rs in groups.items():
        if len({r.get("seed") for r in rs}) < 2:
            continue
        k, n = sum(r["solved"] for r in rs), sum(r["trials"] for r in rs)
        vals = [v for r in rs for v in r.get("solved_values") or []]
        mean = float(np.mean(vals)) if vals else None
        ci = None
        if vals:
            rng = np.random.default_rng(0)
            per = [np.asarray(r.get("solved_values") or [], float) for r in rs]
            boot = []
            for _ in range(2000):
                pick = np.concatenate([per[i] for i in rng.integers(0, len(per), len(per))])
                if pick.size:
                    boot.append(pick.mean())
            ci = [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]
        pm = _num(rs[0]["paper"].get("mean_sequences"))
        g = {"experiment": name, "seeds": len(rs), "solved": k, "trials": n,
             "rate": k / n if n else None, "rate_ci": list(wilson(k, n)) if n else None,
             "paper_success_pct": rs[0]["paper"].get("success_pct"), "mean": mean,
             "mean_ci": ci, "paper_mean": pm, "ratio": mean / pm if mean and pm else None}
        # the same rule as a row's verdict, on the pooled trials
        pooled = {"experiment": name, "kind": "lstm97", "unit": "sequences",
                  "paper": rs[0]["paper"], "trials": n, "solved": k,
                  "success_rate": g["rate"], "ratio_mean": g["ratio"],
                  "status": "finished" if all(r.get("status") in (None, "finished") for r in rs)
                  else "running"}
        g["verdict"] = verdict(pooled)
        out.append(g)
    return out


def _unfinished(row: dict) -> bool:
    """Whether the row's run folder says it has not finished (``meta.json``'s status)."""
    return row.get("status") not in (None, "finished")


def scoreboard(rows: list[dict]) -> str:
    """The top of a reproduction report: one line "N of M LSTM rows reproduce", the LSTM rows
    (ours beside the paper's, ratio with its interval, verdict), then the baselines beside the
    paper's outcome, then (if any experiment was run with several seeds) its rate and mean
    pooled over the seeds. An experiment's row is its first run folder; further run folders of
    the same experiment only add to the pooled table."""
    pools = seed_pools(rows)
    lstm = scoreboard_rows(rows)
    rows = _first_per_experiment(rows)
    ok = sum(r["verdict"] == "reproduces" for r in lstm)
    pooled = {g["experiment"]: g["verdict"] == "reproduces" for g in pools}
    ok_pooled = sum(pooled.get(r["experiment"], r["verdict"] == "reproduces") for r in lstm)
    unfinished = sum(_unfinished(r) for r in lstm)
    base = [r for r in rows if not is_lstm_row(r) and (r.get("paper") or {})]
    base_unfinished = sum(_unfinished(r) for r in base)
    out = [f"**{ok} of {len(lstm)} LSTM rows reproduce**"
           + (f" ({len(lstm)} of the paper's {PAPER_LSTM_ROWS} LSTM rows are in this report)"
              if len(lstm) != PAPER_LSTM_ROWS else "")
           + (f"; {unfinished} of these runs {'is' if unfinished == 1 else 'are'} unfinished, "
              "so this is a progress report" if unfinished else "")
           + (f"; {base_unfinished} baseline run{' is' if base_unfinished == 1 else 's are'} "
              "unfinished" if base_unfinished else "")
           + (f"; {ok_pooled} when the {len(pools)} row(s) run over several seeds are judged on "
              "their pooled trials (table below)" if pools else "")
           + f". A row reproduces when it ran at least the paper's trial count, its mean "
           f"sequences-to-solve lies within x[{BAND[0]}, {BAND[1]}] of the paper's and its success "
           f"rate is at least {SUCCESS_FRACTION} x the paper's (100% where the paper gives none).",
           ""]
    if lstm:
        out += ["| row | solved | paper success | mean | paper mean | ours/paper [95% CI] | verdict |",
                "|---|---|---|---|---|---|---|"]
        for r in lstm:
            p, s = r["paper"] or {}, r.get("sequences")
            ratio = "-"
            if s:
                ratio = f"{r['ratio_mean']:.2f} [{r['ratio_ci'][0]:.2f}–{r['ratio_ci'][1]:.2f}]"
            sp = p.get("success_pct")
            ok_mark = "**reproduces**" if r["verdict"] == "reproduces" else r["verdict"]
            out.append(f"| {r['experiment']} | {r['solved']}/{r['trials']} | "
                       f"{'-' if sp is None else str(sp) + '%'} | {_f(s['mean']) if s else '-'} | "
                       f"{_paper_str(p.get('mean_sequences'))} | {ratio} | {ok_mark} |")
        out.append("")
    if base:
        out += ["Baselines and rows without a paper mean:", "",
                "| row | model | ours | paper |", "|---|---|---|---|"]
        for r in base:
            p, s = r["paper"] or {}, r.get(r.get("unit") or "sequences")
            ours = f"{r['solved']}/{r['trials']} solved" + (
                f", mean {_f(s['mean'])} {r['unit']}" if s else "")
            if _unfinished(r):
                ours += " (run unfinished" + (f": {r['trials']} of the paper's {p['trials']} trials"
                                              if p.get("trials") else "") + ")"
            bits = []
            if p.get("success_pct") is not None:
                bits.append(f"{p['success_pct']}% successful")
            elif p.get("success") is not None:
                bits.append(str(p["success"]))
            m = p.get(f"mean_{r.get('unit') or 'sequences'}")
            if m is not None:
                bits.append(f"mean {_paper_str(m)}")
            out.append(f"| {r['experiment']} | {r.get('kind')} | {ours} | "
                       f"{', '.join(bits) or '-'} |")
        out.append("")
    if pools:
        out += ["Over several seeds (each seed draws its own data sets and initial weights):", "",
                "| row | seeds | solved | rate [Wilson 95%] | paper success | mean [seed-bootstrap "
                "95%] | paper mean | ours/paper | verdict |", "|---|---|---|---|---|---|---|---|---|"]
        for g in pools:
            rate = "-" if g["rate"] is None else (
                f"{g['rate']:.3f} [{g['rate_ci'][0]:.3f}–{g['rate_ci'][1]:.3f}]")
            mean = "-" if g["mean"] is None else (
                f"{_f(g['mean'])} [{_f(g['mean_ci'][0])}–{_f(g['mean_ci'][1])}]")
            sp = g["paper_success_pct"]
            out.append(f"| {g['experiment']} | {g['seeds']} | {g['solved']}/{g['trials']} | "
                       f"{rate} | {'-' if sp is None else str(sp) + '%'} | {mean} | "
                       f"{_paper_str(g['paper_mean'])} | "
                       f"{'-' if g['ratio'] is None else format(g['ratio'], '.2f')} | "
                       f"{g['verdict']} |")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- rendering
def _f(x, digits=0, pct=False):
    if x is None:
        return "-"
    if pct:
        return f"{100 * x:.{digits}f}%"
    if isinstance(x, float) and digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}" if isinstance(x, (int, float)) else str(x)


def _g(x):
    """A small number (fraction wrong, MSE) compactly."""
    return "-" if x is None else f"{x:.3g}"


def _paper_str(v):
    if v is None:
        return "-"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, int) or (float(v).is_integer() and abs(v) >= 1):
            return f"{int(v):,}"
        return f"{v:g}"
    return str(v)


def _paper_wrong(p: dict):
    if "wrong_of_2560" in p:
        return p["wrong_of_2560"]
    return p.get("fraction_wrong")


def _flat(r: dict) -> dict:
    """One CSV row: flat scalars (missing values empty). The count columns (``mean_sequences``
    .. ``max``) hold the row's ``unit``: training sequences, or guesses (random weight guessing)."""
    s, pt, p = r.get(r.get("unit") or "sequences") or {}, r.get("post_test") or {}, r.get("paper") or {}
    ci, sci = s.get("ci") or [None, None], r.get("success_ci") or [None, None]
    n = pt.get("n")
    return {
        "run": r.get("run"), "experiment": r.get("experiment"), "status": r.get("status"),
        "trials": r.get("trials"), "solved": r.get("solved"),
        "success_rate": r.get("success_rate"), "success_lo": sci[0], "success_hi": sci[1],
        "paper_success_pct": p.get("success_pct"),
        "mean_sequences": s.get("mean"), "mean_lo": ci[0], "mean_hi": ci[1],
        "median": s.get("median"), "q25": s.get("q25"), "q75": s.get("q75"),
        "min": s.get("min"), "max": s.get("max"),
        "paper_mean_sequences": p.get("mean_sequences"), "ratio_mean": r.get("ratio_mean"),
        "post_test_trials": pt.get("trials"),
        "post_test_n": "/".join(map(str, n)) if isinstance(n, list) else n,
        "mean_wrong": pt.get("mean_wrong"), "mean_fraction_wrong": pt.get("mean_fraction_wrong"),
        "mean_mse": pt.get("mean_mse"),
        "paper_wrong_of_2560": p.get("wrong_of_2560"),
        "paper_fraction_wrong": p.get("fraction_wrong"), "paper_mse": p.get("mse"),
        "st1_mean": r.get("st1_mean"), "paper_st1_sequences": p.get("st1_sequences"),
        "trial_seconds": r.get("trial_seconds"), "paper_source": p.get("source"),
        "flags": "; ".join(r.get("flags") or []),
        "unit": r.get("unit"), "paper_mean_guesses": p.get("mean_guesses"),
        "test_fraction_correct": r.get("test_fraction_correct"),
        "commits": " ".join(r.get("commits") or []),
        "kind": r.get("kind"), "verdict": r.get("verdict"),
    }


def _md(rows: list[dict]) -> str:
    any_post = any(r["post_test"] for r in rows) or any(
        _paper_wrong(r["paper"] or {}) is not None or (r["paper"] or {}).get("mse") is not None
        for r in rows)
    any_mse = any((r["post_test"] or {}).get("mean_mse") is not None for r in rows) and any(
        (r["paper"] or {}).get("mse") is not None for r in rows)
    any_st1 = any(r["st1_mean"] is not None or (r["paper"] or {}).get("st1_sequences") is not None
                  for r in rows)
    units = {r.get("unit") or "sequences" for r in rows}
    mixed = len(units) > 1                   # guessing rows beside training rows
    count = {"sequences": "seq.", "guesses": "guesses"}.get(next(iter(units)), "seq.") \
        if not mixed else "seq. or guesses"
    any_test = any(r.get("test_fraction_correct") is not None for r in rows)
    head = ["run", "solved", "success [95% CI]", "paper success",
            f"mean {count} [95% CI]", "median [IQR]", "paper mean", "ours/paper"]
    if any_test:
        head += ["test correct"]
    if any_st1:
        head += ["ST1 mean", "paper ST1"]
    if any_post:
        head += ["post-test wrong (frac.)", "paper wrong"]
    if any_mse:
        head += ["MSE", "paper MSE"]
    head += ["trial-s", "verdict", "flags"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        unit = r.get("unit") or "sequences"
        p, s, pt = r["paper"] or {}, r.get(unit), r["post_test"] or {}
        if r["success_ci"]:
            lo, hi = r["success_ci"]
            succ = f"{_f(r['success_rate'], 0, True)} [{100 * lo:.0f}–{100 * hi:.0f}]"
        else:
            succ = "-"
        sp = p.get("success_pct")
        psucc = (f"{sp}%" if _num(sp) is not None else str(sp)) if sp is not None else \
            (str(p["success"]) if "success" in p else "-")
        if s:
            mean = f"{_f(s['mean'])} [{_f(s['ci'][0])}–{_f(s['ci'][1])}]"
            med = f"{_f(s['median'])} [{_f(s['q25'])}–{_f(s['q75'])}]"
            if mixed and unit != "sequences":
                mean += f" {unit}"
        else:
            mean = med = "-"
        cells = [r["run"], f"{r['solved']}/{r['trials']}", succ, psucc, mean, med,
                 _paper_str(p.get(f"mean_{unit}")),
                 "-" if r["ratio_mean"] is None else f"{r['ratio_mean']:.2f}"]
        if any_test:
            tf = r.get("test_fraction_correct")
            cells.append("-" if tf is None else f"{tf:.3f}")
        if any_st1:
            cells += [_f(r["st1_mean"]), _paper_str(p.get("st1_sequences"))]
        if any_post:
            if pt:
                n = pt["n"] if not isinstance(pt["n"], list) else "/".join(map(str, pt["n"]))
                w = f"{pt['mean_wrong']:.1f} of {n}" if pt.get("mean_wrong") is not None else "-"
                cells.append(f"{w} ({_g(pt.get('mean_fraction_wrong'))})")
            else:
                cells.append("-")
            if "wrong_of_2560" in p:
                cells.append(f"{p['wrong_of_2560']} of 2560")
            elif p.get("fraction_wrong") is not None:
                cells.append(f"({_g(_num(p['fraction_wrong']))})")
            else:
                cells.append("-")
        if any_mse:
            cells += [_g(pt.get("mean_mse")), _paper_str(p.get("mse"))]
        cells += [_f(r["trial_seconds"]), r.get("verdict") or "-", "; ".join(r["flags"]) or "-"]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def provenance(rows: list[dict], written_at: dict | None = None) -> str:
    """The report's provenance: the commit that wrote it (``written_at``, ``rundir.git_info()``)
    and, for each sequence of commits that started and resumed run folders, how many folders."""
    lines = ["## Provenance", ""]
    if written_at and written_at.get("commit"):
        lines.append(f"- written at commit `{written_at['commit']}`"
                     + (" (with uncommitted changes)" if written_at.get("dirty") else ""))
    seen: dict[str, int] = {}
    for r in rows:
        key = " then ".join(f"`{c[:10]}`" for c in r.get("commits") or []) or "an unknown commit"
        seen[key] = seen.get(key, 0) + 1
    lines.append("- run folders by the commits that started and then resumed them (each trial was "
                 "computed at one of its folder's commits; `meta.json` has the times):")
    lines += [f"  - {k}: {n} run folder(s)" for k, n in sorted(seen.items())]
    return "\n".join(lines) + "\n"


def plots_section(paths) -> str:
    """A REPORT.md section linking each run's PNG figures (``plots.plot_runs``' paths, which lie
    in ``plots/`` beside REPORT.md), one line per figure stem."""
    pngs = sorted(Path(p) for p in paths if Path(p).suffix == ".png")
    if not pngs:
        return ""
    return "\n## Plots\n\n" + "".join(f"- [{p.stem}](plots/{p.name})\n" for p in pngs)


def render(rows: list[dict], fmt: str = "md", figure: str | None = None,
           written_at: dict | None = None) -> str:
    """The rows as Markdown (``md``: the scoreboard, the provenance, then every row's table;
    ``figure``: an image embedded below the scoreboard's first line; ``written_at``: the
    writing commit, ``rundir.git_info()``), CSV (``csv``) or JSON (``json``)."""
    if fmt == "md":
        top = scoreboard(rows)
        if figure:
            first, rest = top.split("\n", 1)
            top = f"{first}\n\n![every LSTM row, ours / paper]({figure})\n{rest}"
        return top + "\n" + provenance(rows, written_at) + "\n## Every row\n\n" + _md(rows)
    if fmt == "csv":
        buf = io.StringIO()
        fields = list(_flat({}).keys())
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(_flat(r) for r in rows)
        return buf.getvalue()
    if fmt == "json":
        return json.dumps(rows, indent=2, default=_json_default) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


# --------------------------------------------------------------------------- command
def report_command(run_dirs, fmt: str = "md", out=None, overview=None) -> str:
    """Rows for every run folder in ``run_dirs``, rendered as ``fmt``; the text is returned.

    A path that is not a run folder raises ValueError naming it. With ``out`` (a directory,
    created if missing) all three files are written there: REPORT.md, summary.csv, report.json;
    with ``overview`` (``plots.plot_overview``, given by the caller: plots read this module)
    also the overview figure, overview.png/.svg, embedded at the top of REPORT.md.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    run_dirs = [Path(d) for d in run_dirs]
    if not run_dirs:
        raise ValueError("no run folders given")
    bad = [str(d) for d in run_dirs if not is_run_dir(d)]
    if bad:
        raise ValueError(f"not a run folder (needs config.yaml and meta.json): {', '.join(bad)}")
    rows = [row_stats(d) for d in run_dirs]
    figure = None
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out}: --out must be a directory")
        out.mkdir(parents=True, exist_ok=True)
        if overview is not None and overview(rows, out / "overview"):
            figure = "overview.png"
    at = git_info()
    text = render(rows, fmt, figure if fmt == "md" else None, at)
    if out is not None:
        for f, name in OUT_NAMES.items():
            (out / name).write_text(render(rows, f, figure if f == "md" else None, at))
    return text


def print_summary(summary: dict) -> None:
    """The table `lstmrun train` prints at the end of a run: ours beside the paper's numbers."""
    from rich.console import Console
    from rich.table import Table

    paper = summary.get("paper") or {}
    unit = summary.get("unit", "sequences")     # "guesses" for random weight guessing
    st = summary.get(f"{unit}_to_solve") or {}
    differs = paper.get("setup_differs")
    t = Table(title=f"{summary['experiment']}: ours vs the paper" + (
        f"\n(--set changed {', '.join(differs)}: the paper's row is another setup)"
        if differs else ""))
    t.add_column("")
    t.add_column("ours", justify="right")
    t.add_column("paper (other setup)" if differs else "paper", justify="right")
    pct = (f"{100 * summary['success_rate']:.0f}% ({summary['solved']}/{summary['trials']})"
           if summary["trials"] else "-")
    ppct = paper.get("success_pct")
    t.add_row("success", pct, f"{ppct}%" if ppct is not None else "-")
    fmt = (lambda v: f"{v:,.0f}" if isinstance(v, (int, float)) else "-")
    pmean = paper.get(f"mean_{unit}")
    t.add_row(f"mean {unit} to solve", fmt(st.get("mean")),
              fmt(pmean) if isinstance(pmean, (int, float)) or pmean is None else str(pmean))
    t.add_row("median", fmt(st.get("median")), "-")
    t.add_row("min - max", f"{fmt(st.get('min'))} - {fmt(st.get('max'))}" if st else "-",
              paper.get("range", "-"))
    if "test_fraction_correct" in summary:
        t.add_row("test fraction correct (mean)", f"{summary['test_fraction_correct']['mean']:.3f}",
                  "-")
    if "cerg" in summary:                   # GSC00 Table 2: good and rest beside perfect
        cg = summary["cerg"]
        for cat in ("good", "rest"):
            c = cg[cat]
            ml = f" <{c['mean_length']:,.0f}>" if c["mean_length"] is not None else ""
            pp, pl = paper.get(f"{cat}_pct"), paper.get(f"{cat}_mean_length")
            t.add_row(f"{cat} <mean error-free test length>", f"{c['pct']:.0f}% ({c['n']}){ml}",
                      "-" if pp is None else f"{pp}%" + (f" <{pl:,}>" if pl else ""))
    t.add_row("trials", str(summary["trials"]), str(paper.get("trials", "-")))
    Console(stderr=False).print(t)
