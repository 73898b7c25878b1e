#!/usr/bin/env python3
"""Event F1 over several data and training seeds, in the two ways people
get a detector:

- clips: train on isolated clips (a folder per word plus `background`,
  `pipelines/detect-words.toml` with its seed changed), then
  `pipeline detect --labels` over held-out one-minute recordings;
- annotated: only annotated recordings (a manifest of word segments, the
  unannotated parts as `background`), cross-validated by recording with
  `pipeline run`, whose metrics.json scores each fold's held-out recordings
  as events (`[events]`).

Data comes from bench/detect_make_data.py (espeak-ng voices, words at
random times over noise); each data seed makes new clips, takes and
recordings. Prints one row per (data seed, training seed) and the mean and
standard deviation, and writes them as JSON beside the data.

    python3 bench/detect_seeds.py --mode annotated --words zero,one
    python3 bench/detect_seeds.py --mode annotated
    python3 bench/detect_seeds.py --mode clips
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PIPELINE = os.path.join(ROOT, "target", "release", "pipeline")

FEATURES_AND_MODEL = """
[features]
kinds = ["mfcc"]
n_fft = 256
hop_length = 80
n_mels = 40
n_mfcc = 13
deltas = 2

[model]
blocks = [
  { filters = 64, kernel = 5, pool = 2 },
  { filters = 128, kernel = 3, pool = 2 },
  { filters = 128, kernel = 3, pool = 2 },
]
dropout = 0.3

[train]
optimizer = "adam"
lr = 0.001
weight_decay = 0.0001
batch_size = 32
epochs = 30
early_stopping = 8
seed = %(seed)d
"""


def run(cmd):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout


def make_data(out, seed, words, recordings, seconds):
    if not os.path.exists(os.path.join(out, "test", "truth.csv")):
        run([sys.executable, os.path.join(HERE, "detect_make_data.py"), "--out", out,
             "--seed", str(seed), "--words", words, "--recordings", str(recordings),
             "--seconds", str(seconds)])


def newest_run(runs, name):
    dirs = [os.path.join(runs, d) for d in os.listdir(runs) if d.startswith(name)]
    return max(dirs, key=os.path.getmtime)


def scores(e):
    return {
        "event_f1": e["event_based"]["overall"]["f_measure"],
        "event_f1_macro": e["event_based"]["class_wise_average"]["f_measure"],
        "segment_f1": e["segment_based"]["overall"]["f_measure"],
        "n_ref": e["event_based"]["overall"]["counts"]["n_ref"],
        "n_sys": e["event_based"]["overall"]["counts"]["n_sys"],
    }


def annotated(data, seed, work):
    """Cross-validation by recording over the annotated recordings."""
    name = "annotated-s%d" % seed
    cfg = os.path.join(work, name + ".toml")
    with open(cfg, "w") as f:
        f.write('name = "%s"\n\n[data]\nmanifest = "%s"\nlabel = "manifest"\n'
                'sample_rate = 8000\nclip_frames = 80\nbackground = true\n\n'
                '[split]\nstrategy = "kfold"\nfolds = 4\nval_fraction = 0.15\nseed = 0\n'
                % (name, os.path.join(data, "test", "truth.csv")))
        f.write(FEATURES_AND_MODEL % {"seed": seed})
        f.write('\n[report]\ndir = "%s"\n' % os.path.join(work, "runs"))
    run([PIPELINE, "run", "-q", cfg])
    with open(os.path.join(newest_run(os.path.join(work, "runs"), name), "metrics.json")) as f:
        m = json.load(f)
    row = scores(m["events"])
    row["segment_accuracy"] = m["accuracy_mean_std"][0]
    return row


def clips(data, seed, work):
    """Trained on isolated clips, scored over the held-out recordings."""
    name = "clips-s%d" % seed
    with open(os.path.join(ROOT, "pipelines", "detect-words.toml")) as f:
        text = f.read()
    text = text.replace('name = "detect-words"', 'name = "%s"' % name)
    text = text.replace('root = "../target/detect-bench/train"',
                        'root = "%s"' % os.path.join(data, "train"))
    text = text.replace('dir = "../runs"', 'dir = "%s"' % os.path.join(work, "runs"))
    text = text.replace("epochs = 30\nearly_stopping = 8\nseed = 0",
                        "epochs = 30\nearly_stopping = 8\nseed = %d" % seed)
    assert "seed = %d" % seed in text and os.path.join(data, "train") in text
    cfg = os.path.join(work, name + ".toml")
    with open(cfg, "w") as f:
        f.write(text)
    run([PIPELINE, "run", "-q", cfg])
    rundir = newest_run(os.path.join(work, "runs"), name)
    report = os.path.join(work, name + "-report")
    run([PIPELINE, "detect", "-q", "--model", rundir, os.path.join(data, "test"),
         "--out", os.path.join(work, name + ".csv"),
         "--labels", os.path.join(data, "test", "truth.csv"), "--report", report])
    with open(os.path.join(report, "metrics.json")) as f:
        return scores(json.load(f))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["annotated", "clips"], default="annotated")
    p.add_argument("--out", default=os.path.join(ROOT, "target", "detect-seeds"))
    p.add_argument("--words", default="zero,one,two,three,four,five,six,seven,eight,nine")
    p.add_argument("--data-seeds", default="7,8")
    p.add_argument("--train-seeds", default="0,1,2")
    p.add_argument("--recordings", type=int, default=0,
                   help="recordings per data seed (default: 24 annotated, 6 clips)")
    p.add_argument("--seconds", type=float, default=0.0,
                   help="seconds per recording (default: 30 annotated, 60 clips)")
    a = p.parse_args()
    recordings = a.recordings or (24 if a.mode == "annotated" else 6)
    seconds = a.seconds or (30.0 if a.mode == "annotated" else 60.0)
    n_words = len(a.words.split(","))
    rows = []
    for ds in [int(s) for s in a.data_seeds.split(",")]:
        data = os.path.join(a.out, "data-w%d-d%d-r%d-s%g" % (n_words, ds, recordings, seconds))
        make_data(data, ds, a.words, recordings, seconds)
        work = os.path.join(a.out, "%s-w%d-d%d" % (a.mode, n_words, ds))
        os.makedirs(work, exist_ok=True)
        for ts in [int(s) for s in a.train_seeds.split(",")]:
            row = (annotated if a.mode == "annotated" else clips)(data, ts, work)
            row.update({"data_seed": ds, "train_seed": ts})
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n%s, %d words, %d recordings of %g s per data seed" % (a.mode, n_words, recordings, seconds))
    keys = ["event_f1", "event_f1_macro", "segment_f1"]
    if a.mode == "annotated":
        keys.append("segment_accuracy")
    print("| data seed | training seed | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for r in rows:
        print("| %d | %d | " % (r["data_seed"], r["train_seed"])
              + " | ".join("%.3f" % r[k] for k in keys) + " |")
    print("| mean ± sd | | " + " | ".join(
        "%.3f ± %.3f" % (statistics.mean(r[k] for r in rows), statistics.pstdev(r[k] for r in rows))
        for k in keys) + " |")
    with open(os.path.join(a.out, "%s-w%d.json" % (a.mode, n_words)), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
