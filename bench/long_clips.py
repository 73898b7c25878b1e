#!/usr/bin/env python3
"""Long clips whose discriminative part is not in the centre: `data.long_clips`
"crop" (one centre crop) against "random_crop" (a fresh crop per epoch, a clip
judged by the mean over its windows), and against one input covering the whole
clip, over several seeds.

    python3 bench/long_clips.py [--words 5] [--seeds 0 1 2] [--epochs 30]

The data is made here from the demo voices (`audio-samples/digits/`, 8 kHz):
every take of every voice of the first `--words` digits, each placed at a
uniformly random time in 4 s of white noise (seeded, peak SNR about 20 dB),
into a temporary folder. Each arm runs `pipeline run` with the same split
(stratified, 20 % test, 10 % validation) and `split.seed` = `train.seed` = the
seed. Prints one line per arm and seed and a mean per arm. Needs the release
binary (`scripts/with-libtorch cargo build --release -p cochlea-pipeline`).
"""

import argparse
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
RATE = 8000
SECONDS = 4.0


def read(path):
    with wave.open(path) as w:
        assert w.getframerate() == RATE and w.getsampwidth() == 2 and w.getnchannels() == 1
        n = w.getnframes()
        return list(struct.unpack(f"<{n}h", w.readframes(n)))


def write(path, samples):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def make_data(root, n_words):
    rng = random.Random(20261201)
    digits = os.path.join(ROOT, "audio-samples", "digits")
    n = int(SECONDS * RATE)
    count = 0
    for d in range(n_words):
        for name in sorted(os.listdir(os.path.join(digits, str(d)))):
            w = read(os.path.join(digits, str(d), name))
            at = rng.randrange(0, n - len(w))
            x = [int(rng.gauss(0.0, 300.0)) for _ in range(n)]
            for i, v in enumerate(w):
                x[at + i] += v
            write(os.path.join(root, WORDS[d], name), [max(-32768, min(32767, v)) for v in x])
            count += 1
    return count


ARMS = {
    # One second of input (101 frames at hop 80).
    "crop (centre, 1 s)": 'clip_frames = 101\nlong_clips = "crop"',
    "random_crop (1 s)": 'clip_frames = 101\nlong_clips = "random_crop"',
    "windows (1 s)": 'clip_frames = 101\nlong_clips = "windows"',
    # One input covering the whole 4 s clip (the default clip_frames).
    "crop (whole clip, 401 frames)": 'clip_frames = 0\nlong_clips = "crop"',
}


def config(tmp, data_root, arm, seed, epochs):
    return f"""name = "long-bench"
[data]
root = "{data_root}"
sample_rate = 8000
{ARMS[arm]}
[split]
test_fraction = 0.2
val_fraction = 0.1
seed = {seed}
[features]
kinds = ["mfcc"]
n_fft = 256
hop_length = 80
n_mels = 40
n_mfcc = 13
deltas = 1
[model]
blocks = [ {{ filters = 64, kernel = 5, pool = 2 }}, {{ filters = 128, kernel = 3, pool = 2 }}, {{ filters = 128, kernel = 3, pool = 2 }} ]
dropout = 0.3
[train]
lr = 0.001
batch_size = 32
epochs = {epochs}
scheduler = "cosine"
seed = {seed}
threads = 1
[cache]
dir = "{tmp}/cache"
[report]
dir = "{tmp}/runs"
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--arms", nargs="+", default=list(ARMS))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "pipeline"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        n = make_data(data, a.words)
        print(f"{n} clips of {SECONDS} s, {a.words} classes, load {os.getloadavg()[0]:.1f}", flush=True)
        acc = {arm: [] for arm in a.arms}
        for seed in a.seeds:
            for arm in a.arms:
                cfg = os.path.join(tmp, "c.toml")
                with open(cfg, "w") as f:
                    f.write(config(tmp, data, arm, seed, a.epochs))
                t = time.time()
                out = subprocess.run([a.bin, "run", cfg, "--json", "--quiet"],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    sys.exit(f"{arm} seed {seed} failed:\n{out.stderr}")
                r = json.loads(out.stdout)
                v = 100 * r["folds"][0]["test"]["accuracy"]
                acc[arm].append(v)
                print(f"seed {seed}  {arm:32s} {v:6.2f} %  ({time.time() - t:.0f} s, "
                      f"load {os.getloadavg()[0]:.1f})", flush=True)
        for arm, v in acc.items():
            sd = statistics.stdev(v) if len(v) > 1 else 0.0
            print(f"{arm:32s} mean {statistics.mean(v):6.2f} %  std {sd:.2f}  "
                  f"({', '.join(f'{x:.1f}' for x in v)})")


if __name__ == "__main__":
    main()
