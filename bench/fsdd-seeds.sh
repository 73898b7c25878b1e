#!/usr/bin/env bash
# Accuracy of a config over several seeds, one `pipeline run` per seed:
#
#   bench/fsdd-seeds.sh CONFIG SEED...        e.g. pipelines/fsdd.toml 0 1 2 3 4
#
# For each seed, a copy of CONFIG (beside it, so its relative paths hold,
# removed afterwards) gets that seed for both `[split] seed` and `[train]
# seed`; THREADS=N also sets `[train] threads`. Prints one line per seed with
# the mean test accuracy over folds and each fold's accuracy, then the mean
# and spread over seeds. Run directories go where the config says.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="$1"
shift
if [[ ! -d "$root/../shared/datasets/fsdd/recordings" ]]; then
    echo "fsdd-seeds.sh: ../shared/datasets/fsdd/recordings not found; skipping"
    exit 0
fi
cd "$root"
scripts/with-libtorch cargo build --quiet --release -p cochlea-pipeline >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/pipeline"

dir="$(dirname "$config")"
results="$(mktemp)"
trap 'rm -f "$results" "$dir"/.seed-*-$$.toml' EXIT
for seed in "$@"; do
    copy="$dir/.seed-$seed-$$.toml"
    sed -e "s/^seed = .*/seed = $seed/" ${THREADS:+-e '/^threads = /d'} "$config" >"$copy"
    if [[ -n "${THREADS:-}" ]]; then
        sed -i "/^\[train\]/a threads = $THREADS" "$copy"
    fi
    echo "fsdd-seeds.sh: $config, seed $seed" >&2
    "$bin" run "$copy" --json --quiet | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' >>"$results"
done

python3 - "$results" "$@" <<'PY'
import json
import statistics
import sys

runs = [json.loads(line) for line in open(sys.argv[1])]
means = []
for seed, r in zip(sys.argv[2:], runs):
    folds = " ".join(f"{f['name']} {100 * f['test']['accuracy']:.1f}" for f in r["folds"])
    means.append(100 * r["accuracy_mean_std"][0])
    print(f"seed {seed}: mean {means[-1]:.2f} %  ({folds})")
if len(means) > 1:
    print(f"over {len(means)} seeds: mean {statistics.mean(means):.2f} %, "
          f"std {statistics.stdev(means):.2f}, min {min(means):.2f}, max {max(means):.2f}")
PY
