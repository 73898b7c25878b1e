//! The sections of a run's report, one builder each, in reading order:
//! summary, findings, confusion matrix, per class, learning curves,
//! misclassified files, data, model, timings.

use cochlea_model::EpochMetrics;

use super::model::{Block, Cell, Chart, Section, Table, Text};
use crate::doctor::Finding;
use crate::metrics::{self, ClassMetrics};
use crate::results::{DataSummary, Prediction, RunResult, mean_std};
use crate::svg::{self, PALETTE, Series};

/// Learning curves are drawn for at most this many folds.
const MAX_CURVE_FOLDS: usize = 10;

/// A percentage with two decimals.
fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// The one-line result: accuracy with its interval and the baselines.
pub fn headline(r: &RunResult) -> String {
    let [m, sd] = r.accuracy_mean_std;
    if r.folds.len() == 1 {
        let t = &r.folds[0].test;
        format!(
            "test accuracy {} (95% CI {} to {}) on {} files; balanced accuracy {}; macro F1 {:.3}; chance {}, majority class {}",
            pct(t.accuracy),
            pct(t.accuracy_ci95[0]),
            pct(t.accuracy_ci95[1]),
            t.n,
            pct(t.balanced_accuracy),
            t.macro_f1,
            pct(t.chance),
            pct(t.majority_baseline)
        )
    } else {
        format!(
            "mean test accuracy over {} folds {} ± {}; balanced accuracy {} ± {}; chance {}",
            r.folds.len(),
            pct(m),
            pct(sd),
            pct(r.balanced_accuracy_mean_std[0]),
            pct(r.balanced_accuracy_mean_std[1]),
            pct(r.folds[0].test.chance)
        )
    }
}

pub(super) fn summary(r: &RunResult) -> Section {
    let n = r.folds.len();
    let t0 = &r.folds[0].test;
    let pm = |[m, sd]: [f64; 2]| format!("{} ± {}", pct(m), pct(sd));
    let (accuracy, balanced) = if n > 1 {
        (pm(r.accuracy_mean_std), pm(r.balanced_accuracy_mean_std))
    } else {
        (pct(t0.accuracy), pct(t0.balanced_accuracy))
    };
    // Over several folds, each card is the mean and standard deviation of
    // the folds' values, as the accuracy is.
    let f1s: Vec<f64> = r.folds.iter().map(|f| f.test.macro_f1).collect();
    let macro_f1 = if n > 1 {
        let [m, sd] = mean_std(&f1s);
        format!("{m:.3} ± {sd:.3}")
    } else {
        format!("{:.3}", f1s[0])
    };
    let mut blocks = vec![
        Block::Cards(vec![
            ("test accuracy".into(), accuracy),
            ("balanced accuracy".into(), balanced),
            ("macro F1".into(), macro_f1),
            ("chance".into(), pct(t0.chance)),
            ("majority class".into(), pct(t0.majority_baseline)),
            (
                "test files".into(),
                r.folds.iter().map(|f| f.test.n).sum::<usize>().to_string(),
            ),
        ]),
        Block::Paragraph(Text::plain(headline(r))),
    ];
    if n > 1 {
        blocks.push(Block::Table(Table {
            caption: None,
            header: strings(&[
                "fold",
                "train",
                "val",
                "test",
                "test groups",
                "accuracy",
                "balanced",
                "best epoch",
            ]),
            rows: r
                .folds
                .iter()
                .map(|f| {
                    vec![
                        f.name.as_str().into(),
                        f.sizes[0].to_string().into(),
                        f.sizes[1].to_string().into(),
                        f.sizes[2].to_string().into(),
                        f.groups[2].join(" ").into(),
                        pct(f.test.accuracy).into(),
                        pct(f.test.balanced_accuracy).into(),
                        f.best_epoch.to_string().into(),
                    ]
                })
                .collect(),
        }));
    }
    if let Some(note) = members_note(r) {
        blocks.push(Block::Note(Text::plain(note)));
    }
    Section {
        id: "summary",
        title: "Summary".into(),
        blocks,
    }
}

/// For an ensemble: each member's test accuracy beside the ensemble's.
fn members_note(r: &RunResult) -> Option<String> {
    let with: Vec<_> = r
        .folds
        .iter()
        .filter(|f| !f.member_accuracy.is_empty())
        .collect();
    let n = with.first()?.member_accuracy.len();
    let parts: Vec<String> = with
        .iter()
        .map(|f| {
            let alone: Vec<String> = f.member_accuracy.iter().map(|&a| pct(a)).collect();
            let name = if r.folds.len() > 1 {
                format!("{}: ", f.name)
            } else {
                String::new()
            };
            format!(
                "{name}{} alone, {} together",
                alone.join(", "),
                pct(f.test.accuracy)
            )
        })
        .collect();
    Some(format!(
        "Ensemble of {n} networks (train.ensemble); test accuracy of each member {}.",
        parts.join("; ")
    ))
}

/// The findings section: problems first with evidence and fix, passed
/// checks in short.
pub(super) fn findings(findings: &[Finding]) -> Section {
    Section {
        id: "findings",
        title: "Findings".into(),
        blocks: vec![Block::Findings(findings.to_vec())],
    }
}

/// Confusion summed over folds.
pub(super) fn pooled_confusion(r: &RunResult) -> Vec<Vec<usize>> {
    let k = r.data.classes.len();
    let mut m = vec![vec![0usize; k]; k];
    for f in &r.folds {
        for (i, row) in f.test.confusion.iter().enumerate() {
            for (j, c) in row.iter().enumerate() {
                m[i][j] += c;
            }
        }
    }
    m
}

/// Precision, recall, F1 and support per class: of the one fold, or from
/// the confusion summed over all folds, so every test file counts once.
pub(super) fn pooled_per_class(r: &RunResult) -> Vec<ClassMetrics> {
    if r.folds.len() == 1 {
        r.folds[0].test.per_class.clone()
    } else {
        metrics::per_class(&r.data.classes, &pooled_confusion(r))
    }
}

pub(super) fn confusion(r: &RunResult) -> Section {
    let classes = &r.data.classes;
    let conf = pooled_confusion(r);
    let mut header = vec![String::new()];
    header.extend(classes.iter().cloned());
    let rows = conf
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut cells = vec![Cell::Text(Text::default().and_strong(&classes[i]))];
            cells.extend(row.iter().map(|c| Cell::from(c.to_string())));
            cells
        })
        .collect();
    let pooled = if r.folds.len() > 1 {
        format!("; counts pooled over {} folds", r.folds.len())
    } else {
        String::new()
    };
    let mut blocks = vec![Block::Note(Text::plain(format!(
        "Rows are true classes, columns predicted{pooled}."
    )))];
    blocks.push(Block::Chart(Chart {
        svgs: vec![svg::confusion(classes, &conf)],
        note: Some("Colour is the share of the row.".into()),
        data: Some(Table {
            caption: Some("Counts".into()),
            header,
            rows,
        }),
    }));
    Section {
        id: "confusion",
        title: "Confusion matrix".into(),
        blocks,
    }
}

pub(super) fn per_class(r: &RunResult) -> Section {
    let pc = pooled_per_class(r);
    let mut blocks = Vec::new();
    if r.folds.len() > 1 {
        blocks.push(Block::Note(Text::plain(format!(
            "Pooled over {} folds: computed from the confusion matrix summed over the folds, so every test file counts once.",
            r.folds.len()
        ))));
    }
    blocks.push(Block::Chart(Chart {
        svgs: vec![svg::bars(
            "Precision, recall and F1 per class",
            &r.data.classes,
            &[
                (
                    "precision",
                    PALETTE[0],
                    pc.iter().map(|c| c.precision).collect(),
                ),
                ("recall", PALETTE[1], pc.iter().map(|c| c.recall).collect()),
                ("F1", PALETTE[2], pc.iter().map(|c| c.f1).collect()),
            ],
        )],
        note: None,
        data: None,
    }));
    blocks.push(Block::Table(Table {
        caption: None,
        header: strings(&["class", "precision", "recall", "F1", "support"]),
        rows: pc
            .iter()
            .map(|c| {
                vec![
                    c.class.as_str().into(),
                    format!("{:.3}", c.precision).into(),
                    format!("{:.3}", c.recall).into(),
                    format!("{:.3}", c.f1).into(),
                    c.support.to_string().into(),
                ]
            })
            .collect(),
    }));
    Section {
        id: "per-class",
        title: "Per class".into(),
        blocks,
    }
}

pub(super) fn curves(r: &RunResult) -> Section {
    let many = r.folds.len() > 1;
    let mut blocks: Vec<Block> = r
        .folds
        .iter()
        .take(MAX_CURVE_FOLDS)
        .map(|f| {
            let suffix = if many {
                format!(" — {}", f.name)
            } else {
                String::new()
            };
            Block::Chart(Chart {
                svgs: curve_svgs(&f.history, &suffix),
                note: None,
                data: Some(epoch_table(&f.history, &suffix)),
            })
        })
        .collect();
    if r.folds.len() > MAX_CURVE_FOLDS {
        blocks.push(Block::Note(Text::plain(format!(
            "Curves of the first {MAX_CURVE_FOLDS} of {} folds.",
            r.folds.len()
        ))));
    }
    Section {
        id: "curves",
        title: "Learning curves".into(),
        blocks,
    }
}

/// Loss and accuracy charts of one training history.
fn curve_svgs(history: &[EpochMetrics], suffix: &str) -> Vec<String> {
    let pts = |g: &dyn Fn(&EpochMetrics) -> Option<f64>| -> Vec<(f64, f64)> {
        history
            .iter()
            .filter_map(|e| g(e).map(|v| (e.epoch as f64, v)))
            .collect()
    };
    let pair = |train: &dyn Fn(&EpochMetrics) -> Option<f64>,
                val: &dyn Fn(&EpochMetrics) -> Option<f64>| {
        [
            Series {
                name: "train",
                points: pts(train),
                color: PALETTE[0],
                dashed: false,
            },
            Series {
                name: "validation",
                points: pts(val),
                color: PALETTE[1],
                dashed: true,
            },
        ]
    };
    vec![
        svg::lines(
            &format!("Loss{suffix}"),
            "epoch",
            "cross-entropy",
            &pair(&|e| Some(e.train_loss), &|e| e.val_loss),
            None,
        ),
        svg::lines(
            &format!("Accuracy{suffix}"),
            "epoch",
            "accuracy",
            &pair(&|e| Some(e.train_accuracy), &|e| e.val_accuracy),
            Some((0.0, 1.0)),
        ),
    ]
}

fn epoch_table(history: &[EpochMetrics], suffix: &str) -> Table {
    let o = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.4}"));
    Table {
        caption: Some(format!("Epochs{suffix}")),
        header: strings(&[
            "epoch",
            "train loss",
            "train acc",
            "val loss",
            "val acc",
            "lr",
            "s",
        ]),
        rows: history
            .iter()
            .map(|e| {
                vec![
                    e.epoch.to_string().into(),
                    format!("{:.4}", e.train_loss).into(),
                    format!("{:.4}", e.train_accuracy).into(),
                    o(e.val_loss).into(),
                    o(e.val_accuracy).into(),
                    format!("{:.2e}", e.lr).into(),
                    format!("{:.2}", e.seconds).into(),
                ]
            })
            .collect(),
    }
}

pub(super) fn misclassified(preds: &[Prediction], limit: usize) -> Section {
    let mut wrong: Vec<&Prediction> = preds.iter().filter(|p| p.truth != p.predicted).collect();
    let n_wrong = wrong.len();
    wrong.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    wrong.truncate(limit);
    let mut blocks = vec![Block::Note(Text::plain(format!(
        "{} of {n_wrong} shown, most confident mistakes first.",
        wrong.len()
    )))];
    // With several folds, the fold (its model) that made the mistake.
    let folds = preds.iter().any(|p| p.fold != preds[0].fold);
    if !wrong.is_empty() {
        let mut header = vec!["file", "true", "predicted", "confidence"];
        if folds {
            header.insert(1, "fold");
        }
        blocks.push(Block::Table(Table {
            caption: None,
            header: strings(&header),
            rows: wrong
                .iter()
                .map(|p| {
                    let mut row = vec![
                        Text::code(p.path.display().to_string()).into(),
                        p.truth.as_str().into(),
                        p.predicted.as_str().into(),
                        format!("{:.3}", p.confidence).into(),
                    ];
                    if folds {
                        row.insert(1, p.fold.as_str().into());
                    }
                    row
                })
                .collect(),
        }));
    }
    Section {
        id: "misclassified",
        title: "Misclassified files".into(),
        blocks,
    }
}

pub(super) fn data(d: &DataSummary) -> Section {
    let joined = |v: Vec<String>| v.join(", ");
    let mut blocks = vec![Block::Paragraph(Text::plain(format!(
        "{} files found, {} used, {} skipped · {} groups · source sample rates {} · channels {} · {} features × {} frames per clip ({:.2} s) · {} of {} feature sets from the cache.",
        d.files_found,
        d.files_used,
        d.skipped.len(),
        d.n_groups,
        joined(
            d.sample_rates
                .iter()
                .map(|(k, v)| format!("{k} Hz: {v}"))
                .collect()
        ),
        joined(
            d.channels
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect()
        ),
        d.row_names.len(),
        d.clip_frames,
        d.clip_frames as f64 * d.hop_seconds,
        d.cache_hits,
        d.files_used
    )))];
    if let Some(n) = &d.noise {
        blocks.push(Block::Paragraph(Text::plain(format!(
            "Background noise: {} noisy copies ({} per clip) mixed from {} recordings of {} at {} to {} dB SNR; each fold trained on the copies of its training clips only, never validated or tested on one.",
            n.copies,
            n.copies_per_clip,
            n.recordings,
            n.dir.display(),
            n.snr_db[0],
            n.snr_db[1]
        ))));
    }
    let max_count = d.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    blocks.push(Block::Table(Table {
        caption: None,
        header: strings(&["class", "files", "", "min s", "mean s", "max s"]),
        rows: d
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let [lo, mean, hi] = d.durations[i];
                vec![
                    c.as_str().into(),
                    d.counts[i].to_string().into(),
                    Cell::Bar(d.counts[i] as f64 / max_count),
                    format!("{lo:.2}").into(),
                    format!("{mean:.2}").into(),
                    format!("{hi:.2}").into(),
                ]
            })
            .collect(),
    }));
    if !d.skipped.is_empty() {
        blocks.push(Block::List {
            title: "Skipped files".into(),
            items: d
                .skipped
                .iter()
                .map(|(p, why)| Text::code(p.display().to_string()).and(format!(": {why}")))
                .collect(),
        });
    }
    blocks.push(Block::Note(Text::plain(format!(
        "Feature rows: {}",
        d.row_names.join(", ")
    ))));
    Section {
        id: "data",
        title: "Data".into(),
        blocks,
    }
}

pub(super) fn model(r: &RunResult) -> Section {
    let net = &r.folds[0].net;
    let trained = if r.folds.len() == 1 {
        format!(
            "best epoch {} · trained {:.1} s",
            r.folds[0].best_epoch, r.folds[0].train_seconds
        )
    } else {
        format!(
            "trained {:.1} s over {} folds",
            r.folds.iter().map(|f| f.train_seconds).sum::<f64>(),
            r.folds.len()
        )
    };
    let mut blocks = vec![
        Block::Paragraph(Text::plain(format!(
            "{} parameters · receptive field {} frames ({:.3} s) · {} frames reach the head · {trained}",
            net.params,
            net.receptive_field_frames,
            net.receptive_field_seconds(r.data.hop_seconds),
            net.frames_before_head,
        ))),
        Block::Table(Table {
            caption: None,
            header: strings(&["layer", "channels", "frames", "params"]),
            rows: net
                .layers
                .iter()
                .map(|l| {
                    vec![
                        l.name.as_str().into(),
                        l.out_channels.to_string().into(),
                        l.out_frames.to_string().into(),
                        l.params.to_string().into(),
                    ]
                })
                .collect(),
        }),
    ];
    let deploy = match &r.final_model {
        Some(f) => Some(format!(
            "Deployable model: {} trained on all {} files for {} epochs ({}), {:.1} s; \
             its accuracy is estimated by the cross-validation above.",
            f.bundle.display(),
            f.files,
            f.epochs,
            f.epochs_rule,
            f.train_seconds
        )),
        None if r.folds.len() > 1 => Some(
            "One model per fold (folds/<fold>/model); set [train] final_model = true \
             for one model trained on all the data."
                .to_string(),
        ),
        None => None,
    };
    if let Some(text) = deploy {
        blocks.push(Block::Note(Text::plain(text)));
    }
    Section {
        id: "model",
        title: "Model".into(),
        blocks,
    }
}

pub(super) fn timings(r: &RunResult) -> Section {
    let short = |h: &str| h.get(..16).unwrap_or(h).to_string();
    Section {
        id: "timings",
        title: "Timings".into(),
        blocks: vec![
            Block::KeyValue(
                r.timings
                    .iter()
                    .map(|(k, v)| (k.clone(), format!("{v:.2} s")))
                    .collect(),
            ),
            Block::Note(
                Text::plain("config hash ")
                    .and_code(short(&r.config_hash))
                    .and(" · data hash ")
                    .and_code(short(&r.data_hash)),
            ),
        ],
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}
