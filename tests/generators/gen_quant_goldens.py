"""Writes the exact integer-engine goldens in tests/golden/quant/ (read by
tests/tests/engine_quant_golden.rs and stream_golden.rs) from quant_reference.py, an
independent implementation of the engine's specification:

    python tests/generators/gen_quant_goldens.py

(from the repository root, with the project's venv: scripts/setup-python). Rerunning it gives
the same files byte for byte; `git diff` then shows what a change to the engine, the frontend
or the shipped weights moved.

- engine.json, on test-blob.tgm (random weights, written once by firmware/test-blob and kept
  so that retraining does not move these goldens; converted to format version 2 by
  convert_v1_to_v2.py): the tanh table, single gates, cell updates,
  layer steps, and a 100-step sequence of full steps with every state, the per-step logits and
  the window readout.
- decision.json: the running decision (core/src/decision.rs) after each of four sequences
  of 45+ window readouts (genre changes, noise, ties, values at the i32 rails).
- pipeline.json, on the shipped weights/tinygenre.tgm: three synthesised signals (band.pcm,
  quiet.pcm, hush.pcm: silence; 16 kHz mono i16 LE, made here with a fixed seed) go through genre-core's frontend
  (the pcm-features binary; its f32 output is kept as *.features.f32 so the frontend's bits are
  pinned too), then through the reference's quantisation, engine, window rule and running
  decision.
"""

import json
import pathlib
import subprocess
import sys

import numpy as np

import config as c
import quant_reference as ref

ROOT = c.ROOT
OUT = ROOT / "tests" / "golden" / "quant"
SEED = 20261128
SR = c.SAMPLE_RATE_HZ
SAMPLES = 100_000  # 6.25 s: two whole windows and a partial one


def band_signal(rng):
    """Kick, bass and chords at full level (a few peaks clip), plus hiss."""
    t = np.arange(SAMPLES) / SR
    beat = (t % 0.5) / 0.5
    kick = np.exp(-beat * 12) * np.sin(2 * np.pi * (50 + 90 * np.exp(-beat * 30)) * t)
    bass = 0.35 * np.sign(np.sin(2 * np.pi * 55 * (1 + (t > 3.1)) * t))
    chord = sum(0.15 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0, 523.3))
    hiss = 0.03 * rng.standard_normal(SAMPLES)
    y = 0.9 * kick + bass + chord * (0.5 + 0.5 * np.sin(2 * np.pi * 0.25 * t)) + hiss
    return np.clip(np.round(y * 20000), -32768, 32767).astype(np.int16)


def quiet_signal(rng):
    """A slow chirp in pink-ish noise, 40 dB below full scale."""
    t = np.arange(SAMPLES) / SR
    chirp = np.sin(2 * np.pi * (200 * t + 300 * t**2))
    noise = np.cumsum(rng.standard_normal(SAMPLES)) * 0.01
    noise -= np.convolve(noise, np.ones(256) / 256, mode="same")
    y = 0.5 * chirp + noise
    return np.round(y * 327.68).astype(np.int16)


def hush_signal(_rng):
    """12.5 s (four whole windows) of silence: digital zeros, then +-1 LSB of dither from a
    generator of its own (the other signals' draws stay what they were)."""
    dither = np.random.default_rng(SEED + 3).integers(-1, 2, 2 * SAMPLES)
    dither[: SAMPLES // 2] = 0
    return dither.astype(np.int16)


def frontend_features(pcm_path, features_path):
    """genre-core's features of the PCM file, through the pcm-features binary."""
    subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "tinygenre-tests", "--bin", "pcm-features",
         "--", str(pcm_path), str(features_path)],
        cwd=ROOT, check=True,
    )
    return np.fromfile(features_path, dtype="<f4").reshape(-1, c.N_FEATURES)


def q15(rng, n, lo=-32767):
    return rng.integers(lo, 32768, n).tolist()


def engine_goldens(blob, rng):
    H = c.HIDDEN
    widths = (c.N_FEATURES, H)
    out = dict(blob="test-blob.tgm", blob_crc32=blob.crc32, tanh_table=ref.TANH)

    def layer_input(layer, case):
        if case == 0:
            return [127] * widths[0] if layer == 0 else [32767] * H
        if case == 1:
            return [-127] * widths[0] if layer == 0 else [-32767] * H
        return rng.integers(-127, 128, widths[0]).tolist() if layer == 0 else q15(rng, H)

    gates = []
    for layer in (0, 1):
        for case in range(6):
            x = layer_input(layer, case)
            h = [32767 - 65534 * (case % 2)] * H if case < 2 else q15(rng, H)
            for q in range(4):
                gates.append(dict(layer=layer, gate=q, x=x, h=h, out=blob.gate(layer, q, x, h)))
    out["gates"] = gates

    cells = []
    for case in range(8):
        if case == 0:
            g = [32767] * (2 * H) + [32767] * H + [32767] * H
            c_old = [32767] * H
        elif case == 1:
            g = [32767] * (2 * H) + [-32767] * H + [32767] * H
            c_old = [-32767] * H
        else:
            g = q15(rng, 2 * H, 0) + q15(rng, H) + q15(rng, H, 0)
            c_old = q15(rng, H)
        n = [6, 15, 6, 9, 12, 15, blob.layers[0]["n"], blob.layers[1]["n"]][case]
        c_new, h_new = ref.cell_update(g, c_old, n)
        cells.append(dict(gates=g, c=c_old, cell_frac_bits=n, c_out=c_new, h_out=h_new))
    out["cells"] = cells

    layers = []
    for layer in (0, 1):
        for case in range(4):
            x = layer_input(layer, case + 2)
            h, c_old = q15(rng, H), q15(rng, H)
            g, c_new, h_new = ref.layer_step(blob, layer, x, h, c_old)
            layers.append(dict(layer=layer, x=x, h=h, c=c_old, gates=g, c_out=c_new, h_out=h_new))
    out["layers"] = layers

    # A sequence of full steps from the zero state: small inputs first, then the full range,
    # a run of saturated frames, and back.
    frames = []
    for step in range(100):
        if 40 <= step < 46:
            frames.append([127 if (step + j) % 2 else -127 for j in range(c.N_FEATURES)])
        else:
            bound = 20 if step < 10 else 127
            frames.append(rng.integers(-bound, bound + 1, c.N_FEATURES).tolist())
    engine = ref.Engine(blob)
    steps = []
    for x in frames:
        engine.step(x)
        steps.append(dict(
            h0=engine.h[0], c0=engine.c[0], h1=engine.h[1], c1=engine.c[1],
            logits=engine.logits(), window_logits=engine.window_logits(),
        ))
    out["sequence"] = dict(inputs=frames, steps=steps)
    return out


def pipeline_goldens(blob, rng):
    signals = []
    for name, make in (("band", band_signal), ("quiet", quiet_signal), ("hush", hush_signal)):
        pcm = make(rng)
        pcm_path = OUT / f"{name}.pcm"
        features_path = OUT / f"{name}.features.f32"
        pcm.astype("<i2").tofile(pcm_path)
        frames = frontend_features(pcm_path, features_path)
        signals.append(dict(
            name=name, pcm=pcm_path.name, features=features_path.name, frames=len(frames),
            windows=ref.windows(blob, frames),
        ))
    return dict(blob="weights/tinygenre.tgm", blob_crc32=blob.crc32, signals=signals)


def decision_goldens(rng, quiet_rng):
    """Window readouts with genre changes, noise, ties and extreme values, and the running
    decision after each; in cases 1 and 2, runs of 1-5 windows without music among them (their
    readouts never enter the decision)."""
    sequences = []
    for case in range(4):
        logits = []
        genre = int(rng.integers(0, c.N_GENRES))
        while len(logits) < 45:
            span = int(rng.integers(3, 15))
            for _ in range(span):
                if case == 3:
                    # Ties, and the rails: sums must not overflow.
                    row = [int(rng.choice([2**31 - 1, -(2**31), 0, 65536])) for _ in range(c.N_GENRES)]
                else:
                    row = (rng.normal(0, 1.5, c.N_GENRES) * 65536).round().astype(int).tolist()
                    row[genre] += int(rng.integers(0, 4 * 65536))
                logits.append(row)
            genre = int(rng.integers(0, c.N_GENRES))
        music = [True] * len(logits)
        if case in (1, 2):
            # A generator of its own, so that the readouts stayed what they were.
            at = int(quiet_rng.integers(2, 8))
            while at < len(music):
                run = int(quiet_rng.integers(1, 6))
                music[at : at + run] = [False] * len(music[at : at + run])
                at += run + int(quiet_rng.integers(3, 12))
        running = ref.RunningDecision()
        decisions = [running.push(l) if m else running.pass_() for l, m in zip(logits, music)]
        sequences.append(dict(logits=logits, music=music, running=decisions))
    return dict(running_windows=c.RUNNING_WINDOWS, switch_margin_q16=c.SWITCH_MARGIN_Q16,
                no_music_reset_windows=c.NO_MUSIC_RESET_WINDOWS, sequences=sequences)


def dump(path, value):
    """JSON with one line per innermost object, so that a diff points at what moved."""
    text = json.dumps(value, separators=(",", ":"))
    text = text.replace("},{", "},\n{").replace("[{", "[\n{")
    path.write_text(text + "\n", encoding="utf-8")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    test_blob = ref.Blob((OUT / "test-blob.tgm").read_bytes())
    dump(OUT / "engine.json", engine_goldens(test_blob, rng))
    shipped = ref.Blob((ROOT / "weights" / "tinygenre.tgm").read_bytes())
    dump(OUT / "pipeline.json", pipeline_goldens(shipped, rng))
    # A generator of its own, so that adding these left the other goldens byte for byte.
    dump(OUT / "decision.json", decision_goldens(np.random.default_rng(SEED + 1),
                                                np.random.default_rng(SEED + 2)))
    print(f"wrote {OUT}/engine.json, pipeline.json and decision.json", file=sys.stderr)


if __name__ == "__main__":
    main()
