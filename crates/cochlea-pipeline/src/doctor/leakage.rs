//! Checks of the split: the same audio, the same group or near-identical
//! features on both sides, and where the normalization came from.

use std::collections::{HashMap, HashSet};

use super::{Check, Finding};
use crate::config::{Config, Strategy};
use crate::prepare::{Prepared, paths_hash};
use crate::split::Fold;

/// `leakage.near_duplicate`: relative distance of two clips' fingerprints
/// (per-row feature mean and std) below which they count as the same.
pub const NEAR_DUPLICATE_DISTANCE: f64 = 1e-4;
/// Test clips compared with every training clip for near-duplicates.
pub const NEAR_DUPLICATE_SAMPLE: usize = 400;

/// Checks of the first fold's split.
pub fn leakage_checks(cfg: &Config, p: &Prepared, folds: &[Fold]) -> Vec<Finding> {
    let f = &folds[0];
    let (dup, n_dups) = duplicate_audio(p, f);
    let mut out = vec![dup];
    out.extend(group_leak(cfg, p, f));
    out.extend(near_duplicates(p, f, n_dups));
    // Normalization fitted on training only (by construction; verified).
    let expected = paths_hash(&p.items, &f.train);
    out.push(Check::Normalizer.ok(
        "normalization statistics fitted on the training split only",
        format!(
            "fitted on {} training clips (paths hash {})",
            f.train.len(),
            &expected[..12]
        ),
    ));
    out
}

/// Identical decoded audio on both sides; also returns how many.
fn duplicate_audio(p: &Prepared, f: &Fold) -> (Finding, usize) {
    let train_hashes: HashMap<u64, usize> = f
        .train
        .iter()
        .chain(&f.val)
        .map(|&i| (p.extracted[i].info.samples_hash, i))
        .collect();
    let dups: Vec<(usize, usize)> = f
        .test
        .iter()
        .filter_map(|&i| {
            train_hashes
                .get(&p.extracted[i].info.samples_hash)
                .map(|&j| (i, j))
        })
        .collect();
    if dups.is_empty() {
        let ok = Check::DuplicateAudio.ok(
            "no identical audio across the split",
            format!("{} test files checked by sample hash", f.test.len()),
        );
        return (ok, 0);
    }
    let ex: Vec<String> = dups
        .iter()
        .take(3)
        .map(|&(i, j)| {
            format!(
                "{} = {}",
                p.items[i].path.display(),
                p.items[j].path.display()
            )
        })
        .collect();
    let fail = Check::DuplicateAudio.fail(
        format!("{} test files have identical audio in training", dups.len()),
        ex.join("; "),
    );
    (fail, dups.len())
}

/// Groups on both sides of a split that is not group-aware.
fn group_leak(cfg: &Config, p: &Prepared, f: &Fold) -> Option<Finding> {
    if !cfg.data.has_groups() {
        return None;
    }
    let g = |idx: &[usize]| -> HashSet<&str> {
        idx.iter().map(|&i| p.items[i].group.as_str()).collect()
    };
    let (tr, te) = (g(&f.train), g(&f.test));
    let shared: Vec<&str> = tr.intersection(&te).copied().collect();
    let group_aware = matches!(
        cfg.split.strategy,
        Strategy::Group | Strategy::GroupKfold | Strategy::LeaveOneGroupOut
    );
    Some(if !shared.is_empty() && !group_aware {
        Check::GroupLeak.warn(
            format!(
                "{} of {} groups appear in both train and test",
                shared.len(),
                te.len()
            ),
            format!(
                "e.g. {}",
                shared
                    .iter()
                    .take(5)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else {
        Check::GroupLeak.ok(
            "no group on both sides of the split",
            format!("{} train groups, {} test groups", tr.len(), te.len()),
        )
    })
}

/// Near-identical pooled feature vectors across the split, beyond the
/// `exact` identical ones already reported.
fn near_duplicates(p: &Prepared, f: &Fold, exact: usize) -> Option<Finding> {
    let fingerprint = |i: usize| pooled(&p.extracted[i].features);
    let train_vecs: Vec<Vec<f32>> = f.train.iter().map(|&i| fingerprint(i)).collect();
    let near = f
        .test
        .iter()
        .take(NEAR_DUPLICATE_SAMPLE)
        .filter(|&&i| {
            let v = fingerprint(i);
            train_vecs
                .iter()
                .any(|t| rel_dist(t, &v) < NEAR_DUPLICATE_DISTANCE)
        })
        .count();
    (near > exact).then(|| {
        Check::NearDuplicate.warn(
            format!("{near} test clips have near-identical features in training"),
            format!(
                "relative distance of per-row feature mean and std below \
                 {NEAR_DUPLICATE_DISTANCE:e}"
            ),
        )
    })
}

/// Mean and standard deviation of every row: a clip's fingerprint.
fn pooled(m: &cochlea_features::FeatureMatrix) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * m.n_rows);
    for r in 0..m.n_rows {
        let row = &m.data[r * m.n_frames..(r + 1) * m.n_frames];
        let (mean, std) = crate::normalize::mean_std(row);
        out.push(mean as f32);
        out.push(std as f32);
    }
    out
}

fn rel_dist(a: &[f32], b: &[f32]) -> f64 {
    let (mut d, mut n) = (0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        d += f64::from(x - y).powi(2);
        n += f64::from(*x).powi(2) + f64::from(*y).powi(2);
    }
    (d / n.max(1e-30)).sqrt()
}
