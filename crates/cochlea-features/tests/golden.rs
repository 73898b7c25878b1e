//! Parity with librosa 0.11 and torchaudio: every output of every case in
//! `tests/golden/manifest.json` (made by `tests/golden/make_golden.py`) is
//! recomputed here from the case's `samples.npy` and compared.
//!
//! Tolerances:
//! - `logmel`, `mfcc`, `mfcc_delta`, `mfcc_delta2`: `|ours - ref| <= 1e-2` (dB units).
//! - `mel_power`, `centroid`, `bandwidth`, `rolloff`, `flatness`, `contrast`,
//!   `zcr`, `rms`: `|ours - ref| <= 1e-4 * |ref| + floor`, where the absolute
//!   floor is `1e-6 * max|ref|` over that output of that case (at least
//!   1e-12). Without it every output still passes except two contrast
//!   values near 0.0008 dB, a difference of two nearly equal dB levels that
//!   is off by 1.5e-7 dB (single-precision magnitudes); silence, exactly 0
//!   in librosa, is matched exactly.
//! - `onset`: `|ours - ref| <= 1e-2` (a mean of dB differences).
//! - `chroma`, `tonnetz`: as the spectral features (relative, with the
//!   floor); the per-clip tuning estimate must pick librosa's histogram cell.
//! - pYIN and YIN (`f0_guess` = librosa's `fill_na=None` f0, `f0` = the
//!   case's `f0_unvoiced` policy applied by the golden script to librosa's
//!   NaN-filled f0, `voiced`, `voiced_prob`, `yin`): every frame is a
//!   discrete choice (a trough, a pitch bin, a Viterbi state) followed by
//!   arithmetic, so a frame either matches within `1e-5 * |ref| + 1e-6` or
//!   differs by a whole choice. Voiced frames thus compare exactly (the same
//!   bin frequency), unvoiced frames compare to the policy. Differing frames
//!   are counted per output over all cases and may be at most
//!   [`MAX_PITCH_FRAMES_OFF`] (1 %) of the 872 golden frames; measured: 0 for
//!   every output. No output may hold NaN or infinity.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cochlea_features::npy::read_npy_f32;
use cochlea_features::{
    Extractor, F0Unvoiced, FeatureConfig, FeatureKind, MelNorm, MelScale, PadMode,
};
use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

/// The case's librosa-named parameters as our configuration.
fn config_for(params: &Value, reference: &str) -> FeatureConfig {
    let num = |k: &str| {
        params[k]
            .as_f64()
            .unwrap_or_else(|| panic!("param {k} is not a number"))
    };
    let int = |k: &str| num(k) as usize;
    let opt = |k: &str| params[k].as_f64();
    let mut cfg = FeatureConfig {
        n_fft: int("n_fft"),
        hop_length: int("hop_length"),
        win_length: opt("win_length").map(|v| v as usize),
        center: params["center"].as_bool().expect("center"),
        pad_mode: match params["pad_mode"].as_str().expect("pad_mode") {
            "constant" => PadMode::Constant,
            "reflect" => PadMode::Reflect,
            other => panic!("pad_mode {other}"),
        },
        power: num("power"),
        n_mels: int("n_mels"),
        fmin: num("fmin"),
        fmax: opt("fmax"),
        mel_scale: if params["htk"].as_bool().expect("htk") {
            MelScale::Htk
        } else {
            MelScale::Slaney
        },
        mel_norm: match params["norm"].as_str() {
            Some("slaney") => MelNorm::Slaney,
            None => MelNorm::None,
            Some(other) => panic!("norm {other}"),
        },
        top_db: opt("top_db"),
        ref_db: num("ref"),
        amin: num("amin"),
        n_mfcc: int("n_mfcc"),
        lifter: num("lifter"),
        ..FeatureConfig::default()
    };
    if reference == "librosa" {
        cfg.kinds = FeatureKind::FRAME_KINDS.to_vec();
        cfg.deltas = 2;
        cfg.delta_width = int("delta_width");
        cfg.rolloff_percent = num("roll_percent");
        cfg.contrast_bands = int("n_bands");
        cfg.contrast_fmin = num("contrast_fmin");
        cfg.contrast_quantile = num("quantile");
        cfg.f0_fmin = num("f0_fmin");
        cfg.f0_fmax = opt("f0_fmax");
        cfg.f0_frame_length = int("f0_frame_length");
        cfg.yin_threshold = num("yin_threshold");
        cfg.f0_unvoiced = match params["f0_unvoiced"].as_str().expect("f0_unvoiced") {
            "zero" => F0Unvoiced::Zero,
            "hold" => F0Unvoiced::Hold,
            "interpolate" => F0Unvoiced::Interpolate,
            "guess" => F0Unvoiced::Guess,
            other => panic!("f0_unvoiced {other}"),
        };
        cfg.n_chroma = int("n_chroma");
        cfg.chroma_tuning = opt("tuning");
    } else {
        cfg.kinds = vec![FeatureKind::Mfcc, FeatureKind::Logmel];
    }
    cfg
}

/// Rows of `ex`'s output whose names start with `prefix` followed by a digit.
fn rows_named(
    ex: &Extractor,
    features: &[f32],
    n_frames: usize,
    prefix: &str,
) -> (usize, Vec<f32>) {
    let rows: Vec<usize> = ex
        .row_names()
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.strip_prefix(prefix)
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|(i, _)| i)
        .collect();
    let mut data = Vec::new();
    for &r in &rows {
        data.extend_from_slice(&features[r * n_frames..(r + 1) * n_frames]);
    }
    (rows.len(), data)
}

/// Outputs decided per frame by a discrete choice (a pitch bin, a Viterbi
/// state, a YIN trough): a frame either matches to rounding or is off by a
/// choice; off frames are counted and bounded instead of failing alone.
const PITCH_OUTPUTS: [&str; 5] = ["f0_guess", "f0", "voiced", "voiced_prob", "yin"];

/// Largest fraction of all golden pitch frames, per output, allowed to
/// differ from librosa by a choice (see the module doc).
const MAX_PITCH_FRAMES_OFF: f64 = 0.01;

struct Worst {
    excess: f64,
    at: String,
}

#[test]
fn every_golden_output_matches() {
    let dir = golden_dir();
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
    let manifest: Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    let cases = manifest["cases"].as_array().expect("cases");
    let mut compared = 0usize;
    let mut failures = Vec::new();
    let mut summary = BTreeMap::new();
    let mut pitch_off: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let sr = case["sample_rate"].as_u64().expect("sample_rate") as u32;
        let reference = case["reference"].as_str().expect("reference");
        let cfg = config_for(&case["params"], reference);
        let ex = Extractor::new(&cfg, sr).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (_, samples) = read_npy_f32(&dir.join(case["samples"].as_str().expect("samples")))
            .expect("samples.npy");
        let features = ex.compute(&samples);
        // pYIN's decoded pitch in every frame (librosa's fill_na=None).
        let guess = (reference == "librosa").then(|| {
            let cfg = FeatureConfig {
                kinds: vec![FeatureKind::F0],
                f0_unvoiced: F0Unvoiced::Guess,
                deltas: 0,
                ..cfg.clone()
            };
            let ex = Extractor::new(&cfg, sr).expect("pitch config");
            ex.compute(&samples)
        });
        let n_frames = features.n_frames;
        assert_eq!(
            n_frames,
            1 + samples.len() / cfg.hop_length,
            "{name}: frame count"
        );

        for (output, file) in case["outputs"].as_object().expect("outputs") {
            let (shape, want) =
                read_npy_f32(&dir.join(file.as_str().expect("output path"))).expect("output .npy");
            let (rows, got) = match output.as_str() {
                "mel_power" => {
                    let m = ex.mel_power(&samples).expect("mel bank planned");
                    (m.n_rows, m.data)
                }
                "logmel" => rows_named(&ex, &features.data, n_frames, "logmel_"),
                "mfcc" => rows_named(&ex, &features.data, n_frames, "mfcc_"),
                "mfcc_delta" => rows_named(&ex, &features.data, n_frames, "d_mfcc_"),
                "mfcc_delta2" => rows_named(&ex, &features.data, n_frames, "dd_mfcc_"),
                "contrast" => rows_named(&ex, &features.data, n_frames, "contrast_"),
                "chroma" => rows_named(&ex, &features.data, n_frames, "chroma_"),
                "tonnetz" => rows_named(&ex, &features.data, n_frames, "tonnetz_"),
                "f0_guess" => (1, guess.as_ref().expect("librosa case").row(0).to_vec()),
                single => {
                    let r = ex.row_names().iter().position(|n| n == single);
                    let r = r.unwrap_or_else(|| panic!("{name}: no row for output {single}"));
                    (1, features.row(r).to_vec())
                }
            };
            assert_eq!(shape, vec![rows, n_frames], "{name}/{output}: shape");
            assert!(
                got.iter().all(|v| v.is_finite()),
                "{name}/{output}: non-finite value"
            );
            let db_units = matches!(
                output.as_str(),
                "logmel" | "mfcc" | "mfcc_delta" | "mfcc_delta2" | "onset"
            );
            if PITCH_OUTPUTS.contains(&output.as_str()) {
                // f0 rows: same bin to float32 rounding; voiced_prob: the
                // same troughs below the same thresholds.
                let off = got
                    .iter()
                    .zip(&want)
                    .filter(|(g, w)| {
                        (f64::from(**g) - f64::from(**w)).abs() > 1e-5 * f64::from(w.abs()) + 1e-6
                    })
                    .count();
                let entry = pitch_off.entry(output.clone()).or_insert((0usize, 0usize));
                entry.0 += off;
                entry.1 += n_frames;
                if off > 0 {
                    println!("{name}/{output}: {off} of {n_frames} frames differ by a choice");
                }
                compared += 1;
                continue;
            }
            let scale = want.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
            let floor = (1e-6 * scale).max(1e-12);
            let mut worst = Worst {
                excess: f64::NEG_INFINITY,
                at: String::new(),
            };
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                let (g, w) = (f64::from(g), f64::from(w));
                let tol = if db_units {
                    1e-2
                } else {
                    1e-4 * w.abs() + floor
                };
                let excess = (g - w).abs() / tol;
                if excess > worst.excess || !excess.is_finite() {
                    worst = Worst {
                        excess: if excess.is_finite() {
                            excess
                        } else {
                            f64::INFINITY
                        },
                        at: format!(
                            "row {} frame {}: ours {g}, reference {w}",
                            i / n_frames,
                            i % n_frames
                        ),
                    };
                }
            }
            summary.insert(
                format!("{name}/{output}"),
                format!("{:.3} of tolerance", worst.excess),
            );
            if worst.excess > 1.0 {
                failures.push(format!(
                    "{name}/{output}: {:.2} x tolerance at {}",
                    worst.excess, worst.at
                ));
            }
            compared += 1;
        }
    }
    for (k, v) in &summary {
        println!("{k}: worst {v}");
    }
    for (output, &(off, total)) in &pitch_off {
        let fraction = off as f64 / total as f64;
        println!("{output}: {off} of {total} frames off ({:.4})", fraction);
        if fraction > MAX_PITCH_FRAMES_OFF {
            failures.push(format!(
                "{output}: {off} of {total} frames ({fraction:.4}) differ from librosa, more \
                 than {MAX_PITCH_FRAMES_OFF}"
            ));
        }
    }
    assert_eq!(
        pitch_off.len(),
        PITCH_OUTPUTS.len(),
        "every pitch output compared"
    );
    let listed: usize = cases
        .iter()
        .map(|c| c["outputs"].as_object().map_or(0, |o| o.len()))
        .sum();
    assert!(compared > 0, "no golden output compared");
    assert_eq!(compared, listed, "every listed output is compared");
    println!("{compared} outputs of {} cases compared", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {compared} outputs off:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The `librosa` and `torchaudio` presets give exactly the parameters the
/// golden cases recorded for those libraries' defaults.
#[test]
fn presets_reproduce_reference_defaults() {
    let text = std::fs::read_to_string(golden_dir().join("manifest.json")).expect("manifest");
    let manifest: Value = serde_json::from_str(&text).expect("json");
    let mut checked = 0;
    for case in manifest["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let reference = case["reference"].as_str().expect("reference");
        let preset = if reference == "torchaudio" {
            cochlea_features::Preset::Torchaudio
        } else if name.ends_with("_librosa") {
            cochlea_features::Preset::Librosa
        } else {
            continue;
        };
        let recorded = config_for(&case["params"], reference);
        let from_preset: FeatureConfig = toml::from_str(&format!(
            "preset = \"{}\"",
            if reference == "torchaudio" {
                "torchaudio"
            } else {
                "librosa"
            }
        ))
        .expect("preset parses");
        assert_eq!(from_preset.preset, preset);
        let strip = |c: &FeatureConfig| FeatureConfig {
            preset: cochlea_features::Preset::Custom,
            kinds: vec![],
            deltas: 0,
            delta_width: 9,
            rolloff_percent: 0.85,
            contrast_bands: 6,
            contrast_fmin: 200.0,
            contrast_quantile: 0.02,
            ..c.clone()
        };
        assert_eq!(strip(&from_preset), strip(&recorded), "{name}");
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} preset cases");
}
