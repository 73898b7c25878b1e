//! Short training probes: a linear probe on pooled features, overfitting
//! one batch, and a learning-rate sweep; and the findings they support.

use std::time::Instant;

use cochlea_model::Dataset as MData;
use serde::{Deserialize, Serialize};

use super::{Check, Finding, pct};
use crate::config::Config;

/// `labels.no_signal`: a held-out probe accuracy below this many times
/// chance ...
pub const PROBE_TIMES_CHANCE: f64 = 1.5;
/// ... and below chance plus this is "at chance".
pub const PROBE_MARGIN: f64 = 0.05;
/// `optimization.cannot_overfit`: accuracy on the one batch below this.
pub const OVERFIT_ACCURACY: f64 = 0.99;
/// Adam steps of the overfit-one-batch probe.
pub const OVERFIT_STEPS: usize = 150;
/// Training clips in the learning-rate sweep, at most.
pub const SWEEP_CLIPS: usize = 512;
/// Epochs per rate in the learning-rate sweep.
pub const SWEEP_EPOCHS: usize = 4;
/// The rates of the sweep, as factors of the configured one; the first is
/// the configured rate, which the findings judge.
pub const SWEEP_FACTORS: [f64; 3] = [1.0, 0.1, 10.0];
/// `optimization.lr_too_high` (sweep): an epoch's loss above this many
/// times ln(k) overshoots, even when batch norm keeps it from exploding.
pub const SWEEP_OVERSHOOT: f64 = 1.5;
/// ... or the loss rises by more than this fraction over the sweep.
pub const SWEEP_RISE: f64 = 0.05;
/// `optimization.lr_too_low`: the loss falls by less than this fraction.
pub const SWEEP_MIN_DROP: f64 = 0.03;

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
        if te < (PROBE_TIMES_CHANCE * chance).max(chance + PROBE_MARGIN) {
            if features_healthy {
                out.push(Check::NoSignal.fail(
                    format!(
                        "the labels do not follow the audio: a linear probe on healthy features \
                         is at chance ({})",
                        pct(te)
                    ),
                    evidence,
                ));
            } else {
                out.push(Check::NoInformation.fail(
                    format!(
                        "a linear probe on the features is near chance on held-out files ({})",
                        pct(te)
                    ),
                    evidence,
                ));
            }
        } else {
            out.push(
                Check::NoSignal.ok("a linear probe finds the labels in the features", evidence),
            );
        }
    }
    if let Some((acc, losses)) = &pr.overfit_batch {
        if *acc < OVERFIT_ACCURACY {
            out.push(Check::CannotOverfit.fail(
                format!(
                    "the network cannot even fit one batch ({} accuracy)",
                    pct(*acc)
                ),
                format!(
                    "loss {:.3} → {:.3}",
                    losses.first().copied().unwrap_or(f64::NAN),
                    losses.last().copied().unwrap_or(f64::NAN)
                ),
            ));
        } else {
            out.push(Check::CannotOverfit.ok(
                "the network fits one small batch",
                format!("accuracy {} after {} steps", pct(*acc), losses.len()),
            ));
        }
    }
    out
}

/// The first `n` examples of `d`.
fn head(d: &MData, n: usize) -> Option<MData> {
    let n = d.len().min(n);
    let per = d.n_features * d.n_frames;
    MData::new(
        d.x[..n * per].to_vec(),
        d.y[..n].to_vec(),
        d.n_features,
        d.n_frames,
    )
    .ok()
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
            pr.notes.push(format!(
                "linear probe: softmax regression on the mean and std of every feature row, {} \
                 train / {} held-out clips",
                train.len(),
                test.len()
            ));
        }
        Err(e) => pr.notes.push(format!("linear probe failed: {e}")),
    }
    if t0.elapsed().as_secs_f64() < budget_s {
        let n = train.len().min(cochlea_model::OVERFIT_BATCH);
        if let Some(batch) = head(train, n) {
            let r = cochlea_model::overfit_one_batch(
                &cfg.model,
                &batch,
                n_classes,
                OVERFIT_STEPS,
                cfg.train.seed,
            );
            match r {
                Ok(r) => {
                    pr.overfit_batch = Some((r.final_accuracy, r.losses));
                    pr.notes.push(format!(
                        "overfit one batch: {n} clips, {OVERFIT_STEPS} Adam steps"
                    ));
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
    let Some(sub) = head(train, SWEEP_CLIPS) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for factor in SWEEP_FACTORS {
        if t0.elapsed().as_secs_f64() > budget_s {
            break;
        }
        let mut tc = cfg.train.clone();
        tc.lr = cfg.train.lr * factor;
        tc.epochs = SWEEP_EPOCHS;
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
    let Some(cur) = trials.first() else {
        return Vec::new();
    };
    let described: Vec<String> = trials
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
        .collect();
    let evidence = described.join("; ");
    let drop = match (cur.losses.first(), cur.losses.last()) {
        (Some(a), Some(b)) if cur.error.is_none() && a.is_finite() && b.is_finite() => {
            (a - b) / a.max(1e-12)
        }
        _ => f64::NEG_INFINITY,
    };
    let ln_k = (n_classes as f64).ln();
    let diverged = cur.error.is_some()
        || cur
            .losses
            .iter()
            .any(|&l| !l.is_finite() || l > ln_k * SWEEP_OVERSHOOT);
    let finding = if diverged || drop < -SWEEP_RISE {
        Check::LrTooHigh.fail(
            format!("at lr {:.0e} the training loss diverges or rises", cur.lr),
            evidence,
        )
    } else if drop < SWEEP_MIN_DROP {
        Check::LrTooLow.warn(
            format!(
                "at lr {:.0e} the training loss hardly moves in {SWEEP_EPOCHS} epochs",
                cur.lr
            ),
            evidence,
        )
    } else {
        Check::LearningRate.ok("the configured learning rate makes progress", evidence)
    };
    vec![finding]
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: usize = 10;

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
