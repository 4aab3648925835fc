"""An independent reference of genre-core's integer engine, written from its specification.

It reads a weights blob (`*.tgm`, layout in core/src/format.rs) and computes, with Python's
unbounded integers, exactly what the specification in core/src/quant/ and core/src/fixed.rs
says the device computes: the input quantisation (f32), every gate, the cell update, both
layers, the pooled window readout and the head. It shares no code with the Rust engine: where
the Rust code takes shortcuts (32-bit halves in `requantize`, packed pairs, the DSP kernel),
this file follows the defining formula, so an exact match is evidence for both.

Used by gen_quant_goldens.py; nothing here is imported by the Rust build.
"""

import math
import struct
import zlib

import numpy as np

import config as c

GATES = 4 * c.HIDDEN
LABEL_RECORD = 1 + 16
PRE_FRAC_BITS = 16  # gate pre-activations and logits, Q16
ACT_FRAC_BITS = 15  # gates and h, Q15
TANH_STEP_BITS = 6
TANH_INTERVALS = 512
I32_MIN, I32_MAX = -(2**31), 2**31 - 1


def tanh_table():
    """round(tanh(k / 64) · 2^15), half up, capped at 32767, for k = 0..=512."""
    table = []
    for k in range(TANH_INTERVALS + 1):
        v = math.floor(math.tanh(k / 2**TANH_STEP_BITS) * 32768.0 + 0.5)
        table.append(min(v, 32767))
    return table


TANH = tanh_table()


def sat_i32(x):
    return max(I32_MIN, min(I32_MAX, x))


def sat_i16(x):
    """Symmetric: [-32767, 32767]."""
    return max(-32767, min(32767, x))


def round_shr(x, n):
    """round(x / 2^n), ties towards +inf (floor division is an arithmetic shift)."""
    return (x + (1 << (n - 1))) >> n


def requantize(acc, mult, shift):
    """round(acc · mult / 2^shift), ties towards +inf, saturated to i32."""
    return sat_i32((acc * mult + (1 << (shift - 1))) >> shift)


def tanh_q15(x, frac_bits):
    """tanh(x / 2^frac_bits) in Q15: linear interpolation in TANH, odd-symmetric."""
    a = abs(x)
    s = frac_bits - TANH_STEP_BITS
    idx = a >> s
    if idx >= TANH_INTERVALS:
        y = 32767
    elif s == 0:
        y = TANH[idx]
    else:
        frac = a & ((1 << s) - 1)
        y = TANH[idx] + (((TANH[idx + 1] - TANH[idx]) * frac + (1 << (s - 1))) >> s)
    return -y if x < 0 else y


def sigmoid_q15(x, frac_bits):
    """(1 + tanh(x / 2)) / 2 in Q15, capped at 32767."""
    t = tanh_q15(x, frac_bits + 1)
    return min((32768 + t + 1) >> 1, 32767)


def round_f32(v):
    """C's roundf (half away from zero) of an f32 value, exactly (in f64)."""
    v = float(v)
    if math.isnan(v):
        return 0.0
    return math.copysign(math.floor(abs(v) + 0.5), v)


class Blob:
    """A parsed version 2 weights blob (checked: magic, version, dimensions, fingerprint, CRC),
    read from the layout table in core/src/format.rs."""

    def __init__(self, data):
        self.data = bytes(data)
        magic, version, f, h, layers, g, fingerprint = struct.unpack_from("<4sHHHBBI", data)
        assert magic == b"TGNR" and version == 2, (magic, version)
        assert (f, h, layers, g) == (c.N_FEATURES, c.HIDDEN, 2, c.N_GENRES)
        self.fingerprint = fingerprint
        (crc,) = struct.unpack_from("<I", data, len(data) - 4)
        assert crc == zlib.crc32(data[:-4]), "CRC"
        self.crc32 = crc
        pos = 16
        self.labels = []
        for _ in range(g):
            n = data[pos]
            self.labels.append(data[pos + 1 : pos + 1 + n].decode())
            pos += LABEL_RECORD
        pos += (-pos) % 4  # zero padding to a multiple of 4

        def take(dtype, count):
            nonlocal pos
            arr = np.frombuffer(data, dtype=dtype, count=count, offset=pos)
            pos += arr.nbytes
            return arr

        def blocks(width, stored):
            """GATES rows of `width` from the blocks of four rows interleaved by 4-byte groups:
            byte (r // 4) · 4·stored + (k // 4) · 16 + (r % 4) · 4 + k % 4 is row r, column k."""
            raw = take("i1", GATES * stored).reshape(GATES // 4, stored // 4, 4, 4)
            rows = raw.transpose(0, 2, 1, 3).reshape(GATES, stored)
            return rows[:, :width].astype(np.int64)

        self.mean = take("<f4", f)
        self.mul = take("<f4", f)
        self.layers = []
        for width in (f, h):
            cell_frac_bits = int(take("u1", 4)[0])  # then three padding bytes
            w_ih = blocks(width, (width + 3) // 4 * 4)
            w_hh = blocks(h, h)
            records = take("<i4", GATES * 3).reshape(GATES, 3).tolist()
            shifts = take("u1", GATES * 2).reshape(GATES, 2).tolist()
            rq_x = [(rec[0], sh[0]) for rec, sh in zip(records, shifts)]
            rq_h = [(rec[1], sh[1]) for rec, sh in zip(records, shifts)]
            bias = [rec[2] for rec in records]
            self.layers.append(
                dict(n=cell_frac_bits, w_ih=w_ih, w_hh=w_hh, rq_x=rq_x, rq_h=rq_h, bias=bias)
            )
        self.head_w = take("i1", g * h).reshape(g, h).astype(np.int64)
        self.head_rq = list(zip(take("<i4", g).tolist(), take("u1", g).tolist()))
        self.head_b = take("<i4", g).tolist()
        assert pos == len(data) - 4

    def quantize_input(self, frame):
        """round((x - mean) · mul) in f32, clamped to ±127; NaN gives 0."""
        out = []
        for j in range(c.N_FEATURES):
            v = (np.float32(frame[j]) - self.mean[j]) * self.mul[j]  # two f32 operations
            out.append(int(max(-127.0, min(127.0, round_f32(v)))))
        return out

    def gate(self, layer, q, x, h):
        """Outputs (Q15) of gate q (0 i, 1 f, 2 g, 3 o) of `layer` for input x and state h."""
        L = self.layers[layer]
        rows = range(q * c.HIDDEN, (q + 1) * c.HIDDEN)
        ax = L["w_ih"][q * c.HIDDEN : (q + 1) * c.HIDDEN] @ np.asarray(x, dtype=np.int64)
        ah = L["w_hh"][q * c.HIDDEN : (q + 1) * c.HIDDEN] @ np.asarray(h, dtype=np.int64)
        out = []
        for k, r in enumerate(rows):
            z = sat_i32(requantize(int(ax[k]), *L["rq_x"][r]) + requantize(int(ah[k]), *L["rq_h"][r]))
            z = sat_i32(z + L["bias"][r])
            out.append(tanh_q15(z, PRE_FRAC_BITS) if q == 2 else sigmoid_q15(z, PRE_FRAC_BITS))
        return out


def cell_update(gates, c_old, n):
    """New (c, h) of one layer from its gates [i, f, g, o] (Q15) and old c (n fraction bits)."""
    H = c.HIDDEN
    c_new, h_new = [], []
    for k in range(H):
        i, f, g, o = gates[k], gates[H + k], gates[2 * H + k], gates[3 * H + k]
        ck = sat_i16(round_shr(f * c_old[k], ACT_FRAC_BITS) + round_shr(i * g, 2 * ACT_FRAC_BITS - n))
        c_new.append(ck)
        h_new.append(sat_i16(round_shr(o * tanh_q15(ck, n), ACT_FRAC_BITS)))
    return c_new, h_new


def layer_step(blob, layer, x, h, c_old):
    """(gates, c', h') of one layer step."""
    gates = []
    for q in range(4):
        gates += blob.gate(layer, q, x, h)
    c_new, h_new = cell_update(gates, c_old, blob.layers[layer]["n"])
    return gates, c_new, h_new


def head(blob, h):
    """Q16 logits of a Q15 hidden vector."""
    acc = blob.head_w @ np.asarray(h, dtype=np.int64)
    return [
        sat_i32(requantize(int(acc[g]), *blob.head_rq[g]) + blob.head_b[g])
        for g in range(c.N_GENRES)
    ]


class Engine:
    """Both layers' state, and the pooled top-layer h of steps >= POOL_FROM."""

    def __init__(self, blob):
        self.blob = blob
        self.reset()

    def reset(self):
        H = c.HIDDEN
        self.h = [[0] * H, [0] * H]
        self.c = [[0] * H, [0] * H]
        self.pool = [0] * H
        self.steps = 0

    def step(self, x_q):
        _, self.c[0], self.h[0] = layer_step(self.blob, 0, x_q, self.h[0], self.c[0])
        _, self.c[1], self.h[1] = layer_step(self.blob, 1, self.h[0], self.h[1], self.c[1])
        if self.steps >= c.POOL_FROM:
            # An i32 sum, each addition saturating (only after more than 65,536 pooled steps).
            self.pool = [sat_i32(p + v) for p, v in zip(self.pool, self.h[1])]
        self.steps += 1

    def logits(self):
        return head(self.blob, self.h[1])

    def pooled_hidden(self):
        """Mean of the pooled h, rounded half away from zero."""
        n = max(self.steps - c.POOL_FROM, 0)
        if n == 0:
            return [0] * c.HIDDEN
        out = []
        for s in self.pool:
            v = s + (n // 2 if s >= 0 else -(n // 2))
            q = abs(v) // n
            out.append(q if v >= 0 else -q)
        return out

    def window_logits(self):
        return head(self.blob, self.pooled_hidden())


class RunningDecision:
    """The mean of the last RUNNING_WINDOWS window readouts (each value clamped to ±2^26), with
    hysteresis: the shown genre changes when another genre's sum leads its sum by more than
    SWITCH_MARGIN_Q16 · n."""

    def __init__(self):
        self.recent = []
        self.shown = None
        self.quiet = 0

    LOGIT_LIMIT_Q16 = 2**26

    def _means(self):
        n = max(len(self.recent), 1)
        sums = [sum(r[g] for r in self.recent) for g in range(c.N_GENRES)]
        mean = []
        for v in sums:
            q = (abs(v) + n // 2) // n
            mean.append(q if v >= 0 else -q)
        return mean

    def pass_(self):
        """A window without music: after NO_MUSIC_RESET_WINDOWS in a row, forget everything."""
        self.quiet = min(self.quiet + 1, 255)
        if self.quiet >= c.NO_MUSIC_RESET_WINDOWS:
            self.recent = []
            self.shown = None
        return dict(genre=self.shown, windows=len(self.recent), mean_logits=self._means())

    def push(self, logits):
        self.quiet = 0
        clamped = [max(-self.LOGIT_LIMIT_Q16, min(self.LOGIT_LIMIT_Q16, v)) for v in logits]
        self.recent = (self.recent + [clamped])[-c.RUNNING_WINDOWS :]
        n = len(self.recent)
        sums = [sum(r[g] for r in self.recent) for g in range(c.N_GENRES)]
        best = max(range(c.N_GENRES), key=lambda g: (sums[g], -g))
        if self.shown is None or sums[best] - sums[self.shown] > c.SWITCH_MARGIN_Q16 * n:
            self.shown = best
        return dict(genre=self.shown, windows=n, mean_logits=self._means())


def relative_level(frames):
    """Model input: MFCC c0 minus its running mean (EMA, factor 2^-LEVEL_MEAN_SHIFT, started at
    the first c0), and MFCC c1..c12 minus theirs (the mean of the frames so far up to
    2^CEPSTRAL_MEAN_SHIFT frames, then an EMA with factor 2^-CEPSTRAL_MEAN_SHIFT), in f32
    operations as core/src/level.rs specifies; and c0's running mean after each frame (the
    stream's level)."""
    alpha = np.float32(2.0 ** -c.LEVEL_MEAN_SHIFT)
    out = np.array(frames, dtype=np.float32)
    levels = []
    mean = None
    cepstral_means = [np.float32(0.0)] * (c.N_MFCC - 1)
    for t in range(len(out)):
        c0 = np.float32(out[t][c.MFCC_OFFSET])
        mean = c0 if mean is None else np.float32(mean + np.float32(np.float32(c0 - mean) * alpha))
        levels.append(mean)
        out[t][c.MFCC_OFFSET] = np.float32(c0 - mean)
        taken = min(t + 1, 1 << c.CEPSTRAL_MEAN_SHIFT)
        factor = np.float32(np.float32(1.0) / np.float32(taken))
        for k in range(1, c.N_MFCC):
            x = np.float32(out[t][c.MFCC_OFFSET + k])
            m = cepstral_means[k - 1]
            m = np.float32(m + np.float32(np.float32(x - m) * factor))
            cepstral_means[k - 1] = m
            out[t][c.MFCC_OFFSET + k] = np.float32(x - m)
    return out, levels


def heard(loudest_level, logits):
    """Silence below SILENCE_C0 (the stream's highest level in the window), else no music when
    the largest logit is below NO_MUSIC_BELOW_Q16, else music (core/src/stream.rs)."""
    if loudest_level < np.float32(c.SILENCE_C0):
        return "silence"
    if max(logits) < c.NO_MUSIC_BELOW_Q16:
        return "no-music"
    return "music"


def windows(blob, frames):
    """The device's rule on the stream's frames (c0 made relative first): consecutive
    non-overlapping windows of WINDOW_FRAMES frames from the start, a fresh state each, readout
    at the window's end; a partial window is dropped; the running decision after each window."""
    frames, levels = relative_level(frames)
    engine = Engine(blob)
    running = RunningDecision()
    out = []
    for start in range(0, len(frames) - c.WINDOW_FRAMES + 1, c.WINDOW_FRAMES):
        engine.reset()
        for frame in frames[start : start + c.WINDOW_FRAMES]:
            engine.step(blob.quantize_input(frame))
        logits = engine.window_logits()
        top1 = max(range(c.N_GENRES), key=lambda g: (logits[g], -g))
        what = heard(max(levels[start : start + c.WINDOW_FRAMES]), logits)
        decision = running.push(logits) if what == "music" else running.pass_()
        decision["label"] = "no-music" if decision["genre"] is None else blob.labels[decision["genre"]]
        out.append(dict(index=len(out), top1=top1, label=blob.labels[top1], logits=logits,
                        heard=what, running=decision))
    return out
