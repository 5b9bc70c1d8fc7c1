"""The ``lstmrun`` command line: a thin layer over config, runner and tasks."""

from __future__ import annotations

import enum
import json
import os
import signal
import sys
from pathlib import Path

import click
import numpy as np

from .config import ConfigError, dump, load


class Exit(enum.IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2          # bad config, bad option, missing file, unusable folder
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143   # SIGTERM (timeout, SLURM): handled like Ctrl-C


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that a run stops as on Ctrl-C."""


_SIGTERM_SEEN = []


def _on_sigterm(signum, frame):
    _SIGTERM_SEEN.append(signum)
    raise Terminated()


def _fail(msg: str, code: Exit = Exit.USAGE):
    click.echo(f"error: {msg}", err=True)
    sys.exit(int(code))


def _load(config: str, sets: tuple[str, ...]) -> dict:
    try:
        return load(config, list(sets))
    except ConfigError as e:
        _fail(str(e))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lstmrun")
def main():
    """Reproduce the experiments of Hochreiter & Schmidhuber (1997), "Long Short-Term Memory".

    Configs live in configs/ (configs/paper/ holds one per table row of the paper).
    """


SET_HELP = "Override a config key, e.g. --set train.lr=0.2 (repeatable; values are YAML)."


# `train` and `sweep`: trials in lockstep (lstmrun/lockstep.py)
LANES_OPTION = click.option(
    "--lanes", type=click.IntRange(min=1), default=1, envvar="LSTMRUN_LANES", show_default=True,
    help="Trials per process trained side by side in one kernel call (the lanes kernel; on-line "
         "rows of Exps 2c-6 with per-step changes; the same results bit for bit, but each "
         "trial's wall_seconds then counts the time it shared). Not faster on every CPU: "
         "docs/speed.md.")

# `train` and `sweep`: checkpoints inside long trials (lstmrun/protocols/checkpoint.py)
CHECKPOINT_OPTION = click.option(
    "--checkpoint-every", "checkpoint_every", type=click.FloatRange(min=0), default=300,
    envvar="LSTMRUN_CHECKPOINT_EVERY", show_default=True, metavar="SECONDS",
    help="Save a running trial's state this often (on-line rows of Exps 2-6; 0: never), so that "
         "--resume continues it from there instead of from its start, with the same result. "
         "Local executor only.")

@main.command()
@click.argument("config", type=click.Path(dir_okay=False), required=False)
@click.option("--trials", type=click.IntRange(min=1), help="Number of trials (default: config).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, envvar="LSTMRUN_JOBS",
              help="Parallel worker processes [default: $LSTMRUN_JOBS, else one per CPU core; "
                   "never more than trials]. Results do not depend on it.")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (default: config).")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder, new or empty "
              "(default: results/<experiment>/<timestamp>-<id>/).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--resume", type=click.Path(file_okay=False, exists=True), metavar="RUN_DIR",
              help="Continue an interrupted run: skip its finished trials, run the rest, with "
                   "the run's own config (give CONFIG/--set/--trials only to check that they "
                   "match it).")
@LANES_OPTION
@CHECKPOINT_OPTION
@click.option("--quiet", "-q", is_flag=True, help="Print only the run folder (and errors).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="local: --jobs processes; dask: a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --executor dask: a running scheduler (default: a LocalCluster of --jobs "
                   "workers).")
def train(config, trials, jobs, seed, out, sets, quiet, resume, executor, scheduler, lanes,
          checkpoint_every):
    """Train CONFIG's trials and write results; prints ours beside the paper's numbers.

    Ctrl-C or SIGTERM stops cleanly: finished trials are kept (exit code 130, or 143 for
    SIGTERM), and `lstmrun train --resume RUN_DIR` continues the run; a long on-line trial
    continues from its last checkpoint (--checkpoint-every).
    """
    from .rundir import RunFolderError, default_out, open_run

    _check_executor(executor, scheduler)
    sets = _with_options(sets, trials, seed)
    if config is None and not resume:
        _fail("missing CONFIG (or --resume RUN_DIR to continue a run)")
    if resume and out and Path(out) != Path(resume):
        _fail("--out and --resume name different folders")
    if config is None:
        config = str(Path(resume) / "config.yaml")
    cfg = _load(config, tuple(sets))
    _mark_overrides(cfg, config, sets)
    run_dir = Path(resume) if resume else (Path(out) if out else default_out(cfg))
    try:
        writer, todo = open_run(run_dir, cfg, resume=bool(resume))
    except RunFolderError as e:
        _fail(str(e))
    except OSError as e:
        _fail(_os_error(run_dir, e))
    jobs = _jobs(jobs, len(todo), quiet)
    if not quiet:
        click.echo(f"{cfg['experiment']}: {len(todo)} of {cfg['trials']} trial(s) to run, "
                   f"{jobs} job(s) -> {run_dir}", err=True)
        differs = (cfg.get("paper") or {}).get("setup_differs")
        if differs:
            click.echo(f"note: --set changed {', '.join(differs)}: the paper's numbers describe "
                       "the config as written, not this setup", err=True)
    try:
        status, summaries = _run_entries({None: (cfg, writer, todo)}, jobs, executor, scheduler,
                                         quiet, lanes, checkpoint_every)
    except OSError as e:            # a full disk in mid-run, say
        _fail(_os_error(run_dir, e))
    summary = summaries[None]
    if status != "finished":
        click.echo(f"{status}: {summary['trials']} finished trial(s) kept in {run_dir}"
                   f"{_checkpointed([run_dir])}; `lstmrun train --resume {run_dir}` continues",
                   err=True)
        sys.exit(int(Exit.TERMINATED if status == "terminated" else Exit.INTERRUPTED))
    if quiet:
        click.echo(str(run_dir))
    else:
        from .report import print_summary

        print_summary(summary)
        click.echo(f"results: {run_dir}")


# keys whose override leaves the setup that the paper's row describes unchanged
_SAME_SETUP = {"trials", "seed", "experiment", "notes", "paper", "protocol.curve_points",
               "protocol.post_test"}


def _mark_overrides(cfg: dict, config: str, sets: list[str]) -> None:
    """When ``--set`` changed what the config's paper row describes (say ``train.lr``), record
    the keys as ``paper.setup_differs``: the summary, the final table and ``lstmrun report`` then
    say that the paper's numbers are for another setup."""
    from .config import load
    from .rundir import diff_keys

    if not sets or not isinstance(cfg.get("paper"), dict):
        return
    base = load(config, [s for s in sets if s.split("=", 1)[0].strip() in ("trials", "seed")])
    changed = sorted(k for k in diff_keys(base, cfg) if k not in _SAME_SETUP
                     and not k.startswith("paper."))
    if changed:
        cfg["paper"] = dict(cfg["paper"], setup_differs=changed)


def _jobs(jobs: int | None, n_trials: int, quiet: bool) -> int:
    """``--jobs``, defaulting to the CPU cores; never more processes than trials, and a warning
    when more processes than cores were asked for."""
    cores = os.cpu_count() or 1
    if jobs is None:
        return max(1, min(cores, n_trials))
    if jobs > cores and not quiet:
        click.echo(f"warning: --jobs {jobs} is more than this machine's {cores} CPU core(s); "
                   "the trials will share them", err=True)
    return max(1, min(jobs, n_trials))


def _resume_command(sdir: Path) -> str:
    """This sweep command with --out/--resume replaced by ``--resume SDIR``."""
    import shlex

    args, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a in ("--out", "--resume"):
            skip = True
        elif not a.startswith(("--out=", "--resume=")):
            args.append(a)
    return "lstmrun " + " ".join(shlex.quote(a) for a in args + ["--resume", str(sdir)])


def _close_all(entries: dict) -> None:
    """Release the run folders opened so far (a sweep that stops before it starts)."""
    for _, writer, _ in entries.values():
        if writer.lock is not None:
            writer.lock.release()


def _os_error(path, e: OSError) -> str:
    where = e.filename or path
    return f"{where}: {e.strerror or e}"


def _with_options(sets, trials, seed) -> list[str]:
    """The --set strings with --trials and --seed appended as the same overrides."""
    out = list(sets)
    if trials is not None:
        out.append(f"trials={trials}")
    if seed is not None:
        out.append(f"seed={seed}")
    return out


def _check_executor(executor: str, scheduler: str | None) -> None:
    if scheduler and executor != "dask":
        _fail("--scheduler needs --executor dask")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            from .executors import DASK_MISSING

            _fail(DASK_MISSING)


def _checkpointed(run_dirs) -> str:
    """The message's mention of trials saved in mid-trial in the run folders ("" if none)."""
    from .rundir import pending_checkpoints

    n = sum(pending_checkpoints(d) for d in run_dirs)
    return f", {n} unfinished trial(s) saved in mid-trial" if n else ""


def _run_entries(entries: dict, jobs: int, executor: str, scheduler: str | None, quiet: bool,
                 lanes: int = 1, checkpoint_every: float | None = None):
    """Run the trials of every entry ``key -> (cfg, writer, todo)`` with one progress bar; close
    every writer (also on Ctrl-C or SIGTERM). Returns (status, {key: summary}); status is
    "finished", "interrupted" (Ctrl-C) or "terminated" (SIGTERM). ``checkpoint_every``: seconds
    between a running trial's checkpoints in its run folder (local executor; None or 0: none)."""
    from .executors import run_jobs
    from .rundir import with_checkpoints

    every = checkpoint_every if executor == "local" else None
    jobs_list = [(key, with_checkpoints(cfg, writer.dir, every), k)
                 for key, (cfg, writer, todo) in entries.items() for k in todo]
    lanes = _lanes(lanes, executor, entries, quiet)
    counts = {"solved": 0, "failed": 0}
    bar = None

    def on_result(key, rec, weights):
        entries[key][1].add(rec, weights)
        counts["solved" if rec["solved"] else "failed"] += 1
        if bar is not None:
            bar.set_postfix(counts)
            bar.update(1)

    status = "finished"
    old = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _compile(jobs_list, quiet, lanes)
        if not quiet:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs_list), unit="trial", file=sys.stderr, dynamic_ncols=True)
        run_jobs(jobs_list, on_result, executor=executor, jobs=jobs, scheduler=scheduler,
                 warmed=True, lanes=lanes)
    except Terminated:
        status = "terminated"
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception:
        if not _SIGTERM_SEEN:      # a SIGTERM sent to the whole group also ends the workers
            for cfg, writer, _ in entries.values():     # keep what finished, release the locks
                try:
                    writer.close(cfg, "failed")
                except Exception:  # noqa: BLE001  (a full disk, say: the first error is the news)
                    pass
            raise
        status = "terminated"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)   # the summaries are written come what may
        if bar is not None:
            bar.close()
    try:
        summaries = {key: writer.close(cfg, status) for key, (cfg, writer, _) in entries.items()}
    finally:
        signal.signal(signal.SIGTERM, old)
    return status, summaries


def _lanes(lanes: int, executor: str, entries: dict, quiet: bool) -> int:
    """``--lanes`` as it applies (1 but for the local executor), with a note for each config whose
    trials run one at a time anyway. Each run folder's meta.json records how many of its trials
    share a kernel call this session: no more than it has left to run, 1 where its config runs
    one trial at a time."""
    if lanes > 1 and executor != "local":
        if not quiet:
            click.echo("note: --lanes applies to the local executor; ignored", err=True)
        lanes = 1
    if lanes > 1:
        from .lockstep import reason_not
    seen = set()
    for cfg, writer, todo in entries.values():
        why = reason_not(cfg) if lanes > 1 else "one lane"
        if lanes > 1 and why and todo and not quiet and (cfg["experiment"], why) not in seen:
            seen.add((cfg["experiment"], why))
            click.echo(f"note: --lanes: {cfg['experiment']} runs one trial at a time ({why})",
                       err=True)
        writer.record_lanes(max(1, min(lanes, len(todo))) if why is None else 1)
    return lanes


def _compile(jobs_list, quiet: bool, lanes: int = 1) -> None:
    """Compile (or load from the on-disk cache) every distinct config's kernels before the trials
    start; say so when it takes a while (a first run compiles for about half a minute)."""
    import threading

    from .executors import warm

    note = threading.Timer(1.0, lambda: click.echo(
        "compiling kernels (first run only; they are cached for later runs) ...", err=True))
    if not quiet:
        note.start()
    try:
        warm(jobs_list, lanes)
    finally:
        note.cancel()


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def show(config, sets):
    """Print the resolved CONFIG, the network's layer sizes and its weight count."""
    from .runner import make_model
    from .tasks.registry import build_task

    cfg = _load(config, sets)
    task = build_task(cfg["task"])
    net = make_model(cfg, task, np.random.default_rng(0))
    arch = net.arch
    click.echo(dump(cfg).rstrip())
    click.echo("---")
    click.echo(f"architecture: {arch.describe()}")
    if cfg["model"]["kind"] == "lstm97":
        click.echo(f"hidden units: {arch.n_cells} cells + {arch.n_hidden - arch.n_cells} gates")
    click.echo(f"weights: {net.n_weights()}")
    if hasattr(net, "n_free"):          # a guessing net: which weights each guess draws
        click.echo(f"guessed weights: {net.n_free()} (U[-{cfg['protocol']['weight_range']:g}, "
                   f"{cfg['protocol']['weight_range']:g}] each guess), fixed: "
                   f"{net.n_weights() - net.n_free()}")


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--n", "n", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def sample(config, n, seed, sets):
    """Print N sequences of CONFIG's task as JSON lines (inputs, targets, symbols)."""
    from .tasks.registry import build_task

    cfg = _load(config, sets)
    task = build_task(cfg["task"])
    chunk = task.sample(np.random.default_rng(seed), n)
    for i in range(chunk.n):
        click.echo(json.dumps(chunk.sequence(i)))


@main.command("eval")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--trial", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--data", type=click.Path(dir_okay=False), required=True,
              help="JSON lines, one sequence per line (the format of `lstmrun sample`).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def eval_(run_dir, trial, data, as_json):
    """Run a trained network of RUN_DIR on the sequences in DATA; report correctness."""
    from .engine.judge import M_CORRECT, M_MAXABS, M_NTGT, M_SSE
    from .rundir import RunFolderError, load_trained

    run = Path(run_dir)
    try:
        cfg, task, net, _ = load_trained(run, trial)
    except RunFolderError as e:
        _fail(str(e))
    records = []
    ln = 0
    try:
        with open(data, encoding="utf-8") as fh:
            for ln, line in enumerate(fh, 1):  # noqa: B007 (ln is reported below)
                if line.strip():
                    rec = json.loads(line)
                    if not isinstance(rec, dict):
                        _fail(f"{data}: line {ln}: expected a JSON object (one sequence, as "
                              f"`lstmrun sample` prints), got {type(rec).__name__}")
                    records.append(rec)
    except OSError as e:
        _fail(f"{data}: {e.strerror}")
    except UnicodeDecodeError:
        _fail(f"{data}: line {ln + 1}: not UTF-8 text")
    except json.JSONDecodeError as e:
        _fail(f"{data}: line {ln}: not valid JSON ({e.msg})")
    if not records:
        _fail(f"{data}: no sequences")
    try:
        chunk = task.chunk_from_records(records)
    except (ValueError, TypeError, KeyError, IndexError) as e:
        _fail(f"{data}: not sequences of task {cfg['task']['name']!r} ({e})")
    thr = cfg["protocol"].get("threshold")     # a config's own threshold, else the task's
    m = net.evaluate(chunk, criterion=task.criterion,
                     threshold=task.threshold if thr is None else thr)
    rows = [{"sequence": i, "correct": bool(m[i, M_CORRECT]),
             "mse": float(m[i, M_SSE] / max(1.0, m[i, M_NTGT] * task.n_out)),
             "max_abs_error": float(m[i, M_MAXABS])} for i in range(len(m))]
    frac = float(m[:, M_CORRECT].mean())
    if as_json:
        from .rundir import dumps

        click.echo(dumps({"run": str(run), "trial": trial, "criterion": task.criterion,
                          "fraction_correct": frac, "sequences": rows}))
    else:
        for r in rows:
            click.echo(f"{r['sequence']:5d}  {'correct' if r['correct'] else 'WRONG  '}  "
                       f"mse {r['mse']:.5f}  max|err| {r['max_abs_error']:.4f}")
        click.echo(f"fraction correct: {frac:.4f} ({int(m[:, M_CORRECT].sum())}/{len(m)}) "
                   f"under criterion '{task.criterion}'")


@main.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--grid", "grids", multiple=True, metavar="KEY=V1,V2,...",
              help="Sweep KEY over the values (repeatable: the product of all grids).")
@click.option("--zip", "zips", multiple=True, metavar="KEY=V1,V2,...",
              help="Paired values: the i-th values of every --zip go together.")
@click.option("--trials", type=click.IntRange(min=1), help="Trials per point (default: config).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, envvar="LSTMRUN_JOBS",
              help="Parallel workers (processes, or Dask workers of a LocalCluster) [default: "
                   "$LSTMRUN_JOBS, else one per CPU core].")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed of every point.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--out", type=click.Path(file_okay=False),
              help="Sweep folder (default: results/sweeps/<timestamp>-<id>/).")
@click.option("--resume", type=click.Path(file_okay=False, exists=True), metavar="SWEEP_DIR",
              help="Continue an interrupted sweep (same command): finished trials are skipped.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
              show_default=True)
@click.option("--scheduler", metavar="ADDRESS", help="With --executor dask: a running scheduler.")
@LANES_OPTION
@CHECKPOINT_OPTION
@click.option("--quiet", "-q", is_flag=True, help="Print only the sweep folder (and errors).")
def sweep(configs, grids, zips, trials, jobs, seed, sets, out, resume, executor, scheduler, quiet,
          lanes, checkpoint_every):
    """Run every CONFIG (or the points of a sweep file, *.sweep.yaml) over --grid/--zip values.

    Every point is a run folder (as `lstmrun train` writes) under one sweep folder with a
    sweep.json manifest. Example: lstmrun sweep configs/paper/exp1_erg_3x2_lr05.yaml
    --grid train.lr=0.1,0.2,0.5 --trials 10 --jobs 2
    """
    from .config import ConfigError
    from .rundir import META, RunFolderError, lock_folder, open_run
    from .sweep import (check_manifest, default_sweep_dir, load_sweep_file, make_points,
                        parse_pairs, write_manifest)

    _check_executor(executor, scheduler)
    common = _with_options(sets, trials, seed)
    sweep_lock, entries = None, {}
    try:
        files = [c for c in configs if c.endswith((".sweep.yaml", ".sweep.yml"))]
        if files:
            if len(configs) > 1 or grids or zips:
                raise ConfigError("a sweep file stands alone (no other configs, --grid or --zip)")
            cfgs, g, z, fsets = load_sweep_file(files[0])
            points = make_points(cfgs, g, z, fsets + common)
        else:
            points = make_points(list(configs), parse_pairs(list(grids), "grid"),
                                 parse_pairs(list(zips), "zip"), common)
        if resume:
            if out and Path(out) != Path(resume):
                raise ConfigError("--out and --resume name different folders")
            sdir = Path(resume)
        else:
            sdir = Path(out) if out else default_sweep_dir()
        sweep_lock = lock_folder(sdir)     # before anything is read or written there
        if resume:
            check_manifest(sdir, points)
        elif (sdir / "sweep.json").exists():
            raise ConfigError(f"{sdir} already holds a sweep; choose another --out, or --resume it")
        else:
            write_manifest(sdir, points)
        for p in points:
            _mark_overrides(p["cfg"], p["config"], p["sets"])
            rdir = sdir / p["name"]
            entries[p["name"]] = (p["cfg"], *open_run(rdir, p["cfg"], resume=bool(resume) and
                                                      (rdir / META).exists()))
    except (ConfigError, RunFolderError, OSError) as e:
        _close_all(entries)
        if sweep_lock is not None:
            sweep_lock.release()
        _fail(_os_error(out or resume or "sweep folder", e) if isinstance(e, OSError) else str(e))
    n = sum(len(t) for _, _, t in entries.values())
    jobs = _jobs(jobs, n, quiet)
    if not quiet:
        click.echo(f"sweep: {len(points)} point(s), {n} trial(s) to run, executor {executor}, "
                   f"{jobs} job(s) -> {sdir}", err=True)
    try:
        status, summaries = _run_entries(entries, jobs, executor, scheduler, quiet, lanes,
                                         checkpoint_every)
    except OSError as e:
        _fail(_os_error(sdir, e))
    finally:
        sweep_lock.release()
    if status != "finished":
        done = sum(s["trials"] for s in summaries.values())
        ck = _checkpointed([w.dir for _, w, _ in entries.values()])
        click.echo(f"{status}: {done} finished trial(s) kept in {sdir}{ck}; "
                   f"`{_resume_command(sdir)}` continues", err=True)
        sys.exit(int(Exit.TERMINATED if status == "terminated" else Exit.INTERRUPTED))
    if not quiet:
        for name, s in summaries.items():
            unit = s.get("unit", "sequences")
            st = s.get(f"{unit}_to_solve") or {}
            mean = f"{st['mean']:,.0f}" if st else "-"
            click.echo(f"{name}: {s['solved']}/{s['trials']} solved, mean {mean}"
                       + (" guesses" if unit == "guesses" else ""))
    click.echo(str(sdir))


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "json"]), default="md",
              show_default=True)
@click.option("--out", type=click.Path(file_okay=False),
              help="Also write REPORT.md, summary.csv and report.json into this folder.")
@click.option("--plots", is_flag=True,
              help="With --out: also plot every run (sequences to solve, learning curves) into "
                   "OUT/plots (needs matplotlib: pip install -e '.[plot]').")
def report(run_dirs, fmt, out, plots):
    """Tabulate RUN_DIRS beside the paper: success with a 95% Clopper-Pearson interval, sequences
    to solve (mean with a bootstrap 95% interval, median, IQR, range), post-test figures, flags."""
    from .report import plots_section, report_command

    if plots and not out:
        _fail("--plots needs --out")
    try:
        if plots:
            from .plots import plot_overview, plot_runs

            click.echo(report_command(list(run_dirs), fmt=fmt, out=out, overview=plot_overview))
            drawn = plot_runs(list(run_dirs), Path(out) / "plots")
            with open(Path(out) / "REPORT.md", "a") as fh:   # every row's figures, linked
                fh.write(plots_section(drawn))
        else:
            click.echo(report_command(list(run_dirs), fmt=fmt, out=out))
    except (ValueError, RuntimeError) as e:
        _fail(str(e))
    except OSError as e:
        _fail(_os_error(out or run_dirs[0], e))


@main.command("inspect")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--trial", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the one sequence drawn from the run's task.")
@click.option("--config", type=click.Path(dir_okay=False), help="Use this config instead of the "
              "run's (same network), e.g. to look at a longer lag.")
@click.option("--out", type=click.Path(dir_okay=False), help="PNG to write "
              "(default: RUN_DIR/inspect_trial_K_seed_S.png).")
@click.option("--json", "as_json", is_flag=True, help="Print the raw traces as JSON instead.")
def inspect_cmd(run_dir, trial, seed, config, out, as_json):
    """Run a trained LSTM of RUN_DIR over one sequence and plot input, cell states, gates and
    outputs over time: the stored information riding the constant error carousel."""
    from .inspect import inspect_run, plot_trace, to_jsonable

    try:
        tr = inspect_run(run_dir, trial, seed=seed, config=config)
        if as_json:
            click.echo(json.dumps(to_jsonable(tr)))
            return
        path = Path(out) if out else Path(run_dir) / f"inspect_trial_{trial}_seed_{seed}.png"
        plot_trace(tr, path)
    except (ValueError, RuntimeError, OSError) as e:
        _fail(str(e))
    click.echo(str(path))


if __name__ == "__main__":
    main()
