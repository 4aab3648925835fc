"""Rewrites the configuration fingerprint of a version-2 weights blob to the one
core/src/config.rs defines now, and its CRC: for the kept random test blob
(tests/golden/quant/test-blob.tgm) after a configuration change that its random weights do
not care about (its weights and normalisation stay as they were):

    python tests/generators/refingerprint.py tests/golden/quant/test-blob.tgm

Run from anywhere, with the project's venv (scripts/setup-python). Rerunning it changes
nothing.
"""

import pathlib
import re
import struct
import sys
import zlib

import config as c

FINGERPRINT_OFFSET = 12  # magic (4), version, features, hidden (2 each), layers, genres (1 each)


def fingerprint():
    """FNV-1a over the little-endian bytes of the words core/src/config.rs lists in
    FINGERPRINT, read from its source so this script needs no Rust."""
    text = c.CONFIG_RS.read_text(encoding="utf-8")
    body = re.search(r"let words: \[u32; \d+\] = \[(.*?)\];", text, re.S).group(1)
    words = []
    for item in (w.strip() for w in body.split(",") if w.strip()):
        name = item.split()[0].replace(".to_bits()", "")
        value = getattr(c, name)
        if item.endswith(".to_bits()"):
            value = struct.unpack("<I", struct.pack("<f", value))[0]
        words.append(int(value))
    h = 0x811C9DC5
    for w in words:
        for b in struct.pack("<I", w):
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = pathlib.Path(argv[0])
    data = bytearray(path.read_bytes())
    assert data[:4] == b"TGNR" and struct.unpack_from("<H", data, 4)[0] == 2, "not a v2 blob"
    struct.pack_into("<I", data, FINGERPRINT_OFFSET, fingerprint())
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    path.write_bytes(bytes(data))
    print(f"{path}: fingerprint {fingerprint():#010x}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
