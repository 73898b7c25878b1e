#!/usr/bin/env python3
"""A harder speech set than the calibration sets: ten words spoken by 24
espeak-ng voices (accents, ages, whisper, creak) in noise at -3 to +9 dB
SNR, so a test on unseen voices leaves room between recipes.

    python3 bench/generalize/make_hard.py [OUT]   # default target/calibration

writes OUT/data/noisy10/<word>/<word>_<voice>_<take>.wav (8 kHz, 16-bit),
3 takes per voice, through the clip chain of bench/calibration/make_sets.py
(trim, level, silence, noise) with the noise raised. Seeded per clip, so
every build is the same. Needs python3, espeak-ng and sox.
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

spec = importlib.util.spec_from_file_location(
    "make_sets", os.path.join(REPO, "bench", "calibration", "make_sets.py"))
sets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sets)

# Names are lowercase letters and digits (the file name's `_` split).
VOICES = [
    ("m1", "en+m1"), ("m2", "en+m2"), ("m3", "en+m3"), ("m7", "en+m7"),
    ("f1", "en+f1"), ("f2", "en+f2"), ("f4", "en+f4"), ("f5", "en+f5"),
    ("usm3", "en-us+m3"), ("usf1", "en-us+f1"), ("gbm4", "en-gb+m4"),
    ("scm1", "en-gb-scotland+m1"), ("rpf3", "en-gb-x-rp+f3"),
    ("carm2", "en-029+m2"), ("whisper", "en+whisper"),
    ("whisperf", "en+whisperf"), ("croak", "en+croak"),
    ("grandpa", "en+grandpa"), ("grandma", "en+grandma"),
    ("klatt2", "en+klatt2"), ("klatt4", "en+klatt4"), ("paul", "en+paul"),
    ("linda", "en+linda"), ("steph", "en+steph"),
]


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(REPO, "target", "calibration"))
    sets.ms.SNR_DB = (-3.0, 9.0)
    sets.VOICES = VOICES
    root, files = sets.build_speech(out, "noisy10", sets.WORDS10, len(VOICES), 3,
                                    False)
    print("%s: %d files" % (root, len(files)))


if __name__ == "__main__":
    main()
