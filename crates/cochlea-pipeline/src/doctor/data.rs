//! Checks on the data before any feature or model: class sizes, formats,
//! durations, silent and clipped clips, and whether the labels look like
//! classes. The split is checked in [`super::leakage`].

use std::collections::{BTreeMap, HashSet};

use cochlea_model::ClassWeights;

use super::{Check, Finding, leakage, pct};
use crate::config::Config;
use crate::metrics::wilson;
use crate::prepare::Prepared;
use crate::split::Fold;

/// `data.imbalance`: largest/smallest class size above which unweighted
/// training is warned about.
pub const IMBALANCE_RATIO: f64 = 3.0;
/// `data.few_examples`: a class with fewer files than this.
pub const FEW_EXAMPLES: usize = 10;
/// `data.duration_shortcut`: fires when the 95 % lower bound of the
/// duration-only accuracy is more than this fraction of the way from the
/// majority class to perfect (2 balanced classes: 75 %, 10: 55 %, 50: 51 %).
pub const DURATION_FRACTION: f64 = 0.5;
/// `data.mixed_formats`: fires when the 95 % lower bound of the format-only
/// accuracy (leave-one-out) is more than this fraction of the way from the
/// majority class to perfect (2 balanced classes: 62.5 %, 10: 32.5 %,
/// 50: 26.5 %).
pub const FORMAT_FRACTION: f64 = 0.25;
/// `data.silence_clipping`: a clip is silent when this fraction of its
/// 25 ms blocks is below -60 dBFS ...
pub const SILENT_FRACTION: f32 = 0.9;
/// ... or its peak is below this.
pub const SILENT_PEAK: f32 = 1e-4;
/// A clip is clipped when this fraction of its samples sits at full scale.
pub const CLIPPED_FRACTION: f32 = 0.01;
/// Fires when silent or clipped clips exceed this share of the data.
pub const SILENCE_CLIPPING_SHARE: f64 = 0.05;
/// `labels.source`: more classes than this fraction of the files.
pub const CLASSES_PER_FILE: f64 = 0.5;

/// Checks on the data and the split, before any feature or model.
pub fn data_checks(cfg: &Config, p: &Prepared, folds: &[Fold]) -> Vec<Finding> {
    let mut out = vec![
        imbalance(cfg, p),
        few_examples(p),
        mixed_formats(cfg, p),
        duration_shortcut(p),
        silence_clipping(p),
    ];
    out.extend(non_finite(p));
    out.extend(leakage::leakage_checks(cfg, p, folds));
    out.push(label_source(cfg, p));
    out
}

fn imbalance(cfg: &Config, p: &Prepared) -> Finding {
    let counts = &p.summary.counts;
    let present = counts.iter().copied().filter(|&c| c > 0);
    let lo = present.clone().min().unwrap_or(0);
    let hi = present.max().unwrap_or(0);
    let ratio = hi as f64 / lo.max(1) as f64;
    let weights_on = !matches!(cfg.train.class_weights, ClassWeights::None);
    if ratio > IMBALANCE_RATIO && !weights_on {
        Check::Imbalance.warn(
            format!("classes are imbalanced {ratio:.1} to 1 and class weights are off"),
            format!("largest class {hi} files, smallest {lo}"),
        )
    } else {
        Check::Imbalance.ok(
            "class sizes are balanced or weighted",
            format!(
                "largest/smallest = {ratio:.1}, class weights {}",
                if weights_on { "on" } else { "off" }
            ),
        )
    }
}

fn few_examples(p: &Prepared) -> Finding {
    let counts = &p.summary.counts;
    let small: Vec<String> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c < FEW_EXAMPLES)
        .map(|(i, c)| format!("{} ({c})", p.classes[i]))
        .collect();
    if small.is_empty() {
        let lo = counts.iter().copied().filter(|&c| c > 0).min().unwrap_or(0);
        Check::FewExamples.ok(
            format!("every class has at least {FEW_EXAMPLES} files"),
            format!("smallest class {lo}"),
        )
    } else {
        Check::FewExamples.warn(
            format!(
                "{} classes have fewer than {FEW_EXAMPLES} files",
                small.len()
            ),
            small.join(", "),
        )
    }
}

/// The class share of the largest class.
fn majority(p: &Prepared) -> f64 {
    let hi = p.summary.counts.iter().copied().max().unwrap_or(0);
    hi as f64 / p.items.len().max(1) as f64
}

/// A file's format: source sample rate, channels and container.
fn format_of(p: &Prepared, i: usize) -> String {
    let info = &p.extracted[i].info;
    let ext = p.items[i]
        .path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    format!("{} Hz/{} ch/{ext}", info.source_sample_rate, info.channels)
}

/// Leave-one-out accuracy of "the majority class of the other files of the
/// same format" (the overall majority when the format has no other file):
/// near the majority share when the format says nothing about the class.
pub fn format_accuracy(formats: &[String], labels: &[usize], n_classes: usize) -> f64 {
    let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut all = vec![0usize; n_classes];
    for (f, &l) in formats.iter().zip(labels) {
        by.entry(f.as_str()).or_insert_with(|| vec![0; n_classes])[l] += 1;
        all[l] += 1;
    }
    // Ties go to the lowest class, as argmax does.
    let best = |c: &[usize]| (0..c.len()).rev().max_by_key(|&i| c[i]);
    let correct = formats
        .iter()
        .zip(labels)
        .filter(|(f, l)| {
            let mut c = by[f.as_str()].clone();
            c[**l] -= 1;
            let guess = if c.iter().sum::<usize>() == 0 {
                let mut a = all.clone();
                a[**l] -= 1;
                best(&a)
            } else {
                best(&c)
            };
            guess == Some(**l)
        })
        .count();
    correct as f64 / formats.len().max(1) as f64
}

fn mixed_formats(cfg: &Config, p: &Prepared) -> Finding {
    let s = &p.summary;
    let formats: Vec<String> = (0..p.items.len()).map(|i| format_of(p, i)).collect();
    let kinds: HashSet<&str> = formats.iter().map(String::as_str).collect();
    let mixed = format!(
        "rates {:?}, channels {:?}, {} formats; all are resampled to {} Hz and downmixed",
        s.sample_rates,
        s.channels,
        kinds.len(),
        cfg.data.sample_rate
    );
    if kinds.len() < 2 {
        return Check::MixedFormats.ok("one file format", mixed);
    }
    let labels: Vec<usize> = p.items.iter().map(|it| it.label).collect();
    let acc = format_accuracy(&formats, &labels, p.classes.len());
    let n = formats.len();
    let [lo, hi] = wilson((acc * n as f64).round() as usize, n);
    let m = majority(p);
    let limit = m + FORMAT_FRACTION * (1.0 - m);
    let evidence = format!(
        "{mixed}; the format alone predicts the class {} of the time (95% CI {} to {}, \
         leave-one-out, {n} files) vs the majority class {}",
        pct(acc),
        pct(lo),
        pct(hi),
        pct(m)
    );
    if lo > limit {
        Check::MixedFormats.fail(
            format!(
                "the file format gives the class away: format alone predicts it {} of the time",
                pct(acc)
            ),
            evidence,
        )
    } else {
        Check::MixedFormats.ok(
            "file formats are mixed but do not predict the class",
            evidence,
        )
    }
}

fn duration_shortcut(p: &Prepared) -> Finding {
    let dur_acc = duration_probe(p);
    let n = p.items.len();
    let [lo, hi] = wilson((dur_acc * n as f64).round() as usize, n);
    let m = majority(p);
    let limit = m + DURATION_FRACTION * (1.0 - m);
    let evidence = format!(
        "nearest-mean-duration classifier {} (95% CI {} to {}, {n} files) vs the majority \
         class {}",
        pct(dur_acc),
        pct(lo),
        pct(hi),
        pct(m)
    );
    if lo > limit {
        let means: Vec<String> = p
            .summary
            .durations
            .iter()
            .map(|d| format!("{:.2}s", d[1]))
            .collect();
        Check::DurationShortcut.warn(
            format!(
                "clip duration alone predicts the class {} of the time",
                pct(dur_acc)
            ),
            format!("{evidence}; per-class mean durations {}", means.join(" ")),
        )
    } else {
        Check::DurationShortcut.ok("duration does not give the class away", evidence)
    }
}

/// Accuracy of the nearest-mean-duration classifier on all files.
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

fn silence_clipping(p: &Prepared) -> Finding {
    let infos: Vec<_> = p.extracted.iter().map(|e| &e.info).collect();
    let silent = infos
        .iter()
        .filter(|i| i.silent_fraction > SILENT_FRACTION || i.peak < SILENT_PEAK)
        .count();
    let clipped = infos
        .iter()
        .filter(|i| i.clipped_fraction > CLIPPED_FRACTION)
        .count();
    let n = infos.len().max(1);
    let (s, c) = (silent as f64 / n as f64, clipped as f64 / n as f64);
    let evidence = format!("{silent} silent, {clipped} clipped of {n}");
    if s > SILENCE_CLIPPING_SHARE || c > SILENCE_CLIPPING_SHARE {
        Check::SilenceClipping.warn(
            format!(
                "{} of clips are mostly silence and {} are clipped",
                pct(s),
                pct(c)
            ),
            evidence,
        )
    } else {
        Check::SilenceClipping.ok("few silent or clipped clips", evidence)
    }
}

fn non_finite(p: &Prepared) -> Option<Finding> {
    let infos = p.extracted.iter().map(|e| &e.info);
    let nonfinite: u64 = infos.clone().map(|i| i.non_finite_replaced).sum();
    (nonfinite > 0).then(|| {
        Check::NonFinite.warn(
            "audio samples were NaN or infinite",
            format!(
                "{nonfinite} samples replaced by 0 in {} files",
                infos.filter(|i| i.non_finite_replaced > 0).count()
            ),
        )
    })
}

fn label_source(cfg: &Config, p: &Prepared) -> Finding {
    let n = p.items.len();
    let k = p.classes.len();
    if k as f64 > CLASSES_PER_FILE * n as f64 {
        let some: Vec<&str> = p.classes.iter().take(5).map(String::as_str).collect();
        return Check::LabelSource.fail(
            format!("{k} classes for {n} files: the label source picks something unique per file"),
            format!(
                "label source {:?}; e.g. classes {}",
                cfg.data.label,
                some.join(", ")
            ),
        );
    }
    if cfg.data.has_groups() {
        // Labels identical to groups: the regex picks the speaker, not the class.
        let mut pairs: BTreeMap<&str, HashSet<usize>> = BTreeMap::new();
        for it in &p.items {
            pairs.entry(it.group.as_str()).or_default().insert(it.label);
        }
        let one_label_per_group = pairs.values().all(|s| s.len() == 1);
        if one_label_per_group && pairs.len() >= 2 && k >= 2 && pairs.len() >= k {
            return Check::LabelSource.warn(
                "every group has exactly one label: the label may be the group (speaker), not \
                 the class",
                format!("{} groups, {k} classes", pairs.len()),
            );
        }
    }
    Check::LabelSource.ok(
        "labels look like classes",
        format!("{k} classes over {n} files"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formats(f: impl Fn(usize) -> &'static str, n: usize) -> Vec<String> {
        (0..n).map(|i| f(i).to_string()).collect()
    }

    #[test]
    fn a_format_independent_of_the_class_predicts_nothing() {
        // Two classes, formats assigned by file index, not by class.
        let labels: Vec<usize> = (0..96).map(|i| i % 2).collect();
        let f = formats(
            |i| ["16k/1/wav", "16k/2/flac", "22k/1/wav"][(i / 2) % 3],
            96,
        );
        let acc = format_accuracy(&f, &labels, 2);
        assert!(acc <= 0.55, "{acc}");
    }

    #[test]
    fn a_format_per_class_predicts_it() {
        let labels: Vec<usize> = (0..96).map(|i| i % 4).collect();
        let f = formats(|i| ["a", "b", "c", "d"][i % 4], 96);
        assert_eq!(format_accuracy(&f, &labels, 4), 1.0);
    }
}
