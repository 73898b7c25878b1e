#!/usr/bin/env python3
"""Run `pipeline doctor` (and `pipeline run` on the healthy sets) over the
calibration configs made by make_sets.py, and print the calibration table
of docs/diagnostics.md: for every check, on every data set, whether it
fired, and its false-alarm and detection rates.

    python3 bench/calibration/make_sets.py
    python3 bench/calibration/run.py [OUT] [--no-run]   # default target/calibration

Cells: F fail, W warn, i inconclusive (with the advice that would settle
it), . passed or not applicable; a fault's expected finding is marked with
* when doctor ranks it first. Healthy sets are judged on doctor (with its
probes) and run together (a check fires if it fires in either); a fault on
doctor alone, with the probes only where the fault needs them to be seen
(as tests/doctor.rs does for pipelines/broken/).
The raw JSON of every call is kept in OUT/results/ (delete it to rerun);
set PIPELINE to use another binary than target/release/pipeline.
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
PIPELINE = os.environ.get("PIPELINE") or os.path.join(REPO, "target", "release", "pipeline")


def catalog_ids():
    text = open(os.path.join(REPO, "docs", "diagnostics.md")).read()
    section = text.split("\n## The checks\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_.]+)` \|", section, re.M)


def call(args, out_json):
    if os.path.exists(out_json):
        return json.load(open(out_json))
    env = dict(os.environ, COCHLEA_CACHE_DIR=os.path.join(
        os.path.dirname(out_json), "..", "cache"))
    proc = subprocess.run([PIPELINE] + args + ["--json", "--quiet"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env)
    if proc.returncode not in (0, 1):
        raise RuntimeError("%s: exit %d\n%s" % (" ".join(args),
                           proc.returncode, proc.stderr.decode()))
    value = json.loads(proc.stdout)
    with open(out_json, "w") as fh:
        json.dump(value, fh, indent=1)
    return value


# Faults whose expected finding comes from a probe; the others are found
# by the cheap checks and are run with --no-probes.
PROBED = {"labels.no_signal", "optimization.lr_too_high",
          "optimization.lr_too_low", "optimization.cannot_overfit"}


def fired(findings):
    return {f["id"]: f["verdict"] for f in findings if f["verdict"] != "ok"}


def first(findings):
    return next((f["id"] for f in findings if f["verdict"] != "ok"), None)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    with_run = "--no-run" not in sys.argv
    out = os.path.abspath(args[0] if args else
                          os.path.join(REPO, "target", "calibration"))
    cfg_dir = os.path.join(out, "configs")
    res_dir = os.path.join(out, "results")
    os.makedirs(res_dir, exist_ok=True)
    names = sorted(n[:-5] for n in os.listdir(cfg_dir) if n.endswith(".toml"))
    expected = {}
    for n in names:
        m = re.search(r"^# Expected first finding: ([a-z_.]+)\.",
                      open(os.path.join(cfg_dir, n + ".toml")).read(), re.M)
        if m:
            expected[n] = m.group(1)
    healthy = [n for n in names if n not in expected]
    faults = [n for n in names if n in expected]
    cells, firsts = {}, {}
    for n in healthy + faults:
        cfg = os.path.join(cfg_dir, n + ".toml")
        probes = n not in expected or expected[n] in PROBED
        d = call(["doctor", cfg] + ([] if probes else ["--no-probes"]),
                 os.path.join(res_dir, n + ".doctor.json"))
        f = fired(d["findings"])
        firsts[n] = first(d["findings"])
        if with_run and n in healthy:
            r = call(["run", cfg], os.path.join(res_dir, n + ".run.json"))
            for k, v in fired(r["findings"]).items():
                if f.get(k) != "fail":
                    f[k] = v
            acc = [fo["test"]["accuracy"] for fo in r["folds"]]
            print("%s: test accuracy %s" % (n, ", ".join(
                "%.1f%%" % (100 * a) for a in acc)), file=sys.stderr)
        cells[n] = f
    mark = {"fail": "F", "warn": "W", "inconclusive": "i"}
    cols = healthy + faults
    short = [c.replace("words10-", "w10-") for c in cols]
    print("| check | " + " | ".join(short)
          + " | false alarms | detected first |")
    print("|---|" + "---|" * len(cols) + "---|---|")
    for cid in catalog_ids():
        row = []
        for c in cols:
            v = mark.get(cells[c].get(cid), ".")
            if expected.get(c) == cid:
                v += "*" if firsts[c] == cid else " (not first)"
            row.append(v)
        alarms = sum(1 for c in healthy
                     if cells[c].get(cid) in ("fail", "warn"))
        planted = [c for c in faults if expected[c] == cid]
        caught = sum(1 for c in planted if firsts[c] == cid)
        print("| `%s` | %s | %d/%d | %s |" % (
            cid, " | ".join(row), alarms, len(healthy),
            "%d/%d" % (caught, len(planted)) if planted else "n/a"))
    for c in faults:
        if firsts[c] != expected[c]:
            print("\n%s: expected %s first, got %s" % (c, expected[c],
                  firsts[c]), file=sys.stderr)


if __name__ == "__main__":
    main()
