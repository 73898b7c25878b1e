#!/usr/bin/env python3
"""Build the calibration data sets of `pipeline doctor`, and their configs.

Healthy data sets the demo never was (other words, other voices, two to
fifty classes, tiny to large, mixed file formats, k-fold and group splits),
and the planted faults of pipelines/broken/ rebuilt on one of them. Speech
comes from espeak-ng through the clip chain of audio-samples/make_samples.py
(trim, level, silence, noise); the sound events are sox syntheses. Every
clip is seeded from its identity, so the sets are the same on every build.

    python3 bench/calibration/make_sets.py [OUT]   # default target/calibration

writes OUT/data/<set>/... and OUT/configs/<name>.toml, one config per line
of the calibration table (the healthy sets, then the faults). Needs python3,
espeak-ng and sox. About a minute on two cores.
"""

import csv
import importlib.util
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SEED = 20261201

spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(REPO, "audio-samples", "make_samples.py"))
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)

# Voices the demo does not use as well as some it does.
VOICES = [
    ("m2", "en+m2"), ("m4", "en+m4"), ("m5", "en+m5"), ("m6", "en+m6"),
    ("f1", "en+f1"), ("f3", "en+f3"), ("f5", "en+f5"), ("usm1", "en-us+m1"),
    ("usf2", "en-us+f2"), ("gbm3", "en-gb+m3"), ("scf2", "en-gb-scotland+f2"),
    ("rpm4", "en-gb-x-rp+m4"),
]

WORDS10 = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop",
           "go"]
WORDS50 = WORDS10 + [
    "apple", "river", "garden", "window", "yellow", "purple", "orange",
    "green", "table", "chair", "house", "water", "music", "paper", "silver",
    "winter", "summer", "morning", "evening", "mountain", "ocean", "forest",
    "rabbit", "tiger", "monkey", "pencil", "rocket", "castle", "dragon",
    "bridge", "candle", "kitten", "lemon", "pillow", "tunnel", "violin",
    "wizard", "zebra", "jungle", "harbor",
]

# name: (words, voices, takes, formats, split lines)
SETS = {
    "yesno": (["yes", "no"], 12, 4, False,
              'strategy = "group"\ntest_fraction = 0.2\nval_fraction = 0.1'),
    "tiny2": (["left", "right"], 6, 2, False,
              'strategy = "group"\ntest_fraction = 0.25\nval_fraction = 0.0'),
    "words3": (["up", "down", "stop"], 10, 5, False,
               'strategy = "group-kfold"\nfolds = 5\nval_fraction = 0.1'),
    "words10": (WORDS10, 10, 5, False,
                'strategy = "group"\ntest_fraction = 0.2\nval_fraction = 0.1'),
    "words50": (WORDS50, 12, 1, False,
                'strategy = "group"\ntest_fraction = 0.2\nval_fraction = 0.1'),
    "mixed": (["yes", "no", "up", "down"], 12, 3, True,
              'strategy = "group"\ntest_fraction = 0.2\nval_fraction = 0.1'),
}

# Formats of the mixed set: (sample rate, bits, channels, extension).
FORMATS = [(r, b, c, e) for r in (8000, 16000, 22050) for b in (16, 24)
           for c in (1, 2) for e in ("wav", "flac")]

BASE = """name = "{name}"

[data]
{data}
sample_rate = 8000
clip_frames = 80

[split]
{split}

[features]
{features}

[normalize]
method = "{norm}"

[model]
blocks = {blocks}

[train]
{train}
batch_size = 32
epochs = {epochs}

[report]
dir = "{runs}"
"""

HEALTHY_BLOCKS = ("[ { filters = 32, kernel = 5, pool = 2 }, "
                  "{ filters = 64, kernel = 3, pool = 2 } ]")


def config(name, data, split, runs, features='kinds = ["mfcc"]\ndeltas = 1',
           norm="standard", blocks=HEALTHY_BLOCKS, train="lr = 0.003",
           epochs=15):
    return BASE.format(name=name, data=data, split=split, features=features,
                       norm=norm, blocks=blocks, train=train, epochs=epochs,
                       runs=runs)


def speech_clip(path, word, voice, seed_key, fmt, scratch):
    rng = random.Random(seed_key)
    wpm, pitch = rng.randint(*ms.WPM), rng.randint(*ms.PITCH)
    speech = ms.trim(ms.synthesize(word, voice, wpm, pitch, scratch))
    if not speech:
        raise RuntimeError("espeak-ng produced silence for %s" % word)
    peak = 10.0 ** (rng.uniform(*ms.PEAK_DBFS) / 20.0)
    scale = peak / max(abs(v) for v in speech)
    speech = [v * scale for v in speech]
    rms = (sum(v * v for v in speech) / len(speech)) ** 0.5
    lead = round(rng.uniform(*ms.SILENCE_S) * ms.RATE)
    tail = round(rng.uniform(*ms.SILENCE_S) * ms.RATE)
    clean = [0.0] * lead + speech + [0.0] * tail
    nrms = rms / 10.0 ** (rng.uniform(*ms.SNR_DB) / 20.0)
    kind = rng.choice(ms.NOISES)
    mixed = [c + nrms * z for c, z in
             zip(clean, ms.noise(kind, len(clean), rng))]
    pcm = [max(-32768, min(32767, round(v * ms.FULL_SCALE))) for v in mixed]
    if fmt is None:
        ms.write_wav(path, pcm)
        return
    tmp = scratch + ".src.wav"
    ms.write_wav(tmp, pcm)
    rate, bits, channels, _ = fmt
    ms.run(["sox", "-R", tmp, "-b", str(bits), "-c", str(channels), path,
            "rate", str(rate)])
    os.remove(tmp)


def event_clip(path, label, seed_key):
    """A tone (sine/square/sawtooth sweep) or a noise burst, in noise."""
    rng = random.Random(seed_key)
    dur = rng.uniform(0.3, 1.0)
    if label == "tone":
        shape = rng.choice(["sine", "square", "sawtooth", "triangle"])
        f0 = rng.uniform(300, 1500)
        f1 = f0 * rng.uniform(0.7, 1.5)
        synth = ["synth", "%.3f" % dur, shape, "%.0f-%.0f" % (f0, f1)]
    else:
        color = rng.choice(["whitenoise", "pinknoise", "brownnoise"])
        synth = ["synth", "%.3f" % dur, color]
    gain = rng.uniform(-14, -4)
    ms.run(["sox", "-R", "-n", "-r", "8000", "-b", "16", "-c", "1", path]
           + synth + ["fade", "q", "0.02", "%.3f" % dur, "0.05",
                      "pad", "%.3f" % rng.uniform(0.02, 0.1),
                      "%.3f" % rng.uniform(0.02, 0.1),
                      "norm", "%.1f" % gain])


def build_speech(out, name, words, n_voices, takes, mixed):
    root = os.path.join(out, "data", name)
    scratch = os.path.join(out, "scratch")
    os.makedirs(scratch, exist_ok=True)
    work = []
    for w in words:
        os.makedirs(os.path.join(root, w), exist_ok=True)
        for vname, voice in VOICES[:n_voices]:
            for t in range(1, takes + 1):
                key = "%d/%s/%s/%s/%d" % (SEED, name, w, vname, t)
                fmt = None
                if mixed:
                    # Drawn from the file's voice and take, never its word.
                    fmt = random.Random("fmt/%s/%d" % (vname, t)).choice(
                        FORMATS)
                ext = fmt[3] if fmt else "wav"
                rel = "%s/%s_%s_%02d.%s" % (w, w, vname, t, ext)
                work.append((os.path.join(root, rel), w, voice, key, fmt))

    def one(item):
        path, w, voice, key, fmt = item
        if not os.path.exists(path):
            tmp = os.path.join(scratch, key.replace("/", "_") + ".wav")
            speech_clip(path + ".part." + (fmt[3] if fmt else "wav"), w,
                        voice, key, fmt, tmp)
            os.replace(path + ".part." + (fmt[3] if fmt else "wav"), path)
            os.remove(tmp)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, work))
    return root, [(p, w, os.path.basename(p).split("_")[1])
                  for p, w, _, _, _ in work]


def build_events(out, n=417):
    root = os.path.join(out, "data", "events2")
    for lab in ("tone", "noise"):
        os.makedirs(os.path.join(root, lab), exist_ok=True)
    work = [("tone" if i % 2 == 0 else "noise", i) for i in range(n)]

    def one(item):
        lab, i = item
        path = os.path.join(root, lab, "%s_%03d.wav" % (lab, i))
        if not os.path.exists(path):
            event_clip(path + ".part.wav", lab, "%d/events/%d" % (SEED, i))
            os.replace(path + ".part.wav", path)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, work))
    return root


def write_manifest(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "group"])
        w.writerows(rows)


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(REPO, "target", "calibration"))
    cfg_dir = os.path.join(out, "configs")
    os.makedirs(cfg_dir, exist_ok=True)
    runs = os.path.join(out, "runs")
    configs = {}
    files = {}
    group = "group = { regex = '^[a-z]+_([a-z0-9]+)_' }"
    for name, (words, nv, takes, mixed, split) in SETS.items():
        root, files[name] = build_speech(out, name, words, nv, takes, mixed)
        data = 'root = "%s"\nlabel = "folder"\n%s' % (root, group)
        configs[name] = config(name, data, split, runs)
    ev = build_events(out)
    configs["events2"] = config(
        "events2", 'root = "%s"\nlabel = "folder"' % ev,
        'strategy = "kfold"\nfolds = 5\nval_fraction = 0.1', runs)

    # The planted faults of pipelines/broken/, on words10.
    w10 = files["words10"]
    root10 = os.path.join(out, "data", "words10")
    folder = 'root = "%s"\nlabel = "folder"\n%s' % (root10, group)
    g_split = SETS["words10"][4]
    rng = random.Random(SEED)
    labels = [w for _, w, _ in w10]
    rng.shuffle(labels)
    write_manifest(os.path.join(cfg_dir, "shuffled.csv"),
                   [(p, lab, g) for (p, _, g), lab in zip(w10, labels)])
    write_manifest(os.path.join(cfg_dir, "duplicates.csv"),
                   [(p, w, g) for p, w, g in w10 for _ in range(2)])
    keep = [(p, w, g) for p, w, g in w10
            if WORDS10.index(w) < 5 or p.endswith(("_01.wav", "_02.wav"))
            and [v for v, _ in VOICES].index(g) < 6]
    write_manifest(os.path.join(cfg_dir, "imbalanced.csv"), keep)
    manifest = ('manifest = "%s"\nlabel = "manifest"\ngroup = "manifest"')
    faults = {
        "shuffled-labels": ("labels.no_signal", dict(
            data=manifest % os.path.join(cfg_dir, "shuffled.csv"))),
        "label-is-take": ("labels.no_signal", dict(
            data='root = "%s"\nlabel = { regex = \'_(\\d\\d)\\.wav$\' }\n%s'
            % (root10, group))),
        "speaker-leak": ("leakage.group", dict(
            split='strategy = "stratified"\ntest_fraction = 0.2\n'
                  'val_fraction = 0.1')),
        # Copies share a group, so the fault needs a split that ignores it.
        "duplicate-audio": ("leakage.duplicate_audio", dict(
            data='manifest = "%s"\nlabel = "manifest"'
            % os.path.join(cfg_dir, "duplicates.csv"),
            split='strategy = "stratified"\ntest_fraction = 0.2\n'
                  'val_fraction = 0.1')),
        "unnormalized": ("scaling.unnormalized", dict(
            features='kinds = ["mfcc", "centroid", "rolloff"]', norm="none")),
        "raw-samples": ("representation.raw_samples", dict(
            features='kinds = ["raw"]',
            blocks="[ { filters = 32, kernel = 9, stride = 4, pool = 4 }, "
                   "{ filters = 64, kernel = 5, pool = 4 } ]")),
        "too-much-pooling": ("architecture.pooling", dict(
            blocks="[ { filters = 32, kernel = 3, pool = 4 }, "
                   "{ filters = 64, kernel = 3, pool = 4 }, "
                   "{ filters = 64, kernel = 3, pool = 4 } ]")),
        "lr-too-high": ("optimization.lr_too_high", dict(
            train='optimizer = "sgd"\nlr = 5.0\nmomentum = 0.9')),
        "lr-too-low": ("optimization.lr_too_low", dict(train="lr = 1e-7")),
        "imbalanced": ("data.imbalance", dict(
            data=manifest % os.path.join(cfg_dir, "imbalanced.csv"))),
    }
    for fault, (expect, over) in faults.items():
        args = dict(data=folder, split=g_split, runs=runs)
        args.update(over)
        if fault == "raw-samples":
            args["data"] = args["data"].replace("clip_frames = 80", "")
        name = "words10-" + fault
        text = config(name, **args)
        if fault == "raw-samples":
            text = text.replace("clip_frames = 80", "clip_frames = 6400")
        configs[name] = "# Expected first finding: %s.\n%s" % (expect, text)

    # A format that gives the class away: the mixed set's words, each word
    # in its own format.
    confound = os.path.join(out, "data", "mixed-confound")
    rows = []
    for i, w in enumerate(["yes", "no", "up", "down"]):
        os.makedirs(os.path.join(confound, w), exist_ok=True)
        fmt = [(8000, 16, 1, "wav"), (16000, 24, 2, "flac"),
               (22050, 16, 2, "wav"), (16000, 16, 1, "flac")][i]
        for p, word, g in files["mixed"]:
            if word != w:
                continue
            dst = os.path.join(confound, w, os.path.basename(p).rsplit(
                ".", 1)[0] + "." + fmt[3])
            if not os.path.exists(dst):
                ms.run(["sox", "-R", p, "-b", str(fmt[1]), "-c", str(fmt[2]),
                        dst + ".part." + fmt[3], "rate", str(fmt[0])])
                os.replace(dst + ".part." + fmt[3], dst)
            rows.append(dst)
    configs["mixed-format-confound"] = (
        "# Expected first finding: data.mixed_formats.\n" + config(
            "mixed-format-confound",
            'root = "%s"\nlabel = "folder"\n%s' % (confound, group),
            SETS["mixed"][4], runs))

    for name, text in configs.items():
        with open(os.path.join(cfg_dir, name + ".toml"), "w") as fh:
            fh.write(text)
    os.rmdir(os.path.join(out, "scratch"))
    for name in configs:
        print(os.path.join(cfg_dir, name + ".toml"))


if __name__ == "__main__":
    main()
