#!/usr/bin/env python3
"""Writes the manifest CSVs of the planted-fault configs in this folder.

Each manifest lists files of ../../audio-samples/digits with a planted fault:
  shuffled-labels.csv   every file with the label of another file (seed 0)
  duplicate-audio.csv   every file listed twice, so copies land on both sides
  imbalanced.csv        digits 0-4 with 50 files each, 5-9 with 12 each

Run from anywhere: python3 pipelines/broken/make_manifests.py
"""
import csv
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "audio-samples", "digits")


def files():
    out = []
    for d in sorted(os.listdir(DIGITS)):
        for f in sorted(os.listdir(os.path.join(DIGITS, d))):
            if f.endswith(".wav"):
                out.append((f"../../audio-samples/digits/{d}/{f}", d, f.split("_")[1]))
    return out


def write(name, rows):
    path = os.path.join(HERE, name)
    with open(path + ".tmp", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "group"])
        w.writerows(rows)
    os.replace(path + ".tmp", path)
    print(f"{name}: {len(rows)} rows")


def main():
    all_files = files()
    rng = random.Random(0)
    labels = [label for _, label, _ in all_files]
    rng.shuffle(labels)
    write("shuffled-labels.csv", [(p, lab, g) for (p, _, g), lab in zip(all_files, labels)])
    write("duplicate-audio.csv", [(p, lab, g) for p, lab, g in all_files for _ in range(2)])
    keep = []
    for p, lab, g in all_files:
        take = int(p.rsplit("_", 1)[1].split(".")[0])
        voice_index = sorted({v for _, _, v in all_files}).index(g)
        # Digits 5-9 keep 12 of their 50 files (takes 1-2 of six voices).
        if int(lab) < 5 or (take <= 2 and voice_index < 6):
            keep.append((p, lab, g))
    write("imbalanced.csv", keep)


if __name__ == "__main__":
    main()
