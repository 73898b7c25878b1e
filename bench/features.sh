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
#
# Then pYIN (kinds f0, voiced, voiced_prob: librosa.pyin with fmin C2, fmax
# C7, frame_length 2048, hop 80) on the first COCHLEA_BENCH_PITCH_FILES
# recordings (default 300; 0 skips it), all on one thread / one process:
#   - the library: fsdd_bench --kinds f0,voiced,voiced_prob --threads 1
#     (median of 3 timed passes after a warm-up);
#   - the user's path: `pipeline --threads 1 features --config X --out DIR`
#     over a folder of links to those files, .npy files written (one timed
#     run after an untimed one; the binary is built like `cargo build
#     --release -p cochlea-pipeline`, with libtorch through
#     scripts/with-libtorch when LIBTORCH is unset);
#   - librosa.pyin in one process (bench/features_ref.py --mode pyin).
# COCHLEA_BENCH_PITCH_ONLY=1 runs only this part.
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
pitch_only="${COCHLEA_BENCH_PITCH_ONLY:-0}"
if [[ "$pitch_only" != 1 ]]; then
rust full 2
rust full 1
rust features 1
rust features 2
rust decode 2
fi

python=python3
if [[ "${COCHLEA_BENCH_SKIP_PYTHON:-0}" != 1 ]]; then
    python="$(bench/ref-venv.sh)/bin/python"
fi
if [[ "${COCHLEA_BENCH_SKIP_PYTHON:-0}" != 1 && "$pitch_only" != 1 ]]; then
    venv="$(bench/ref-venv.sh)"
    python="$venv/bin/python"
    for mode in librosa librosa2 torchaudio; do
        echo "features.sh: $mode" >&2
        "$python" bench/features_ref.py --data "$data" --mode "$mode" >>"$results"
    done
fi

pitch_files="${COCHLEA_BENCH_PITCH_FILES:-300}"
if [[ "$pitch_files" != 0 ]]; then
    echo "features.sh: pyin, cochlea library, 1 thread, $pitch_files files" >&2
    "$bench_bin" --data "$data" --mode full --threads 1 --repeat 3 --limit "$pitch_files" \
        --kinds f0,voiced,voiced_prob >>"$results"

    echo "features.sh: building the pipeline binary (release)" >&2
    if [[ -n "${LIBTORCH:-}" ]]; then
        cargo build --quiet --release -p cochlea-pipeline --bin pipeline >&2
    else
        scripts/with-libtorch cargo build --quiet --release -p cochlea-pipeline --bin pipeline >&2
    fi
    work="$(mktemp -d)"
    trap 'rm -f "$results"; rm -rf "$work"' EXIT
    mkdir -p "$work/clips"
    find "$data" -name '*.wav' | sort | awk -v n="$pitch_files" 'NR <= n' | while read -r f; do
        ln -s "$f" "$work/clips/$(basename "$f")"
    done
    cat >"$work/pitch.toml" <<TOML
name = "pitch-bench"
[data]
root = "$work/clips"
sample_rate = 8000
[features]
kinds = ["f0", "voiced", "voiced_prob"]
TOML
    pipeline_features() {
        rm -rf "$work/out"
        "$target/release/pipeline" --threads 1 features --config "$work/pitch.toml" \
            --out "$work/out" "$work/clips" >/dev/null 2>"$work/log" \
            || { cat "$work/log" >&2; exit 1; }
    }
    echo "features.sh: pyin, pipeline features, 1 thread" >&2
    pipeline_features
    start="$(date +%s.%N)"
    pipeline_features
    end="$(date +%s.%N)"
    written="$(find "$work/out" -name '*.npy' | wc -l)"
    echo "{\"tool\": \"pipeline features [f0,voiced,voiced_prob], 1 thread\", \"files\": $written, \"seconds\": $(echo "$end - $start" | bc -l)}" >>"$results"

    if [[ "${COCHLEA_BENCH_SKIP_PYTHON:-0}" != 1 ]]; then
        echo "features.sh: librosa.pyin, 1 process" >&2
        "$python" bench/features_ref.py --data "$data" --mode pyin --limit "$pitch_files" >>"$results"
    fi
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
    "pyin": "librosa.pyin, 1 process",
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
pyin = by_tool.get("pyin")
if pyin:
    print()
    print("pYIN (f0, voiced, voiced_prob), one core, same files:")
    for r in rows:
        if "f0,voiced,voiced_prob" in r["tool"]:
            speedup = pyin / r["seconds"]
            print(f"  {r['tool']}: {speedup:.1f}x librosa.pyin "
                  f"(target >= 20x: {'met' if speedup >= 20 else 'NOT met'})")
if full2 and torchaudio:
    print(f"target: >= 10x torchaudio: {'met' if torchaudio / full2 >= 10 else 'NOT met'} "
          f"({torchaudio / full2:.1f}x)")
EOF
