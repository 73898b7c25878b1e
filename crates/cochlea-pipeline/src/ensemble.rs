//! Training the network(s) of one model: `train.ensemble` members, each from
//! its own seed, with a progress bar, Ctrl-C after the current epoch and a
//! checkpoint folder per member; and the bundle they are saved as.
//!
//! A fold of `pipeline run` and the final model after cross-validation train
//! through the same loop; they differ only in the data, the epoch count and
//! where checkpoints go.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use cochlea_model::{Classifier, Control, Dataset, EpochMetrics, TrainConfig, TrainOptions};

use crate::config::Config;
use crate::error::Error;
use crate::progress;
use crate::spec::{BUNDLE_META_SCHEMA_VERSION, BundleMeta, InputSpec, Versions};

/// What to train: the members of one model.
pub struct Members<'a> {
    /// The run's config (network, augmentation, `train.ensemble`).
    pub cfg: &'a Config,
    /// The training settings of every member but its seed
    /// ([`crate::config::TrainConfig::member_seed`] gives each its own).
    pub train_cfg: TrainConfig,
    /// Number of classes.
    pub n_classes: usize,
    /// Training data.
    pub train: &'a Dataset,
    /// Validation data, if any.
    pub val: Option<&'a Dataset>,
    /// A member's checkpoint folder.
    pub checkpoints: &'a dyn Fn(usize) -> PathBuf,
    /// Continue from the checkpoints.
    pub resume: bool,
    /// Set (e.g. by Ctrl-C) to stop after the current epoch.
    pub stop: &'a AtomicBool,
    /// No progress bars.
    pub quiet: bool,
    /// The progress bar's title, e.g. "george train" or "final model".
    pub title: &'a str,
    /// Where an interruption happened, for the message, e.g. "fold george".
    pub place: &'a str,
}

/// What the members' training left.
pub struct Trained {
    /// One network per finished member (the last one is the interrupted
    /// member's, when training stopped).
    pub networks: Vec<Classifier>,
    /// The first member's history, which stands for the model's training.
    pub history: Vec<EpochMetrics>,
    /// The first member's best epoch (1-based; the weights kept).
    pub best_epoch: usize,
    /// Whether the first member stopped early.
    pub stopped_early: bool,
    /// Where training stopped, if it was interrupted: no further member
    /// was trained.
    pub interrupted: Option<String>,
}

impl Members<'_> {
    /// Trains the members in turn; `after_member` sees each member's network
    /// as training left it (an ensemble's run scores every member on its own).
    pub fn train(
        &self,
        mut after_member: impl FnMut(&Classifier) -> Result<(), Error>,
    ) -> Result<Trained, Error> {
        let n = self.cfg.train.ensemble;
        let epochs = self.train_cfg.epochs;
        let mut out = Trained {
            networks: Vec::with_capacity(n),
            history: Vec::new(),
            best_epoch: 0,
            stopped_early: false,
            interrupted: None,
        };
        for member in 0..n {
            let title = if n == 1 {
                self.title.to_string()
            } else {
                format!("{} {}/{n}", self.title, member + 1)
            };
            let pb = progress::bar(epochs as u64, &title, self.quiet);
            let mut on_epoch = |m: &EpochMetrics| {
                pb.set_position(m.epoch as u64);
                pb.set_message(format!(
                    "loss {:.3} acc {:.3}{}",
                    m.train_loss,
                    m.train_accuracy,
                    m.val_accuracy
                        .map(|a| format!(" val {a:.3}"))
                        .unwrap_or_default()
                ));
                if self.stop.load(Ordering::SeqCst) {
                    Control::Stop
                } else {
                    Control::Continue
                }
            };
            let train_cfg = TrainConfig {
                seed: self.cfg.train.member_seed(member),
                ..self.train_cfg.clone()
            };
            let outcome = cochlea_model::train(
                &self.cfg.model,
                &train_cfg,
                &self.cfg.augment,
                self.n_classes,
                self.train,
                self.val,
                TrainOptions {
                    checkpoint_dir: Some(&(self.checkpoints)(member)),
                    resume: self.resume,
                    on_epoch: &mut on_epoch,
                    on_batch: None,
                },
            )?;
            pb.finish_and_clear();
            if outcome.interrupted {
                let network = if n > 1 {
                    format!(", network {} of {n},", member + 1)
                } else {
                    String::new()
                };
                out.interrupted = Some(format!(
                    "{}{network} after epoch {} of {epochs}",
                    self.place,
                    outcome.history.len(),
                ));
            }
            after_member(&outcome.model)?;
            if member == 0 {
                out.history = outcome.history;
                out.best_epoch = outcome.best_epoch;
                out.stopped_early = outcome.stopped_early;
            }
            out.networks.push(outcome.model);
            if out.interrupted.is_some() {
                break;
            }
        }
        Ok(out)
    }
}

/// Where a model came from, stored in its bundle beside the input recipe.
pub struct Provenance<'a> {
    /// The fold whose training part the model saw (`all` for the final model).
    pub fold: &'a str,
    /// Hash of the resolved config.
    pub config_hash: &'a str,
    /// Hash of the data (files and labels).
    pub data_hash: &'a str,
    /// Scores on the fold's test part, if it has one.
    pub test_metrics: Option<crate::metrics::Metrics>,
}

/// Saves `model` as a bundle at `dir` with its classes, input recipe and
/// provenance (`model.json`'s metadata, [`BundleMeta`]).
pub fn save_bundle(
    model: &Classifier,
    dir: &Path,
    cfg: &Config,
    classes: &[String],
    input: InputSpec,
    from: Provenance<'_>,
) -> Result<(), Error> {
    let meta = BundleMeta {
        schema_version: BUNDLE_META_SCHEMA_VERSION,
        input,
        fold: from.fold.to_string(),
        run: cfg.name.clone(),
        config_hash: from.config_hash.to_string(),
        data_hash: from.data_hash.to_string(),
        test_metrics: from.test_metrics,
        versions: Versions::current(),
    };
    let metadata = serde_json::to_value(&meta).map_err(|e| Error::Bundle {
        path: dir.to_path_buf(),
        msg: format!("metadata: {e}"),
    })?;
    model.save(dir, classes, &metadata)?;
    Ok(())
}
