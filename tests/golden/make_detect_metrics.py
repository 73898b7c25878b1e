#!/usr/bin/env python3
"""Golden numbers for the event metrics of `pipeline detect`.

Computes DCASE's sed_eval 0.2.1 event-based and segment-based metrics for
a few reference/estimate event lists (hand-made edge cases, then seeded
random polyphonic lists over several files) and writes them, with the
lists, to tests/golden/detect_metrics.json. The Rust port
(crates/cochlea-pipeline/src/detect/metrics.rs) is checked against this
file by `cargo test --release -p cochlea-pipeline --lib detect::metrics`.

    $(bench/ref-venv.sh)/bin/python tests/golden/make_detect_metrics.py

sed_eval and dcase_util are pinned in bench/requirements-ref.txt. The
output is deterministic (seeded, keys sorted). NaN (a score with nothing to
divide by) is written as null.
"""

import argparse
import json
import math
import os
import random

import sed_eval

HERE = os.path.dirname(os.path.abspath(__file__))

EVENT_PARAMS = [
    # (t_collar, percentage_of_length, evaluate_offset)
    (0.2, 0.5, False),
    (0.2, 0.5, True),
    (0.5, 0.2, True),
    (0.05, 0.5, False),
]
RESOLUTIONS = [1.0, 0.5]


def hand_made():
    """Edge cases: exact hits, collar edges, substitutions, empty lists."""
    return [
        {
            "name": "one_file_simple",
            "labels": ["bird", "dog"],
            "files": [{
                "reference": [[0.5, 1.5, "bird"], [3.0, 4.0, "dog"],
                              [6.0, 6.4, "bird"]],
                "estimated": [[0.6, 1.4, "bird"], [3.1, 5.0, "bird"],
                              [8.0, 9.0, "dog"]],
            }],
        },
        {
            "name": "collar_edges_and_overlaps",
            "labels": ["a", "b", "c"],
            "files": [{
                "reference": [[0.5, 1.0, "a"], [0.7, 1.2, "a"],
                              [2.0, 2.2, "b"], [2.05, 4.0, "c"],
                              [5.0, 5.1, "a"]],
                "estimated": [[0.7, 1.0, "a"], [0.5, 1.3, "a"],
                              [2.2, 2.3, "c"], [2.0, 3.0, "b"],
                              [5.2, 5.3, "a"], [5.0, 5.45, "a"]],
            }],
        },
        {
            "name": "nothing_estimated_and_class_absent",
            "labels": ["a", "b", "c"],
            "files": [
                {"reference": [[1.0, 2.0, "a"], [2.5, 3.5, "b"]],
                 "estimated": []},
                {"reference": [[0.0, 0.5, "b"]],
                 "estimated": [[0.0, 0.4, "b"], [4.0, 4.5, "a"]]},
            ],
        },
    ]


def random_case(seed, n_files, labels, n_ref, n_est):
    rng = random.Random(seed)
    files = []
    for _ in range(n_files):
        ref = []
        for _ in range(rng.randint(0, n_ref)):
            s = rng.uniform(0.0, 30.0)
            ref.append([s, s + rng.uniform(0.05, 3.0), rng.choice(labels)])
        est = []
        for r in ref:
            if rng.random() < 0.7:
                s = r[0] + rng.gauss(0.0, 0.25)
                e = r[1] + rng.gauss(0.0, 0.5)
                s = max(0.0, s)
                e = max(s + 0.01, e)
                lab = r[2] if rng.random() < 0.8 else rng.choice(labels)
                est.append([s, e, lab])
        for _ in range(rng.randint(0, n_est)):
            s = rng.uniform(0.0, 30.0)
            est.append([s, s + rng.uniform(0.05, 2.0), rng.choice(labels)])
        rng.shuffle(est)
        files.append({"reference": ref, "estimated": est})
    return {"name": "random_%d" % seed, "labels": labels, "files": files}


def to_events(rows, name):
    return [{"filename": name, "event_label": l, "onset": s, "offset": e}
            for s, e, l in rows]


def clean(x):
    """NaN -> None, numpy scalars -> float, recursively."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (int, float)) or hasattr(x, "item"):
        v = float(x)
        return None if math.isnan(v) else v
    return x


def keep(results):
    """The parts of sed_eval's results the port reproduces."""
    out = {"overall": {}, "class_wise": {}, "class_wise_average": {}}
    o = results["overall"]
    out["overall"] = dict(o["f_measure"], **o["error_rate"])
    for label, r in results["class_wise"].items():
        out["class_wise"][label] = dict(r["f_measure"], **r["error_rate"])
    a = results["class_wise_average"]
    out["class_wise_average"] = dict(a["f_measure"], **a["error_rate"])
    return clean(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(HERE, "detect_metrics.json"))
    args = parser.parse_args()
    cases = hand_made()
    for seed, n_files, labels in [(1, 3, ["a", "b", "c", "d"]),
                                  (2, 4, ["bird", "car", "dog"]),
                                  (3, 2, ["x", "y"]),
                                  (4, 5, ["c%02d" % i for i in range(12)])]:
        cases.append(random_case(seed, n_files, labels, 12, 6))
    for case in cases:
        case["event"] = []
        for t_collar, pol, offset in EVENT_PARAMS:
            m = sed_eval.sound_event.EventBasedMetrics(
                event_label_list=case["labels"], evaluate_onset=True,
                evaluate_offset=offset, t_collar=t_collar,
                percentage_of_length=pol)
            for i, f in enumerate(case["files"]):
                name = "f%d.wav" % i
                m.evaluate(to_events(f["reference"], name),
                           to_events(f["estimated"], name))
            case["event"].append({
                "t_collar": t_collar, "percentage_of_length": pol,
                "evaluate_offset": offset, "results": keep(m.results())})
        case["segment"] = []
        for res in RESOLUTIONS:
            m = sed_eval.sound_event.SegmentBasedMetrics(
                event_label_list=case["labels"], time_resolution=res)
            for i, f in enumerate(case["files"]):
                name = "f%d.wav" % i
                m.evaluate(to_events(f["reference"], name),
                           to_events(f["estimated"], name))
            case["segment"].append({"time_resolution": res,
                                    "results": keep(m.results())})
    doc = {"generator": "tests/golden/make_detect_metrics.py",
           "sed_eval": sed_eval.__version__, "cases": cases}
    with open(args.out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(args.out + ".tmp", args.out)
    print("wrote %s (%d cases)" % (args.out, len(cases)))


if __name__ == "__main__":
    main()
