//! Learning-rate schedules, evaluated per step from the epoch and batch
//! index, plus the one stateful schedule (reduce-on-plateau), whose state
//! travels in checkpoints.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::config::{Scheduler, TrainConfig};

/// `ReduceLROnPlateau`'s state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlateauState {
    pub(crate) lr: f64,
    pub(crate) best: Option<f64>,
    pub(crate) bad_epochs: usize,
}

/// A schedule for one run.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    kind: Scheduler,
    lr: f64,
    min_lr: f64,
    epochs: usize,
    steps_per_epoch: usize,
    warmup_epochs: usize,
    step_size: usize,
    gamma: f64,
    patience: usize,
    factor: f64,
    pub(crate) plateau: PlateauState,
}

impl Schedule {
    pub(crate) fn new(cfg: &TrainConfig, steps_per_epoch: usize) -> Self {
        Schedule {
            kind: cfg.scheduler,
            lr: cfg.lr,
            min_lr: cfg.min_lr,
            epochs: cfg.epochs,
            steps_per_epoch: steps_per_epoch.max(1),
            warmup_epochs: cfg.warmup_epochs,
            step_size: cfg.step_size.max(1),
            gamma: cfg.gamma,
            patience: cfg.patience,
            factor: cfg.factor,
            plateau: PlateauState {
                lr: cfg.lr,
                best: None,
                bad_epochs: 0,
            },
        }
    }

    /// The learning rate for `step` (0-based) of `epoch` (0-based).
    pub(crate) fn lr(&self, epoch: usize, step: usize) -> f64 {
        let total = (self.epochs * self.steps_per_epoch) as f64;
        let t = (epoch * self.steps_per_epoch + step) as f64;
        // Cosine interpolation from `from` (progress 0) to `to` (progress 1).
        let cos = |from: f64, to: f64, progress: f64| {
            to + (from - to) * (1.0 + (PI * progress.clamp(0.0, 1.0)).cos()) / 2.0
        };
        match self.kind {
            Scheduler::None => self.lr,
            Scheduler::Step => self.lr * self.gamma.powi((epoch / self.step_size) as i32),
            Scheduler::Cosine => {
                let warm = (self.warmup_epochs * self.steps_per_epoch) as f64;
                if t < warm {
                    self.lr * (t + 1.0) / warm
                } else {
                    cos(self.lr, self.min_lr, (t - warm) / (total - warm).max(1.0))
                }
            }
            Scheduler::Onecycle => {
                // OneCycleLR defaults: start at max_lr / 25 (div_factor),
                // rise for 30% of the steps (pct_start), end at
                // start / 1e4 (final_div_factor) unless min_lr is given.
                let start = self.lr / 25.0;
                let end = if self.min_lr > 0.0 {
                    self.min_lr
                } else {
                    start / 1e4
                };
                let rise = if self.warmup_epochs > 0 {
                    (self.warmup_epochs * self.steps_per_epoch) as f64
                } else {
                    (0.3 * total).round().max(1.0)
                };
                if t < rise {
                    cos(start, self.lr, t / rise)
                } else {
                    cos(self.lr, end, (t - rise) / (total - rise - 1.0).max(1.0))
                }
            }
            Scheduler::Plateau => self.plateau.lr,
        }
    }

    /// Feeds the epoch's monitored metric to the plateau schedule
    /// (`ReduceLROnPlateau` with threshold 1e-4 in relative mode).
    pub(crate) fn end_epoch(&mut self, metric: f64, higher_is_better: bool) {
        if self.kind != Scheduler::Plateau {
            return;
        }
        let s = &mut self.plateau;
        let better = match s.best {
            None => true,
            Some(b) if higher_is_better => metric > b * (1.0 + 1e-4),
            Some(b) => metric < b * (1.0 - 1e-4),
        };
        if better {
            s.best = Some(metric);
            s.bad_epochs = 0;
        } else {
            s.bad_epochs += 1;
            if s.bad_epochs > self.patience {
                s.lr = (s.lr * self.factor).max(self.min_lr);
                s.bad_epochs = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kind: Scheduler) -> TrainConfig {
        TrainConfig {
            scheduler: kind,
            lr: 0.1,
            epochs: 10,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn step_decays_every_step_size_epochs() {
        let s = Schedule::new(
            &TrainConfig {
                step_size: 3,
                gamma: 0.5,
                ..cfg(Scheduler::Step)
            },
            4,
        );
        let lrs: Vec<f64> = (0..7).map(|e| s.lr(e, 2)).collect();
        assert_eq!(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
    }

    #[test]
    fn cosine_warms_up_then_decays_to_min_lr() {
        let s = Schedule::new(
            &TrainConfig {
                warmup_epochs: 2,
                min_lr: 0.001,
                ..cfg(Scheduler::Cosine)
            },
            5,
        );
        assert!((s.lr(0, 0) - 0.01).abs() < 1e-12, "first warm-up step");
        assert!(
            (s.lr(1, 4) - 0.1).abs() < 1e-12,
            "last warm-up step reaches lr"
        );
        assert!((s.lr(2, 0) - 0.1).abs() < 1e-12, "decay starts at lr");
        let mid = s.lr(6, 0); // halfway through the 8 decay epochs
        assert!(
            (mid - (0.001 + 0.099 / 2.0)).abs() < 1e-12,
            "midpoint {mid}"
        );
        let last = s.lr(9, 4);
        assert!(last > 0.001 && last < 0.0015, "last step {last}");
        let lrs: Vec<f64> = (10..50).map(|t| s.lr(t / 5, t % 5)).collect();
        assert!(lrs.windows(2).all(|w| w[1] <= w[0]), "decay is monotone");
    }

    #[test]
    fn onecycle_rises_then_falls() {
        let s = Schedule::new(&cfg(Scheduler::Onecycle), 10);
        assert!((s.lr(0, 0) - 0.1 / 25.0).abs() < 1e-12);
        assert!(
            (s.lr(3, 0) - 0.1).abs() < 1e-12,
            "peak after 30% of 100 steps"
        );
        assert!(
            (s.lr(9, 9) - 0.1 / 25.0 / 1e4).abs() < 1e-12,
            "ends at start / 1e4"
        );
    }

    #[test]
    fn plateau_cuts_after_patience_epochs_without_improvement() {
        let mut s = Schedule::new(
            &TrainConfig {
                patience: 2,
                factor: 0.5,
                ..cfg(Scheduler::Plateau)
            },
            1,
        );
        for loss in [1.0, 0.9, 0.95, 0.92, 0.91] {
            s.end_epoch(loss, false);
        }
        // 0.9 is best; three epochs without improvement > patience 2.
        assert_eq!(s.lr(5, 0), 0.05);
        s.end_epoch(0.5, false);
        assert_eq!(s.lr(6, 0), 0.05);
        assert_eq!(s.plateau.bad_epochs, 0);
    }
}
