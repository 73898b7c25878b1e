#!/usr/bin/env python3
"""Make the detection benchmark: a training set of spoken words plus a
background class, and long recordings with words at random times over
noise, with the truth as a CSV.

Words are the demo digit words ("zero" .. "nine" or a subset) spoken by the
espeak-ng voices of audio-samples/make_samples.py, made by its own
`make_clip` (random rate, pitch, level, short silences, light noise):

    OUT/train/<word>/<word>_<voice>_<take>.wav   training clips (seed S)
    OUT/train/background/bg_<i>.wav              noise clips, 0.5-1.0 s,
                                                 white or pink, -65..-25 dBFS
    OUT/test/rec_<i>.wav                         recordings: a noise bed with
                                                 words at random times, from
                                                 takes made with seed S+1
                                                 (never heard in training)
    OUT/test/truth.csv                           path,start,end,label (the
                                                 voiced span of each word)

With --hour, OUT/long/hour.wav is one hour of pink noise made by sox with
a word every 10 s on average (truth in OUT/long/truth.csv), for the
throughput benchmark.

    python3 bench/detect_make_data.py --out target/detect-bench
"""

import argparse
import array
import math
import os
import random
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "audio-samples"))
import make_samples as ms  # noqa: E402

RATE = ms.RATE


def write_wav(path, samples):
    pcm = array.array("h", (max(-32768, min(32767, round(v * 32768.0)))
                            for v in samples))
    if sys.byteorder != "little":
        pcm.byteswap()
    tmp = path + ".tmp"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    os.replace(tmp, path)


def read_wav(path):
    with wave.open(path, "rb") as w:
        data = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder != "little":
        data.byteswap()
    return [v / 32768.0 for v in data]


def clip(word_index, voice_name, voice, take, seed, scratch):
    """A word clip and the voiced span inside it (seconds)."""
    pcm, p = ms.make_clip(word_index, voice_name, voice, take, seed, scratch)
    n = len(pcm)
    lead = round(p["lead"] * RATE)
    tail = round(p["tail"] * RATE)
    return [v / 32768.0 for v in pcm], lead / RATE, (n - tail) / RATE


def noise_bed(n, rng, level_db):
    kind = rng.choice(ms.NOISES)
    scale = 10.0 ** (level_db / 20.0)
    return [scale * v for v in ms.noise(kind, n, rng)]


def place(bed, words, rng, gap=(0.8, 4.0)):
    """Adds (samples, voiced start, voiced end, label) at random times,
    never overlapping; returns the truth rows (start, end, label)."""
    truth = []
    t = rng.uniform(*gap)
    for samples, vs, ve, label in words:
        at = int(t * RATE)
        if at + len(samples) >= len(bed):
            break
        for i, v in enumerate(samples):
            bed[at + i] += v
        truth.append((t + vs, t + ve, label))
        t += len(samples) / RATE + rng.uniform(*gap)
    return truth


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--words", default="zero,one,two,three,four,five,six,seven,eight,nine")
    parser.add_argument("--takes", type=int, default=4, help="training takes per word and voice")
    parser.add_argument("--recordings", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each recording")
    parser.add_argument("--hour", action="store_true", help="also make long/hour.wav")
    args = parser.parse_args()
    words = args.words.split(",")
    idx = {w: ms.WORDS.index(w) for w in words}
    out = args.out
    for d in ["train/background", "test", "long"]:
        os.makedirs(os.path.join(out, d), exist_ok=True)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = os.path.join(scratch_dir, "s.wav")
        # Training clips.
        for w in words:
            os.makedirs(os.path.join(out, "train", w), exist_ok=True)
            for name, voice in ms.VOICES:
                for take in range(1, args.takes + 1):
                    path = os.path.join(out, "train", w, "%s_%s_%02d.wav" % (w, name, take))
                    if not os.path.exists(path):
                        pcm, _, _ = clip(idx[w], name, voice, take, args.seed, scratch)
                        write_wav(path, pcm)
        for i in range(20 * len(words)):
            path = os.path.join(out, "train", "background", "bg_%03d.wav" % i)
            n = int(rng.uniform(0.5, 1.0) * RATE)
            write_wav(path, noise_bed(n, rng, rng.uniform(-65.0, -25.0)))
        # Test recordings: unseen takes (seed + 1) over a noise bed.
        rows = []
        for r in range(args.recordings):
            bed = noise_bed(int(args.seconds * RATE), rng, rng.uniform(-55.0, -35.0))
            ws = []
            for k in range(int(args.seconds / 2)):
                w = rng.choice(words)
                name, voice = rng.choice(ms.VOICES)
                pcm, vs, ve = clip(idx[w], name, voice, 100 + r * 100 + k, args.seed + 1, scratch)
                ws.append((pcm, vs, ve, w))
            truth = place(bed, ws, rng)
            rec = "rec_%02d.wav" % r
            write_wav(os.path.join(out, "test", rec), bed)
            rows += [(rec, s, e, l) for s, e, l in truth]
        with open(os.path.join(out, "test", "truth.csv"), "w") as f:
            f.write("path,start,end,label\n")
            for p, s, e, l in rows:
                f.write("%s,%.4f,%.4f,%s\n" % (p, s, e, l))
        if args.hour:
            noise_path = os.path.join(out, "long", "noise.wav")
            subprocess.run(["sox", "-R", "-n", "-r", str(RATE), "-b", "16", "-c", "1",
                            noise_path, "synth", "3600", "pinknoise", "vol", "0.01"], check=True)
            bed = read_wav(noise_path)
            cache = []
            for k in range(60):
                w = words[k % len(words)]
                name, voice = ms.VOICES[k % len(ms.VOICES)]
                pcm, vs, ve = clip(idx[w], name, voice, 900 + k, args.seed + 2, scratch)
                cache.append((pcm, vs, ve, w))
            ws = [cache[rng.randrange(len(cache))] for _ in range(400)]
            truth = place(bed, ws, rng, gap=(4.0, 12.0))
            write_wav(os.path.join(out, "long", "hour.wav"), bed)
            os.remove(noise_path)
            with open(os.path.join(out, "long", "truth.csv"), "w") as f:
                f.write("path,start,end,label\n")
                for s, e, l in truth:
                    f.write("hour.wav,%.4f,%.4f,%s\n" % (s, e, l))
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
