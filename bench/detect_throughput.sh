#!/usr/bin/env bash
# Detection throughput of `pipeline detect` on one long recording: wall
# time, hours of audio per second, real-time factor and peak memory, on 1
# and 2 threads (feature threads and libtorch threads).
#
#   bench/detect_throughput.sh RUN_DIR target/detect-bench/long/hour.wav
#
# The recording: `python3 bench/detect_make_data.py --out target/detect-bench --hour`
# (an hour of sox pink noise with a word every 4-12 s).
set -euo pipefail
run="$1"
wav="$2"
bin="${PIPELINE:-target/release/pipeline}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1 2; do
    /usr/bin/time -f "threads $t: %e s wall, %M KiB max RSS" \
        "$bin" --threads "$t" detect -q --model "$run" "$wav" --out /dev/null 2>&1 | grep -v '^$'
    echo "load average after $t thread(s): $(cut -d' ' -f1-3 /proc/loadavg)"
done
