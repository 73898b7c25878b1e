#!/usr/bin/env python3
"""Make the Cochlea demo dataset of spoken digits with espeak-ng and sox.

Each clip is one English digit word ("zero" .. "nine") spoken by one
espeak-ng voice variant at a speaking rate and pitch drawn per file from a
seeded RNG. The speech is trimmed to its voiced span, resampled to 8 kHz,
scaled to a random peak level, padded with a short random silence at both
ends and mixed with white or pink noise at a random SNR. The result is
written as 8 kHz mono 16-bit PCM WAV to

    digits/<digit>/<digit>_<voice>_<take>.wav

next to this script. The whole tree is built in a temporary folder beside
it, checked, and renamed into place, so an interrupted run never leaves a
half-written dataset behind.

Usage:
    python3 audio-samples/make_samples.py            # build (seed 20240601)
    python3 audio-samples/make_samples.py --check    # only check what exists

Needs python3 (stdlib only), espeak-ng and sox on PATH.
"""

import argparse
import array
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))

WORDS = ["zero", "one", "two", "three", "four",
         "five", "six", "seven", "eight", "nine"]

# Name in file paths -> espeak-ng voice (language + variant). Names are
# lowercase ASCII letters and digits so they survive the `_` split of the
# file name. Several base languages (British, American, Scottish,
# Caribbean, Received Pronunciation) are used as well as variants, so
# that voices differ in accent as well as in timbre.
VOICES = [
    ("m1", "en+m1"),
    ("m3", "en+m3"),
    ("f2", "en+f2"),
    ("f4", "en+f4"),
    ("usm2", "en-us+m2"),
    ("usf3", "en-us+f3"),
    ("klatt", "en+klatt"),
    ("scm7", "en-gb-scotland+m7"),
    ("carf1", "en-029+f1"),
    ("rpklatt3", "en-gb-x-rp+klatt3"),
]

RATE = 8000            # output sample rate, Hz
WPM = (140, 210)       # espeak-ng -s, words per minute (its default is 175)
PITCH = (25, 75)       # espeak-ng -p, 0..99 (its default is 50)
SILENCE_S = (0.02, 0.10)  # leading and trailing silence, each, seconds
PEAK_DBFS = (-12.0, -3.0)  # peak of the speech before noise, dB full scale
SNR_DB = (25.0, 35.0)  # speech RMS over noise RMS
NOISES = ("white", "pink")
TRIM_REL = 1e-3        # trim threshold, relative to the clip's peak (-60 dB)
FULL_SCALE = 32768.0
DEFAULT_SEED = 20240601
DEFAULT_TAKES = 5


def run(cmd):
    """Run a command, returning stdout; fail with its stderr."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (
            " ".join(cmd), proc.stderr.decode(errors="replace").strip()))
    return proc.stdout


def synthesize(word, voice, wpm, pitch, scratch):
    """Speak `word` with espeak-ng and return float samples at RATE."""
    run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch),
         "-w", scratch, word])
    # sox -R: repeatable mode (fixed internal seed). Output 32-bit integers
    # so that dithering (only applied below 24 bits) never happens and the
    # only rounding to 16 bits is the final one, done here.
    raw = run(["sox", "-R", scratch, "-t", "raw", "-e", "signed-integer",
               "-b", "32", "-c", "1", "-", "rate", "-v", str(RATE)])
    ints = array.array("i")
    if ints.itemsize != 4:
        raise RuntimeError("array type 'i' is not 32-bit on this platform")
    ints.frombytes(raw)
    if sys.byteorder != "little":
        ints.byteswap()
    return [v / 2147483648.0 for v in ints]


def trim(samples):
    """Cut leading and trailing silence (below TRIM_REL of the peak)."""
    peak = max((abs(v) for v in samples), default=0.0)
    if peak == 0.0:
        return []
    floor = peak * TRIM_REL
    start = next(i for i, v in enumerate(samples) if abs(v) > floor)
    end = len(samples) - next(
        i for i, v in enumerate(reversed(samples)) if abs(v) > floor)
    return samples[start:end]


def noise(kind, n, rng):
    """`n` samples of unit-RMS white or pink noise from `rng`."""
    white = [rng.gauss(0.0, 1.0) for _ in range(n)]
    if kind == "white":
        out = white
    else:
        # Paul Kellet's "economy" pink filter (three first-order sections,
        # within 0.5 dB of -3 dB/octave above ~ 1/400 of the sample rate).
        b0 = b1 = b2 = 0.0
        out = []
        for w in white:
            b0 = 0.99765 * b0 + w * 0.0990460
            b1 = 0.96300 * b1 + w * 0.2965164
            b2 = 0.57000 * b2 + w * 1.0526913
            out.append(b0 + b1 + b2 + w * 0.1848)
    rms = math.sqrt(sum(v * v for v in out) / n)
    return [v / rms for v in out]


def make_clip(digit, name, voice, take, seed, scratch):
    """Build one clip; return (16-bit samples, parameters)."""
    # One RNG per file, seeded from the seed and the file's identity, so a
    # clip does not depend on the order or number of clips made before it.
    rng = random.Random("%d/%d/%s/%d" % (seed, digit, name, take))
    p = {
        "wpm": rng.randint(*WPM),
        "pitch": rng.randint(*PITCH),
        "lead": rng.uniform(*SILENCE_S),
        "tail": rng.uniform(*SILENCE_S),
        "peak": rng.uniform(*PEAK_DBFS),
        "snr": rng.uniform(*SNR_DB),
        "noise": rng.choice(NOISES),
    }
    speech = trim(synthesize(WORDS[digit], voice, p["wpm"], p["pitch"],
                             scratch))
    if not speech:
        raise RuntimeError("espeak-ng produced silence for %s with %s"
                           % (WORDS[digit], voice))
    scale = 10.0 ** (p["peak"] / 20.0) / max(abs(v) for v in speech)
    speech = [v * scale for v in speech]
    speech_rms = math.sqrt(sum(v * v for v in speech) / len(speech))
    lead = round(p["lead"] * RATE)
    tail = round(p["tail"] * RATE)
    clean = [0.0] * lead + speech + [0.0] * tail
    noise_rms = speech_rms / 10.0 ** (p["snr"] / 20.0)
    mixed = [c + noise_rms * z
             for c, z in zip(clean, noise(p["noise"], len(clean), rng))]
    pcm = array.array("h", (
        max(-32768, min(32767, round(v * FULL_SCALE))) for v in mixed))
    return pcm, p


def write_wav(path, pcm):
    """Write 16-bit mono PCM at RATE."""
    data = array.array("h", pcm)
    if sys.byteorder != "little":
        data.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data.tobytes())


def build(root, seed, takes, jobs):
    """Write every clip under `root`/digits, printing one line per clip."""
    digits_dir = os.path.join(root, "digits")
    scratch_dir = os.path.join(root, "scratch")
    os.makedirs(scratch_dir)
    for d in range(10):
        os.makedirs(os.path.join(digits_dir, str(d)))
    work = [(d, name, voice, t) for d in range(10)
            for name, voice in VOICES for t in range(1, takes + 1)]

    def one(item):
        d, name, voice, t = item
        rel = os.path.join(str(d), "%d_%s_%02d.wav" % (d, name, t))
        scratch = os.path.join(scratch_dir, "%d_%s_%02d.wav" % (d, name, t))
        pcm, p = make_clip(d, name, voice, t, seed, scratch)
        os.remove(scratch)
        write_wav(os.path.join(digits_dir, rel), pcm)
        return ("digits/%s  voice=%s wpm=%d pitch=%d lead=%.3fs tail=%.3fs "
                "peak=%.1fdBFS snr=%.1fdB noise=%s"
                % (rel, voice, p["wpm"], p["pitch"], p["lead"], p["tail"],
                   p["peak"], p["snr"], p["noise"]))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for line in pool.map(one, work):
            print(line)
    os.rmdir(scratch_dir)
    return digits_dir


def check(digits_dir, takes=None):
    """Check every clip; print counts, sizes and durations. Return #errors."""
    voice_names = [name for name, _ in VOICES]
    errors = 0
    durations = []
    total_bytes = 0
    counts = {}
    for d in range(10):
        folder = os.path.join(digits_dir, str(d))
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        for fname in names:
            path = os.path.join(folder, fname)
            stem, ext = os.path.splitext(fname)
            parts = stem.split("_")
            if (ext != ".wav" or len(parts) != 3 or parts[0] != str(d)
                    or parts[1] not in voice_names or not parts[2].isdigit()):
                print("bad name: %s" % path)
                errors += 1
                continue
            try:
                with wave.open(path, "rb") as w:
                    fmt = (w.getnchannels(), w.getsampwidth(),
                           w.getframerate(), w.getcomptype())
                    frames = w.readframes(w.getnframes())
            except (wave.Error, EOFError) as e:
                print("unreadable: %s: %s"
                      % (path, str(e) or "file ends early"))
                errors += 1
                continue
            if fmt != (1, 2, RATE, "NONE"):
                print("bad format %s: %s" % (fmt, path))
                errors += 1
                continue
            pcm = array.array("h")
            pcm.frombytes(frames)
            if sys.byteorder != "little":
                pcm.byteswap()
            if len(pcm) == 0 or max(abs(v) for v in pcm) < 328:
                print("empty or near-silent (peak below -40 dBFS): %s" % path)
                errors += 1
                continue
            clipped = sum(1 for v in pcm if v >= 32767 or v <= -32768)
            if clipped:
                print("clipped (%d samples at full scale): %s"
                      % (clipped, path))
                errors += 1
                continue
            durations.append(len(pcm) / RATE)
            total_bytes += os.path.getsize(path)
            counts[(d, parts[1])] = counts.get((d, parts[1]), 0) + 1

    print()
    print("counts per digit (rows) and voice (columns):")
    print("digit " + " ".join("%8s" % v for v in voice_names) + "   total")
    for d in range(10):
        row = [counts.get((d, v), 0) for v in voice_names]
        print("%5d " % d + " ".join("%8d" % c for c in row)
              + "   %5d" % sum(row))
    col = [sum(counts.get((d, v), 0) for d in range(10)) for v in voice_names]
    print("total " + " ".join("%8d" % c for c in col)
          + "   %5d" % sum(col))
    if takes is not None:
        missing = [(d, v) for d in range(10) for v in voice_names
                   if counts.get((d, v), 0) != takes]
        for d, v in missing:
            print("digit %d voice %s: %d clips, expected %d"
                  % (d, v, counts.get((d, v), 0), takes))
        errors += len(missing)
    if durations:
        print("clips: %d valid, total %d bytes (%.2f MB)"
              % (len(durations), total_bytes, total_bytes / 1e6))
        print("duration s: min %.3f  mean %.3f  max %.3f"
              % (min(durations), sum(durations) / len(durations),
                 max(durations)))
    print("errors: %d" % errors)
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="RNG seed (default %(default)s)")
    parser.add_argument("--takes", type=int, default=DEFAULT_TAKES,
                        help="clips per digit and voice (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="parallel espeak-ng/sox runs")
    parser.add_argument("--check", action="store_true",
                        help="only check the existing digits/ folder")
    args = parser.parse_args()

    final = os.path.join(HERE, "digits")
    if args.check:
        return 1 if check(final) else 0
    if args.takes < 1 or args.takes > 99:
        parser.error("--takes must be between 1 and 99, got %d" % args.takes)

    stage = tempfile.mkdtemp(prefix=".digits-new-", dir=HERE)
    try:
        built = build(stage, args.seed, args.takes, max(1, args.jobs))
        if check(built, args.takes):
            print("checks failed; %s left untouched" % final)
            return 1
        old = None
        if os.path.exists(final):
            old = tempfile.mkdtemp(prefix=".digits-old-", dir=HERE)
            os.rename(final, os.path.join(old, "digits"))
        os.rename(built, final)
        if old:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print("wrote %s (seed %d, %d takes)" % (final, args.seed, args.takes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
