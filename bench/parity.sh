#!/usr/bin/env bash
# Accuracy parity with PyTorch at one recipe: FSDD leave one speaker out
# (bench/parity-fsdd.toml: 13 MFCCs, first 100 frames, standardised on the
# training frames, the network of pipelines/fsdd.toml without pooling after
# its third block, Adam 1e-3 with weight decay 1e-4, batch 64, 40 epochs,
# final weights, no validation), trained by Cochlea (`pipeline run`) and by
# bench/pipeline_ref.py (librosa + torch) with the same seeds.
#
#   bench/parity.sh [SEED...]                      (default: 0 1 2)
#
# Environment:
#   THREADS=N          libtorch threads per side (default 1)
#   SIDES=both         both | cochlea | python
#   INIT=pytorch       Cochlea's `[model] init` (pytorch | he); the Python
#                      side takes PY_INIT (default pytorch)
#   EPOCHS=40          epochs on both sides (for a quick check)
#   SEQUENTIAL=1       run the sides one after the other (default: the two
#                      sides run at the same time, one process each)
#
# Prints per seed the mean test accuracy over the six held-out speakers,
# then per side the mean and standard deviation over seeds, the median
# epoch time, and Cochlea's mean minus PyTorch's and its epoch-time ratio.
# Run directories and metrics go to a temporary folder, kept when
# KEEP=1 (its path is printed). Skips with a message when the data set is
# absent.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
data="$root/../shared/datasets/fsdd/recordings"
if [[ ! -d "$data" ]]; then
    echo "parity.sh: ../shared/datasets/fsdd/recordings not found; skipping"
    exit 0
fi
seeds=("$@")
if [[ ${#seeds[@]} -eq 0 ]]; then
    seeds=(0 1 2)
fi
threads="${THREADS:-1}"
sides="${SIDES:-both}"
init="${INIT:-pytorch}"
py_init="${PY_INIT:-pytorch}"
epochs="${EPOCHS:-40}"

work="$(mktemp -d)"
if [[ -n "${KEEP:-}" ]]; then
    echo "parity.sh: results in $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi
data="$(cd "$data" && pwd)"

cochlea_side() {
    (cd "$root" && scripts/with-libtorch cargo build --quiet --release -p cochlea-pipeline) >&2
    local bin="${CARGO_TARGET_DIR:-$root/target}/release/pipeline"
    cp "$bin" "$work/pipeline"
    for seed in "${seeds[@]}"; do
        local cfg="$work/cochlea-$seed.toml"
        sed -e "s|^root = .*|root = \"$data\"|" \
            -e "s/^seed = .*/seed = $seed/" \
            -e "s/^threads = .*/threads = $threads/" \
            -e "s/^epochs = .*/epochs = $epochs/" \
            -e "s/^init = .*/init = \"$init\"/" \
            -e "s|^dir = .*|dir = \"$work/runs\"|" \
            "$here/parity-fsdd.toml" >"$cfg"
        echo "parity.sh: cochlea, seed $seed" >&2
        # A fresh feature cache: nothing else's entries, nothing left behind.
        COCHLEA_CACHE_DIR="$work/cache" "$work/pipeline" run "$cfg" --json --quiet \
            >"$work/cochlea-$seed.json"
    done
}

python_side() {
    local python
    python="$("$here/ref-venv.sh")/bin/python"
    for seed in "${seeds[@]}"; do
        echo "parity.sh: python, seed $seed" >&2
        "$python" "$here/pipeline_ref.py" --data "$data" --out "$work/python-$seed.json" \
            --split speakers --no-val --crop start --pools 2,2,1 --init "$py_init" \
            --epochs "$epochs" --seed "$seed" --threads "$threads" >/dev/null
    done
}

pids=()
case "$sides" in
both)
    if [[ -n "${SEQUENTIAL:-}" ]]; then
        cochlea_side
        python_side
    else
        cochlea_side &
        pids+=($!)
        python_side &
        pids+=($!)
    fi
    ;;
cochlea) cochlea_side ;;
python) python_side ;;
*)
    echo "parity.sh: SIDES must be both, cochlea or python" >&2
    exit 2
    ;;
esac
for pid in "${pids[@]}"; do
    wait "$pid"
done

python3 - "$work" "$init" "$py_init" "${seeds[@]}" <<'PY'
import json
import os
import statistics
import sys

work, init, py_init, seeds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]


def load(side, seed):
    path = os.path.join(work, f"{side}-{seed}.json")
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        r = json.load(fh)
    if side == "cochlea":
        folds = {f["name"]: 100 * f["test"]["accuracy"] for f in r["folds"]}
        secs = [m["seconds"] for f in r["folds"] for m in f["history"]]
    else:
        folds = {f["fold"]: 100 * f["test_accuracy"] for f in r["folds"]}
        secs = [m["seconds"] for f in r["folds"] for m in f["history"]]
    return folds, secs


summary = {}
for side, label in (("cochlea", f"Cochlea (init {init})"), ("python", f"PyTorch (init {py_init})")):
    means, secs = [], []
    for seed in seeds:
        got = load(side, seed)
        if got is None:
            continue
        folds, s = got
        means.append(statistics.mean(folds.values()))
        secs.extend(s)
        per = " ".join(f"{k} {v:.1f}" for k, v in sorted(folds.items()))
        print(f"{label:<26} seed {seed}: mean {means[-1]:.2f} %  ({per})")
    if means:
        sd = statistics.stdev(means) if len(means) > 1 else 0.0
        summary[side] = (statistics.mean(means), sd, statistics.median(secs))
        print(f"{label:<26} over {len(means)} seed(s): mean {summary[side][0]:.2f} %, sd {sd:.2f}, "
              f"min {min(means):.2f}, max {max(means):.2f}; median epoch {summary[side][2]:.3f} s")
if len(summary) == 2:
    c, p = summary["cochlea"], summary["python"]
    print(f"Cochlea - PyTorch: {c[0] - p[0]:+.2f} points (goal >= -0.5); "
          f"epoch time ratio {c[2] / p[2]:.2f} (goal <= 0.6)")
PY
