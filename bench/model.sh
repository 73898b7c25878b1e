#!/usr/bin/env bash
# Side-by-side training benchmark: cochlea-model (Rust, libtorch through tch)
# against PyTorch from Python, same network, initialisation scheme,
# optimiser, batch size, thread count and tensors.
#
#   bench/model.sh [EPOCHS] [THREADS] [ROUNDS]      (defaults: 6 2 3)
#
# Data: 2700 + 300 examples of 13 x 100 standard-normal values, 10 classes
# (the FSDD MFCC shape), written once as .npy by bench/model_ref.py into
# ${COCHLEA_BENCH_DIR:-${TMPDIR:-/tmp}/cochlea-model-bench}.
# Each round runs the Rust example, PyTorch slicing batches out of one tensor
# (--loader index, what the Rust side does) and PyTorch with a DataLoader
# (--loader dataloader, what most PyTorch code does), in rotating order.
# An epoch is one training pass plus one validation pass; the first epoch of
# every run is warm-up and left out. Prints the median and the best of the
# per-run medians for each, and the ratios Rust / PyTorch.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
epochs="${1:-6}"
threads="${2:-2}"
rounds="${3:-3}"

python="$("$here/ref-venv.sh")/bin/python"
data="${COCHLEA_BENCH_DIR:-${TMPDIR:-/tmp}/cochlea-model-bench}"
if [[ ! -f "$data/y_val.npy" ]]; then
    "$python" "$here/model_ref.py" --make-data "$data"
fi

(cd "$root" && scripts/with-libtorch cargo build --quiet --release -p cochlea-model --example train_bench)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A private copy: a build elsewhere in the shared target directory must not
# replace the binary between rounds. Its rpath points at libtorch, not at
# the target directory, so it runs from anywhere.
rust="$work/train_bench"
cp "${CARGO_TARGET_DIR:-$root/target}/release/examples/train_bench" "$rust"
results="$work/results.jsonl"
runs=(rust index dataloader)
for ((r = 0; r < rounds; r++)); do
    for ((i = 0; i < ${#runs[@]}; i++)); do
        which="${runs[$(((i + r) % ${#runs[@]}))]}"
        echo "round $((r + 1))/$rounds: $which" >&2
        if [[ "$which" == rust ]]; then
            "$rust" "$data" "$epochs" "$threads" 2>/dev/null >>"$results"
        else
            "$python" "$here/model_ref.py" --data "$data" --epochs "$epochs" \
                --threads "$threads" --loader "$which" 2>/dev/null >>"$results"
        fi
    done
done

"$python" - "$results" "$epochs" "$threads" <<'PY'
import json, statistics, sys
path, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = {}
for line in open(path):
    r = json.loads(line)
    runs.setdefault(r["impl"], []).append(r)
print(f"model training, {threads} thread(s), {epochs} epochs per run, epoch 1 left out")
print(f"{'implementation':<34} {'median s/epoch':>15} {'best run':>9} {'process s':>10} {'setup s':>8} {'val acc':>8}")
summary = {}
for impl, rs in runs.items():
    secs = [s for r in rs for s in r["epoch_seconds"][1:]]
    per_run = [statistics.median(r["epoch_seconds"][1:]) for r in rs]
    summary[impl] = (statistics.median(secs), min(per_run))
    print(f"{impl:<34} {summary[impl][0]:>15.3f} {summary[impl][1]:>9.3f} "
          f"{statistics.median(r['process_seconds'] for r in rs):>10.2f} "
          f"{statistics.median(r['setup_seconds'] for r in rs):>8.2f} "
          f"{statistics.median(r['val_accuracy'] for r in rs):>8.3f}")
rust = summary.pop("cochlea-model")
for impl, (med, best) in summary.items():
    print(f"ratio cochlea-model / {impl}: median {rust[0] / med:.3f}, best run {rust[1] / best:.3f}")
PY
