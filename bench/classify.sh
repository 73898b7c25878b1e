#!/usr/bin/env bash
# Inference throughput: files per second of `pipeline classify` on 1 and 2
# cores against the Python path it replaces (librosa features from the
# export's spec.json + torch.jit.load, bench/classify_ref.py), on the same
# files with the same model:
#
#   scripts/with-libtorch bench/classify.sh RUN_DIR [DATA_DIR]
#
# RUN_DIR is a trained run (or model folder) whose features suit the data,
# e.g. a run of pipelines/demo.toml; DATA_DIR defaults to the FSDD
# recordings beside the clone (3000 files, 8 kHz), else audio-samples/digits.
# "1 core" pins the process to CPU 0 (taskset) with one feature thread;
# "2 cores" to CPUs 0-1 with two. Times include decoding, features and
# the network, not start-up (one untimed warm-up call each).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run="${1:?usage: bench/classify.sh RUN_DIR [DATA_DIR]}"
data="${2:-$root/../shared/datasets/fsdd/recordings}"
[[ -d "$data" ]] || data="$root/audio-samples/digits"
target="${CARGO_TARGET_DIR:-$root/target}"
pipeline="$target/release/pipeline"
[[ -x "$pipeline" ]] || (cd "$root" && cargo build --quiet --release -p cochlea-pipeline)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
find "$data" -name '*.wav' | sort >"$tmp/files"
n="$(wc -l <"$tmp/files")"
"$pipeline" export "$run" --out "$tmp/model.pt" >&2
python="$("$root/bench/ref-venv.sh")/bin/python"
echo "classify.sh: $n files from $data; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

rate() { awk -v n="$n" -v s="$1" 'BEGIN { printf "%.1f", n / s }'; }
cochlea() {
    local cpus="$1" threads="$2"
    # Warm-up on one file, then the timed pass.
    taskset -c "$cpus" "$pipeline" --quiet --threads "$threads" classify --model "$run" \
        "$(head -1 "$tmp/files")" >/dev/null 2>&1
    local t0 t1
    t0="$(date +%s.%N)"
    xargs -a "$tmp/files" taskset -c "$cpus" "$pipeline" --quiet --threads "$threads" \
        classify --model "$run" --out "$tmp/out.csv" 2>/dev/null
    t1="$(date +%s.%N)"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
ref() {
    local cpus="$1" procs="$2"
    taskset -c "$cpus" "$python" "$root/bench/classify_ref.py" "$tmp/model.pt" \
        --files-from "$tmp/files" --processes "$procs" |
        sed -E 's/.*"seconds": ([0-9.]+).*/\1/'
}

c1="$(cochlea 0 1)"
c2="$(cochlea 0-1 2)"
p1="$(ref 0 1)"
p2="$(ref 0-1 2)"
echo "| tool | cores | seconds | files/s | vs Python, same cores |"
echo "|---|---|---|---|---|"
echo "| pipeline classify | 1 | $c1 | $(rate "$c1") | $(awk -v a="$p1" -v b="$c1" 'BEGIN { printf "%.1fx", a / b }') |"
echo "| pipeline classify | 2 | $c2 | $(rate "$c2") | $(awk -v a="$p2" -v b="$c2" 'BEGIN { printf "%.1fx", a / b }') |"
echo "| librosa + torch.jit.load | 1 (1 process) | $p1 | $(rate "$p1") | 1.0x |"
echo "| librosa + torch.jit.load | 2 (2 processes) | $p2 | $(rate "$p2") | 1.0x |"
echo "classify.sh: load average after $(cut -d' ' -f1-3 /proc/loadavg)" >&2
