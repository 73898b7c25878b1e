#!/usr/bin/env python3
"""Speech Commands-shaped sets for measuring `augment.background_noise_dir`:
clean training clips, test clips in noise the training never heard.

    python3 bench/background_noise/make.py [OUT]   # default target/background_noise

For each set (yesno: 2 words; words10: 10 words) it writes two folders
that differ only in their test clips:

    OUT/<set>-noisy/   test clips mixed with held-out noise at 0 to 10 dB SNR
    OUT/<set>-clean/   the same test clips without noise

each with `<word>/<voice>_nohash_<take>.wav` (8 kHz, 16-bit; espeak-ng
voices through audio-samples/make_samples.py's clip chain without its noise:
trim, level, silence), `validation_list.txt`, `testing_list.txt` (voices
held out by name: every fourth voice is a test voice, the one before it a
validation voice) and `_background_noise_/` with the training noise
recordings (10 s each): white, pink, brown, a 50 Hz mains hum with
harmonics, and babble of four other voices saying other words. The test
noise is other recordings of other kinds: pink and brown noise of other
seeds, a 60 Hz hum with other harmonics, babble of four more voices, a
band-passed "fan" noise and a white noise with a slow level wobble. Each
test clip takes one of them at a random offset and an SNR drawn uniformly
in [0, 10] dB (signal power = the clip's mean square, as the pipeline
defines it). Seeded per clip, so every build is the same. Needs python3,
espeak-ng and sox.
"""

import importlib.util
import math
import os
import random
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SEED = 20261202

spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(REPO, "audio-samples", "make_samples.py"))
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)

RATE = ms.RATE
NOISE_S = 10.0
TEST_SNR_DB = (0.0, 10.0)

# Names are lowercase letters and digits (the Speech Commands file name is
# <voice>_nohash_<take>.wav).
VOICES = [
    ("m1", "en+m1"), ("m2", "en+m2"), ("m3", "en+m3"), ("m7", "en+m7"),
    ("f1", "en+f1"), ("f2", "en+f2"), ("f4", "en+f4"), ("f5", "en+f5"),
    ("usm3", "en-us+m3"), ("usf1", "en-us+f1"), ("gbm4", "en-gb+m4"),
    ("scm1", "en-gb-scotland+m1"), ("rpf3", "en-gb-x-rp+f3"),
    ("carm2", "en-029+m2"), ("klatt2", "en+klatt2"), ("klatt4", "en+klatt4"),
    ("paul", "en+paul"), ("linda", "en+linda"), ("steph", "en+steph"),
    ("usm1", "en-us+m1"), ("usf2", "en-us+f2"), ("gbm3", "en-gb+m3"),
    ("scf2", "en-gb-scotland+f2"), ("rpm4", "en-gb-x-rp+m4"),
]

WORDS10 = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop",
           "go"]
SETS = {"yesno": (["yes", "no"], 4), "words10": (WORDS10, 2)}

# Babble: other voices saying other words, four streams overlapped.
BABBLE_TRAIN = (["en+m4", "en+f3", "en-us+m2", "en-gb+f1"],
                ["apple", "river", "garden", "window", "yellow", "purple",
                 "orange", "table", "chair", "house", "water", "music"])
BABBLE_TEST = (["en+m5", "en+m6", "en-us+f3", "en-gb-x-rp+m1"],
               ["paper", "silver", "winter", "summer", "morning", "evening",
                "mountain", "ocean", "forest", "rabbit", "tiger", "monkey"])


def rms(x):
    return math.sqrt(sum(v * v for v in x) / len(x))


def unit(x):
    r = rms(x)
    return [v / r for v in x]


def brown(n, rng):
    acc, out = 0.0, []
    for w in (rng.gauss(0.0, 1.0) for _ in range(n)):
        acc = 0.995 * acc + w
        out.append(acc)
    mean = sum(out) / n
    return unit([v - mean for v in out])


def hum(n, f0, weights, rng):
    phases = [rng.uniform(0, 2 * math.pi) for _ in weights]
    return unit([sum(a * math.sin(2 * math.pi * f0 * (k + 1) * t / RATE + p)
                     for k, (a, p) in enumerate(zip(weights, phases)))
                 for t in range(n)])


def babble(n, voices, words, rng, scratch):
    out = [0.0] * n
    for s, voice in enumerate(voices):
        t = rng.randrange(RATE // 4)
        while t < n:
            tmp = os.path.join(scratch, "babble_%d.wav" % s)
            sp = ms.trim(ms.synthesize(rng.choice(words), voice,
                                       rng.randint(*ms.WPM),
                                       rng.randint(*ms.PITCH), tmp))
            os.remove(tmp)
            r = rms(sp)
            for i, v in enumerate(sp):
                if t + i < n:
                    out[t + i] += v / r
            t += len(sp) + rng.randrange(RATE // 20, RATE // 4)
    return unit(out)


def fan(n, rng):
    # White noise through a two-pole resonator near 300 Hz plus its
    # low-passed rumble.
    w = [rng.gauss(0.0, 1.0) for _ in range(n)]
    r, th = 0.98, 2 * math.pi * 300 / RATE
    y1 = y2 = low = 0.0
    out = []
    for v in w:
        y = v + 2 * r * math.cos(th) * y1 - r * r * y2
        y2, y1 = y1, y
        low = 0.99 * low + 0.01 * v
        out.append(y + 30 * low)
    return unit(out)


def wobble(n, rng):
    w = [rng.gauss(0.0, 1.0) for _ in range(n)]
    return unit([v * (1.0 + 0.8 * math.sin(2 * math.pi * 0.7 * t / RATE))
                 for t, v in enumerate(w)])


def noises(scratch):
    """(training noises, test noises): name -> unit-RMS samples."""
    n = int(NOISE_S * RATE)
    rng = random.Random("%d/noise/train" % SEED)
    train = {
        "white": ms.noise("white", n, rng),
        "pink": ms.noise("pink", n, rng),
        "brown": brown(n, rng),
        "hum50": hum(n, 50.0, [1.0, 0.5, 0.3, 0.2], rng),
        "babble": babble(n, *BABBLE_TRAIN, rng, scratch),
    }
    rng = random.Random("%d/noise/test" % SEED)
    test = {
        "pink2": ms.noise("pink", n, rng),
        "brown2": brown(n, rng),
        "hum60": hum(n, 60.0, [1.0, 0.2, 0.6, 0.1, 0.3], rng),
        "babble2": babble(n, *BABBLE_TEST, rng, scratch),
        "fan": fan(n, rng),
        "wobble": wobble(n, rng),
    }
    return train, test


def to_pcm(x, peak_dbfs=-6.0):
    scale = 10.0 ** (peak_dbfs / 20.0) / max(abs(v) for v in x)
    return [max(-32768, min(32767, round(v * scale * ms.FULL_SCALE))) for v in x]


def clean_clip(word, voice, key, scratch):
    rng = random.Random(key)
    tmp = os.path.join(scratch, key.replace("/", "_") + ".wav")
    speech = ms.trim(ms.synthesize(word, voice, rng.randint(*ms.WPM),
                                   rng.randint(*ms.PITCH), tmp))
    os.remove(tmp)
    if not speech:
        raise RuntimeError("espeak-ng produced silence for %s" % word)
    scale = 10.0 ** (rng.uniform(*ms.PEAK_DBFS) / 20.0) / max(abs(v) for v in speech)
    lead = round(rng.uniform(*ms.SILENCE_S) * RATE)
    tail = round(rng.uniform(*ms.SILENCE_S) * RATE)
    return [0.0] * lead + [v * scale for v in speech] + [0.0] * tail


def mix(clip, noise, key):
    rng = random.Random(key)
    name = rng.choice(sorted(noise))
    rec = noise[name]
    off = rng.randrange(len(rec))
    snr = rng.uniform(*TEST_SNR_DB)
    seg = [rec[(off + i) % len(rec)] for i in range(len(clip))]
    k = math.sqrt(sum(v * v for v in clip) / sum(v * v for v in seg)
                  / 10.0 ** (snr / 10.0))
    return [c + k * z for c, z in zip(clip, seg)]


def pcm16(x):
    return [max(-32768, min(32767, round(v * ms.FULL_SCALE))) for v in x]


def build(out, name, words, takes, train_noise, test_noise, scratch):
    roots = {v: os.path.join(out, "%s-%s" % (name, v)) for v in ("noisy", "clean")}
    if all(os.path.exists(os.path.join(r, "testing_list.txt")) for r in roots.values()):
        return roots
    voices = sorted(VOICES)
    test_voices = {v for v, _ in voices[3::4]}
    val_voices = {v for v, _ in voices[2::4]}
    work = [(w, v, voice, t) for w in words for v, voice in voices
            for t in range(takes)]

    def one(item):
        w, v, voice, t = item
        key = "%d/%s/%s/%s/%d" % (SEED, name, w, v, t)
        clip = clean_clip(w, voice, key, scratch)
        noisy = mix(clip, test_noise, key + "/mix") if v in test_voices else clip
        rel = "%s/%s_nohash_%d.wav" % (w, v, t)
        for variant, x in (("clean", clip), ("noisy", noisy)):
            path = os.path.join(roots[variant], rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            ms.write_wav(path, pcm16(x))
        return rel, v

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = list(pool.map(one, work))
    for root in roots.values():
        bg = os.path.join(root, "_background_noise_")
        os.makedirs(bg, exist_ok=True)
        for n, x in train_noise.items():
            ms.write_wav(os.path.join(bg, n + ".wav"), to_pcm(x))
        with open(os.path.join(root, "validation_list.txt"), "w") as fh:
            fh.writelines(r + "\n" for r, v in done if v in val_voices)
        # Written last: its presence marks a finished folder.
        with open(os.path.join(root, "testing_list.txt"), "w") as fh:
            fh.writelines(r + "\n" for r, v in done if v in test_voices)
    return roots


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(REPO, "target", "background_noise"))
    scratch = os.path.join(out, "scratch")
    os.makedirs(scratch, exist_ok=True)
    train_noise, test_noise = noises(scratch)
    for name, (words, takes) in SETS.items():
        roots = build(out, name, words, takes, train_noise, test_noise, scratch)
        for r in roots.values():
            print(r)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
