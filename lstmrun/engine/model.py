"""A thin Python wrapper around the LSTM kernel: checks inputs, owns the weights."""

from __future__ import annotations

import threading

import numpy as np

from . import codegen, lstm97, lstm_full
from . import lanes as lanes_mod
from .arch import SQUASH, Arch, Init, init_weights
from .judge import N_METRICS
from .exactexp import exact_impl
from .kernel_common import EXP_EXACT, EXP_EXACT_VEC, EXP_FAST, EXP_LIBM
from .kernelmodel import CRITERIA, KernelModel, step_flags  # noqa: F401  (model.step_flags)

# config train.exp -> the kernels' IP_FASTEXP
EXP_MODES = {"exact": EXP_EXACT, "fast": EXP_FAST, "libm": EXP_LIBM}


def exp_code(mode: str) -> int:
    """The kernels' IP_FASTEXP for config ``train.exp`` ``mode``: "exact" is glibc's algorithm,
    computed by the port inlined value by value, as vector code over blocks of units, or by the
    C library's call where it runs the same algorithm (``exactexp.exact_impl``): the same bits
    every way."""
    if mode == "exact":
        impl = exact_impl()
        if impl == "call":
            return EXP_LIBM
        if impl == "vector":
            return EXP_EXACT_VEC
    return EXP_MODES[mode]


class LSTM97(KernelModel):
    """The 1997 LSTM: weights ``Wh``/``Wo`` (see :mod:`lstmrun.engine.arch`) and its kernel."""

    def __init__(self, arch: Arch, Wh: np.ndarray, Wo: np.ndarray, reset_act: float = 0.0):
        self._set_weights(arch, Wh, Wo, reset_act)
        Mh, Mo = self.Mh, self.Mo
        I, C = arch.n_in, arch.n_cells
        NZ = I + 1 + arch.n_hidden      # peephole columns, if any, follow (arch.py)
        rec = lstm97.REC_NONE
        if Mh[:, I + 1 + C:NZ].any():
            rec = lstm97.REC_ALL
        elif Mh[:, I + 1:NZ].any():
            rec = lstm97.REC_CELLS
        fg = (lstm97.FG_GATE if arch.forget_gate
              else lstm97.FG_DECAY if arch.state_decay is not None else lstm97.FG_NONE)
        self.ip = np.array([I, arch.n_out, arch.blocks, arch.cells_per_block,
                            int(arch.output_gate), SQUASH[arch.g], SQUASH[arch.h],
                            SQUASH[arch.output_act], 0, rec,
                            int(Mo[:, :I].any()), int(Mo[:, I].any()), 0, fg, 0, 0,
                            int(arch.peepholes), 0, 0, int(arch.gate_sources == "centred")],
                           dtype=np.int64)
        # fp: the constant state decay (FG_DECAY) and the per-step learning-rate factor
        # and the momentum (IP_MOMENTUM)
        self.fp = np.array([1.0 if arch.state_decay is None else float(arch.state_decay), 1.0,
                            0.0])
        # momentum: the velocity of every Wh and Wo entry (row-major, Wh first), kept across
        # calls; empty when momentum is off (set_momentum)
        self.vel = np.zeros(0)
        # GSC00's "sequential alpha decay": the rate at the k-th step of a kernel call (one
        # training stream) is lr * lr_decay**k. 1.0: off (the kernel's decay code is not used).
        self.lr_decay = 1.0
        # end a call at the first judged step that fails the criterion (continual streams, §12.2)
        self.stop_at_error = False
        # learn with the exact gradient (BPTT through each whole sequence, engine/lstm_full.py)
        # instead of the truncated 1997 rule; frozen-weight runs are the same either way
        self.full_gradient = False
        # exp in the logistic (config train.exp): "exact" (glibc's, inlined: exactexp.gexp),
        # "fast" (the vectorisable fastexp.fexp, within 2 ulp; docs/speed.md for where it pays)
        # or "libm" (a call of the platform's C library)
        self.exp_mode = "exact"
        self.hbias = np.ascontiguousarray(Mh[:, I])
        # the kernel takes the wiring as these flags: check the masks have that structure
        expect_h = np.zeros_like(Mh)
        expect_h[:, :I] = 1.0
        expect_h[:, I] = self.hbias
        expect_h[:, I + 1:NZ] = float(rec == lstm97.REC_ALL)
        expect_h[:, I + 1:I + 1 + C] = float(rec != lstm97.REC_NONE)
        if arch.peepholes:
            expect_h[:, NZ:] = arch.peephole_mask()
        expect_o = np.zeros_like(Mo)
        expect_o[:, :I] = float(self.ip[lstm97.IP_OIN])
        expect_o[:, I] = float(self.ip[lstm97.IP_OBIAS])
        expect_o[:, I + 1:] = 1.0
        if not (np.array_equal(Mh, expect_h) and np.array_equal(Mo, expect_o)):
            raise ValueError("the kernel supports the wiring schemes of arch.Arch only")

    @classmethod
    def random(cls, arch: Arch, init: Init, rng: np.random.Generator, reset_act: float = 0.0):
        Wh, Wo = init_weights(arch, init, rng)
        return cls(arch, Wh, Wo, reset_act)

    @property
    def fast_exp(self) -> bool:
        """``exp_mode == "fast"`` (setting it True or False picks "fast" or "exact")."""
        return self.exp_mode == "fast"

    @fast_exp.setter
    def fast_exp(self, on: bool) -> None:
        self.exp_mode = "fast" if on else "exact"

    @property
    def momentum(self) -> float:
        return float(self.fp[2])

    def set_momentum(self, m: float) -> None:
        """On-line momentum m (GSS02): every weight change becomes v = m v + lr (-grad), w += v.
        Turning it on (or off) starts from zero velocity."""
        self.fp[2] = float(m)
        self.ip[lstm97.IP_MOMENTUM] = int(m != 0.0)
        self.vel = np.zeros(self.Wh.size + self.Wo.size if m != 0.0 else 0)

    @property
    def cells_enabled(self) -> bool:
        """All blocks on (sequential construction has added every one)."""
        return self.ip[lstm97.IP_CELLS_OFF] == 0

    @property
    def blocks_enabled(self) -> int:
        """How many blocks (the first ones) are on."""
        return int(self.arch.blocks - self.ip[lstm97.IP_CELLS_OFF])

    def enable_cells(self, on: bool = True) -> None:
        """Sequential construction (HS97 §4 remedy 1, Exp 2a/2b): with cells off the net is its
        input->output part only; turning them on adds the memory cells and their gates."""
        self.enable_blocks(self.arch.blocks if on else 0)

    def enable_blocks(self, n: int) -> None:
        """Sequential construction one block at a time: blocks 0..n-1 (cells and gates) on, the
        others off (their cells output 0 and learn nothing)."""
        if not 0 <= n <= self.arch.blocks:
            raise ValueError(f"enable_blocks: 0..{self.arch.blocks} (got {n})")
        self.ip[lstm97.IP_CELLS_OFF] = self.arch.blocks - n

    def copy(self) -> LSTM97:
        net = LSTM97(self.arch, self.Wh.copy(), self.Wo.copy(), self.reset_act)
        net.enable_blocks(self.blocks_enabled)
        net.lr_decay, net.stop_at_error = self.lr_decay, self.stop_at_error
        net.full_gradient, net.exp_mode = self.full_gradient, self.exp_mode
        net.set_momentum(self.momentum)
        net.vel = self.vel.copy()
        return net

    def lanes_ok(self, update_per_step: bool = True) -> bool:
        """Whether training can run in the lanes kernel (:func:`train_lanes`): the 1997 rule with
        per-step changes and none of the later variants (forget gates, constant decay,
        peepholes, momentum, rate decay, stop at the first error, the full gradient), every
        block on."""
        ip = self.ip
        return (update_per_step and ip[lstm97.IP_FG] == lstm97.FG_NONE and not ip[lstm97.IP_PEEP]
                and not ip[lstm97.IP_MOMENTUM] and self.lr_decay == 1.0
                and not self.stop_at_error and not self.full_gradient
                and ip[lstm97.IP_CELLS_OFF] == 0)

    onehot_slot = lstm97.IP_ONEHOT

    def _kernel(self, ip, chunk, flags, clean, order, lr, learn, update_per_step, crit, thr,
                early_exit, metrics) -> int:
        fp = self.fp
        if learn and self.lr_decay != 1.0:
            ip[lstm97.IP_LRDECAY] = 1
            fp = fp.copy()
            fp[1] = float(self.lr_decay)
        ip[lstm97.IP_STOP] = int(self.stop_at_error)
        ip[lstm97.IP_FASTEXP] = exp_code(self.exp_mode)
        kern = codegen.kernel(ip)
        if learn and self.full_gradient:
            if self.arch.peepholes:
                raise ValueError("the full gradient is not implemented for peephole connections "
                                 "(train.gradient: truncated)")
            if self.arch.gate_sources != "raw":
                raise ValueError("the full gradient reads the gates' outputs raw "
                                 "(model.gate_sources: raw)")
            # BPTT changes the weights once per sequence: per-step updates only where they are
            # the same thing, i.e. where the last step of a sequence is its only training target
            if update_per_step and not lstm_full.only_final_targets(
                    chunk.offsets, flags & lstm97.FLAG_TRAIN):
                raise ValueError("the full gradient changes weights once per sequence: "
                                 "update_per_step needs targets at the last steps only")
            kern = codegen.kernel(ip, lstm_full)
        return kern(
            self.Wh, self.Wo, self.hbias, ip, fp, self.vel, self.reset_act,
            chunk.x_idx, chunk.x_real, chunk.offsets, chunk.targets, flags,
            chunk.legal, clean, order, lr, learn, update_per_step, crit, thr, early_exit, metrics)


# train_lanes joins the lanes' chunks into one: into buffers kept between calls (one per array,
# as large as the largest call so far), since fresh memory costs a page fault per 4 KB on first
# touch, which a process pays again for every call's new arrays of tens of MB (more in a VM).
# Calls of one process take the lock in turn; the kernel only reads the joined arrays.
_JOIN_BUFS: dict[tuple, np.ndarray] = {}
_JOIN_LOCK = threading.Lock()


def _join(name: str, arrays: list[np.ndarray]) -> np.ndarray:
    """The arrays end to end along axis 0 (one array: itself), in a reused buffer."""
    if len(arrays) == 1:
        return np.ascontiguousarray(arrays[0])
    a0 = arrays[0]
    n = sum(a.shape[0] for a in arrays)
    key = (name, a0.dtype.str, a0.shape[1:])
    buf = _JOIN_BUFS.get(key)
    if buf is None or buf.shape[0] < n:
        buf = _JOIN_BUFS[key] = np.empty((n, *a0.shape[1:]), a0.dtype)
    return np.concatenate(arrays, out=buf[:n])


def _zeros(n: int) -> np.ndarray:
    """n int64 zeros, from a buffer kept between calls (read only by the kernel: stays zero)."""
    buf = _JOIN_BUFS.get(("zeros",))
    if buf is None or buf.shape[0] < n:
        buf = _JOIN_BUFS[("zeros",)] = np.zeros(n, np.int64)
    return buf[:n]


def train_lanes(nets: list[LSTM97], chunks: list, orders: list, *, lr: float,
                update_per_step: bool = True, criterion: str = "none",
                threshold: float = 0.0, lanes: int | None = None) -> list[np.ndarray]:
    """``nets[i].train(chunks[i], orders[i], ...)`` for every i, in one call of the lanes kernel
    (:mod:`lanes`): the same weights and metrics, bit for bit, as the calls one by one.

    The nets must share an architecture and qualify (:meth:`LSTM97.lanes_ok`); ``lanes`` (default
    ``len(nets)``) pads the call to a kernel of that many lanes, so that calls with fewer nets
    reuse the compiled kernel. Returns each net's metrics rows."""
    n = len(nets)
    nl = lanes or n
    if not 0 < n <= nl:
        raise ValueError(f"train_lanes: 1..{nl} nets (got {n})")
    net0 = nets[0]
    for net, ch in zip(nets, chunks):
        if net.arch != net0.arch or net.reset_act != net0.reset_act:
            raise ValueError("train_lanes: the nets differ in architecture")
        if not net.lanes_ok(update_per_step):
            raise ValueError("train_lanes: a net does not qualify for the lanes kernel "
                             "(LSTM97.lanes_ok)")
        net._check(ch)
        if ch.onehot != chunks[0].onehot:
            raise ValueError("train_lanes: the chunks differ in input coding")
    orders = [np.arange(ch.n, dtype=np.int64) if o is None else np.asarray(o, np.int64)
              for ch, o in zip(chunks, orders)]
    if all(ch is chunks[0] for ch in chunks):
        chunks = chunks[:1]       # one chunk for every lane: used as it is
        seq0 = [0] * n
    else:
        seq0 = np.cumsum([0] + [ch.n for ch in chunks])
    # one chunk with every lane's sequences end to end; the orders shifted to match
    step0 = np.cumsum([0] + [ch.total_steps for ch in chunks])
    offsets = np.concatenate([chunks[0].offsets[:1]]
                             + [ch.offsets[1:] + s for ch, s in zip(chunks, step0)])
    if (np.diff(offsets) <= 0).any():
        raise ValueError("train_lanes: every sequence needs at least one step")
    # the join buffers are one set per process: calls (from threads) take them in turn
    with _JOIN_LOCK:
        cat = (lambda name: _join(name, [getattr(ch, name) for ch in chunks]))
        targets = cat("targets")
        # joined only where the kernel reads them: the clean targets where some chunk has its own
        # (else the targets themselves), the legal-symbol sets where the criterion reads them (else
        # zeros)
        if all(ch.clean_targets is None for ch in chunks):
            clean = targets
        else:
            clean = _join("clean", [ch.clean_targets if ch.clean_targets is not None else ch.targets
                                    for ch in chunks])
        legal = cat("legal") if criterion == "legal" else _zeros(int(step0[-1]))
        flags = _join("flags", [step_flags(ch) for ch in chunks])
        order = np.concatenate([o + s for o, s in zip(orders, seq0)] or [np.zeros(0, np.int64)])
        lane_start = np.zeros(nl + 1, np.int64)
        lane_start[1:n + 1] = np.cumsum([len(o) for o in orders])
        lane_start[n + 1:] = lane_start[n]
        Wh = np.empty((nl, *net0.Wh.shape))
        Wo = np.empty((nl, *net0.Wo.shape))
        for i, net in enumerate(nets):
            Wh[i], Wo[i] = net.Wh, net.Wo
        # lanes without a net compute with the first net's weights (read by nothing): zero weights
        # would give net inputs of exactly 0, outside the exp's main path, which the lanes kernel's
        # logistic then redoes value by value at every step (kernel_common.logistic_block)
        Wh[n:], Wo[n:] = net0.Wh, net0.Wo
        ip = np.zeros(lanes_mod.N_IP_LANES, np.int64)
        ip[:lstm97.N_IP] = net0.ip
        ip[lstm97.IP_ONEHOT] = int(chunks[0].onehot)
        # the lanes kernel computes the exact exp by the port whatever exact_impl says, as vector
        # code over the lanes (kernel_common.logistic_block; the same bits); the call, which the one-net
        # kernel gains by on Zen 4, made it slower (94 against 74 ns a net-step, docs/speed.md)
        ip[lstm97.IP_FASTEXP] = EXP_MODES[net0.exp_mode]
        ip[lanes_mod.IP_LANES] = nl
        lrs = np.full(nl, float(lr))
        metrics = np.empty((len(order), N_METRICS))
        kern = codegen.kernel(ip, lanes_mod, "run_lanes", codegen.LANES_STATIC)
        kern(Wh, Wo, net0.hbias, ip, net0.reset_act, cat("x_idx"), cat("x_real"), offsets,
             targets, flags, legal, clean, order, lane_start, lrs, CRITERIA[criterion],
             float(threshold), metrics)
        for i, net in enumerate(nets):
            net.Wh[...] = Wh[i]
            net.Wo[...] = Wo[i]
        return [metrics[lane_start[i]:lane_start[i + 1]] for i in range(n)]
