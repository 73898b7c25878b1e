//! Checks of a finished fold: the test result against chance, collapsed
//! predictions, and the training history (stuck or rising loss, memorised
//! labels, over- and under-fitting).

use super::{Check, Finding, pct};
use crate::metrics::wilson;
use crate::results::FoldResult;

/// `result.collapse`: the top predicted class's share may exceed the largest
/// true class share by at most this ...
pub const COLLAPSE_EXCESS: f64 = 0.3;
/// ... and never reach this share.
pub const COLLAPSE_CAP: f64 = 0.8;
/// `optimization.stuck_loss`: final training loss above this fraction of
/// ln(k), the loss of a uniform guess.
pub const STUCK_LOSS: f64 = 0.9;
/// `optimization.lr_too_high` (history): the last loss exceeds the first by
/// this factor, after at least [`RISING_MIN_EPOCHS`] epochs.
pub const RISING_FACTOR: f64 = 1.1;
/// Epochs needed before a rising loss counts.
pub const RISING_MIN_EPOCHS: usize = 3;
/// `labels.memorized`: training accuracy above this ...
pub const MEMORIZED_TRAIN: f64 = 0.9;
/// `fit.overfitting`: training accuracy above the best validation by more
/// than this.
pub const OVERFIT_GAP: f64 = 0.3;
/// `fit.underfitting`: training and validation accuracy both below this.
pub const UNDERFIT_ACCURACY: f64 = 0.6;

/// Checks of a finished fold.
pub fn result_checks(f: &FoldResult, n_classes: usize) -> Vec<Finding> {
    let mut out = vec![chance(f)];
    out.extend(collapse(f, n_classes));
    out.extend(history(f, n_classes));
    out
}

fn chance(f: &FoldResult) -> Finding {
    let t = &f.test;
    let base = t.chance.max(t.majority_baseline);
    let correct = (t.accuracy * t.n as f64).round() as usize;
    let [lo, hi] = wilson(correct, t.n);
    if lo <= base {
        Check::ResultChance.fail(
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
        )
    } else {
        Check::ResultChance.ok(
            "better than chance",
            format!(
                "accuracy {} (95% CI {} to {}) vs chance {} and majority {}",
                pct(t.accuracy),
                pct(lo),
                pct(hi),
                pct(t.chance),
                pct(t.majority_baseline)
            ),
        )
    }
}

/// Predictions collapsed onto one or two classes.
fn collapse(f: &FoldResult, n_classes: usize) -> Option<Finding> {
    let t = &f.test;
    let mut pred_counts: Vec<usize> = (0..n_classes)
        .map(|c| t.confusion.iter().map(|r| r[c]).sum())
        .collect();
    pred_counts.sort_unstable_by(|a, b| b.cmp(a));
    let n = t.n.max(1) as f64;
    let top = pred_counts[0] as f64 / n;
    let top2 = (pred_counts[0] + pred_counts.get(1).copied().unwrap_or(0)) as f64 / n;
    let true_top = t.majority_baseline;
    let collapsed = n_classes >= 3
        && (top > (true_top + COLLAPSE_EXCESS).min(COLLAPSE_CAP)
            || (n_classes >= 5 && top2 > COLLAPSE_CAP));
    collapsed.then(|| {
        Check::ResultCollapse.fail(
            format!(
                "predictions collapse: {} of test files go to one class",
                pct(top)
            ),
            format!("top class {}, top two {}", pct(top), pct(top2)),
        )
    })
}

/// Checks of the training history.
fn history(f: &FoldResult, n_classes: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    let (Some(first), Some(last)) = (f.history.first(), f.history.last()) else {
        return out;
    };
    let ln_k = (n_classes as f64).ln();
    if last.train_loss > STUCK_LOSS * ln_k && n_classes >= 2 {
        out.push(Check::StuckLoss.fail(
            format!(
                "training loss {:.3} stays near ln({n_classes}) = {ln_k:.3}",
                last.train_loss
            ),
            format!(
                "first epoch {:.3}, last {:.3}",
                first.train_loss, last.train_loss
            ),
        ));
    }
    let rising =
        f.history.len() >= RISING_MIN_EPOCHS && last.train_loss > first.train_loss * RISING_FACTOR;
    if rising {
        out.push(Check::LrTooHigh.fail(
            format!(
                "training loss rose from {:.3} to {:.3}",
                first.train_loss, last.train_loss
            ),
            format!("lr {:.2e} at the end", last.lr),
        ));
    }
    let (Some(va), tr) = (last.val_accuracy, last.train_accuracy) else {
        return out;
    };
    let best_val = f
        .history
        .iter()
        .filter_map(|e| e.val_accuracy)
        .fold(0f64, f64::max);
    if tr > MEMORIZED_TRAIN && best_val < 2.0 / n_classes as f64 {
        out.push(Check::Memorized.fail(
            format!(
                "training accuracy {} but validation stays near chance ({})",
                pct(tr),
                pct(best_val)
            ),
            format!("last validation accuracy {}", pct(va)),
        ));
    } else if tr - best_val > OVERFIT_GAP {
        out.push(Check::Overfitting.warn(
            format!(
                "training accuracy {} vs best validation {}",
                pct(tr),
                pct(best_val)
            ),
            format!("gap {}", pct(tr - best_val)),
        ));
    } else if tr < UNDERFIT_ACCURACY && best_val < UNDERFIT_ACCURACY {
        out.push(Check::Underfitting.warn(
            format!(
                "training accuracy {} and validation {} are both low",
                pct(tr),
                pct(best_val)
            ),
            format!("after {} epochs", f.history.len()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NormMethod;
    use crate::doctor::{Verdict, rank};
    use crate::metrics::evaluate;
    use crate::normalize::Normalizer;
    use cochlea_model::EpochMetrics;
    use cochlea_model::NetSummary;

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
}
