"""Where trials run: in this process, in a local process pool, or on a Dask cluster.

A *job* is ``(key, cfg, k)``: trial ``k`` of the resolved config ``cfg``, tagged with ``key`` (which
run folder it belongs to). :func:`run_jobs` calls ``on_result(key, rec, weights)`` in this process as
each trial ends, in completion order -- so one writer per run folder stays in this process. A trial
depends only on its config and index (see ``runner``), so results do not depend on the executor.

- ``local``: ``jobs`` worker processes (spawned, ``NUMBA_NUM_THREADS=1``), or this process for
  ``jobs <= 1``. With ``lanes`` > 1, the trials of a config that qualifies (:mod:`lockstep`) run
  ``lanes`` at a time in one kernel call: its trials are dealt out to the processes, each runs
  its share in lockstep and sends every trial's result back as it ends.
- ``dask``: ``scheduler`` is the address of a running Dask scheduler (``tcp://host:8786``); without
  one, a ``LocalCluster`` of ``jobs`` single-threaded worker processes is started for the run. Dask
  re-runs the trials of a worker that dies. Needs ``pip install -e '.[dask]'``.

Before fanning out, every distinct config's kernels are compiled here once (Numba's on-disk cache),
so workers on this machine load them instead of compiling in parallel.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

EXECUTORS = ("local", "dask")
DASK_MISSING = ("--executor dask needs Dask: pip install -e '.[dask]' "
                "(or pip install 'dask[distributed]')")


_LOCKSTEP = object()    # marks a pool future that runs a share of lockstep trials
_RESULTS = None     # a worker's queue for the results of its lockstep trials (_run_pool)


def _worker_init(parent: int | None = None, results=None):
    global _RESULTS
    os.environ["NUMBA_NUM_THREADS"] = "1"
    _RESULTS = results
    exit_with_parent(parent)


def exit_with_parent(parent: int | None = None, poll: float = 0.5) -> None:
    """Make this worker process end when ``parent`` (default: the process that started it) dies,
    kill -9 of ``lstmrun train`` included: Linux's parent-death signal where available, and a
    thread that watches the parent's pid everywhere. ``parent`` is passed by the pool, so a
    parent that died while the worker was starting is noticed too."""
    import threading

    if parent is None:
        parent = os.getppid()
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))      # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:                  # the parent died before the signal was set
        os._exit(1)

    def watch():
        import time

        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="lstmrun-parent-watch", daemon=True).start()


def _trial(cfg, k):
    from .runner import run_trial

    return run_trial(cfg, k)


def _lockstep_task(key, cfg, ks, lanes):
    """A worker's share of a config's trials, in lockstep; results go back by ``_RESULTS``."""
    from .lockstep import run_trials

    run_trials(cfg, ks, lanes, lambda k, rec, weights: _RESULTS.put((key, rec, weights)))


def _ident(cfg) -> str:
    return repr(sorted((s, repr(v)) for s, v in cfg.items()))


def warm(jobs_list, lanes: int = 1):
    """Compile (or load from the on-disk cache) the kernels of every distinct config of
    ``jobs_list`` in this process (with ``lanes`` > 1, the lanes kernel too where a config
    qualifies)."""
    from .runner import warm_up

    seen = set()
    for _, cfg, _ in jobs_list:
        ident = _ident(cfg)
        if ident not in seen:
            seen.add(ident)
            warm_up(cfg)
            if lanes > 1:
                from . import lockstep

                if lockstep.reason_not(cfg) is None:
                    lockstep.warm_up(cfg, lanes)


def lockstep_split(jobs_list, lanes: int):
    """(groups, singles): the jobs of configs that qualify for lockstep (:mod:`lockstep`) as
    ``[(key, cfg, [k, ...])]``, and the other jobs as they were."""
    if lanes <= 1:
        return [], list(jobs_list)
    from .lockstep import reason_not

    ok: dict[str, bool] = {}
    groups: dict = {}
    singles = []
    for key, cfg, k in jobs_list:
        ident = _ident(cfg)
        if ident not in ok:
            ok[ident] = reason_not(cfg) is None
        if ok[ident]:
            groups.setdefault((key, ident), (key, cfg, []))[2].append(k)
        else:
            singles.append((key, cfg, k))
    return list(groups.values()), singles


def run_jobs(jobs_list, on_result, *, executor: str = "local", jobs: int = 1,
             scheduler: str | None = None, warmed: bool = False, lanes: int = 1) -> None:
    """Run every job; ``warmed``: the caller has already compiled the kernels here (:func:`warm`),
    so the fan-out does not do it again. ``lanes`` > 1: trials in lockstep where a config
    qualifies (local executor only; results are the same)."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")
    if not jobs_list:
        return
    if executor == "dask":
        lanes = 1
    if not warmed and (executor == "dask" or jobs > 1 or lanes > 1):
        warm(jobs_list, lanes)
    if executor == "dask":
        _run_dask(jobs_list, on_result, jobs, scheduler)
        return
    groups, singles = lockstep_split(jobs_list, lanes)
    if jobs <= 1:
        from .lockstep import run_trials

        for key, cfg, ks in groups:
            run_trials(cfg, ks, lanes, lambda k, rec, weights, key=key: on_result(key, rec, weights))
        for key, cfg, k in singles:
            on_result(key, *_trial(cfg, k))
    else:
        _run_pool(singles, on_result, jobs, groups, lanes)


def _run_pool(jobs_list, on_result, jobs, groups=(), lanes=1):
    import multiprocessing as mp
    import queue

    os.environ["NUMBA_NUM_THREADS"] = "1"
    ctx = mp.get_context("spawn")
    results = ctx.Queue() if groups else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                             initargs=(os.getpid(), results)) as ex:
        expected = 0
        pending = {}
        for key, cfg, ks in groups:
            # deal the config's trials out to the processes, each running its share in lockstep
            parts = min(jobs, -(-len(ks) // lanes))
            for i in range(parts):
                pending[ex.submit(_lockstep_task, key, cfg, ks[i::parts], lanes)] = _LOCKSTEP
            expected += len(ks)
        pending.update({ex.submit(_trial, cfg, k): key for key, cfg, k in jobs_list})
        try:
            while pending or expected:
                while expected:
                    try:
                        item = results.get(timeout=0.2 if pending else 60.0)
                    except queue.Empty:
                        if not pending:
                            raise RuntimeError("a worker's lockstep results were lost") from None
                        break
                    expected -= 1
                    on_result(*item)
                if not pending:
                    continue
                done, _ = wait(pending, timeout=0.2 if expected else None,
                               return_when=FIRST_COMPLETED)
                for f in done:
                    key = pending.pop(f)
                    if key is _LOCKSTEP:
                        f.result()          # its results came by the queue; raises its error
                    else:
                        on_result(key, *f.result())
        except BaseException:
            # Ctrl-C (or an error): trials in flight are abandoned -- stop their workers now
            # rather than wait for them (a signal sent to this process alone does not reach them)
            for proc in list((getattr(ex, "_processes", None) or {}).values()):
                proc.kill()
            ex.shutdown(wait=False)
            raise


def _run_dask(jobs_list, on_result, jobs, scheduler):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise RuntimeError(DASK_MISSING) from None
    os.environ["NUMBA_NUM_THREADS"] = "1"  # inherited by LocalCluster's worker processes
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        client.run(exit_with_parent)       # its workers end with this process, however it ends
    try:
        futures = {}
        for key, cfg, k in jobs_list:
            f = client.submit(_trial, cfg, k, pure=False, retries=2)
            futures[f] = key
        try:
            for f in as_completed(list(futures)):
                on_result(futures[f], *f.result())
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
