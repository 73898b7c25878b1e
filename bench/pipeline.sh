#!/usr/bin/env bash
# Whole pipeline, side by side: `pipeline run pipelines/fsdd.toml` (WAV files
# to report, cold feature cache) against bench/pipeline_ref.py, which does
# the same work in one Python script (soundfile + librosa MFCCs + the same
# PyTorch network, same epochs, 2 threads):
#
#   bench/pipeline.sh [ROUNDS]           (default 1)
#
# The data set is ../shared/datasets/fsdd/recordings beside the clone; when
# it is missing the benchmark is skipped with a message (exit 0).
#
# Each round runs Cochlea and the Python reference one after the other, in
# alternating order, and the SVM reference once (its accuracy goes in the
# FSDD accuracy table). Cochlea gets an empty COCHLEA_CACHE_DIR, so features
# are computed from the audio every time; its run directory goes under
# runs/ as usual. Prints, per stage, the median seconds of each side and the
# ratio Cochlea / Python, with Cochlea's total both as the process's wall
# time and net of process start (its own `timings.total`), and Python's
# with and without its imports. The load average before and after is printed
# with the table: the machine is shared, and load skews every row.
#
# Set COCHLEA_BENCH_EPOCHS to run both sides with fewer epochs (a quick
# check; the figures in docs/benchmarks.md use the config's 40).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/../shared/datasets/fsdd/recordings"
rounds="${1:-1}"
if [[ ! -d "$data" ]]; then
    echo "pipeline.sh: $data not found; skipping the pipeline benchmark (get FSDD)"
    exit 0
fi
data="$(cd "$data" && pwd)"

cd "$root"
echo "pipeline.sh: building pipeline (release)" >&2
scripts/with-libtorch cargo build --quiet --release -p cochlea-pipeline >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/pipeline"
python="$(bench/ref-venv.sh)/bin/python"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
config="pipelines/fsdd.toml"
epochs="${COCHLEA_BENCH_EPOCHS:-}"
if [[ -n "$epochs" ]]; then
    # Same config with fewer epochs; paths stay relative to pipelines/.
    config="pipelines/.bench-fsdd-$$.toml"
    sed "s/^epochs = .*/epochs = $epochs/" pipelines/fsdd.toml >"$config"
    trap 'rm -rf "$work" "$root/$config"' EXIT
fi

# The reference computes what the config asks for: MFCC deltas included.
deltas="$(sed -n 's/^deltas *= *\([0-9]\).*/\1/p' "$config")"
deltas="${deltas:-0}"

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

run_cochlea() {
    local r="$1"
    echo "pipeline.sh: round $r: cochlea ($config, cold cache)" >&2
    mkdir -p "$work/cache-$r"
    local t0 t1
    t0="$(date +%s%N)"
    COCHLEA_CACHE_DIR="$work/cache-$r" "$bin" run "$config" --json --quiet >"$work/cochlea-$r.json"
    t1="$(date +%s%N)"
    echo "{\"wall\": $(((t1 - t0) / 1000000))e-3}" >"$work/cochlea-$r.wall"
}

run_python() {
    local r="$1"
    echo "pipeline.sh: round $r: python reference (librosa + torch)" >&2
    local t0 t1
    t0="$(date +%s%N)"
    "$python" bench/pipeline_ref.py --data "$data" --out "$work/python-$r.json" \
        --deltas "$deltas" ${epochs:+--epochs "$epochs"} >/dev/null
    t1="$(date +%s%N)"
    echo "{\"wall\": $(((t1 - t0) / 1000000))e-3}" >"$work/python-$r.wall"
}

for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then
        run_cochlea "$r"
        run_python "$r"
    else
        run_python "$r"
        run_cochlea "$r"
    fi
done
echo "pipeline.sh: SVM reference (sklearn on MFCC mean and std)" >&2
"$python" bench/pipeline_ref.py --data "$data" --out "$work/svm.json" --model svm >/dev/null

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo
echo "$(date -u +%Y-%m-%d) on $(nproc) cores, $rounds round(s); load average before: $load_before, after: $load_after"

"$python" - "$work" "$rounds" <<'PY'
import json
import statistics
import sys

work, rounds = sys.argv[1], int(sys.argv[2])
load = lambda p: json.load(open(f"{work}/{p}"))
med = statistics.median
c_runs = [load(f"cochlea-{r}.json") for r in range(1, rounds + 1)]
c_wall = [load(f"cochlea-{r}.wall")["wall"] for r in range(1, rounds + 1)]
p_runs = [load(f"python-{r}.json") for r in range(1, rounds + 1)]
p_wall = [load(f"python-{r}.wall")["wall"] for r in range(1, rounds + 1)]
svm = load("svm.json")

ct = lambda k: med(c["timings"][k] for c in c_runs)
pt = lambda *ks: med(sum(p["timings"][k] for k in ks) for p in p_runs)
epochs_c = [h["seconds"] for c in c_runs for h in c["folds"][0]["history"]]
epochs_p = [h["seconds"] for p in p_runs for h in p["folds"][0]["history"]]

rows = [
    ("decode + features", ct("features"), pt("decode", "features"), "Python: soundfile + librosa.feature.mfcc"),
    ("train + evaluate", ct("train_and_evaluate"), pt("normalize", "train", "evaluate"),
     "standardise, pad, the epochs with a validation pass each, test"),
    ("  of which median epoch", med(epochs_c), med(epochs_p), "one training pass + one validation pass"),
    ("diagnostics", ct("diagnostics"), None, "Cochlea only: linear probe and the checks of the report"),
    ("report", ct("report"), None, "Cochlea only: report.html/md, predictions, model bundle"),
    ("total, net of process start", ct("total"), pt("decode", "features", "normalize", "train", "evaluate"),
     "Python: without imports"),
    ("total, process wall time", med(c_wall), med(p_wall), "Python: with imports (librosa, torch)"),
]
print(f"{'stage':<30} {'cochlea s':>10} {'python s':>10} {'ratio':>7}  note")
for name, c, p, note in rows:
    ps = f"{p:10.2f}" if p is not None else f"{'-':>10}"
    ratio = f"{c / p:7.3f}" if p else f"{'-':>7}"
    print(f"{name:<30} {c:10.2f} {ps} {ratio}  {note}")
print()
acc_c = [c["folds"][0]["test"]["accuracy"] for c in c_runs]
acc_p = [p["accuracy_mean"] for p in p_runs]
print(f"test accuracy (official split, 300 files): cochlea {acc_c}, python CNN {acc_p}, "
      f"python SVM on MFCC statistics {svm['accuracy_mean']:.4f}")
print(f"python imports: median {pt('imports'):.2f} s")
target = "met" if med(c_wall) <= 0.5 * med(p_wall) else "NOT met"
print(f"target cochlea total <= 0.5 x python total (wall): {med(c_wall) / med(p_wall):.3f} -> {target}")
PY
