//! The deployable model of a cross-validated run (`[train] final_model`):
//! after the folds, the same networks trained on all the data, for the
//! epoch count the folds chose, bundled as the run's `model/`.
//!
//! The folds estimate how well the recipe generalises; this model is what
//! the recipe gives with every file, so it has no test set of its own and
//! its expected accuracy is the cross-validation's.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cochlea_model::{Classifier, TrainConfig};

use crate::atomic;
use crate::config::Config;
use crate::ensemble::{Members, Provenance, save_bundle};
use crate::error::Error;
use crate::prepare::{self, FoldInputs, Prepared};
use crate::results::{FinalModel, FoldResult};
use crate::rundir::RunDir;
use crate::split::Fold;

/// Name of the final model's "fold" in its bundle and progress lines.
pub const FINAL_FOLD: &str = "all";

/// The epoch count for the final model and the rule that chose it.
///
/// With early stopping each fold kept the weights of its best epoch, so the
/// final model trains for the median of those (the upper of the two middle
/// values for an even count); without it every fold trained `train.epochs`
/// epochs and kept the last weights, and so does the final model.
pub fn choose_epochs(train: &TrainConfig, best_epochs: &[usize]) -> (usize, String) {
    let mut best: Vec<usize> = best_epochs.iter().map(|&e| e.max(1)).collect();
    if train.early_stopping.is_none() || best.is_empty() {
        return (
            train.epochs,
            format!(
                "train.epochs: without early stopping every fold trained {} epochs",
                train.epochs
            ),
        );
    }
    best.sort_unstable();
    let median = best[best.len() / 2];
    (
        median,
        format!(
            "the median of the {} folds' best epochs ({}) under early stopping",
            best.len(),
            best.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// Everything the final training needs.
pub struct FinalJob<'a> {
    /// The run's config.
    pub cfg: &'a Config,
    /// The prepared data (all of it is used).
    pub p: &'a Prepared,
    /// Frames per model input.
    pub frames: usize,
    /// The run directory: `model/` and `final/` go here.
    pub dir: &'a RunDir,
    /// No progress bars.
    pub quiet: bool,
    /// Set to stop after the current epoch.
    pub stop: &'a AtomicBool,
    /// Continue from `final/` checkpoints of an interrupted run.
    pub resume: bool,
    /// BLAKE3 of the resolved config.
    pub config_hash: &'a str,
    /// BLAKE3 of the data.
    pub data_hash: &'a str,
}

/// How the final training ended.
pub enum FinalOutcome {
    /// Trained and bundled at `model/`.
    Finished(FinalModel),
    /// Stopped; where, e.g. "final model after epoch 3 of 12".
    Interrupted(String),
}

impl FinalJob<'_> {
    /// Trains on all files (normalizer fitted on all of them) and bundles the
    /// model at `model/`; a summary kept in `final/state.json` makes a
    /// resumed run skip a finished final model.
    pub fn run(&self, folds: &[FoldResult]) -> Result<FinalOutcome, Error> {
        let (cfg, p) = (self.cfg, self.p);
        if self.resume
            && let Some(done) = std::fs::read(self.dir.final_state())
                .ok()
                .and_then(|b| serde_json::from_slice::<FinalModel>(&b).ok())
            && self.dir.final_bundle().join("model.json").is_file()
        {
            return Ok(FinalOutcome::Finished(done));
        }
        let fold_best_epochs: Vec<usize> = folds.iter().map(|f| f.best_epoch).collect();
        let (epochs, epochs_rule) = choose_epochs(&cfg.train, &fold_best_epochs);
        let all = Fold {
            name: FINAL_FOLD.to_string(),
            train: (0..p.items.len()).collect(),
            val: Vec::new(),
            test: Vec::new(),
        };
        let FoldInputs { spec, train, .. } = prepare::fold_inputs(cfg, p, &all, self.frames)?;
        let n_members = cfg.train.ensemble;
        let t = Instant::now();
        let checkpoints = |member| self.dir.final_checkpoints(member);
        // No validation set is left: no early stopping, a fixed count.
        let trained = Members {
            cfg,
            train_cfg: TrainConfig {
                epochs,
                early_stopping: None,
                ..cfg.train.clone()
            },
            n_classes: p.classes.len(),
            train: &train,
            val: None,
            checkpoints: &checkpoints,
            resume: self.resume,
            stop: self.stop,
            quiet: self.quiet,
            title: "final model",
            place: "final model",
        }
        .train(|_| Ok(()))?;
        if let Some(at) = trained.interrupted {
            return Ok(FinalOutcome::Interrupted(at));
        }
        let model = Classifier::ensemble(trained.networks)?;
        save_bundle(
            &model,
            &self.dir.final_bundle(),
            cfg,
            &p.classes,
            spec,
            Provenance {
                fold: FINAL_FOLD,
                config_hash: self.config_hash,
                data_hash: self.data_hash,
                test_metrics: None,
            },
        )?;
        let done = FinalModel {
            bundle: self.dir.final_bundle_rel(),
            files: p.items.len(),
            epochs,
            epochs_rule,
            fold_best_epochs,
            members: n_members,
            train_seconds: t.elapsed().as_secs_f64(),
        };
        atomic::write_json(&self.dir.final_state(), &done)?;
        Ok(FinalOutcome::Finished(done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_are_the_median_best_epoch_under_early_stopping() {
        let es = TrainConfig {
            epochs: 30,
            early_stopping: Some(5),
            ..TrainConfig::default()
        };
        assert_eq!(choose_epochs(&es, &[7, 3, 12]).0, 7);
        assert_eq!(choose_epochs(&es, &[7, 3, 12, 9]).0, 9);
        assert_eq!(choose_epochs(&es, &[0, 4]).0, 4);
        let plain = TrainConfig {
            epochs: 30,
            ..TrainConfig::default()
        };
        assert_eq!(choose_epochs(&plain, &[7, 3]).0, 30);
    }
}
