#!/usr/bin/env bash
# FSDD leave one speaker out, same six folds, side by side:
#   1. the hand-written librosa + PyTorch script (bench/pipeline_ref.py),
#   2. the starter config of `pipeline init` (pipelines/fsdd-speakers-init.toml),
#   3. `pipeline tune` nested from that config (a search inside each outer
#      training part; the held-out speaker scored once with its fold's winner).
#
# Usage: bench/tune-fsdd.sh [BUDGET] [JOBS]      defaults: 30m 2
# Skips with a message when the data set is absent. Run on an idle machine:
# the budget is wall-clock time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/../shared/datasets/fsdd/recordings"
budget="${1:-30m}"
jobs="${2:-2}"
if [[ ! -d "$data" ]]; then
    echo "tune-fsdd.sh: $data not found; skipping"
    exit 0
fi
cd "$root"
scripts/with-libtorch cargo build --quiet --release -p cochlea-pipeline >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/pipeline"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== hand-written script (40 epochs, final weights)" >&2
"$(bench/ref-venv.sh)/bin/python" bench/pipeline_ref.py --data "$data" \
    --out "$out/ref.json" --split speakers --threads 1 >&2
python3 - "$out/ref.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
folds = " ".join(f"{f['fold']} {100 * f['test_accuracy']:.1f}" for f in r["folds"])
print(f"script: mean {100 * r['accuracy_mean']:.2f} %  ({folds})")
PY

echo "== pipeline init starter config" >&2
THREADS=1 bench/fsdd-seeds.sh pipelines/fsdd-speakers-init.toml 0 | sed 's/^/init: /'

echo "== pipeline tune, nested, budget $budget, $jobs jobs" >&2
start=$(date +%s)
"$bin" tune pipelines/fsdd-speakers-init.toml --budget "$budget" --jobs "$jobs" --no-final --quiet
echo "tune: $(( $(date +%s) - start )) s wall time"
