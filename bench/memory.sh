#!/usr/bin/env bash
# Peak memory (maximum resident set size from /usr/bin/time -v) of the
# `pipeline` binary on large inputs:
#
#   1. `pipeline features` on a one-hour WAV, 8 kHz mono 16-bit (the demo's
#      rate: no resampling) and 44.1 kHz stereo 16-bit (downmix + resampling
#      to 8 kHz), with the demo feature settings (13 MFCCs + deltas + delta-
#      deltas = 39 rows, hop 80);
#   2. `pipeline classify` over N files (default 100000) and N/10, written to
#      a file and streamed to stdout, with a model trained on the demo clips.
#      The files are hard links to the 500 clips of audio-samples/digits, so
#      they take no disk space; each is still opened, read and decoded.
#
# plus the baseline of a process that only loads (`pipeline --version`:
# libtorch mapped, nothing done).
#
#   bench/memory.sh [N_FILES]
#
# Needs sox (Debian: apt-get install sox) and GNU time (apt-get install time).
# Working files go to ${COCHLEA_BENCH_DIR:-${TMPDIR:-/tmp}/cochlea-memory-bench}
# (about 1.3 GB for the two one-hour WAVs) and are kept for the next call.
# Figures measured on this machine are in docs/robustness.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
n="${1:-100000}"
work="${COCHLEA_BENCH_DIR:-${TMPDIR:-/tmp}/cochlea-memory-bench}"
mkdir -p "$work"

for tool in sox /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "memory.sh: $tool not found" >&2; exit 1; }
done

(cd "$root" && scripts/with-libtorch cargo build --quiet --release -p cochlea-pipeline)
pipeline="${CARGO_TARGET_DIR:-$root/target}/release/pipeline"

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  cores: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $pipeline"

# Runs a command under GNU time; prints "<seconds> <peak MB>".
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/stdout.txt" 2>"$work/stderr.txt" || {
        echo "failed: $*" >&2
        tail -5 "$work/stderr.txt" >&2
        exit 1
    }
    awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$work/time.txt"
}

row() { printf '%-44s %10s s %8s MB\n' "$1" "$2" "$3"; }

cat >"$work/bench.toml" <<EOF
name = "memory-bench"
[data]
root = "$root/audio-samples/digits"
label = "folder"
sample_rate = 8000
[split]
strategy = "stratified"
test_fraction = 0.2
val_fraction = 0.1
[features]
kinds = ["mfcc"]
n_fft = 256
hop_length = 80
n_mels = 40
n_mfcc = 13
deltas = 2
[train]
epochs = 3
[cache]
dir = "$work/cache"
[report]
dir = "$work/runs"
EOF

echo
echo "== baseline"
read -r s mb < <(measure "$pipeline" --version)
row "pipeline --version" "$s" "$mb"

echo
echo "== features of one hour (39 rows x 360001 frames = 56 MB of f32)"
[[ -f "$work/hour_8k.wav" ]] || sox -n -r 8000 -c 1 -b 16 "$work/hour_8k.wav" synth 3600 pinknoise vol 0.3
[[ -f "$work/hour_44k_stereo.wav" ]] ||
    sox -n -r 44100 -c 2 -b 16 "$work/hour_44k_stereo.wav" synth 3600 pinknoise pinknoise vol 0.3
for f in hour_8k hour_44k_stereo; do
    rm -rf "$work/features-$f"
    read -r s mb < <(measure "$pipeline" features --quiet --config "$work/bench.toml" \
        "$work/$f.wav" --out "$work/features-$f")
    row "features $f.wav ($(du -m "$work/$f.wav" | cut -f1) MB)" "$s" "$mb"
done

echo
echo "== classify over many files"
if ! ls -d "$work"/runs/memory-bench-* >/dev/null 2>&1; then
    "$pipeline" run --quiet "$work/bench.toml" >/dev/null
fi
model="$(ls -d "$work"/runs/memory-bench-* | tail -1)"
for count in $((n / 10)) "$n"; do
    many="$work/many-$count"
    if [[ ! -d "$many" ]]; then
        mkdir -p "$many"
        # 500 clips per copy, hard-linked.
        for ((i = 0; i < count / 500; i++)); do cp -al "$root/audio-samples/digits" "$many/copy$i"; done
    fi
    files="$(find "$many" -name '*.wav' | wc -l)"
    read -r s mb < <(measure "$pipeline" classify --quiet --model "$model" --out "$work/classified.csv" "$many")
    row "classify $files files --out FILE" "$s" "$mb"
    read -r s mb < <(measure "$pipeline" classify --quiet --model "$model" "$many")
    row "classify $files files (stdout)" "$s" "$mb"
done
