#!/usr/bin/env bash
# Pitch levels: test accuracy of each config over training seeds, on the
# same split (group k-fold by voice: every test voice is unseen).
#
#   bench/pitch-levels/run.sh [CONFIG...] -- SEED...
#   bench/pitch-levels/run.sh -- 0 1 2          # every config here, seeds 0-2
#
# Makes the set first when bench/pitch-levels/data is missing (make.py).
# For each seed a copy of CONFIG (beside it, removed afterwards) gets that
# `[train] seed` (the line marked `# train.seed`); the split seed stays.
# Prints one line per config and seed (mean over folds, each fold), then
# the mean and spread over seeds, and the load average.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
configs=()
while [[ $# -gt 0 && "$1" != "--" ]]; do configs+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(0 1 2)
if [[ ${#configs[@]} -eq 0 ]]; then
    configs=("$here"/*.toml)
fi
[[ -d "$here/data" ]] || python3 "$here/make.py" >/dev/null
cd "$root"
scripts/with-libtorch cargo build --quiet --release -p cochlea-pipeline >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/pipeline"

results="$(mktemp)"
trap 'rm -f "$results" "$here"/.seed-*-$$.toml' EXIT
for config in "${configs[@]}"; do
    for seed in "${seeds[@]}"; do
        copy="$here/.seed-$seed-$$.toml"
        sed -e "s/^seed = .* # train.seed/seed = $seed # train.seed/" "$config" >"$copy"
        echo "run.sh: $(basename "$config"), seed $seed, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
        start=$(date +%s)
        out="$("$bin" run "$copy" --json --quiet)"
        secs=$(( $(date +%s) - start ))
        printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(json.dumps({"config": sys.argv[1], "seed": sys.argv[2], "seconds": int(sys.argv[3]),
                  "folds": [[f["name"], f["test"]["accuracy"]] for f in r["folds"]],
                  "mean": r["accuracy_mean_std"][0]}))' "$(basename "$config" .toml)" "$seed" "$secs" >>"$results"
    done
done

python3 - "$results" <<'PY'
import collections, json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.OrderedDict()
for r in rows:
    folds = " ".join(f"{n} {100 * a:.1f}" for n, a in r["folds"])
    print(f"{r['config']:<20} seed {r['seed']}: mean {100 * r['mean']:.1f} %  ({folds})  {r['seconds']} s")
    by.setdefault(r["config"], []).append(100 * r["mean"])
print()
print("| config | seeds | mean accuracy % | std | min | max |")
print("|---|---|---|---|---|---|")
for c, m in by.items():
    sd = statistics.stdev(m) if len(m) > 1 else 0.0
    print(f"| {c} | {len(m)} | {statistics.mean(m):.1f} | {sd:.1f} | {min(m):.1f} | {max(m):.1f} |")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
