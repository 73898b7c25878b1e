//! Short training probes: a linear probe on pooled features, overfitting
//! one batch, and a learning-rate sweep; and the findings they support.

#[cfg(feature = "torch")]
use std::time::{Duration, Instant};

#[cfg(feature = "torch")]
use cochlea_model::{Dataset as MData, ProbeLimits};
use serde::{Deserialize, Serialize};

use super::{Check, Finding, VsChance, pct};
#[cfg(feature = "torch")]
use crate::config::Config;

/// Budgets are capped here (about 30 years): an infinite or huge budget
/// means "no limit" and must still give a deadline.
#[cfg(feature = "torch")]
const MAX_BUDGET_S: f64 = 1e9;

/// `optimization.cannot_overfit`: accuracy on the one batch below this.
pub const OVERFIT_ACCURACY: f64 = 0.99;
/// Adam steps of the overfit-one-batch probe.
pub const OVERFIT_STEPS: usize = 150;
/// Training clips in the learning-rate sweep, at most.
pub const SWEEP_CLIPS: usize = 512;
/// Epochs per rate in the learning-rate sweep, at least ...
pub const SWEEP_EPOCHS: usize = 4;
/// ... and more on small data, so every rate takes at least this many
/// optimizer steps (4 epochs of 11 batches on the demo).
pub const SWEEP_MIN_STEPS: usize = 40;
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
    /// Held-out files the linear probe was scored on.
    #[serde(default)]
    pub linear_held_out: usize,
    /// Chance on those files: the larger of 1/k and the majority class's share.
    #[serde(default)]
    pub linear_chance: f64,
    /// Final accuracy when overfitting one batch, and its loss curve.
    pub overfit_batch: Option<(f64, Vec<f64>)>,
    /// Per learning rate: first and last training loss of a short run.
    pub lr_sweep: Vec<(f64, f64, f64)>,
    /// What was run, in words, and what the budget left out.
    pub notes: Vec<String>,
    /// Seconds per clip and optimizer step, measured by the overfit probe.
    #[serde(skip)]
    pub step_seconds: Option<f64>,
}

/// Probe findings. `features_healthy`: the feature checks found the
/// features spectral, normalized and informative-looking, so a probe at
/// chance points at the labels rather than at the representation.
///
/// The held-out score is judged by its 95 % interval on the files it rests
/// on: at chance only when the whole interval lies below
/// [`near_chance`](super::near_chance), inconclusive when it straddles.
pub fn probe_checks(pr: &Probes, n_classes: usize, features_healthy: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some((tr, te)) = pr.linear {
        let chance = pr.linear_chance.max(1.0 / n_classes.max(1) as f64);
        let v = VsChance::new(te, pr.linear_held_out, chance);
        let evidence = format!(
            "linear probe on per-row mean and std: train {}, held-out {}",
            pct(tr),
            v.describe()
        );
        let check = if features_healthy {
            Check::NoSignal
        } else {
            Check::NoInformation
        };
        if v.at_chance() {
            out.push(if features_healthy {
                check.fail(
                    format!(
                        "the labels do not follow the audio: a linear probe on healthy features \
                         is at chance ({})",
                        pct(te)
                    ),
                    evidence,
                )
            } else {
                check.fail(
                    format!(
                        "a linear probe on the features is near chance on held-out files ({})",
                        pct(te)
                    ),
                    evidence,
                )
            });
        } else if v.inconclusive() {
            out.push(check.inconclusive(
                format!(
                    "too few held-out files to tell whether the features predict the labels: a \
                     linear probe scores {}",
                    pct(te)
                ),
                evidence,
                v.advice(),
            ));
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

#[cfg(feature = "torch")]
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

#[cfg(feature = "torch")]
/// Every file the model does not train on: validation and test together,
/// so a probe's score rests on as many files as the split allows.
pub fn held_out(val: Option<&MData>, test: &MData) -> MData {
    let Some(val) = val.filter(|v| !v.is_empty()) else {
        return test.clone();
    };
    let x = [val.x.as_slice(), test.x.as_slice()].concat();
    let y = [val.y.as_slice(), test.y.as_slice()].concat();
    MData::new(x, y, test.n_features, test.n_frames).unwrap_or_else(|_| test.clone())
}

#[cfg(feature = "torch")]
fn limits(cfg: &Config, deadline: Option<Instant>) -> ProbeLimits {
    ProbeLimits {
        deadline,
        threads: cfg.train.threads,
    }
}

#[cfg(feature = "torch")]
/// The linear probe alone, stopped at `deadline` if there is one.
pub fn linear_probe(
    cfg: &Config,
    train: &MData,
    held: &MData,
    n_classes: usize,
    deadline: Option<Instant>,
) -> Probes {
    let mut pr = Probes::default();
    let mut counts = vec![0usize; n_classes.max(1)];
    for &y in &held.y {
        if let Some(c) = counts.get_mut(y as usize) {
            *c += 1;
        }
    }
    let majority = counts.iter().copied().max().unwrap_or(0) as f64 / held.len().max(1) as f64;
    pr.linear_held_out = held.len();
    pr.linear_chance = majority.max(1.0 / n_classes.max(1) as f64);
    let r = cochlea_model::linear_probe_within(
        train,
        held,
        n_classes,
        cfg.train.seed,
        limits(cfg, deadline),
    );
    match r {
        Ok(Some(r)) => {
            pr.linear = Some(r);
            pr.notes.push(format!(
                "linear probe: softmax regression on the mean and std of every feature row, {} \
                 train / {} held-out clips",
                train.len(),
                held.len()
            ));
        }
        Ok(None) => pr
            .notes
            .push("linear probe not finished: budget spent; not judged".into()),
        Err(e) => pr.notes.push(format!("linear probe failed: {e}")),
    }
    pr
}

#[cfg(feature = "torch")]
/// Runs the linear and overfit-one-batch probes on the first fold; they
/// stop at the step where `budget_s` seconds are spent, and libtorch uses
/// `[train] threads`.
pub fn run_probes(
    cfg: &Config,
    train: &MData,
    test: &MData,
    n_classes: usize,
    budget_s: f64,
) -> Probes {
    let deadline = Instant::now() + Duration::from_secs_f64(budget_s.clamp(0.0, MAX_BUDGET_S));
    let mut pr = linear_probe(cfg, train, test, n_classes, Some(deadline));
    let n = train.len().min(cochlea_model::OVERFIT_BATCH);
    let Some(batch) = head(train, n) else {
        return pr;
    };
    if Instant::now() >= deadline {
        pr.notes
            .push("overfit-one-batch probe skipped: budget spent".into());
        return pr;
    }
    let t0 = Instant::now();
    let r = cochlea_model::overfit_one_batch_within(
        &cfg.model,
        &batch,
        n_classes,
        OVERFIT_STEPS,
        cfg.train.seed,
        limits(cfg, Some(deadline)),
    );
    match r {
        Ok(r) if r.losses.len() < OVERFIT_STEPS => pr.notes.push(format!(
            "overfit-one-batch probe stopped by the budget after {} of {OVERFIT_STEPS} steps; \
             not judged",
            r.losses.len()
        )),
        Ok(r) => {
            pr.step_seconds = Some(t0.elapsed().as_secs_f64() / (OVERFIT_STEPS * n) as f64);
            pr.overfit_batch = Some((r.final_accuracy, r.losses));
            pr.notes.push(format!(
                "overfit one batch: {n} clips, {OVERFIT_STEPS} Adam steps"
            ));
        }
        Err(e) => pr
            .notes
            .push(format!("overfit-one-batch probe failed: {e}")),
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
    /// The budget ran out before the run's last epoch.
    #[serde(default)]
    pub stopped: bool,
}

#[cfg(feature = "torch")]
/// The learning-rate sweep and what it ran.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    /// One trial per rate run, the configured rate first.
    pub trials: Vec<LrTrial>,
    /// What was run and what the budget left out.
    pub notes: Vec<String>,
}

#[cfg(feature = "torch")]
/// Trains a few epochs on a subset at `lr`, `lr / 10` and `lr * 10`,
/// stopping after the epoch in which `budget_s` seconds are spent. With
/// `step_seconds` (seconds per clip and step, from the overfit probe) the
/// subset is cut to what the budget affords.
pub fn lr_sweep(
    cfg: &Config,
    train: &MData,
    n_classes: usize,
    budget_s: f64,
    step_seconds: Option<f64>,
) -> Sweep {
    let deadline = Instant::now() + Duration::from_secs_f64(budget_s.clamp(0.0, MAX_BUDGET_S));
    let mut sweep = Sweep::default();
    let batch = cfg.train.batch_size.max(1);
    let epochs_for = |n: usize| SWEEP_EPOCHS.max(SWEEP_MIN_STEPS.div_ceil(n.div_ceil(batch)));
    let mut n = train.len().min(SWEEP_CLIPS);
    if let Some(s) = step_seconds.filter(|s| *s > 0.0) {
        let runs = (epochs_for(n) * SWEEP_FACTORS.len()) as f64;
        let affordable = (budget_s / (s * runs)).floor() as usize;
        if affordable < n.min(cochlea_model::OVERFIT_BATCH) {
            sweep.notes.push(format!(
                "learning-rate sweep skipped: the budget left ({budget_s:.0} s) affords {affordable} \
                 clips at the measured speed"
            ));
            return sweep;
        }
        n = n.min(affordable);
    }
    let Some(sub) = head(train, n) else {
        return sweep;
    };
    let epochs = epochs_for(n);
    for factor in SWEEP_FACTORS {
        if Instant::now() >= deadline {
            break;
        }
        let mut tc = cfg.train.clone();
        tc.lr = cfg.train.lr * factor;
        tc.epochs = epochs;
        tc.early_stopping = None;
        tc.scheduler = cochlea_model::Scheduler::None;
        let mut on_epoch = |_: &cochlea_model::EpochMetrics| {
            if Instant::now() >= deadline {
                cochlea_model::Control::Stop
            } else {
                cochlea_model::Control::Continue
            }
        };
        let r = cochlea_model::train(
            &cfg.model,
            &tc,
            &cochlea_model::AugmentConfig::default(),
            n_classes,
            &sub,
            None,
            cochlea_model::TrainOptions::new(&mut on_epoch),
        );
        sweep.trials.push(match r {
            Ok(o) => LrTrial {
                lr: tc.lr,
                losses: o.history.iter().map(|e| e.train_loss).collect(),
                error: None,
                stopped: o.history.len() < epochs,
            },
            Err(e) => LrTrial {
                lr: tc.lr,
                losses: Vec::new(),
                error: Some(e.to_string()),
                stopped: false,
            },
        });
    }
    sweep.notes.push(format!(
        "learning-rate sweep: {} of {} short runs ({epochs} epochs on {n} training clips) at \
         the configured rate, 10x lower and 10x higher",
        sweep.trials.len(),
        SWEEP_FACTORS.len()
    ));
    let stopped = sweep.trials.iter().filter(|t| t.stopped).count();
    if stopped > 0 || sweep.trials.len() < SWEEP_FACTORS.len() {
        sweep.notes.push(format!(
            "learning-rate sweep cut by the budget: {stopped} runs stopped early, {} not run; a \
             stopped run at the configured rate is not judged",
            SWEEP_FACTORS.len() - sweep.trials.len()
        ));
    }
    sweep
}

/// Findings of the learning-rate sweep; the first trial is the configured rate.
pub fn lr_checks(trials: &[LrTrial], n_classes: usize) -> Vec<Finding> {
    let Some(cur) = trials.first() else {
        return Vec::new();
    };
    if cur.stopped && cur.error.is_none() {
        return Vec::new();
    }
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
                "at lr {:.0e} the training loss hardly moves in {} epochs",
                cur.lr,
                cur.losses.len()
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
    use crate::doctor::Verdict;

    const K: usize = 10;

    fn linear(te: f64, n: usize, chance: f64) -> Probes {
        Probes {
            linear: Some((1.0, te)),
            linear_held_out: n,
            linear_chance: chance,
            ..Probes::default()
        }
    }

    fn verdict(pr: &Probes, k: usize) -> (String, Verdict) {
        let f = probe_checks(pr, k, true).remove(0);
        (f.id, f.verdict)
    }

    /// Yes / no, 16 held-out files, the probe right on 10: once "FAIL: the
    /// labels do not follow the audio". The interval (38.6 % to 81.5 %) is
    /// far too wide to say so.
    #[test]
    fn sixteen_held_out_files_cannot_show_no_signal() {
        let (id, v) = verdict(&linear(0.625, 16, 0.5), 2);
        assert_eq!(
            (id.as_str(), v),
            ("labels.no_signal", Verdict::Inconclusive)
        );
        let f = probe_checks(&linear(0.625, 16, 0.5), 2, true).remove(0);
        assert!(f.fix.contains("k-fold"), "{}", f.fix);
    }

    /// Labels without signal are still named for 2, 10 and 50 classes on
    /// enough held-out files, and signal is seen where there is some.
    #[test]
    fn no_signal_for_any_class_count() {
        for k in [2usize, 10, 50] {
            let chance = 1.0 / k as f64;
            assert_eq!(
                verdict(&linear(chance, 400, chance), k),
                ("labels.no_signal".into(), Verdict::Fail),
                "{k} classes"
            );
            let signal = chance + 0.5 * (1.0 - chance);
            assert_eq!(
                verdict(&linear(signal, 100, chance), k),
                ("labels.no_signal".into(), Verdict::Ok),
                "{k} classes"
            );
        }
        // The demo's shuffled labels: 10 classes, 50 held-out files.
        assert_eq!(verdict(&linear(0.1, 50, 0.1), K).1, Verdict::Fail);
    }

    fn tiny_data(n: usize) -> MData {
        let (f, t) = (4, 16);
        let x = (0..n * f * t)
            .map(|i| ((i * 7919) % 13) as f32 / 13.0)
            .collect();
        let y = (0..n).map(|i| (i % 2) as i64).collect();
        MData::new(x, y, f, t).unwrap()
    }

    /// With the budget spent, no probe trains (the linear probe used to run
    /// whatever the budget) and the notes say what was left out.
    #[test]
    fn a_spent_budget_stops_every_probe() {
        let mut cfg = Config::default();
        // The thread count is per process: the same as in the test below.
        cfg.train.threads = Some(1);
        let d = tiny_data(40);
        let pr = run_probes(&cfg, &d, &d, 2, 0.0);
        assert_eq!(pr.linear, None);
        assert_eq!(pr.overfit_batch, None);
        assert!(
            pr.notes
                .iter()
                .any(|n| n.contains("linear probe not finished")),
            "{:?}",
            pr.notes
        );
        assert!(
            pr.notes
                .iter()
                .any(|n| n.contains("overfit-one-batch probe skipped")),
            "{:?}",
            pr.notes
        );
        let s = lr_sweep(&cfg, &d, 2, 0.0, None);
        assert!(s.trials.is_empty());
        assert!(
            s.notes.iter().any(|n| n.contains("0 of 3")),
            "{:?}",
            s.notes
        );
    }

    /// A run stopped by the budget is not judged.
    #[test]
    fn a_stopped_sweep_is_not_judged() {
        let stopped = LrTrial {
            lr: 1e-7,
            losses: vec![2.3],
            error: None,
            stopped: true,
        };
        assert!(lr_checks(&[stopped], K).is_empty());
    }

    /// The probes use `[train] threads`, not every core.
    #[test]
    fn probes_use_the_configured_threads() {
        let mut cfg = Config::default();
        cfg.train.threads = Some(1);
        let d = tiny_data(40);
        let pr = run_probes(&cfg, &d, &d, 2, 600.0);
        assert!(pr.overfit_batch.is_some(), "{:?}", pr.notes);
        assert_eq!(cochlea_model::tch::get_num_threads(), 1);
    }

    #[test]
    fn lr_sweep_findings() {
        let t = |lr: f64, losses: &[f64]| LrTrial {
            lr,
            losses: losses.to_vec(),
            error: None,
            stopped: false,
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
            stopped: false,
        };
        assert_eq!(
            id(lr_checks(&[diverged], K)).as_deref(),
            Some("optimization.lr_too_high")
        );
    }
}
