"""The benchmark tasks of random weight guessing that HS97 does not define itself: the latch problem
and parity (PROTOCOLS §10; RG01 node2-4, NIPS96 node1). The 2-sequence problem is Exp 3a's
generator (:class:`lstmrun.tasks.longlag.Exp3Task`).

Both are two-class problems on real-valued input lines with one target at the last step; each
chunk carries the class of every sequence in ``chunk.extra["cls"]`` (0 = class 1, 1 = class 2) so
that the ``guess`` protocol can draw training and test sets with 50 sequences per class (RG01
node2). Lengths are uniform integers in [``length_min``, ``length_max``] (RG01 node2: 500-600 for
every problem).

- ``latch`` (RG01 node3; Bengio et al. 1994):
  - variant ``"I"``: three input lines: the indicator of class 1 and that of class 2 (1.0 at the
    first step only) and a noise line (0 at the first step, then Gaussian(0, ``noise_var``)). The
    net's weights from the two indicators are the "initial input values, one for each sequence
    class", the free parameters besides the recurrent weight; the noise enters with weight 1.
    Targets +0.8 (class 1) / -0.8 (class 2).
  - variant ``"II"``: one input line, +1.0 (class 1) / -1.0 (class 2) at the first step, then
    Gaussian(0, ``noise_var``) noise. Targets +1.0 / -1.0.
  ``noise_var`` 0.2: "Gaussian noise with mean zero and variance 0.2 is added to each sequence
  element except the first" (A14: a variance).
- ``parity`` (RG01 node4): inputs -1.0/+1.0, each with probability 1/2; target 1.0 if the number of
  +1s is odd, else 0.0 ("1.0 for odd and 0.0 for even" number of 1s). ``input_noise`` a > 0 adds
  U[-a, a] noise to every element (RG01's noisy variant: 0.2) after the class is fixed.
"""

from __future__ import annotations

import numpy as np

from ..engine.chunk import Chunk
from .common import (
    SequenceTask,
    check_choice,
    check_nonneg,
    offsets_of,
    uniform_lengths,
    yaml_defaults,
)


def _classes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` class labels 0/1 (class 1 / class 2), each with probability 1/2."""
    return rng.integers(0, 2, size=n).astype(np.int64)


class LatchTask(SequenceTask):
    """The latch problem, variants I and II (module docstring)."""

    name = "latch"
    onehot = False
    criterion = "abs"
    n_out = 1
    params = yaml_defaults("latch", {"variant": (str, "I"), "length_min": (int, 500),
                                      "length_max": (int, 600), "noise_var": (float, 0.2)})

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        check_choice("variant", p["variant"], ("I", "II"))
        check_nonneg("noise_var", p["noise_var"])
        if p["length_max"] < p["length_min"] or p["length_min"] < 2:
            raise ValueError("task.length_min/length_max: need 2 <= length_min <= length_max")
        self.variant = p["variant"]
        self.n_in = 3 if self.variant == "I" else 1
        self.target = 0.8 if self.variant == "I" else 1.0
        # RG01's default criterion, |error| < 0.1; the latch configs set their own (see there)
        self.threshold = 0.1

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        lengths = uniform_lengths(rng, n, self.p["length_min"], self.p["length_max"])
        cls = _classes(rng, n)
        offsets = offsets_of(lengths)
        T = int(offsets[-1])
        starts, last = offsets[:-1], offsets[1:] - 1
        noise = rng.normal(0.0, np.sqrt(self.p["noise_var"]), size=T)
        noise[starts] = 0.0
        if self.variant == "I":
            x = np.zeros((T, 3))
            x[starts, cls] = 1.0
            x[:, 2] = noise
        else:
            x = noise[:, None].copy()
            x[starts, 0] = 1.0 - 2.0 * cls
        targets = np.zeros((T, 1))
        targets[last, 0] = np.where(cls == 0, self.target, -self.target)
        has = np.zeros(T, np.uint8)
        has[last] = 1
        return self._chunk(offsets, x_real=x, targets=targets, has_target=has, extra={"cls": cls})


class ParityTask(SequenceTask):
    """Parity of the number of +1s in a -1/+1 sequence (module docstring)."""

    name = "parity"
    onehot = False
    criterion = "abs"
    n_in = n_out = 1
    threshold = 0.1
    params = yaml_defaults("parity", {"length_min": (int, 500), "length_max": (int, 600),
                                       "input_noise": (float, 0.0)})

    def __init__(self, p: dict) -> None:
        super().__init__(p)
        check_nonneg("input_noise", p["input_noise"])
        if p["length_max"] < p["length_min"]:
            raise ValueError("task.length_min/length_max: need length_min <= length_max")

    def sample(self, rng: np.random.Generator, n: int) -> Chunk:
        lengths = uniform_lengths(rng, n, self.p["length_min"], self.p["length_max"])
        offsets = offsets_of(lengths)
        T = int(offsets[-1])
        bits = rng.integers(0, 2, size=T).astype(np.int64)        # 1 = +1
        ones = np.add.reduceat(bits, offsets[:-1]) if n else np.zeros(0, np.int64)
        cls = (ones % 2).astype(np.int64)                          # 1 = odd = target 1.0
        x = (2.0 * bits - 1.0)[:, None]
        a = self.p["input_noise"]
        if a > 0:
            x = x + rng.uniform(-a, a, size=(T, 1))
        last = offsets[1:] - 1
        targets = np.zeros((T, 1))
        targets[last, 0] = cls.astype(np.float64)
        has = np.zeros(T, np.uint8)
        has[last] = 1
        return self._chunk(offsets, x_real=x, targets=targets, has_target=has,
                           extra={"cls": cls, "ones": ones})


TASKS = {"latch": LatchTask, "parity": ParityTask}
