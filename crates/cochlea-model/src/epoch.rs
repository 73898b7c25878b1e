//! What training reports each epoch and how a caller answers. No libtorch.

use serde::{Deserialize, Serialize};

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches as optimised (with
    /// label smoothing and class weights, on augmented inputs, in training
    /// mode).
    pub train_loss: f64,
    /// Fraction of training examples classified correctly during the epoch.
    pub train_accuracy: f64,
    /// Mean cross-entropy on the validation set (plain: no smoothing, no
    /// weights), in evaluation mode.
    pub val_loss: Option<f64>,
    /// Validation accuracy.
    pub val_accuracy: Option<f64>,
    /// Learning rate at the epoch's first step.
    pub lr: f64,
    /// Wall time of the epoch's training and validation (checkpoint writing
    /// and callbacks excluded).
    pub seconds: f64,
}

/// The answer of the epoch callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop now: the epoch is complete and checkpointed, so this is a safe
    /// point (e.g. on Ctrl-C). The outcome is marked `interrupted`.
    Stop,
}
