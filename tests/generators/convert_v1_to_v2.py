"""Converts a version 1 weights blob (`*.tgm`) to the version 2 layout, without retraining.

Why it exists: format version 2 (core/src/format.rs) stores the same quantised numbers in a
layout made for the Cortex-M4F kernels (4-byte aligned sections, layer 0's rows padded from 33
to 36 bytes, weight rows interleaved in blocks of four, one 12-byte record per gate row). The
committed v1 blobs (weights/tinygenre.tgm, tests/golden/quant/test-blob.tgm, the fuzz seeds)
were converted with it once, so that no golden value moved; genre-core refuses v1 blobs.

    python tests/generators/convert_v1_to_v2.py IN.tgm OUT.tgm [--frames]

--frames: IN is a v1 blob followed by frame bytes (a fuzz seed); OUT is the v2 blob without
its CRC followed by the same frame bytes (what core/fuzz's target expects).
"""

import struct
import sys
import zlib

import config as c

GATES = 4 * c.HIDDEN
LABEL_RECORD = 17
BLOCK_ROWS = 4


def v1_len():
    layer = lambda width: 1 + GATES * width + GATES * c.HIDDEN + GATES * 14
    head = c.N_GENRES * c.HIDDEN + c.N_GENRES * 9
    labels = c.N_GENRES * LABEL_RECORD
    return 16 + labels + c.N_FEATURES * 8 + layer(c.N_FEATURES) + layer(c.HIDDEN) + head + 4


def blocks(rows, width):
    """Rows (lists of ints) zero-padded to `width`, in v2's interleaved blocks of four."""
    out = bytearray()
    for b in range(0, len(rows), BLOCK_ROWS):
        for g in range(0, width, 4):
            for r in rows[b : b + BLOCK_ROWS]:
                padded = list(r) + [0] * (width - len(r))
                out += struct.pack("<4b", *padded[g : g + 4])
    return bytes(out)


def convert(v1):
    n = v1_len()
    assert len(v1) == n, (len(v1), n)
    magic, version = struct.unpack_from("<4sH", v1)
    assert magic == b"TGNR" and version == 1, (magic, version)
    assert struct.unpack_from("<I", v1, n - 4)[0] == zlib.crc32(v1[: n - 4]), "CRC"
    pos = 16 + c.N_GENRES * LABEL_RECORD
    out = bytearray(v1[:4]) + struct.pack("<H", 2) + v1[6:pos]
    out += bytes((-len(out)) % 4)
    out += v1[pos : pos + c.N_FEATURES * 8]
    pos += c.N_FEATURES * 8

    def take(count):
        nonlocal pos
        chunk = v1[pos : pos + count]
        pos += count
        return chunk

    for width in (c.N_FEATURES, c.HIDDEN):
        out += take(1) + bytes(3)
        w_ih = [struct.unpack("<%db" % width, take(width)) for _ in range(GATES)]
        w_hh = [struct.unpack("<%db" % c.HIDDEN, take(c.HIDDEN)) for _ in range(GATES)]
        mult_x = struct.unpack("<%di" % GATES, take(4 * GATES))
        shift_x = take(GATES)
        mult_h = struct.unpack("<%di" % GATES, take(4 * GATES))
        shift_h = take(GATES)
        bias = struct.unpack("<%di" % GATES, take(4 * GATES))
        out += blocks(w_ih, (width + 3) // 4 * 4) + blocks(w_hh, c.HIDDEN)
        for r in range(GATES):
            out += struct.pack("<3i", mult_x[r], mult_h[r], bias[r])
        for r in range(GATES):
            out += bytes((shift_x[r], shift_h[r]))
    out += v1[pos : n - 4]  # the head, unchanged
    out += struct.pack("<I", zlib.crc32(bytes(out)))
    return bytes(out)


def main(argv):
    frames = "--frames" in argv
    src, dst = [a for a in argv if a != "--frames"]
    data = open(src, "rb").read()
    if frames:
        v2 = convert(data[: v1_len()])
        open(dst, "wb").write(v2[:-4] + data[v1_len() :])
    else:
        open(dst, "wb").write(convert(data))


if __name__ == "__main__":
    main(sys.argv[1:])
