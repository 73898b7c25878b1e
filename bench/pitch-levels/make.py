#!/usr/bin/env python3
"""Make the pitch-levels benchmark set: the same words at three pitch levels.

Each clip is one word ("zero" .. "nine") spoken by one espeak-ng voice at
one of three pitch levels (espeak-ng `-p`, 0..99): low (0..15), mid
(42..57) or high (85..99), the exact value, speaking rate, level, silence
and noise drawn per file from a seeded RNG, and processed like the demo set
(`audio-samples/make_samples.py`: trimmed, 8 kHz, random peak, silence,
white or pink noise at 25..35 dB SNR). The words carry no information about
the class: every voice says every word at every level.

    <out>/<level>/<level>_<voice>_<word>_<take>.wav

Usage:
    python3 bench/pitch-levels/make.py [--out DIR] [--takes N] [--jobs N]

Default out: bench/pitch-levels/data (ignored by git). Needs espeak-ng and
sox on PATH; python stdlib only.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "audio-samples"))
import make_samples as ms  # noqa: E402

LEVELS = {"low": (0, 15), "mid": (42, 57), "high": (85, 99)}

# Twelve voices: the demo's ten and two more variants, male and female.
VOICES = ms.VOICES + [("m5", "en+m5"), ("f1", "en+f1")]
SEED = 20261201


def clip(level, name, voice, word, take, scratch):
    rng = random.Random("%d/%s/%s/%s/%d" % (SEED, level, name, word, take))
    pitch = rng.randint(*LEVELS[level])
    wpm = rng.randint(*ms.WPM)
    speech = ms.trim(ms.synthesize(word, voice, wpm, pitch, scratch))
    if not speech:
        raise RuntimeError("silence for %s with %s" % (word, voice))
    peak = rng.uniform(*ms.PEAK_DBFS)
    scale = 10.0 ** (peak / 20.0) / max(abs(v) for v in speech)
    speech = [v * scale for v in speech]
    rms = (sum(v * v for v in speech) / len(speech)) ** 0.5
    lead = round(rng.uniform(*ms.SILENCE_S) * ms.RATE)
    tail = round(rng.uniform(*ms.SILENCE_S) * ms.RATE)
    clean = [0.0] * lead + speech + [0.0] * tail
    noise_rms = rms / 10.0 ** (rng.uniform(*ms.SNR_DB) / 20.0)
    z = ms.noise(rng.choice(ms.NOISES), len(clean), rng)
    pcm = [max(-32768, min(32767, round((c + noise_rms * n) * ms.FULL_SCALE)))
           for c, n in zip(clean, z)]
    return pcm, pitch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "data"))
    ap.add_argument("--takes", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    parent = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".pitch-new-", dir=parent)
    scratch_dir = os.path.join(stage, ".scratch")
    os.makedirs(scratch_dir)
    for level in LEVELS:
        os.makedirs(os.path.join(stage, level))
    work = [(lv, n, v, w, t) for lv in LEVELS for n, v in VOICES
            for w in ms.WORDS for t in range(1, a.takes + 1)]

    def one(item):
        lv, n, v, w, t = item
        base = "%s_%s_%s_%02d.wav" % (lv, n, w, t)
        scratch = os.path.join(scratch_dir, base)
        pcm, pitch = clip(lv, n, v, w, t, scratch)
        os.remove(scratch)
        ms.write_wav(os.path.join(stage, lv, base), pcm)
        return "%s/%s pitch=%d" % (lv, base, pitch)

    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for line in pool.map(one, work):
            print(line)
    os.rmdir(scratch_dir)
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    os.rename(stage, a.out)
    print("wrote %d clips to %s" % (len(work), a.out))


if __name__ == "__main__":
    main()
