#!/usr/bin/env python3
"""Write the starting inputs of the fuzz targets into fuzz/seeds/.

decode_features: one byte that picks the container hint and target rate
(see harness.rs), then a small audio file: WAVs of every sample format the
decoder reads (16-bit, 8-bit unsigned, 24-bit, 32-bit integer, 32/64-bit
float, WAVE_FORMAT_EXTENSIBLE, stereo, 44.1 kHz) and the FLAC, MP3 and Ogg
fixtures of the feature crate.
config: the example configs of pipelines/ and a config with every section.

Run from anywhere: python3 fuzz/make_seeds.py
"""

import math
import re
import shutil
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
FIXTURES = ROOT / "crates/cochlea-features/tests/fixtures"


# Every section and most keys, with a root that exists wherever the target
# runs, so validation goes all the way through.
EVERY_SECTION = """name = "every"
[data]
root = "."
extensions = ["wav", "flac"]
label = { regex = '^(\\d)_' }
group = "folder"
sample_rate = 16000
clip_frames = 100
pad = "repeat"
crop = "start"
[split]
strategy = "group-kfold"
folds = 3
val_fraction = 0.2
seed = 7
[features]
preset = "torchaudio"
kinds = ["mfcc", "logmel", "centroid", "bandwidth", "rolloff", "flatness", "contrast", "zcr", "rms"]
n_fft = 512
hop_length = 160
win_length = 400
window = "hamming"
center = true
pad_mode = "reflect"
power = 1.0
n_mels = 64
fmin = 20.0
fmax = 7600.0
mel_scale = "htk"
mel_norm = "none"
top_db = false
n_mfcc = 20
lifter = 22.0
deltas = 1
delta_width = 5
rolloff_percent = 0.9
contrast_bands = 4
contrast_fmin = 100.0
contrast_quantile = 0.05
[normalize]
method = "minmax"
[model]
blocks = [ { filters = 8, kernel = 3, pool = 2 }, { filters = 8, kernel = 3, pool = 1 } ]
dropout = 0.1
[train]
optimizer = "sgd"
lr = 0.01
momentum = 0.9
batch_size = 16
epochs = 3
scheduler = "step"
step_size = 1
gamma = 0.5
seed = 1
ensemble = 2
[augment]
time_shift = 2
time_masks = 1
time_mask_width = 3
[cache]
enabled = false
[report]
dir = "runs"
max_misclassified = 5
"""


def wav(tag, channels, rate, bits, data, ext=False):
    block = channels * ((bits + 7) // 8)
    fmt = struct.pack("<HHIIHH", 0xFFFE if ext else tag, channels, rate, rate * block, block, bits)
    if ext:
        guid = struct.pack("<H", tag) + bytes.fromhex("000000001000800000aa00389b71")
        fmt += struct.pack("<HHI", 22, bits, (1 << channels) - 1) + guid
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tone(rate, n, channels=1):
    out = []
    for i in range(n):
        x = 0.5 * math.sin(2 * math.pi * 440 * i / rate)
        out.extend([x] * channels)
    return out


def main():
    seeds = FUZZ / "seeds" / "decode_features"
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    n = 400  # 50 ms at 8 kHz: small inputs fuzz faster.
    x = tone(8000, n)
    files = {
        "pcm16.wav": wav(1, 1, 8000, 16, b"".join(struct.pack("<h", round(v * 32767)) for v in x)),
        "u8.wav": wav(1, 1, 8000, 8, bytes(round(v * 127) + 128 for v in x)),
        "s24.wav": wav(1, 1, 8000, 24, b"".join(struct.pack("<i", round(v * 8388607))[:3] for v in x)),
        "s32.wav": wav(1, 1, 8000, 32, b"".join(struct.pack("<i", round(v * 2147483647)) for v in x)),
        "f32.wav": wav(3, 1, 8000, 32, b"".join(struct.pack("<f", v) for v in x)),
        "f64.wav": wav(3, 1, 8000, 64, b"".join(struct.pack("<d", v) for v in x)),
        "extensible.wav": wav(1, 2, 8000, 16, b"".join(struct.pack("<h", round(v * 32767)) for v in tone(8000, n, 2)), ext=True),
        "rate44k.wav": wav(1, 1, 44100, 16, b"".join(struct.pack("<h", round(v * 32767)) for v in tone(44100, 441))),
    }
    # Selector byte 1: hint "wav", 8 kHz.
    for name, data in files.items():
        (seeds / name).write_bytes(b"\x01" + data)
    # 2: flac, 3: mp3, 4: ogg; +5 asks for 16 kHz.
    for name, sel in [("tone440_8k.flac", 2), ("tone440_22050.mp3", 3 + 5), ("tone440_16k_stereo.ogg", 4)]:
        (seeds / name).write_bytes(bytes([sel]) + (FIXTURES / name).read_bytes())

    seeds = FUZZ / "seeds" / "config"
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    for p in sorted((ROOT / "pipelines").rglob("*.toml")):
        rel = p.relative_to(ROOT / "pipelines")
        if any(part.startswith(".") for part in rel.parts):
            continue  # scratch copies (bench/fsdd-seeds.sh writes .seed-*.toml)
        (seeds / str(rel).replace("/", "_")).write_bytes(p.read_bytes())
    (seeds / "every_section.toml").write_text(EVERY_SECTION)
    for p in sorted(seeds.iterdir()):
        print(p.relative_to(ROOT), p.stat().st_size)

    # libFuzzer dictionary for the config target: section headers, keys and
    # quoted words of the seeds, so mutations produce TOML the parser accepts.
    tokens = set()
    for p in seeds.iterdir():
        for line in p.read_text().splitlines():
            line = line.split("#")[0].strip()
            tokens.update(re.findall(r"^\[[a-z_]+\]", line))
            tokens.update(re.findall(r"\b([a-z_]+)\s*=", line))
            tokens.update(re.findall(r'"[a-z0-9_-]+"', line))
    lines = ["# made by make_seeds.py from seeds/config"]
    lines += ['"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in sorted(tokens)]
    (FUZZ / "config.dict").write_text("\n".join(lines) + "\n")
    print("fuzz/config.dict", len(tokens), "tokens")
    for p in sorted((FUZZ / "seeds" / "decode_features").iterdir()):
        print(p.relative_to(ROOT), p.stat().st_size)


if __name__ == "__main__":
    main()
