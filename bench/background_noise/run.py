#!/usr/bin/env python3
"""Does mixing background noise into training clips help where it should?

    python3 bench/background_noise/make.py           # the data, once
    python3 bench/background_noise/run.py [--sets yesno,words10] [--seeds 0,1,2]

For each set of make.py and each test variant (test clips in held-out noise
at 0 to 10 dB, or clean), `pipeline init` writes the config (Speech
Commands layout, so its predefined split from the lists and, since the
folder has `_background_noise_/`, `augment.background_noise_dir`); the
config is run as written ("noise": one noisy copy per training clip at the
default SNR range) and without its `[augment]` section ("clean"), once per
`train.seed`. Same split, same test clips for both. Prints a Markdown table
of test accuracy, mean ± sd over the seeds, with the load average. Runs
are kept in target/background_noise/runs/. PIPELINE selects the binary
(default target/release/pipeline).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
PIPELINE = os.environ.get("PIPELINE") or os.path.join(REPO, "target", "release", "pipeline")
OUT = os.path.join(REPO, "target", "background_noise")


def log(msg):
    print("background_noise: " + msg, file=sys.stderr, flush=True)


def configs(root, work):
    """(clean, noise) config texts for the data at `root`."""
    path = os.path.join(work, "init.toml")
    subprocess.run([PIPELINE, "-q", "init", root, "--out", path, "--force"],
                   check=True)
    text = open(path).read()
    if "background_noise_dir" not in text:
        sys.exit(f"{path}: init did not set augment.background_noise_dir")
    clean = re.sub(r"\n\[augment\]\n(#.*\n)*background_noise_dir = .*\n?", "\n", text)
    return clean, text


def run(text, name, seed, work):
    runs = os.path.join(work, "runs")
    text = re.sub(r"(?m)^seed = 0$", f"seed = {seed}", text)  # split and train
    text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}-{seed}"', text)
    text += f'\n[report]\ndir = "{runs}"\n'
    cfg = os.path.join(work, f"{name}-{seed}.toml")
    with open(cfg, "w") as fh:
        fh.write(text)
    t0 = time.time()
    subprocess.run([PIPELINE, "-q", "run", cfg], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    secs = time.time() - t0
    # The newest run directory of this config.
    dirs = sorted((d for d in os.listdir(runs) if d.startswith(f"{name}-{seed}")),
                  key=lambda d: os.path.getmtime(os.path.join(runs, d)))
    m = json.load(open(os.path.join(runs, dirs[-1], "metrics.json")))
    return m["accuracy_mean_std"][0], secs, m["data"].get("noise")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="yesno,words10")
    ap.add_argument("--seeds", default="0,1,2")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for s in args.sets.split(","):
        for variant in ("noisy", "clean"):
            root = os.path.join(OUT, f"{s}-{variant}")
            if not os.path.isfile(os.path.join(root, "testing_list.txt")):
                sys.exit(f"no data at {root}: run bench/background_noise/make.py first")
            work = os.path.join(OUT, "work", f"{s}-{variant}")
            os.makedirs(work, exist_ok=True)
            clean, noise = configs(root, work)
            res = {}
            for cond, text in (("clean", clean), ("noise", noise)):
                accs = []
                for seed in seeds:
                    acc, secs, summary = run(text, f"{s}-{variant}-{cond}", seed, work)
                    if (summary is None) != (cond == "clean"):
                        sys.exit(f"{s}-{variant}-{cond}: noise summary {summary}")
                    log(f"{s} test={variant} train={cond} seed={seed}: "
                        f"accuracy {acc:.4f} in {secs:.0f} s, load {os.getloadavg()[0]:.2f}")
                    accs.append(acc)
                res[cond] = accs
            rows.append((s, variant, res))
    print("| set | test clips | clean training | + background noise | difference |")
    print("|---|---|---|---|---|")
    for s, variant, res in rows:
        a, b = res["clean"], res["noise"]
        d = [y - x for x, y in zip(a, b)]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        print(f"| {s} | {variant} | {statistics.mean(a):.3f} ± {sd(a):.3f} | "
              f"{statistics.mean(b):.3f} ± {sd(b):.3f} | {statistics.mean(d):+.3f} ± {sd(d):.3f} |")
    print(f"\nload average at the end: {' '.join('%.2f' % v for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
