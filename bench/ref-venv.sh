#!/usr/bin/env bash
# Print the path of the Python virtual environment that holds the reference
# tools (librosa, torchaudio) used for the golden files and the feature
# benchmark, creating it first when it is missing:
#
#   $(bench/ref-venv.sh)/bin/python tests/golden/make_golden.py
#
# The environment lives outside the clone, at
#
#   ${COCHLEA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cochlea}/ref-venv
#
# and holds the versions pinned in bench/requirements-ref.txt, plus
# torchaudio==2.11.1 installed with --no-deps: its transforms run on torch
# 2.13, and its own dependency pins would pull a different torch. Its `load`
# needs torchcodec, which is not installed; the scripts decode with soundfile.
#
# Progress goes to stderr; stdout carries the path only. A stamp file records
# the pins it was built from, so a later call with the same pins returns at
# once and a changed pin rebuilds the environment.
set -euo pipefail

TORCHAUDIO_VERSION="2.11.1"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/requirements-ref.txt"
cache="${COCHLEA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cochlea}"
venv="$cache/ref-venv"
stamp="$venv/.cochlea-ref-installed"

want="$( (cat "$requirements"; echo "torchaudio==$TORCHAUDIO_VERSION --no-deps") | sha256sum | cut -d' ' -f1)"

# Callers at the same time (tests run in parallel) wait for one install
# instead of deleting each other's half-built environment; the lock is
# released when this script exits.
mkdir -p "$cache"
exec 9>"$cache/ref-venv.lock"
flock 9
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    python="${PYTHON:-python3}"
    if ! command -v "$python" >/dev/null; then
        echo "ref-venv: $python not found; install Python 3 (3.10 to 3.13) or set PYTHON" >&2
        exit 1
    fi
    echo "ref-venv: installing the reference tools into $venv (torch is about 4.7 GB, one time)" >&2
    mkdir -p "$cache"
    # A half-finished or outdated install has no matching stamp: start over.
    rm -rf "$venv"
    "$python" -m venv "$venv"
    pip=("$venv/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off)
    "${pip[@]}" -r "$requirements" >&2
    "${pip[@]}" --no-deps "torchaudio==$TORCHAUDIO_VERSION" >&2
    "$venv/bin/python" -c 'import librosa, torch, torchaudio, soundfile, sklearn' >&2
    echo "$want" >"$stamp"
    echo "ref-venv: ready" >&2
fi

echo "$venv"
