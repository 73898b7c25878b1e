#!/usr/bin/env python3
"""The BirdNET-Analyzer convention as a peer for `pipeline detect`: the
recording cut into fixed windows of the model's length with no overlap,
each window whose best class (not a background class) reaches the
confidence threshold is one detection spanning the window (BirdNET-
Analyzer: 3 s segments, `--overlap 0`, `--min_conf`; one row per segment
above it, consecutive segments never joined).

The per-window probabilities come from the same model through
`pipeline classify --windows --per-window --format jsonl`, whose windows
start every half window: the even ones are the non-overlapping grid.
Both sets of events are scored with sed_eval (the numbers
`pipeline detect --labels` gives, see tests/golden/make_detect_metrics.py).

    python bench/detect_peer.py --classify CLASSIFY.jsonl --ours OURS.csv \\
        --truth truth.csv --threshold 0.5
"""

import argparse
import csv
import json
import os

import sed_eval

BACKGROUND = {"background", "_background_", "_background_noise_", "noise",
              "silence", "_silence_", "_unknown_"}


def peer_events(path, threshold):
    rows = [json.loads(l) for l in open(path)]
    by_file = {}
    for r in rows:
        by_file.setdefault(r["path"], []).append(r)
    out = {}
    for p, rs in by_file.items():
        length = rs[0]["end"] - rs[0]["start"]
        ev = []
        for r in rs:
            if r["window"] % 2 != 0:
                continue  # the half-window-shifted ones
            if r["label"] in BACKGROUND or r["confidence"] < threshold:
                continue
            ev.append((r["start"], r["start"] + length, r["label"]))
        out[os.path.basename(p)] = ev
    return out


def read_events(path):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            out.setdefault(os.path.basename(r["path"]), []).append(
                (float(r["start"]), float(r["end"]), r["label"]))
    return out


def score(truth, est, labels, collar):
    ev = sed_eval.sound_event.EventBasedMetrics(
        event_label_list=labels, t_collar=collar, evaluate_offset=False)
    seg = sed_eval.sound_event.SegmentBasedMetrics(event_label_list=labels, time_resolution=1.0)
    for f in sorted(truth):
        r = [{"event_label": l, "onset": s, "offset": e} for s, e, l in truth[f]]
        d = [{"event_label": l, "onset": s, "offset": e}
             for s, e, l in sorted(est.get(f, []))]
        ev.evaluate(r, d)
        seg.evaluate(r, d)
    e, s = ev.results(), seg.results()
    return (e["overall"]["f_measure"]["f_measure"],
            e["class_wise_average"]["f_measure"]["f_measure"],
            s["overall"]["f_measure"]["f_measure"],
            sum(len(v) for v in est.values()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--classify", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--collar", type=float, default=0.2)
    a = ap.parse_args()
    truth = read_events(a.truth)
    ours = read_events(a.ours)
    peer = peer_events(a.classify, a.threshold)
    labels = sorted({l for v in list(truth.values()) + list(ours.values()) + list(peer.values())
                     for _, _, l in v})
    n_ref = sum(len(v) for v in truth.values())
    print("%d reference events; onset collar %.2f s" % (n_ref, a.collar))
    print("%-34s %8s %8s %8s %6s" % ("system", "event F1", "macro", "seg F1", "events"))
    for name, est in [("pipeline detect", ours), ("fixed windows (BirdNET-style)", peer)]:
        f, m, s, n = score(truth, est, labels, a.collar)
        print("%-34s %8.3f %8.3f %8.3f %6d" % (name, f, m, s, n))


if __name__ == "__main__":
    main()
