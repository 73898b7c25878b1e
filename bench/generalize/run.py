#!/usr/bin/env python3
"""Does the config `pipeline init` writes, and `pipeline tune`, hold on data
sets that are not FSDD? Side by side with the short librosa + PyTorch
script a practitioner writes first (script_ref.py), on the speech sets of
bench/calibration/make_sets.py (other words, other voices, 2 to 50
classes, mixed file formats) and the noisier, many-voiced set of
make_hard.py, every method on the same test voices.

    python3 bench/calibration/make_sets.py            # the data sets, once
    python3 bench/generalize/make_hard.py
    python3 bench/generalize/run.py [--sets yesno,words10] [--budget 8m] [--seeds 0,1,2]

For each set: the voices sorted by name, every fourth one (the 4th, 8th,
12th) held out as the test set; a manifest `path,label,split` for the
script; `pipeline init DATA` with its `[split]` replaced by that
predefined split (nothing else touched), run once per seed; `pipeline
tune` of that config with the budget (its search never reads a test
file), the tuned config then run once. Results are kept in
target/generalize/<set>/ (delete one to redo it) and the table is printed
as Markdown. PIPELINE selects the binary (default target/release/pipeline)
and PYTHON the interpreter with librosa and torch (default the
bench/ref-venv.sh venv).
"""

import argparse
import csv
import glob
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
PIPELINE = os.environ.get("PIPELINE") or os.path.join(REPO, "target", "release", "pipeline")
DATA = os.path.join(REPO, "target", "calibration", "data")
OUT = os.path.join(REPO, "target", "generalize")
SETS = ["yesno", "words10", "words50", "mixed", "noisy10"]


def python():
    if os.environ.get("PYTHON"):
        return os.environ["PYTHON"]
    venv = subprocess.run([os.path.join(REPO, "bench", "ref-venv.sh")], check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(venv, "bin", "python")


def log(msg):
    print("generalize: " + msg, file=sys.stderr, flush=True)


def voice_of(path):
    # <word>/<word>_<voice>_<take>.<ext>
    return os.path.basename(path).split("_")[1]


def prepare(name, out):
    root = os.path.join(DATA, name)
    files = sorted(p for p in glob.glob(os.path.join(root, "*", "*"))
                   if not p.endswith(".part.wav"))
    if not files:
        sys.exit(f"no data at {root}: run python3 bench/calibration/make_sets.py first")
    voices = sorted({voice_of(p) for p in files})
    test_voices = voices[3::4]
    manifest = os.path.join(out, "manifest.csv")
    with open(manifest, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "split"])
        for p in files:
            w.writerow([p, os.path.basename(os.path.dirname(p)),
                        "test" if voice_of(p) in test_voices else "train"])
    return root, files, voices, test_voices, manifest


def init_config(root, test_voices, out):
    path = os.path.join(out, "init.toml")
    subprocess.run([PIPELINE, "-q", "init", root, "--out", path, "--force"], check=True,
                   capture_output=True, text=True)
    text = open(path).read()
    test_re = "_(%s)_" % "|".join(test_voices)
    text, n = re.subn(r'(?m)^strategy = "[a-z-]+"$',
                      'strategy = "predefined"\ntest = \'%s\'' % test_re, text)
    assert n == 1, "init's config has no [split] strategy line"
    open(path, "w").write(text)
    return path, text


def with_seed(text, seed):
    """The config with `[train] seed` set (init writes one)."""
    head, sep, train = text.partition("\n[train]\n")
    assert sep, "init's config has no [train] section"
    train, n = re.subn(r"(?m)^seed = \d+$", "seed = %d" % seed, train, count=1)
    if n == 0:
        train = "seed = %d\n" % seed + train
    return head + sep + train


def run_config(path, result):
    if not os.path.exists(result):
        r = subprocess.run([PIPELINE, "-q", "run", path, "--json"], check=True,
                           capture_output=True, text=True)
        open(result, "w").write(r.stdout)
    return json.load(open(result))


def accuracy(r):
    # One fold (the predefined split).
    return r["folds"][0]["test"]["accuracy"]


def one_set(name, seeds, budget, py):
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    root, files, voices, test_voices, manifest = prepare(name, out)
    row = {"set": name, "files": len(files), "voices": len(voices),
           "test_voices": test_voices,
           "classes": len({os.path.basename(os.path.dirname(p)) for p in files})}
    ref_json = os.path.join(out, "script.json")
    if not os.path.exists(ref_json):
        log(f"{name}: script, seeds {seeds}")
        subprocess.run([py, os.path.join(HERE, "script_ref.py"), "--manifest", manifest,
                        "--sr", "8000", "--out", ref_json, "--seeds",
                        ",".join(map(str, seeds))], check=True)
    row["script"] = json.load(open(ref_json))["accuracy"]
    cfg, text = init_config(root, test_voices, out)
    row["init"] = []
    for s in seeds:
        log(f"{name}: init config, seed {s}")
        p = os.path.join(out, f"init-seed{s}.toml")
        open(p, "w").write(with_seed(text, s))
        row["init"].append(accuracy(run_config(p, os.path.join(out, f"init-seed{s}.json"))))
    tuned_json = os.path.join(out, "tuned.json")
    if budget and not os.path.exists(tuned_json):
        log(f"{name}: tune, budget {budget}")
        subprocess.run([PIPELINE, "-q", "tune", cfg, "--budget", budget, "--no-final"],
                       check=True, cwd=out)
        tuned = sorted(glob.glob(os.path.join(out, "**", "tuned.toml"), recursive=True),
                       key=os.path.getmtime)[-1]
        run_config(tuned, tuned_json)
    if os.path.exists(tuned_json):
        row["tune"] = accuracy(json.load(open(tuned_json)))
    return row


def cell(v):
    if isinstance(v, list):
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        return "%.1f ± %.1f" % (100 * statistics.mean(v), 100 * sd)
    return "%.1f" % (100 * v)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--budget", default="8m", help="pipeline tune's budget; empty: no tuning")
    a = p.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    py = python()
    rows = [one_set(n, seeds, a.budget, py) for n in a.sets.split(",")]
    json.dump(rows, open(os.path.join(OUT, "table.json"), "w"), indent=1)
    print("| set | classes | files | test voices | script | `init` | `tune` |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %d | %d of %d | %s | %s | %s |" % (
            r["set"], r["classes"], r["files"], len(r["test_voices"]), r["voices"],
            cell(r["script"]), cell(r["init"]), cell(r["tune"]) if "tune" in r else ""))


if __name__ == "__main__":
    main()
