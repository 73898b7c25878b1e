//! Diagnostics: why is a model at chance accuracy?
//!
//! Each check has a stable id, a verdict, the evidence in numbers and the fix
//! in one sentence. Cheap checks look at the data, the split, the features
//! and the architecture; short probes (a linear probe on pooled features,
//! overfitting one batch, a few epochs at a few learning rates) look at
//! learnability; result checks read a finished run. Findings are ranked so
//! the most likely cause of a bad result comes first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Instant;

use cochlea_features::FeatureKind;
use cochlea_model::{ClassWeights, Dataset as MData, NetSummary};
use serde::{Deserialize, Serialize};

use crate::config::{Config, FieldSource, NormMethod, Strategy};
use crate::metrics::{argmax, wilson};
use crate::prepare::{Prepared, paths_hash};
use crate::results::FoldResult;
use crate::split::Fold;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing wrong.
    Ok,
    /// Suspicious; may cost accuracy.
    Warn,
    /// Wrong; explains a bad result.
    Fail,
}

/// One check's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id, e.g. `leakage.group`.
    pub id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One line: what was found.
    pub title: String,
    /// The numbers behind it.
    pub evidence: String,
    /// The fix, in one sentence.
    pub fix: String,
    /// Ranking weight: how likely this explains a bad result (higher first).
    pub weight: f64,
}

fn finding(
    id: &str,
    verdict: Verdict,
    weight: f64,
    title: String,
    evidence: String,
    fix: &str,
) -> Finding {
    Finding {
        id: id.into(),
        verdict,
        title,
        evidence,
        fix: fix.into(),
        weight,
    }
}

fn ok(id: &str, title: &str, evidence: String) -> Finding {
    finding(id, Verdict::Ok, 0.0, title.into(), evidence, "")
}

/// Keeps one finding per id: the worst (then heaviest); "ok" only when no
/// fold found a problem.
pub fn dedupe(f: Vec<Finding>) -> Vec<Finding> {
    let mut by_id: BTreeMap<String, Finding> = BTreeMap::new();
    for x in f {
        match by_id.get(&x.id) {
            Some(y) if (y.verdict, y.weight) >= (x.verdict, x.weight) => {}
            _ => {
                by_id.insert(x.id.clone(), x);
            }
        }
    }
    by_id.into_values().collect()
}

/// Ranks findings: fail before warn before ok, then by weight.
pub fn rank(mut f: Vec<Finding>) -> Vec<Finding> {
    f.sort_by(|a, b| {
        b.verdict
            .cmp(&a.verdict)
            .then(b.weight.total_cmp(&a.weight))
            .then(a.id.cmp(&b.id))
    });
    f
}

fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

/// Checks on the data and the split, before any feature or model.
pub fn data_checks(cfg: &Config, p: &Prepared, folds: &[Fold]) -> Vec<Finding> {
    let mut out = Vec::new();
    let k = p.classes.len();
    let counts = &p.summary.counts;
    let present: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    let (lo, hi) = (
        present.iter().copied().min().unwrap_or(0),
        present.iter().copied().max().unwrap_or(0),
    );
    let ratio = hi as f64 / lo.max(1) as f64;
    let weights_on = !matches!(cfg.train.class_weights, ClassWeights::None);
    if ratio > 3.0 && !weights_on {
        out.push(finding(
            "data.imbalance",
            Verdict::Warn,
            3.0,
            format!("classes are imbalanced {ratio:.1} to 1 and class weights are off"),
            format!("largest class {hi} files, smallest {lo}"),
            "Set [train] class_weights = \"balanced\" and judge by balanced accuracy.",
        ));
    } else {
        out.push(ok(
            "data.imbalance",
            "class sizes are balanced or weighted",
            format!(
                "largest/smallest = {ratio:.1}, class weights {}",
                if weights_on { "on" } else { "off" }
            ),
        ));
    }
    let small: Vec<String> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c < 10)
        .map(|(i, c)| format!("{} ({c})", p.classes[i]))
        .collect();
    if !small.is_empty() {
        out.push(finding("data.few_examples", Verdict::Warn, 4.0, format!("{} classes have fewer than 10 files", small.len()), small.join(", "), "Collect more examples of these classes or merge them; fewer than 10 cannot be split and learnt reliably."));
    } else {
        out.push(ok(
            "data.few_examples",
            "every class has at least 10 files",
            format!("smallest class {lo}"),
        ));
    }
    if p.summary.sample_rates.len() > 1 || p.summary.channels.len() > 1 {
        out.push(finding("data.mixed_formats", Verdict::Warn, 1.5, "files mix sample rates or channel counts".into(), format!("rates {:?}, channels {:?}; all are resampled to {} Hz and downmixed", p.summary.sample_rates, p.summary.channels, cfg.data.sample_rate), "Check that the recording conditions do not differ by class; if they do, the model can learn the format instead of the sound."));
    } else {
        out.push(ok(
            "data.mixed_formats",
            "one sample rate and channel count",
            format!("{:?}", p.summary.sample_rates),
        ));
    }
    // Duration shortcut: how well does clip duration alone predict the class?
    let dur_acc = duration_probe(p);
    let chance = 1.0 / k.max(1) as f64;
    if dur_acc > (3.0 * chance).min(0.9) && dur_acc > 0.5 {
        out.push(finding("data.duration_shortcut", Verdict::Warn, 2.5, format!("clip duration alone predicts the class {} of the time", pct(dur_acc)), format!("nearest-mean-duration classifier {} vs chance {}; per-class mean durations {}", pct(dur_acc), pct(chance), p.summary.durations.iter().map(|d| format!("{:.2}s", d[1])).collect::<Vec<_>>().join(" ")), "Trim silence, or crop/pad every clip to one length before features, so the model learns the sound and not its length."));
    } else {
        out.push(ok(
            "data.duration_shortcut",
            "duration does not give the class away",
            format!(
                "duration-only accuracy {} vs chance {}",
                pct(dur_acc),
                pct(chance)
            ),
        ));
    }
    // Silent or clipped clips.
    let infos: Vec<_> = p.extracted.iter().map(|e| &e.info).collect();
    let silent = infos
        .iter()
        .filter(|i| i.silent_fraction > 0.9 || i.peak < 1e-4)
        .count();
    let clipped = infos.iter().filter(|i| i.clipped_fraction > 0.01).count();
    let n = infos.len().max(1);
    if silent as f64 / n as f64 > 0.05 || clipped as f64 / n as f64 > 0.05 {
        out.push(finding(
            "data.silence_clipping",
            Verdict::Warn,
            2.0,
            format!(
                "{} of clips are mostly silence and {} are clipped",
                pct(silent as f64 / n as f64),
                pct(clipped as f64 / n as f64)
            ),
            format!("{silent} silent, {clipped} clipped of {n}"),
            "Listen to a few: remove empty recordings and re-record or drop clipped ones.",
        ));
    } else {
        out.push(ok(
            "data.silence_clipping",
            "few silent or clipped clips",
            format!("{silent} silent, {clipped} clipped of {n}"),
        ));
    }
    let nonfinite: u64 = infos.iter().map(|i| i.non_finite_replaced).sum();
    if nonfinite > 0 {
        out.push(finding(
            "scaling.non_finite",
            Verdict::Warn,
            2.0,
            "audio samples were NaN or infinite".into(),
            format!(
                "{nonfinite} samples replaced by 0 in {} files",
                infos.iter().filter(|i| i.non_finite_replaced > 0).count()
            ),
            "Fix the files that hold NaN or infinite samples (float WAVs written by a buggy tool).",
        ));
    }
    out.extend(leakage_checks(cfg, p, folds));
    out.extend(label_checks(cfg, p));
    out
}

fn duration_probe(p: &Prepared) -> f64 {
    let k = p.classes.len();
    let mut sum = vec![0f64; k];
    let mut cnt = vec![0usize; k];
    for (it, e) in p.items.iter().zip(&p.extracted) {
        sum[it.label] += e.info.duration_s;
        cnt[it.label] += 1;
    }
    let means: Vec<f64> = sum
        .iter()
        .zip(&cnt)
        .map(|(s, c)| s / (*c).max(1) as f64)
        .collect();
    let correct = p
        .items
        .iter()
        .zip(&p.extracted)
        .filter(|(it, e)| {
            let best = (0..k).filter(|&c| cnt[c] > 0).min_by(|&a, &b| {
                (means[a] - e.info.duration_s)
                    .abs()
                    .total_cmp(&(means[b] - e.info.duration_s).abs())
            });
            best == Some(it.label)
        })
        .count();
    correct as f64 / p.items.len().max(1) as f64
}

fn leakage_checks(cfg: &Config, p: &Prepared, folds: &[Fold]) -> Vec<Finding> {
    let mut out = Vec::new();
    let f = &folds[0];
    // Identical decoded audio on both sides.
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
    if !dups.is_empty() {
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
        out.push(finding("leakage.duplicate_audio", Verdict::Fail, 6.0, format!("{} test files have identical audio in training", dups.len()), ex.join("; "), "Remove duplicate recordings before splitting (or group them), so the test set measures generalisation, not memory."));
    } else {
        out.push(ok(
            "leakage.duplicate_audio",
            "no identical audio across the split",
            format!("{} test files checked by sample hash", f.test.len()),
        ));
    }
    // Groups on both sides.
    if cfg.data.group != FieldSource::None {
        let g = |idx: &[usize]| -> HashSet<&str> {
            idx.iter().map(|&i| p.items[i].group.as_str()).collect()
        };
        let (tr, te) = (g(&f.train), g(&f.test));
        let shared: Vec<&&str> = tr.intersection(&te).collect();
        let group_aware = matches!(
            cfg.split.strategy,
            Strategy::Group | Strategy::GroupKfold | Strategy::LeaveOneGroupOut
        );
        if !shared.is_empty() && !group_aware {
            out.push(finding("leakage.group", Verdict::Warn, 3.5, format!("{} of {} groups appear in both train and test", shared.len(), te.len()), format!("e.g. {}", shared.iter().take(5).map(|s| s.to_string()).collect::<Vec<_>>().join(", ")), "Use split.strategy = \"group\" (or group-kfold / leave-one-group-out) so the test measures unseen speakers or sources."));
        } else {
            out.push(ok(
                "leakage.group",
                "no group on both sides of the split",
                format!("{} train groups, {} test groups", tr.len(), te.len()),
            ));
        }
    }
    // Near-identical pooled feature vectors across the split.
    let fingerprint = |i: usize| pooled(&p.extracted[i].features);
    let train_vecs: Vec<Vec<f32>> = f.train.iter().map(|&i| fingerprint(i)).collect();
    let mut near = 0usize;
    for &i in f.test.iter().take(400) {
        let v = fingerprint(i);
        if train_vecs.iter().any(|t| rel_dist(t, &v) < 1e-4) {
            near += 1;
        }
    }
    if near > dups.len() {
        out.push(finding("leakage.near_duplicate", Verdict::Warn, 4.0, format!("{near} test clips have near-identical features in training"), "relative distance of per-row feature mean and std below 1e-4".into(), "Look for the same recording saved twice (re-encoded or renamed) and keep copies on one side of the split."));
    }
    // Normalization fitted on training only (by construction; verified).
    let expected = paths_hash(&p.items, &f.train);
    out.push(ok(
        "leakage.normalizer",
        "normalization statistics fitted on the training split only",
        format!(
            "fitted on {} training clips (paths hash {})",
            f.train.len(),
            &expected[..12]
        ),
    ));
    out
}

/// Mean and standard deviation of every row: a clip's fingerprint.
fn pooled(m: &cochlea_features::FeatureMatrix) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * m.n_rows);
    for r in 0..m.n_rows {
        let (mean, std) = crate::normalize::mean_std(&m.data[r * m.n_frames..(r + 1) * m.n_frames]);
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

fn label_checks(cfg: &Config, p: &Prepared) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = p.items.len();
    let k = p.classes.len();
    if k as f64 > 0.5 * n as f64 {
        out.push(finding("labels.source", Verdict::Fail, 7.0, format!("{k} classes for {n} files: the label source picks something unique per file"), format!("label source {:?}; e.g. classes {}", cfg.data.label, p.classes.iter().take(5).cloned().collect::<Vec<_>>().join(", ")), "Fix data.label so it captures the class (e.g. '^(\\d)_' for 7_jackson_3.wav), not a take number or the whole name."));
        return out;
    }
    if cfg.data.group != FieldSource::None {
        // Labels identical to groups: the regex picks the speaker, not the class.
        let mut pairs: BTreeMap<&str, HashSet<usize>> = BTreeMap::new();
        for it in &p.items {
            pairs.entry(it.group.as_str()).or_default().insert(it.label);
        }
        let one_label_per_group = pairs.values().all(|s| s.len() == 1);
        if one_label_per_group && pairs.len() >= 2 && k >= 2 && pairs.len() >= k {
            out.push(finding("labels.source", Verdict::Warn, 5.0, "every group has exactly one label: the label may be the group (speaker), not the class".into(), format!("{} groups, {k} classes", pairs.len()), "Check data.label and data.group: they should pick different parts of the file name."));
            return out;
        }
    }
    out.push(ok(
        "labels.source",
        "labels look like classes",
        format!("{k} classes over {n} files"),
    ));
    out
}

/// Checks on the features as the model would receive them.
pub fn feature_checks(cfg: &Config, p: &Prepared, folds: &[Fold]) -> Vec<Finding> {
    let mut out = Vec::new();
    if cfg.features.has(FeatureKind::Raw) {
        out.push(finding("representation.raw_samples", Verdict::Warn, 5.0, "the network is fed raw samples".into(), format!("{} samples per clip at {} Hz in one row", p.summary.clip_frames, cfg.data.sample_rate), "Use kinds = [\"mfcc\"] (or \"logmel\"): a small 1D CNN learns far better from spectral features than from raw waveforms."));
    }
    let f = &folds[0];
    let rows = p.extractor.n_rows();
    // Per-row standard deviation over training frames (raw features).
    let mut stds = Vec::with_capacity(rows);
    for r in 0..rows {
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
        stds.push((s2 / n.max(1.0) - mean * mean).max(0.0).sqrt());
    }
    let names = p.extractor.row_names();
    let constant: Vec<&str> = stds
        .iter()
        .enumerate()
        .filter(|(_, s)| **s < 1e-6)
        .map(|(r, _)| names[r].as_str())
        .collect();
    if !constant.is_empty() {
        out.push(finding("scaling.constant_features", Verdict::Warn, 1.5, format!("{} feature rows are constant over the training set", constant.len()), constant.iter().take(8).copied().collect::<Vec<_>>().join(", "), "Drop these rows or check the feature settings (e.g. fmax, n_mels): they carry no information."));
    }
    let live: Vec<f64> = stds.iter().copied().filter(|s| *s >= 1e-6).collect();
    let (smin, smax) = live
        .iter()
        .fold((f64::INFINITY, 0f64), |(a, b), &s| (a.min(s), b.max(s)));
    let spread = smax / smin.max(1e-12);
    if cfg.normalize.method == NormMethod::None && spread > 100.0 {
        out.push(finding("scaling.unnormalized", Verdict::Fail, 6.5, format!("features are not normalized and their scales differ {spread:.0}-fold"), format!("per-row std from {smin:.3e} to {smax:.3e}"), "Set [normalize] method = \"standard\" (fitted on the training split) so no feature drowns the others."));
    } else {
        out.push(ok(
            "scaling.unnormalized",
            "feature scales are normalized or comparable",
            format!(
                "method {:?}, raw per-row std {smin:.3e} to {smax:.3e}",
                cfg.normalize.method
            ),
        ));
    }
    out
}

/// Checks of the architecture against the input.
pub fn arch_checks(
    net: &NetSummary,
    clip_frames: usize,
    hop_seconds: f64,
    n_train: usize,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if net.frames_before_head <= 2 && clip_frames >= 16 {
        out.push(finding("architecture.pooling", Verdict::Warn, 4.5, format!("time is pooled from {clip_frames} frames to {} before the head", net.frames_before_head), format!("layers: {}", net.layers.iter().map(|l| format!("{}→{}", l.name, l.out_frames)).collect::<Vec<_>>().join(", ")), "Use less pooling (pool = 1 or 2 in fewer blocks) so the order of events in time survives to the head."));
    } else {
        out.push(ok(
            "architecture.pooling",
            "the time axis survives to the head",
            format!("{clip_frames} → {} frames", net.frames_before_head),
        ));
    }
    let rf = net.receptive_field_frames;
    if (rf as f64) < 0.1 * clip_frames as f64 {
        out.push(finding(
            "architecture.receptive_field",
            Verdict::Warn,
            2.0,
            format!(
                "the receptive field ({rf} frames, {:.3} s) covers under a tenth of a clip",
                net.receptive_field_seconds(hop_seconds)
            ),
            format!("clip {clip_frames} frames"),
            "Add a block, larger kernels or dilation so a unit sees a whole event.",
        ));
    } else {
        out.push(ok(
            "architecture.receptive_field",
            "the receptive field fits the clip",
            format!(
                "{rf} frames ({:.3} s) for {clip_frames}-frame clips",
                net.receptive_field_seconds(hop_seconds)
            ),
        ));
    }
    if net.params > 1000 * n_train.max(1) {
        out.push(finding(
            "architecture.parameters",
            Verdict::Warn,
            1.5,
            format!("{} parameters for {n_train} training clips", net.params),
            format!(
                "{:.0} parameters per clip",
                net.params as f64 / n_train.max(1) as f64
            ),
            "Use fewer filters or blocks, or more data and augmentation.",
        ));
    }
    out
}

/// Checks of a finished fold.
pub fn result_checks(f: &FoldResult, n_classes: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    let t = &f.test;
    let base = t.chance.max(t.majority_baseline);
    let correct = (t.accuracy * t.n as f64).round() as usize;
    let [lo, hi] = wilson(correct, t.n);
    if lo <= base {
        out.push(finding(
            "result.chance",
            Verdict::Fail,
            1.0,
            format!(
                "test accuracy {} is not better than chance",
                pct(t.accuracy)
            ),
            format!(
                "95% CI {} to {}; chance {}, majority class {}, balanced accuracy {}",
                pct(lo),
                pct(hi),
                pct(t.chance),
                pct(t.majority_baseline),
                pct(t.balanced_accuracy)
            ),
            "Read the findings below: the first failing one is the most likely cause.",
        ));
    } else {
        out.push(ok(
            "result.chance",
            "better than chance",
            format!(
                "accuracy {} (95% CI {} to {}) vs chance {} and majority {}",
                pct(t.accuracy),
                pct(lo),
                pct(hi),
                pct(t.chance),
                pct(t.majority_baseline)
            ),
        ));
    }
    // Collapse onto one or two classes.
    let mut pred_counts: Vec<usize> = (0..n_classes)
        .map(|c| t.confusion.iter().map(|r| r[c]).sum())
        .collect();
    pred_counts.sort_unstable_by(|a, b| b.cmp(a));
    let top = pred_counts[0] as f64 / t.n.max(1) as f64;
    let top2 =
        (pred_counts[0] + pred_counts.get(1).copied().unwrap_or(0)) as f64 / t.n.max(1) as f64;
    let true_top = t.majority_baseline;
    if n_classes >= 3 && (top > (true_top + 0.3).min(0.8) || (n_classes >= 5 && top2 > 0.8)) {
        out.push(finding("result.collapse", Verdict::Fail, 8.0, format!("predictions collapse: {} of test files go to one class", pct(top)), format!("top class {}, top two {}", pct(top), pct(top2)), "Normalize the features, lower the learning rate, and check the labels; a collapsed model learnt only the class prior."));
    }
    let ln_k = (n_classes as f64).ln();
    if let Some(last) = f.history.last() {
        if last.train_loss > 0.9 * ln_k && n_classes >= 2 {
            out.push(finding("optimization.stuck_loss", Verdict::Fail, 8.5, format!("training loss {:.3} stays near ln({n_classes}) = {ln_k:.3}", last.train_loss), format!("first epoch {:.3}, last {:.3}", f.history[0].train_loss, last.train_loss), "The model learns nothing: check normalization and labels, then try a learning rate 10x lower and 10x higher."));
        }
        let first = &f.history[0];
        let rising = f.history.len() >= 3 && last.train_loss > first.train_loss * 1.1;
        if rising {
            out.push(finding(
                "optimization.lr_too_high",
                Verdict::Fail,
                7.5,
                format!(
                    "training loss rose from {:.3} to {:.3}",
                    first.train_loss, last.train_loss
                ),
                format!("lr {:.2e} at the end", last.lr),
                "Lower train.lr by 10x (and keep gradient clipping on).",
            ));
        }
        if let (Some(va), tr) = (last.val_accuracy, last.train_accuracy) {
            let best_val = f
                .history
                .iter()
                .filter_map(|e| e.val_accuracy)
                .fold(0f64, f64::max);
            if tr > 0.9 && best_val < 2.0 / n_classes as f64 {
                out.push(finding("labels.memorized", Verdict::Fail, 9.0, format!("training accuracy {} but validation stays near chance ({})", pct(tr), pct(best_val)), format!("last validation accuracy {}", pct(va)), "The model memorises labels that do not follow the sound: check that labels match the files (regex, manifest order)."));
            } else if tr - best_val > 0.3 {
                out.push(finding("fit.overfitting", Verdict::Warn, 3.0, format!("training accuracy {} vs best validation {}", pct(tr), pct(best_val)), format!("gap {}", pct(tr - best_val)), "Add augmentation, dropout or weight decay, or use a smaller network; check that validation groups are like test groups."));
            } else if tr < 0.6 && best_val < 0.6 {
                out.push(finding(
                    "fit.underfitting",
                    Verdict::Warn,
                    3.0,
                    format!(
                        "training accuracy {} and validation {} are both low",
                        pct(tr),
                        pct(best_val)
                    ),
                    format!("after {} epochs", f.history.len()),
                    "Train longer, raise the learning rate, or use a larger network.",
                ));
            }
        }
    }
    out
}

/// Results of the short probes run by `doctor`.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct Probes {
    /// Linear probe (softmax regression on mean and std of each feature) train and test accuracy.
    pub linear: Option<(f64, f64)>,
    /// Final accuracy when overfitting one batch, and its loss curve.
    pub overfit_batch: Option<(f64, Vec<f64>)>,
    /// Per learning rate: first and last training loss of a short run.
    pub lr_sweep: Vec<(f64, f64, f64)>,
    /// What was run, in words.
    pub notes: Vec<String>,
}

/// Probe findings. `features_healthy`: the feature checks found the
/// features spectral, normalized and informative-looking, so a probe at
/// chance points at the labels rather than at the representation.
pub fn probe_checks(pr: &Probes, n_classes: usize, features_healthy: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let chance = 1.0 / n_classes as f64;
    if let Some((tr, te)) = pr.linear {
        let evidence = format!(
            "linear probe on per-row mean and std: train {}, held-out {}, chance {}",
            pct(tr),
            pct(te),
            pct(chance)
        );
        if te < (1.5 * chance).max(chance + 0.05) {
            if features_healthy {
                out.push(finding("labels.no_signal", Verdict::Fail, 9.5, format!("the labels do not follow the audio: a linear probe on healthy features is at chance ({})", pct(te)), evidence, "Check that the label source picks the class (data.label regex, folder, manifest rows in the right order) and that files were not renamed or shuffled."));
            } else {
                out.push(finding("representation.no_information", Verdict::Fail, 7.0, format!("a linear probe on the features is near chance on held-out files ({})", pct(te)), evidence, "The features carry no class information as configured: use MFCC or log-mel features with a sensible fmin/fmax and normalization."));
            }
        } else {
            out.push(ok(
                "labels.no_signal",
                "a linear probe finds the labels in the features",
                evidence,
            ));
        }
    }
    if let Some((acc, losses)) = &pr.overfit_batch {
        if *acc < 0.99 {
            out.push(finding("optimization.cannot_overfit", Verdict::Fail, 8.0, format!("the network cannot even fit one batch ({} accuracy)", pct(*acc)), format!("loss {:.3} → {:.3}", losses.first().copied().unwrap_or(f64::NAN), losses.last().copied().unwrap_or(f64::NAN)), "Fix the model or the learning rate before the data: a healthy network memorises one small batch."));
        } else {
            out.push(ok(
                "optimization.cannot_overfit",
                "the network fits one small batch",
                format!("accuracy {} after {} steps", pct(*acc), losses.len()),
            ));
        }
    }
    out
}

/// Whether the feature findings leave the features looking healthy.
pub fn features_healthy(findings: &[Finding]) -> bool {
    !findings.iter().any(|f| {
        f.verdict != Verdict::Ok
            && (f.id.starts_with("scaling.") || f.id.starts_with("representation."))
    })
}

/// Runs the probes on the first fold within `budget_s` seconds (checked between probes).
pub fn run_probes(
    cfg: &Config,
    train: &MData,
    test: &MData,
    n_classes: usize,
    budget_s: f64,
) -> Probes {
    let t0 = Instant::now();
    let mut pr = Probes::default();
    match cochlea_model::linear_probe(train, test, n_classes, cfg.train.seed) {
        Ok(r) => {
            pr.linear = Some(r);
            pr.notes.push(format!("linear probe: softmax regression on the mean and std of every feature row, {} train / {} held-out clips", train.len(), test.len()));
        }
        Err(e) => pr.notes.push(format!("linear probe failed: {e}")),
    }
    if t0.elapsed().as_secs_f64() < budget_s {
        let n = train.len().min(32);
        let per = train.n_features * train.n_frames;
        let batch = MData::new(
            train.x[..n * per].to_vec(),
            train.y[..n].to_vec(),
            train.n_features,
            train.n_frames,
        );
        if let Ok(batch) = batch {
            match cochlea_model::overfit_one_batch(
                &cfg.model,
                &batch,
                n_classes,
                150,
                cfg.train.seed,
            ) {
                Ok(r) => {
                    pr.overfit_batch = Some((r.final_accuracy, r.losses));
                    pr.notes
                        .push(format!("overfit one batch: {n} clips, 150 Adam steps"));
                }
                Err(e) => pr
                    .notes
                    .push(format!("overfit-one-batch probe failed: {e}")),
            }
        }
    } else {
        pr.notes
            .push("overfit-one-batch probe skipped: budget spent".into());
    }
    pr
}

/// Accuracy of predictions `proba` (`[n x k]`) against `y`.
pub fn accuracy(proba: &[f32], y: &[i64], k: usize) -> f64 {
    let correct = y
        .iter()
        .enumerate()
        .filter(|(i, t)| argmax(&proba[i * k..(i + 1) * k]) as i64 == **t)
        .count();
    correct as f64 / y.len().max(1) as f64
}

/// Markdown of findings.
pub fn markdown(f: &[Finding]) -> String {
    let mut s = String::new();
    for x in f {
        let mark = match x.verdict {
            Verdict::Fail => "FAIL",
            Verdict::Warn => "WARN",
            Verdict::Ok => "ok",
        };
        let _ = writeln!(
            s,
            "- **{mark}** `{}`: {}. Evidence: {}.{}",
            x.id,
            x.title,
            x.evidence,
            if x.fix.is_empty() {
                String::new()
            } else {
                format!(" Fix: {}", x.fix)
            }
        );
    }
    s
}

/// One short training run of the learning-rate sweep.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LrTrial {
    /// Learning rate.
    pub lr: f64,
    /// Training loss per epoch (empty when it diverged at once).
    pub losses: Vec<f64>,
    /// Why the run stopped, if it failed (divergence).
    pub error: Option<String>,
}

/// Trains a few epochs on a subset at `lr / 10`, `lr` and `lr * 10`.
pub fn lr_sweep(cfg: &Config, train: &MData, n_classes: usize, budget_s: f64) -> Vec<LrTrial> {
    let t0 = Instant::now();
    let n = train.len().min(512);
    let per = train.n_features * train.n_frames;
    let Ok(sub) = MData::new(
        train.x[..n * per].to_vec(),
        train.y[..n].to_vec(),
        train.n_features,
        train.n_frames,
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for factor in [1.0, 0.1, 10.0] {
        if t0.elapsed().as_secs_f64() > budget_s {
            break;
        }
        let mut tc = cfg.train.clone();
        tc.lr = cfg.train.lr * factor;
        tc.epochs = 4;
        tc.early_stopping = None;
        tc.scheduler = cochlea_model::Scheduler::None;
        let mut on_epoch = |_: &cochlea_model::EpochMetrics| cochlea_model::Control::Continue;
        let r = cochlea_model::train(
            &cfg.model,
            &tc,
            &cochlea_model::AugmentConfig::default(),
            n_classes,
            &sub,
            None,
            cochlea_model::TrainOptions::new(&mut on_epoch),
        );
        out.push(match r {
            Ok(o) => LrTrial {
                lr: tc.lr,
                losses: o.history.iter().map(|e| e.train_loss).collect(),
                error: None,
            },
            Err(e) => LrTrial {
                lr: tc.lr,
                losses: Vec::new(),
                error: Some(e.to_string()),
            },
        });
    }
    out
}

/// Findings of the learning-rate sweep; the first trial is the configured rate.
pub fn lr_checks(trials: &[LrTrial], n_classes: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(cur) = trials.first() else {
        return out;
    };
    let describe = || {
        trials
            .iter()
            .map(|t| match &t.error {
                Some(_) => format!("lr {:.0e}: diverged", t.lr),
                None => format!(
                    "lr {:.0e}: loss {:.3} → {:.3}",
                    t.lr,
                    t.losses.first().copied().unwrap_or(f64::NAN),
                    t.losses.last().copied().unwrap_or(f64::NAN)
                ),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let drop = |t: &LrTrial| match (t.losses.first(), t.losses.last()) {
        (Some(a), Some(b)) if t.error.is_none() && a.is_finite() && b.is_finite() => {
            (a - b) / a.max(1e-12)
        }
        _ => f64::NEG_INFINITY,
    };
    let ln_k = (n_classes as f64).ln();
    // Cross-entropy starts near ln(k); an epoch far above it means the
    // steps overshoot, even if batch norm keeps the run from exploding.
    let diverged =
        cur.error.is_some() || cur.losses.iter().any(|&l| !l.is_finite() || l > ln_k * 1.5);
    if diverged || drop(cur) < -0.05 {
        out.push(finding(
            "optimization.lr_too_high",
            Verdict::Fail,
            8.5,
            format!("at lr {:.0e} the training loss diverges or rises", cur.lr),
            describe(),
            "Lower train.lr by 10x (and keep gradient clipping on).",
        ));
        return out;
    }
    if drop(cur) < 0.03 {
        out.push(finding(
            "optimization.lr_too_low",
            Verdict::Warn,
            5.5,
            format!(
                "at lr {:.0e} the training loss hardly moves in 4 epochs",
                cur.lr
            ),
            describe(),
            "Raise train.lr (try 10x; 1e-3 suits Adam) or train for more epochs.",
        ));
        return out;
    }
    out.push(ok(
        "optimization.learning_rate",
        "the configured learning rate makes progress",
        describe(),
    ));
    out
}

/// What `pipeline doctor` found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DoctorReport {
    /// Findings, most likely cause first.
    pub findings: Vec<Finding>,
    /// Probes run and their raw results.
    pub probes: Probes,
    /// Learning-rate sweep.
    pub lr_sweep: Vec<LrTrial>,
    /// Seconds spent.
    pub seconds: f64,
}

/// Audits the data, features and architecture of `cfg`, then runs short
/// probes within `budget_s` seconds (none when `probes` is false).
pub fn diagnose(
    cfg: &Config,
    quiet: bool,
    budget_s: f64,
    probes: bool,
) -> Result<DoctorReport, crate::Error> {
    let t0 = Instant::now();
    let crate::prepare::Setup { p, folds, frames } = crate::prepare::setup(cfg, quiet)?;
    let mut findings = data_checks(cfg, &p, &folds);
    findings.extend(feature_checks(cfg, &p, &folds));
    let k = p.classes.len();
    let net = cfg.model.validate(p.extractor.n_rows(), frames, k)?;
    findings.extend(arch_checks(
        &net,
        frames,
        p.summary.hop_seconds,
        folds[0].train.len(),
    ));
    let mut pr = Probes::default();
    let mut sweep = Vec::new();
    if probes {
        let fi = crate::prepare::fold_inputs(cfg, &p, &folds[0], frames)?;
        let held_out = fi.val.as_ref().unwrap_or(&fi.test);
        let left = |t: &Instant| (budget_s - t.elapsed().as_secs_f64()).max(0.0);
        pr = run_probes(cfg, &fi.train, held_out, k, left(&t0));
        let healthy = features_healthy(&findings);
        findings.extend(probe_checks(&pr, k, healthy));
        if left(&t0) > 0.0 {
            sweep = lr_sweep(cfg, &fi.train, k, left(&t0));
            pr.notes.push(format!("learning-rate sweep: {} short runs (4 epochs on up to 512 training clips) at the configured rate, 10x lower and 10x higher", sweep.len()));
            findings.extend(lr_checks(&sweep, k));
        } else {
            pr.notes
                .push("learning-rate sweep skipped: budget spent".into());
        }
    }
    Ok(DoctorReport {
        findings: rank(dedupe(findings)),
        probes: pr,
        lr_sweep: sweep,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::evaluate;
    use crate::normalize::Normalizer;
    use cochlea_model::EpochMetrics;

    const K: usize = 10;

    /// A fold whose test predictions are `pred[i]` for truth `i % K`, with a
    /// history of (train loss, train acc, val acc) per epoch.
    fn fold(pred: impl Fn(usize) -> usize, history: &[(f64, f64, f64)]) -> FoldResult {
        let classes: Vec<String> = (0..K).map(|c| c.to_string()).collect();
        let n = 200;
        let truth: Vec<usize> = (0..n).map(|i| i % K).collect();
        let mut proba = vec![0.01f32; n * K];
        for i in 0..n {
            proba[i * K + pred(i)] = 0.91;
        }
        let net: NetSummary = serde_json::from_value(serde_json::json!({
            "layers": [], "params": 10000, "receptive_field_frames": 20, "frames_before_head": 20
        }))
        .unwrap();
        FoldResult {
            name: "main".into(),
            sizes: [400, 50, n],
            groups: [vec![], vec![], vec![]],
            test: evaluate(&classes, &truth, &proba),
            history: history
                .iter()
                .enumerate()
                .map(|(e, &(loss, tr, va))| EpochMetrics {
                    epoch: e + 1,
                    train_loss: loss,
                    train_accuracy: tr,
                    val_loss: Some(loss),
                    val_accuracy: Some(va),
                    lr: 1e-3,
                    seconds: 1.0,
                })
                .collect(),
            best_epoch: history.len(),
            stopped_early: false,
            net,
            bundle: "model".into(),
            normalizer: Normalizer::fit(NormMethod::Standard, 1, &[], String::new()),
            train_seconds: 1.0,
            member_accuracy: Vec::new(),
        }
    }

    fn first_problem(f: &FoldResult) -> Option<String> {
        rank(result_checks(f, K))
            .into_iter()
            .find(|x| x.verdict != Verdict::Ok)
            .map(|x| x.id)
    }

    #[test]
    fn healthy_result_raises_nothing() {
        let f = fold(
            |i| if i % 20 == 0 { (i + 1) % K } else { i % K },
            &[(1.5, 0.6, 0.6), (0.3, 0.95, 0.93)],
        );
        assert_eq!(first_problem(&f), None);
    }

    #[test]
    fn chance_level_is_a_finding() {
        let f = fold(|i| (i * 7 + i / K) % K, &[(2.0, 0.5, 0.4), (1.0, 0.7, 0.5)]);
        assert!(f.test.accuracy < 0.2);
        assert!(
            rank(result_checks(&f, K))
                .iter()
                .any(|x| x.id == "result.chance" && x.verdict == Verdict::Fail)
        );
    }

    #[test]
    fn collapse_onto_one_class_comes_first() {
        let f = fold(|_| 3, &[(2.2, 0.12, 0.1), (2.1, 0.15, 0.1)]);
        assert_eq!(
            first_problem(&f).as_deref(),
            Some("optimization.stuck_loss")
        );
        assert!(
            result_checks(&f, K)
                .iter()
                .any(|x| x.id == "result.collapse")
        );
        let g = fold(|_| 3, &[(1.9, 0.3, 0.1), (1.5, 0.5, 0.1)]);
        assert_eq!(first_problem(&g).as_deref(), Some("result.collapse"));
    }

    #[test]
    fn memorised_labels_are_named() {
        let f = fold(|i| (i * 3 + 1) % K, &[(2.0, 0.3, 0.1), (0.05, 0.99, 0.12)]);
        assert_eq!(first_problem(&f).as_deref(), Some("labels.memorized"));
    }

    #[test]
    fn overfitting_and_underfitting_are_told_apart() {
        let over = fold(
            |i| if i % 3 == 0 { (i + 1) % K } else { i % K },
            &[(1.0, 0.7, 0.5), (0.05, 0.99, 0.6)],
        );
        assert_eq!(first_problem(&over).as_deref(), Some("fit.overfitting"));
        let under = fold(
            |i| if i % 2 == 0 { (i + 1) % K } else { i % K },
            &[(1.9, 0.3, 0.3), (1.4, 0.45, 0.4)],
        );
        assert_eq!(first_problem(&under).as_deref(), Some("fit.underfitting"));
    }

    #[test]
    fn rising_loss_means_the_learning_rate_is_too_high() {
        let f = fold(
            |i| if i % 2 == 0 { (i + 1) % K } else { i % K },
            &[(1.2, 0.5, 0.5), (1.6, 0.5, 0.5), (1.9, 0.45, 0.4)],
        );
        assert_eq!(
            first_problem(&f).as_deref(),
            Some("optimization.lr_too_high")
        );
    }

    #[test]
    fn lr_sweep_findings() {
        let t = |lr: f64, losses: &[f64]| LrTrial {
            lr,
            losses: losses.to_vec(),
            error: None,
        };
        let id = |v: Vec<Finding>| v.into_iter().next().map(|f| f.id);
        assert_eq!(
            id(lr_checks(&[t(1e-3, &[2.0, 1.0, 0.5, 0.3])], K)).as_deref(),
            Some("optimization.learning_rate")
        );
        assert_eq!(
            id(lr_checks(&[t(1e-7, &[2.3, 2.3, 2.29, 2.29])], K)).as_deref(),
            Some("optimization.lr_too_low")
        );
        assert_eq!(
            id(lr_checks(&[t(5.0, &[4.8, 3.3, 3.2, 3.0])], K)).as_deref(),
            Some("optimization.lr_too_high")
        );
        let diverged = LrTrial {
            lr: 10.0,
            losses: vec![],
            error: Some("loss is NaN".into()),
        };
        assert_eq!(
            id(lr_checks(&[diverged], K)).as_deref(),
            Some("optimization.lr_too_high")
        );
    }
}
