//! Classification metrics of a test set, with the baselines a result must beat.

use serde::{Deserialize, Serialize};

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Of the files predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the files of this class, the fraction found.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Files of this class in the evaluated set.
    pub support: usize,
}

/// Metrics of one evaluated set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    /// Files evaluated.
    pub n: usize,
    /// Fraction correct.
    pub accuracy: f64,
    /// 95 % Wilson interval of the accuracy.
    pub accuracy_ci95: [f64; 2],
    /// Mean recall over classes present.
    pub balanced_accuracy: f64,
    /// Mean F1 over classes present.
    pub macro_f1: f64,
    /// 1 / number of classes.
    pub chance: f64,
    /// Accuracy of always predicting the most frequent class of this set.
    pub majority_baseline: f64,
    /// Per class, in class order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Mean cross-entropy of the predicted probabilities.
    pub log_loss: f64,
}

/// Computes metrics from true labels and predicted probabilities `[n x k]`.
pub fn evaluate(classes: &[String], truth: &[usize], proba: &[f32]) -> Metrics {
    let k = classes.len();
    let n = truth.len();
    let mut confusion = vec![vec![0usize; k]; k];
    let mut log_loss = 0.0;
    for (i, &t) in truth.iter().enumerate() {
        let p = &proba[i * k..(i + 1) * k];
        let pred = argmax(p);
        confusion[t][pred] += 1;
        log_loss -= f64::from(p[t].max(1e-12)).ln();
    }
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    let accuracy = ratio(correct, n);
    let per_class = per_class(classes, &confusion);
    let present: Vec<&ClassMetrics> = per_class.iter().filter(|c| c.support > 0).collect();
    let recall_sum: f64 = present.iter().map(|c| c.recall).sum();
    let f1_sum: f64 = present.iter().map(|c| c.f1).sum();
    let present = present.len();
    let majority = confusion
        .iter()
        .map(|r| r.iter().sum::<usize>())
        .max()
        .unwrap_or(0);
    Metrics {
        n,
        accuracy,
        accuracy_ci95: wilson(correct, n),
        balanced_accuracy: recall_sum / present.max(1) as f64,
        macro_f1: f1_sum / present.max(1) as f64,
        chance: 1.0 / k.max(1) as f64,
        majority_baseline: ratio(majority, n),
        per_class,
        confusion,
        log_loss: log_loss / n.max(1) as f64,
    }
}

/// Precision, recall, F1 and support of every class from a confusion matrix
/// (`confusion[true][predicted]`), in class order.
pub fn per_class(classes: &[String], confusion: &[Vec<usize>]) -> Vec<ClassMetrics> {
    let k = classes.len();
    (0..k)
        .map(|c| {
            let support: usize = confusion[c].iter().sum();
            let predicted: usize = (0..k).map(|t| confusion[t][c]).sum();
            let tp = confusion[c][c];
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMetrics {
                class: classes[c].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect()
}

/// Index of the largest value (first on ties).
pub fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// 95 % Wilson score interval for `k` successes in `n` trials.
pub fn wilson(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let z = 1.959_963_984_540_054_f64;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n) + z * z / (4.0 * n * n)).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_a_known_confusion() {
        let classes: Vec<String> = ["a", "b"].map(String::from).to_vec();
        // truth a,a,a,b ; predicted a,a,b,b
        let truth = [0, 0, 0, 1];
        let proba = [0.9, 0.1, 0.8, 0.2, 0.4, 0.6, 0.3, 0.7];
        let m = evaluate(&classes, &truth, &proba);
        assert_eq!(m.confusion, vec![vec![2, 1], vec![0, 1]]);
        assert!((m.accuracy - 0.75).abs() < 1e-12);
        assert!((m.balanced_accuracy - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        assert!((m.per_class[1].precision - 0.5).abs() < 1e-12);
        assert!((m.majority_baseline - 0.75).abs() < 1e-12);
    }

    #[test]
    fn wilson_interval_matches_a_textbook_value() {
        // 8 of 10: Wilson 95 % interval is about [0.490, 0.943].
        let [lo, hi] = wilson(8, 10);
        assert!(
            (lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3,
            "{lo} {hi}"
        );
    }
}
