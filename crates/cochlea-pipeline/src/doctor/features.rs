//! Checks on the features as the model would receive them: raw samples,
//! constant rows, and scales that differ without normalization.

use cochlea_features::FeatureKind;

use super::{Check, Finding};
use crate::config::{Config, NormMethod};
use crate::prepare::Prepared;
use crate::split::Fold;

/// `scaling.constant_features`: a row whose standard deviation over the
/// training frames is below this is constant.
pub const CONSTANT_STD: f64 = 1e-6;
/// `scaling.unnormalized`: largest over smallest per-row standard deviation
/// above which unnormalized features drown each other.
pub const SCALE_SPREAD: f64 = 100.0;

/// Rows of the pitch kinds (`FeatureKind::is_pitch`), by name.
const PITCH_ROWS: [&str; 4] = ["f0", "voiced", "voiced_prob", "yin"];

/// Checks on the features as the model would receive them.
pub fn feature_checks(cfg: &Config, p: &Prepared, folds: &[Fold]) -> Vec<Finding> {
    let mut out = Vec::new();
    if cfg.features.has(FeatureKind::Raw) {
        out.push(Check::RawSamples.warn(
            "the network is fed raw samples",
            format!(
                "{} samples per clip at {} Hz in one row",
                p.summary.clip_frames, cfg.data.sample_rate
            ),
        ));
    }
    let stds = row_stds(p, &folds[0]);
    let names = p.extractor.row_names();
    let constant: Vec<&str> = stds
        .iter()
        .enumerate()
        .filter(|(_, s)| **s < CONSTANT_STD)
        .map(|(r, _)| names[r].as_str())
        .collect();
    if !constant.is_empty() {
        let mut detail = constant
            .iter()
            .take(8)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if constant.len() > 8 {
            detail.push_str(&format!(" and {} more", constant.len() - 8));
        }
        // pYIN's rows are constant when no training frame is voiced:
        // whispered, noisy or non-speech audio, or a pitch range that misses
        // the voices.
        let pitch: Vec<&str> = constant
            .iter()
            .copied()
            .filter(|n| PITCH_ROWS.contains(n))
            .collect();
        if !pitch.is_empty() {
            detail.push_str(&format!(
                "; {} constant: pYIN found no voiced frame in the training clips (whispered, \
                 unvoiced or non-tonal audio, or voices outside f0_fmin {} Hz to f0_fmax {:.0} Hz); \
                 drop these kinds or widen the range",
                pitch.join(", "),
                cfg.features.f0_fmin,
                cfg.features.f0_fmax(cfg.data.sample_rate)
            ));
        }
        out.push(Check::ConstantFeatures.warn(
            format!(
                "{} feature rows are constant over the training set",
                constant.len()
            ),
            detail,
        ));
    }
    let (smin, smax) = stds
        .iter()
        .copied()
        .filter(|s| *s >= CONSTANT_STD)
        .fold((f64::INFINITY, 0f64), |(a, b), s| (a.min(s), b.max(s)));
    let spread = smax / smin.max(1e-12);
    if cfg.normalize.method == NormMethod::None && spread > SCALE_SPREAD {
        out.push(Check::Unnormalized.fail(
            format!("features are not normalized and their scales differ {spread:.0}-fold"),
            format!("per-row std from {smin:.3e} to {smax:.3e}"),
        ));
    } else {
        out.push(Check::Unnormalized.ok(
            "feature scales are normalized or comparable",
            format!(
                "method {:?}, raw per-row std {smin:.3e} to {smax:.3e}",
                cfg.normalize.method
            ),
        ));
    }
    out
}

/// Per-row standard deviation over the training frames (raw features).
fn row_stds(p: &Prepared, f: &Fold) -> Vec<f64> {
    (0..p.extractor.n_rows())
        .map(|r| {
            let (mut s, mut s2, mut n) = (0f64, 0f64, 0f64);
            for &i in &f.train {
                let m = &p.extracted[i].features;
                for &v in &m.data[r * m.n_frames..(r + 1) * m.n_frames] {
                    s += f64::from(v);
                    s2 += f64::from(v) * f64::from(v);
                    n += 1.0;
                }
            }
            let mean = s / n.max(1.0);
            (s2 / n.max(1.0) - mean * mean).max(0.0).sqrt()
        })
        .collect()
}
