"""The timing tasks of Gers, Schraudolph & Schmidhuber (2002, "GSS02"; PROTOCOLS §13.3).

GSS02 introduced peephole connections for these tasks. Only its abstract, verbatim extracts of §3
and §4.2 and a secondary reading note (PFX02) were available (PROTOCOLS §13, A22); where they are
silent the choice below is ours and is marked **(ours)**. Every task has one real input line and
one output unit, and is run as *streams* of *events* (:mod:`lstmrun.protocols.timing`): a training
stream ends at the first wrong output or after ``train_events`` correct events (GSS02: 100), a
test stream after ``test_events`` (GSS02: 1000).

- ``msd`` -- measuring spike delays. Spikes (input 1.0, else 0.0) at T(1) = F + I(1),
  T(n) = T(n-1) + F + I(n), with I(n) drawn uniformly from ``delays``; at T(n) the net must
  output I(n). The abstract's "spikes spaced 50 or 49 steps apart" is F = 49, I in {0, 1}
  (PROTOCOLS §13.3, our inference). An event is one spike. Targets **only at the spikes**
  (ours: the sources define the target at T(n) only; PFX02's analysis -- the no-peephole net
  keeps its output gate open because "predictions are rare" -- fits). ``continual: true`` is
  GSS02's MSD (one stream, no resets); ``false`` is NMSD: every interval is its own sequence,
  the net reset at its start (the reset point plays the previous spike).
- ``gts`` -- generating timed spikes, "MSD with input and target swapped" (PFX02): the target is
  1.0 at the spike times T(n) above and 0.0 at every other step, every step judged; the input is
  I(n) at the step after the previous spike (step 1 for n = 1) and 0.0 elsewhere **(ours: the
  sources do not say how the delays are presented)**. With ``delays: [0]`` (the default) the
  input is always 0 and the net must generate a spike every F steps on its own. An event is one
  target spike.
- ``pfg`` -- periodic function generation. No input (the line stays 0.0); the target at step
  t = 1, 2, ... is f(t) with period F: ``cos``: (1 - cos(2 pi t / F)) / 2; ``tri``: 2m/F for
  m <= F/2, else 2 - 2m/F (m = t mod F; PFX02 prints the two branches the other way round,
  which leaves [0, 1]: we take that as a slip); ``rect``: 1 if m > F/2, else 0. Every step is
  judged; an event is one period. GSS02 uses a linear output unit here (PROTOCOLS §13.2) and the
  criterion |error| < 0.3.

Streams are generated lazily: ``stream.chunk(n)`` holds the first ``n`` events (so a test that
fails after 3 events does not pay for 1000), and ``stream.event_ends(n)`` the index of each
event's last step.
"""

from __future__ import annotations

import numpy as np

from ..engine.chunk import Chunk
from .common import SequenceTask, check_choice, yaml_defaults

SHAPES = ("cos", "tri", "rect")


def periodic(shape: str, F: int, t: np.ndarray) -> np.ndarray:
    """GSS02's periodic targets (PROTOCOLS §13.3) at integer times ``t``."""
    if shape == "cos":
        return 0.5 * (1.0 - np.cos(2.0 * np.pi * t / F))
    m = np.mod(t, F).astype(np.float64)
    if shape == "tri":
        return np.where(m <= F / 2.0, 2.0 * m / F, 2.0 - 2.0 * m / F)
    return (m > F / 2.0).astype(np.float64)


class Stream:
    """One stream of a timing task, generated as far as asked (delays drawn lazily). A task
    whose streams are all the same (PFG; one delay value) builds each prefix once: the chunks
    are only read."""

    def __init__(self, task: _TimingTask, rng: np.random.Generator):
        self.task, self.rng = task, rng
        self.delays = np.zeros(0, np.int64)

    def _draw(self, n: int) -> np.ndarray | None:
        t = self.task
        if t.fixed is not None:
            return None if not t.uses_delays else np.full(n, t.fixed, np.int64)
        if n > len(self.delays):
            vals = np.asarray(t.p["delays"], np.int64)
            more = vals[self.rng.integers(0, len(vals), size=max(n - len(self.delays), 16))]
            self.delays = np.concatenate([self.delays, more])
        return self.delays[:n]

    def event_ends(self, n: int) -> np.ndarray:
        """Index (0-based, within the stream) of the last step of each of the first n events."""
        return self._cached(("ends", n), lambda: self.task._ends(self._draw(n), n))

    def chunk(self, n: int) -> Chunk:
        return self._cached(("chunk", n), lambda: self.task._stream_chunk(self._draw(n), n))

    def _cached(self, key, make):
        cache = self.task._cache
        if cache is None:
            return make()
        if key not in cache:
            cache[key] = make()
        return cache[key]


class _TimingTask(SequenceTask):
    """Shared parts: streams, sampling (one sequence per stream), records (``lstmrun eval``)."""

    criterion = "abs"
    threshold = 0.49          # GSS02 MSD/GTS: |error| < 0.49 (PROTOCOLS §13.2)
    end_only = False
    uses_delays = True
    kind = ""
    _base = {
        "F": (int, 49),
        "delays": (list, [0, 1]),
        "train_events": (int, 100),   # GSS02: a training stream ends after 100 correct events
        "test_events": (int, 1000),   # GSS02: a test stream after 1000
        "test_streams": (int, 1),     # GSS02: one test after each training stream (ours: 1 stream)
        "sample_events": (int, 5),    # events per stream of `lstmrun sample`
    }

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        if self.uses_delays:
            d = p["delays"]
            if not d or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                for v in d):
                raise ValueError(f"task.delays: must be a non-empty list of integers >= 0 "
                                 f"(got {d!r})")
        if p["F"] < 2:
            raise ValueError(f"task.F: must be at least 2 (got {p['F']})")
        # every stream the same: no delays, or a single delay value
        self.fixed = (None if self.uses_delays and len(set(p["delays"])) > 1
                      else (p["delays"][0] if self.uses_delays else 0))
        self._cache: dict | None = {} if self.fixed is not None else None

    def stream(self, rng: np.random.Generator) -> Stream:
        return Stream(self, rng)

    def _ends(self, delays, n: int) -> np.ndarray:
        return np.cumsum(self.p["F"] + delays) - 1

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        parts = [self.stream(rng).chunk(self.p["sample_events"]) for _ in range(n)]
        offs, base = [0], 0
        for c in parts:
            offs.extend(int(o) + base for o in c.offsets[1:])
            base += c.total_steps
        return self._chunk(np.array(offs, np.int64),
                           x_real=np.concatenate([c.x_real for c in parts]),
                           targets=np.concatenate([c.targets for c in parts]),
                           has_target=np.concatenate([c.has_target for c in parts]))

    def _stream_chunk(self, delays, n: int) -> Chunk:
        raise NotImplementedError


class MSDTask(_TimingTask):
    """Measuring spike delays (GSS02 §4.1-4.2; PROTOCOLS §13.3): output I(n) at spike n."""

    kind = "msd"
    params = yaml_defaults("msd", {**_TimingTask._base, "continual": (bool, True)})

    def _stream_chunk(self, delays, n: int) -> Chunk:
        ends = self._ends(delays, n)
        T = int(ends[-1]) + 1
        x = np.zeros((T, 1))
        x[ends, 0] = 1.0
        targets = np.zeros((T, 1))
        targets[ends, 0] = delays
        has = np.zeros(T, np.uint8)
        has[ends] = 1
        offsets = (np.array([0, T], np.int64) if self.p["continual"]
                   else np.concatenate([[0], ends + 1]).astype(np.int64))
        return self._chunk(offsets, x_real=x, targets=targets, has_target=has)


class GTSTask(_TimingTask):
    """Generating timed spikes (GSS02; PROTOCOLS §13.3): target 1 at T(n), 0 elsewhere."""

    kind = "gts"
    params = yaml_defaults("gts", {**_TimingTask._base, "F": (int, 10), "delays": (list, [0])})

    def _stream_chunk(self, delays, n: int) -> Chunk:
        ends = self._ends(delays, n)
        T = int(ends[-1]) + 1
        x = np.zeros((T, 1))
        starts = np.concatenate([[0], ends[:-1] + 1])
        x[starts, 0] = delays            # (ours) the next delay, right after the previous spike
        targets = np.zeros((T, 1))
        targets[ends, 0] = 1.0
        return self._chunk(np.array([0, T], np.int64), x_real=x, targets=targets,
                           has_target=np.ones(T, np.uint8))


class PFGTask(_TimingTask):
    """Periodic function generation (GSS02; PROTOCOLS §13.3): no input, target f(t)."""

    kind = "pfg"
    threshold = 0.3               # GSS02 PFG: |error| < 0.3 (PROTOCOLS §13.2)
    uses_delays = False
    params = yaml_defaults("pfg", {k: v for k, v in _TimingTask._base.items() if k != "delays"}
                            | {"F": (int, 25), "shape": (str, "cos")})

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        check_choice("shape", p["shape"], SHAPES)

    def _ends(self, delays, n: int) -> np.ndarray:
        return (np.arange(1, n + 1) * self.p["F"] - 1).astype(np.int64)

    def _stream_chunk(self, delays, n: int) -> Chunk:
        T = n * self.p["F"]
        t = np.arange(1, T + 1)
        targets = periodic(self.p["shape"], self.p["F"], t)[:, None]
        return self._chunk(np.array([0, T], np.int64), x_real=np.zeros((T, 1)),
                           targets=targets, has_target=np.ones(T, np.uint8))


TASKS = {"msd": MSDTask, "gts": GTSTask, "pfg": PFGTask}
