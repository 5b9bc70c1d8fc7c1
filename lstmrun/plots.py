"""Figures of run folders: sequences to solve per trial, and learning curves.

matplotlib is an optional extra (``pip install -e '.[plot]'``); it is imported only when a figure
is drawn. Figures are drawn on the Agg canvas without pyplot, so no GUI backend and no global
figure state are involved.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import yaml

DPI = 100
PNG_COLOURS = 64
_MISSING = "plots need matplotlib: pip install -e '.[plot]'"


def _figure(figsize=(8, 4.5)):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise RuntimeError(_MISSING) from None
    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    import matplotlib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        # a 64-colour palette: line plots look the same at about a quarter of the bytes (a
        # curves figure of Exp 1: 152 kB -> 38 kB), which keeps a committed report's ~100
        # figures small (Pillow comes with matplotlib); rendered in memory, written once
        import io

        from PIL import Image

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
        buf.seek(0)
        with Image.open(buf) as im:
            im.convert("RGB").quantize(colors=PNG_COLOURS).save(path, optimize=True)
        return
    # text as text and no timestamps: small, reproducible SVGs
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lstmrun"}):
        meta = {"Date": None} if path.suffix.lower() in (".svg", ".pdf") else None
        fig.savefig(path, dpi=DPI, metadata=meta)


def _load_run(run_dir: Path) -> tuple[dict, list[dict]]:
    from .rundir import read_trials

    cpath = run_dir / "config.yaml"
    if not cpath.exists():
        raise ValueError(f"{run_dir}: not a run folder (no config.yaml)")
    cfg = yaml.safe_load(cpath.read_text()) or {}
    by_trial: dict = {}
    for t in read_trials(run_dir):   # a resumed run could repeat a trial: keep the last
        by_trial[t.get("trial", len(by_trial))] = t
    return cfg, [by_trial[k] for k in sorted(by_trial)]


def _number(v) -> float | None:
    if isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v):
        return float(v)
    return None


def plot_sequences(cfg: dict, trials: list[dict], path_stem: Path) -> list[Path]:
    """Sequences to solve per trial (log y): solved trials as dots, failed ones as red x at the
    budget; the paper's mean and ours as horizontal lines. Writes ``<stem>.png`` and ``.svg``."""
    exp = cfg.get("experiment", path_stem.name)
    budget = _number((cfg.get("protocol") or {}).get("budget"))
    paper = cfg.get("paper") if isinstance(cfg.get("paper"), dict) else {}
    # random weight guessing counts guesses, every other protocol training sequences
    unit = "guesses" if (cfg.get("protocol") or {}).get("name") == "guess" else "sequences"
    paper_mean = _number(paper.get(f"mean_{unit}"))
    idx = np.array([int(t.get("trial", k)) for k, t in enumerate(trials)])
    seq = np.array([max(float(t.get(unit, 0)), 1.0) for t in trials])
    ok = np.array([bool(t.get("solved")) for t in trials], dtype=bool)

    fig = _figure((8, 4.5))
    ax = fig.add_subplot()
    if ok.any():
        ax.plot(idx[ok], seq[ok], "o", color="tab:blue", ms=5, label="solved trial")
        mean = float(seq[ok].mean())
        ax.axhline(mean, color="tab:blue", lw=1.2, label=f"our mean {mean:,.0f}")
    if (~ok).any():
        y = np.full((~ok).sum(), budget) if budget else seq[~ok]
        ax.plot(idx[~ok], y, "x", color="red", ms=7, mew=2,
                label="failed (at budget)" if budget else "failed")
    if paper_mean:
        ax.axhline(paper_mean, color="tab:green", ls="--", lw=1.2,
                   label=f"paper mean {paper_mean:,.0f}")
    if budget:
        ax.axhline(budget, color="0.6", ls=":", lw=1.0, label=f"budget {budget:,.0f}")
    ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("guesses to solve" if unit == "guesses" else "training sequences to solve")
    ax.set_title(f"{exp}: {int(ok.sum())}/{len(trials)} trials solved")
    if len(trials):
        ax.set_xlim(idx.min() - 0.8, idx.max() + 0.8)
    ax.grid(True, which="major", axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _save_both(fig, path_stem)


def plot_curves(cfg: dict, trials: list[dict], path_stem: Path) -> list[Path]:
    """Every trial's learning curve (trials.jsonl ``curve``): on-line MSE vs sequences seen (log
    x) above, fraction correct below. Writes ``<stem>.png`` and ``.svg``."""
    exp = cfg.get("experiment", path_stem.name)
    fig = _figure((8, 6))
    ax_e, ax_c = fig.subplots(2, 1, sharex=True)
    cmap = _cmap()
    n = max(len(trials), 1)
    all_pos = True
    drawn = 0
    for k, t in enumerate(trials):
        c = np.asarray(t.get("curve") or [], dtype=float)
        if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] < 3:
            continue
        c = c[c[:, 0] > 0]
        if not len(c):
            continue
        color = cmap(k / max(n - 1, 1))
        style = dict(color=color, lw=0.9, alpha=0.8, ls="-" if t.get("solved") else ":",
                     marker="." if len(c) <= 3 else None)
        ax_e.plot(c[:, 0], c[:, 1], **style)
        ax_c.plot(c[:, 0], c[:, 2], **style)
        all_pos &= bool((c[:, 1] > 0).all())
        drawn += 1
    if drawn:
        ax_e.set_xscale("log")
        if all_pos:
            ax_e.set_yscale("log")
    ax_e.set_ylabel("on-line MSE")
    ax_c.set_ylabel("fraction correct")
    ax_c.set_ylim(-0.02, 1.02)
    ax_c.set_xlabel("training sequences seen")
    for ax in (ax_e, ax_c):
        ax.grid(True, alpha=0.3)
    ok = sum(bool(t.get("solved")) for t in trials)
    ax_e.set_title(f"{exp}: learning curves, {ok}/{len(trials)} solved "
                   "(solid: solved, dotted: failed)")
    fig.tight_layout()
    return _save_both(fig, path_stem)


def _save_both(fig, path_stem: Path) -> list[Path]:
    """Write ``fig`` as PNG and SVG beside each other."""
    out = []
    for ext in (".png", ".svg"):
        p = path_stem.with_name(path_stem.name + ext)
        _save(fig, p)
        out.append(p)
    return out


def _cmap():
    import matplotlib

    return matplotlib.colormaps["viridis"]


def plot_runs(run_dirs, out_dir) -> list[Path]:
    """For each run folder write ``<experiment>_sequences.{png,svg}`` and
    ``<experiment>_curves.{png,svg}`` into ``out_dir``. Returns the written paths.

    Raises RuntimeError without matplotlib, ValueError for a folder that is not a run."""
    _figure()  # fail early (RuntimeError) without matplotlib
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = set()
    for rd in run_dirs:
        rd = Path(rd)
        cfg, trials = _load_run(rd)
        name = str(cfg.get("experiment") or rd.name)
        if name in used:  # two runs of one experiment: keep both
            name = f"{name}_{rd.name}"
        used.add(name)
        written += plot_sequences(cfg, trials, out_dir / f"{name}_sequences")
        written += plot_curves(cfg, trials, out_dir / f"{name}_curves")
    return written


def plot_overview(rows: list[dict], path_stem: Path) -> list[Path]:
    """The reproduction at a glance: every LSTM row's ours/paper ratio of mean sequences-to-solve
    with its 95% interval (bootstrap over the solved trials) on a log axis, the band x[0.67, 1.5]
    shaded; a row with failed trials is drawn in red with "k/n" beside it, a row with no solved
    trial as a red arrow at the right edge, a row with no finished trial as "not run yet".
    ``rows``: ``report.row_stats`` of each run."""
    from .report import BAND, scoreboard_rows

    lstm = scoreboard_rows(rows)
    if not lstm:
        return []
    height = 0.32 * len(lstm) + 1.8
    fig = _figure(figsize=(8, height))
    ax = fig.add_subplot(1, 1, 1)
    ax.axvspan(BAND[0], BAND[1], color="tab:green", alpha=0.15, lw=0,
               label=f"x[{BAND[0]}, {BAND[1]}] of the paper")
    ax.axvline(1.0, color="tab:green", lw=0.8)
    ys = np.arange(len(lstm))[::-1]
    los, his = [], []
    for r in lstm:
        if r["ratio_ci"]:
            los.append(r["ratio_ci"][0])
            his.append(r["ratio_ci"][1])
    right = max([2.0, *his]) * 1.6
    left = min([0.5, *los]) / 1.6
    for y, r in zip(ys, lstm):
        if not r["trials"]:             # a row whose run has not finished a trial yet
            ax.text(right / 1.05, y, "not run yet", color="0.45", va="center", ha="right",
                    fontsize=8)
            continue
        failed = r["solved"] < r["trials"]
        color = "tab:red" if failed else ("tab:green" if r.get("verdict") == "reproduces"
                                          else "tab:blue")
        if not r["ratio_ci"]:           # no trial solved
            ax.annotate("", xy=(right, y), xytext=(right / 1.5, y),
                        arrowprops={"arrowstyle": "->", "color": "tab:red"})
            ax.text(right / 1.55, y, f"0/{r['trials']} ", color="tab:red", va="center",
                    ha="right", fontsize=8)
            continue
        x, (lo, hi) = r["ratio_mean"], r["ratio_ci"]
        ax.errorbar([x], [y], xerr=[[x - lo], [hi - x]], fmt="o", color=color, ms=4, capsize=2,
                    lw=1)
        if failed:
            ax.text(hi * 1.08, y, f"{r['solved']}/{r['trials']} solved",
                    color="tab:red", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(left, right)
    ticks = [t for t in (0.1, 0.25, BAND[0], 1.0, BAND[1], 2, 4, 8, 16, 32, 64)
             if left <= t <= right]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_xticks([], minor=True)
    ax.set_yticks(ys)
    ax.set_yticklabels([r["experiment"] for r in lstm], fontsize=8)
    ax.set_ylim(-0.7, len(lstm) - 0.3)
    ax.set_xlabel("mean sequences to solve, ours / paper (95% interval)")
    ok = sum(r.get("verdict") == "reproduces" for r in lstm)
    ax.set_title(f"{ok} of {len(lstm)} LSTM rows reproduce", fontsize=10)
    from matplotlib.lines import Line2D

    handles = [ax.get_legend_handles_labels()[0][0]] + [
        Line2D([], [], color=c, marker="o", ls="", ms=4, label=lab)
        for c, lab in (("tab:green", "reproduces"), ("tab:blue", "does not (trials or mean)"),
                       ("tab:red", "some trials failed"))]
    # below the axes, where it hides no row
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1))
    return _save_both(fig, path_stem)
