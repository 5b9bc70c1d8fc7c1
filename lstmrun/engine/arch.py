"""Architecture of the 1997 LSTM as plain data: unit layout, connection masks, weight count, init.

Unit layout (HS97 A.1; PROTOCOLS §9). ``I`` inputs, ``B`` memory blocks of ``S`` cells
(``C = B*S``), ``K`` output units. The hidden layer has ``H`` units, in this order::

    cells          0 .. C-1          (cell c belongs to block c // S)
    input gates    C .. C+B-1
    output gates   C+B .. C+2B-1     (absent when ``output_gate`` is False, Exps 2a/2b)
    forget gates   after the output gates, one per block (only with ``forget_gate``; GSC00,
                   PROTOCOLS §12.1): appended last, so the 1997 layout is unchanged without them

Weights live in two matrices whose columns are the units' sources:

- ``Wh`` (H, I+1+H): a hidden unit reads ``z(t) = [x(t), 1, y_hidden(t-1)]`` -- the current input,
  the bias unit and every hidden unit's previous activation (A.1 eqs. 7-9; A2).
- ``Wo`` (K, I+1+C): an output unit reads ``u(t) = [x(t), 1, y_cells(t)]`` -- the current input,
  the bias unit and the current cell outputs (A2: §5's order input -> hidden -> output).
- with ``peepholes`` (Gers & Schmidhuber 2000, GSS02; PROTOCOLS §13.1) ``Wh`` has C more columns,
  ``Wh (H, I+1+H+C)``: column ``I+1+H+c`` is the peephole weight from cell c's *state* s_c. Only
  the gates of c's own block have it (input and forget gates read s_c(t-1), the output gate the
  updated s_c(t)); cells have none. Without peepholes the columns do not exist, so the 1997 and
  forget-gate layouts are unchanged.

Which of these connections exist is given by 0/1 masks of the same shapes; the weight count is the
number of ones. Masked weights are zero and stay zero.

Connectivity (HS97 Table 10 "conn", plus GSC00's): ``"F"`` cells and gates read the inputs and every
hidden unit (cells and gates) of the previous step; ``"B"`` the inputs only; ``"C"`` the inputs and
the previous step's *cell outputs* only (GSC00's CERG net: "cell outputs feed every cell input and
every gate", PROTOCOLS §12.2; 424 weights for 4 blocks x 2 cells with forget gates).

``state_decay`` (a number, no extra units) multiplies every cell state by that constant each step,
``s(t) = d * s(t-1) + y_in g(net_c)``: GSC00 Table 2's "LSTM with state decay (0.9)". With 1.0 it
is the 1997 CEC exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# squashing-function codes shared with the kernel
SQ_LOGISTIC = 0  # f(x) = 1/(1+e^-x) in [0, 1]
SQ_TANHLIKE = 1  # 2f-1 in [-1, 1]      (HS97's h)
SQ_G2 = 2        # 4f-2 in [-2, 2]      (HS97's g)
SQ_IDENTITY = 3  # x

SQUASH = {"logistic": SQ_LOGISTIC, "h1": SQ_TANHLIKE, "g2": SQ_G2, "identity": SQ_IDENTITY}

BIAS_SCHEMES = ("ga", "b1", "all", "none")  # HS97 Table 10: gates / all hidden / all non-input / none
CONNECTIVITY = ("F", "B", "C")              # HS97 Table 10; "C": recurrent from cells only (GSC00)



class Masked:
    """An architecture whose ``masks()`` give its connections: it counts its weights from them."""

    def n_weights(self) -> int:
        Mh, Mo = self.masks()
        return int(Mh.sum() + Mo.sum())


def output_mask(K: int, I: int, NZ: int, from_inputs: bool, bias: bool) -> np.ndarray:
    """The 0/1 mask of K output units reading ``[x (I), 1, hidden]`` (NZ columns): the hidden
    units always, the inputs and the bias as asked."""
    Mo = np.ones((K, NZ))
    Mo[:, :I] = 1.0 if from_inputs else 0.0
    Mo[:, I] = 1.0 if bias else 0.0
    return Mo

@dataclass(frozen=True)
class Arch:
    n_in: int
    n_out: int
    blocks: int
    cells_per_block: int
    output_gate: bool = True
    connectivity: str = "F"        # "F": cells and gates read inputs + all hidden; "B": inputs only
    biases: str = "ga"             # Table 10 scheme
    output_bias: bool | None = None       # None = as `biases` implies ("all" only)
    input_to_output: bool | None = None   # None = as `connectivity` implies ("B" only)
    g: str = "g2"
    h: str = "h1"
    output_act: str = "logistic"
    forget_gate: bool = False      # one forget gate per block (GSC00 §3; PROTOCOLS §12.1)
    state_decay: float | None = None   # constant CEC factor instead of a gate (GSC00 Table 2)
    peepholes: bool = False        # cell state -> own block's gates (GSS02 §3; PROTOCOLS §13.1)
    # how units read the gates' previous outputs (connectivity "F"): "raw" y (HS97), or "centred"
    # y - 0.5 (a reading for Exp 2c: no constant input from gates that sit at 0.5; same weights)
    gate_sources: str = "raw"

    def __post_init__(self):
        for name in ("n_in", "n_out", "blocks", "cells_per_block"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.connectivity not in CONNECTIVITY:
            raise ValueError(f"connectivity must be one of {CONNECTIVITY}")
        if self.biases not in BIAS_SCHEMES:
            raise ValueError(f"biases must be one of {BIAS_SCHEMES}")
        for name in ("g", "h"):
            if getattr(self, name) not in SQUASH:
                raise ValueError(f"{name} must be one of {tuple(SQUASH)}")
        if self.output_act not in ("logistic", "identity"):
            raise ValueError("output_act must be 'logistic' or 'identity'")
        if self.forget_gate and self.state_decay is not None:
            raise ValueError("forget_gate and state_decay exclude each other")
        if self.state_decay is not None and not 0.0 <= self.state_decay <= 1.0:
            raise ValueError("state_decay must lie in [0, 1]")
        if self.gate_sources not in ("raw", "centred"):
            raise ValueError("gate_sources must be 'raw' or 'centred'")
        if self.gate_sources == "centred" and self.connectivity != "F":
            raise ValueError("gate_sources 'centred' needs connectivity F (only there do units "
                             "read the gates' outputs)")

    # ---- layout -------------------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        return self.blocks * self.cells_per_block

    @property
    def n_hidden(self) -> int:
        return self.n_cells + self.blocks * (1 + int(self.output_gate) + int(self.forget_gate))

    @property
    def in_gate0(self) -> int:
        return self.n_cells

    @property
    def out_gate0(self) -> int:
        return self.n_cells + self.blocks

    @property
    def forget_gate0(self) -> int:
        return self.n_cells + self.blocks * (2 if self.output_gate else 1)

    @property
    def has_output_bias(self) -> bool:
        return self.biases == "all" if self.output_bias is None else bool(self.output_bias)

    @property
    def has_input_to_output(self) -> bool:
        if self.input_to_output is None:
            return self.connectivity == "B"
        return bool(self.input_to_output)

    @property
    def n_gates_per_block(self) -> int:
        return 1 + int(self.output_gate) + int(self.forget_gate)

    def peephole_mask(self) -> np.ndarray:
        """(H, C) 0/1: which hidden unit has a peephole from which cell's state (every gate of a
        block from each of the block's cells; cells none). All zero without ``peepholes``."""
        H, C, B, S = self.n_hidden, self.n_cells, self.blocks, self.cells_per_block
        P = np.zeros((H, C))
        if self.peepholes:
            for r in range(C, H):                # gates: groups of B, block j = (r - C) % B
                j = (r - C) % B
                P[r, j * S:(j + 1) * S] = 1.0
        return P

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """0/1 connection masks ``(Mh, Mo)`` shaped like ``Wh`` and ``Wo``."""
        I, H, C = self.n_in, self.n_hidden, self.n_cells
        Mh = np.zeros((H, I + 1 + H + (C if self.peepholes else 0)))
        Mh[:, :I] = 1.0                                  # inputs feed every cell and gate
        if self.connectivity == "F":
            Mh[:, I + 1:I + 1 + H] = 1.0                 # all cells and gates, previous step
        elif self.connectivity == "C":
            Mh[:, I + 1:I + 1 + C] = 1.0                 # the cells only, previous step (GSC00)
        bias_rows = {
            "ga": range(C, H), "b1": range(H), "all": range(H), "none": range(0),
        }[self.biases]
        for r in bias_rows:
            Mh[r, I] = 1.0
        if self.peepholes:
            Mh[:, I + 1 + H:] = self.peephole_mask()     # cell states -> own block's gates
        Mo = np.zeros((self.n_out, I + 1 + C))
        Mo[:, I + 1:] = 1.0                              # outputs read the cells
        if self.has_input_to_output:
            Mo[:, :I] = 1.0
        if self.has_output_bias:
            Mo[:, I] = 1.0
        return Mh, Mo

    def n_weights(self) -> int:
        Mh, Mo = self.masks()
        return int(Mh.sum() + Mo.sum())

    def describe(self) -> str:
        gates = "in+out gates" if self.output_gate else "input gate only"
        if self.forget_gate:
            gates += " + forget gate"
        if self.state_decay is not None:
            gates += f", state decay {self.state_decay:g}"
        if self.peepholes:
            gates += ", peepholes"
        s = (f"{self.n_in} inputs -> {self.blocks} block(s) x {self.cells_per_block} cell(s) "
             f"[{gates}] -> {self.n_out} outputs; "
             f"connectivity {self.connectivity}, biases {self.biases}"
             f"{', output bias' if self.has_output_bias else ''}"
             f"{', input->output' if self.has_input_to_output else ''}; "
             f"g={self.g}, h={self.h}, output={self.output_act}"
             f"{'; gate outputs read centred (y - 0.5)' if self.gate_sources == 'centred' else ''}")
        return s


@dataclass(frozen=True)
class Init:
    """Initialisation (HS97 §5 intro, T10/T11; A5)."""

    scale: float = 0.2                          # U[-scale, scale]
    input_gate_bias: tuple[float, ...] | None = None   # per block; None = random like the rest
    output_gate_bias: tuple[float, ...] | None = None
    forget_gate_bias: tuple[float, ...] | None = None  # GSC00: positive (+0.5 .. +2.0)
    bias_mode: str = "exact"                    # "exact": set to the value; "offset": add to draw (JKU)


def init_weights(arch: Arch, init: Init, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(Wh, Wo)``: U[-a, a] on every existing connection, then the per-block gate biases."""
    Mh, Mo = arch.masks()
    a = init.scale
    Wh = rng.uniform(-a, a, size=Mh.shape) * Mh
    Wo = rng.uniform(-a, a, size=Mo.shape) * Mo
    col = arch.n_in  # bias column
    for values, row0, label in ((init.input_gate_bias, arch.in_gate0, "input_gate_bias"),
                                (init.output_gate_bias, arch.out_gate0, "output_gate_bias"),
                                (init.forget_gate_bias, arch.forget_gate0, "forget_gate_bias")):
        if values is None:
            continue
        if label == "output_gate_bias" and not arch.output_gate:
            raise ValueError("output_gate_bias given but the model has no output gate")
        if label == "forget_gate_bias" and not arch.forget_gate:
            raise ValueError("forget_gate_bias given but the model has no forget gates")
        if len(values) != arch.blocks:
            raise ValueError(f"{label} needs one value per block ({arch.blocks}), got {len(values)}")
        for j, v in enumerate(values):
            if Mh[row0 + j, col] == 0:
                raise ValueError(f"{label} given but gates have no bias under biases={arch.biases!r}")
            if init.bias_mode == "exact":
                Wh[row0 + j, col] = v
            else:
                Wh[row0 + j, col] += v
    return Wh, Wo
