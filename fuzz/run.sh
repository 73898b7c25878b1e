#!/usr/bin/env bash
# Fuzz one target for a while, from a fresh clone as from an old one:
#
#   fuzz/run.sh decode_features 690
#   fuzz/run.sh config 690 -print_final_stats=1
#
# The corpus is fuzz/corpus/TARGET (made here when missing; libFuzzer adds
# the inputs it finds there); fuzz/seeds/TARGET and fuzz/regressions/TARGET
# are read as well and never written. The config target gets the TOML
# dictionary config.dict. Arguments after SECONDS go to libFuzzer. A
# failing input lands in fuzz/artifacts/TARGET/.
#
# Needs cargo-fuzz (cargo install cargo-fuzz). Builds with the default
# toolchain and no sanitizer (-s none), which works on stable. Neither
# target links libtorch. See docs/robustness.md.
set -euo pipefail

fuzz="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    echo "usage: fuzz/run.sh decode_features|config [SECONDS (default 690)] [LIBFUZZER_ARGS...]" >&2
    exit 2
}

target="${1:-}"
[[ $# -gt 0 ]] && shift
case "$target" in
    decode_features) limits=(-max_len=16384) ;;
    config) limits=(-max_len=4096 -dict=config.dict) ;;
    *) usage ;;
esac
seconds="${1:-690}"
[[ $# -gt 0 ]] && shift
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: cargo-fuzz not found; install it with: cargo install cargo-fuzz" >&2
    exit 2
fi

cd "$fuzz"
# The seeds are committed; make_seeds.py rewrites them (and config.dict).
[[ -d "seeds/$target" ]] || python3 make_seeds.py
mkdir -p "corpus/$target" "regressions/$target"
exec cargo fuzz run -s none "$target" \
    "corpus/$target" "seeds/$target" "regressions/$target" -- \
    "${limits[@]}" -timeout=30 -rss_limit_mb=4096 "-max_total_time=$seconds" "$@"
