#!/usr/bin/env bash
# Feature extraction, side by side, on the 3000 FSDD recordings (8 kHz;
# 13 MFCCs, n_fft 256, hop 80, 40 mel bands; decoding included unless said):
#
#   bench/features.sh [DATA_DIR]
#
# DATA_DIR defaults to ../shared/datasets/fsdd/recordings beside the clone;
# when it is missing the benchmark is skipped with a message (exit 0).
#
# Runs, in one go:
#   - cochlea-features (crates/cochlea-features/examples/fsdd_bench.rs):
#     decode + features on 2 threads and on 1; features only (samples decoded
#     beforehand) on 1 and 2 threads; decode only on 2 threads. Each is the
#     median of 5 timed passes after one untimed warm-up pass.
#   - the Python references of bench/features_ref.py in the pinned
#     environment of bench/ref-venv.sh: librosa in one process, librosa over
#     two processes, torchaudio (2 threads). One timed pass after a warm-up
#     on the first file.
# then prints a table with the speed-up of each row over librosa and
# torchaudio. Set COCHLEA_BENCH_SKIP_PYTHON=1 to time the Rust side only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:-$root/../shared/datasets/fsdd/recordings}"
if [[ ! -d "$data" ]]; then
    echo "features.sh: $data not found; skipping the feature benchmark (get FSDD or pass its recordings folder)"
    exit 0
fi
data="$(cd "$data" && pwd)"

cd "$root"
echo "features.sh: building the Rust benchmark (release)" >&2
cargo build --quiet --release -p cochlea-features --example fsdd_bench >&2
target="${CARGO_TARGET_DIR:-$root/target}"
bench_bin="$target/release/examples/fsdd_bench"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
# Other work on the machine skews every row (torch's two threads most):
# the load average is printed with the table.
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

rust() {
    local mode="$1" threads="$2"
    echo "features.sh: cochlea $mode, $threads thread(s)" >&2
    "$bench_bin" --data "$data" --mode "$mode" --threads "$threads" --repeat 5 >>"$results"
}
rust full 2
rust full 1
rust features 1
rust features 2
rust decode 2

python=python3
if [[ "${COCHLEA_BENCH_SKIP_PYTHON:-0}" != 1 ]]; then
    venv="$(bench/ref-venv.sh)"
    python="$venv/bin/python"
    for mode in librosa librosa2 torchaudio; do
        echo "features.sh: $mode" >&2
        "$python" bench/features_ref.py --data "$data" --mode "$mode" >>"$results"
    done
fi

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo
echo "$(date -u +%Y-%m-%d) on $(nproc) cores; load average before: $load_before, after: $load_after"

"$python" - "$results" <<'EOF'
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
names = {
    "librosa": "librosa, 1 process",
    "librosa2": "librosa, 2 processes",
    "torchaudio": "torchaudio, 2 threads",
}
by_tool = {r["tool"]: r["seconds"] for r in rows}
librosa = by_tool.get("librosa")
torchaudio = by_tool.get("torchaudio")

def ratio(ref, seconds):
    return f"{ref / seconds:7.1f}x" if ref else "      -"

print()
print(f"{'tool':<46} {'files':>5} {'seconds':>8} {'vs librosa':>10} {'vs torchaudio':>13}")
print("-" * 86)
for r in rows:
    name = names.get(r["tool"], r["tool"])
    s = r["seconds"]
    print(f"{name:<46} {r['files']:>5} {s:>8.3f} {ratio(librosa, s):>10} {ratio(torchaudio, s):>13}")

full2 = by_tool.get("cochlea, decode + features, 2 thread(s)")
floor2 = by_tool.get("cochlea, features only, 2 thread(s)")
decode2 = by_tool.get("cochlea, decode only, 2 thread(s)")
print()
if full2 and floor2 and decode2:
    print(f"decode + features on 2 threads vs features only + decode only: "
          f"{full2 / (floor2 + decode2):.2f}x")
if full2 and librosa:
    print(f"target: >= 20x librosa (1 process): {'met' if librosa / full2 >= 20 else 'NOT met'} "
          f"({librosa / full2:.1f}x)")
if full2 and torchaudio:
    print(f"target: >= 10x torchaudio: {'met' if torchaudio / full2 >= 10 else 'NOT met'} "
          f"({torchaudio / full2:.1f}x)")
EOF
