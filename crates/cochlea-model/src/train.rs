//! The training loop: batches, loss, optimiser and schedule steps,
//! validation, early stopping, divergence detection, checkpoints and resume.
//!
//! Randomness: the seed initialises the weights; each epoch then draws its
//! shuffle, augmentation and libtorch (dropout) streams from
//! `(seed, epoch)`, so a run resumed at any epoch boundary repeats an
//! uninterrupted run exactly. A training set with long examples
//! ([`Dataset::long`]) is cropped afresh every epoch from a fifth stream,
//! so its crops repeat on resume too.

use std::path::Path;
use std::time::Instant;

use tch::{Device, Kind, Reduction, Tensor};

use crate::Error;
use crate::augment::augment;
use crate::checkpoint::{self, Progress};
use crate::classifier::Classifier;
use crate::config::{AugmentConfig, ClassWeights, Monitor, NetConfig, TrainConfig};
use crate::data::Dataset;
use crate::epoch::{Control, EpochMetrics};
use crate::mixup::{mixup, soft_cross_entropy};
use crate::optim::Optim;
use crate::rng::{Rng, derive};
use crate::schedule::{PlateauState, Schedule};

/// Per-batch callback: epoch (1-based), batch (1-based), batches per epoch,
/// and the batch's training loss.
pub type BatchCallback<'a> = &'a mut dyn FnMut(usize, usize, usize, f64);

/// Side channels of a training run.
pub struct TrainOptions<'a> {
    /// Where to write a checkpoint after every epoch; none when `None`.
    pub checkpoint_dir: Option<&'a Path>,
    /// Continue from the latest checkpoint in `checkpoint_dir` if there is
    /// one (otherwise start afresh).
    pub resume: bool,
    /// Called after every epoch with its metrics.
    pub on_epoch: &'a mut dyn FnMut(&EpochMetrics) -> Control,
    /// Called after every batch (costs a device sync per batch on CUDA).
    pub on_batch: Option<BatchCallback<'a>>,
}

impl<'a> TrainOptions<'a> {
    /// No checkpoints, no resume, no batch callback.
    pub fn new(on_epoch: &'a mut dyn FnMut(&EpochMetrics) -> Control) -> Self {
        TrainOptions {
            checkpoint_dir: None,
            resume: false,
            on_epoch,
            on_batch: None,
        }
    }
}

/// The result of [`train`].
#[derive(Debug)]
pub struct TrainOutcome {
    /// The trained network: the best epoch's weights when early stopping is
    /// on, else the last epoch's.
    pub model: Classifier,
    /// One entry per completed epoch (including those before a resume).
    pub history: Vec<EpochMetrics>,
    /// Epoch (1-based) with the best monitored validation metric; the last
    /// epoch when there is no validation set.
    pub best_epoch: usize,
    /// Early stopping ended the run before `epochs`.
    pub stopped_early: bool,
    /// The epoch callback asked to stop before `epochs`.
    pub interrupted: bool,
}

// Stream numbers for `rng::derive`.
const STREAM_INIT: u64 = 0;
const STREAM_SHUFFLE: u64 = 1;
const STREAM_AUGMENT: u64 = 2;
const STREAM_TORCH: u64 = 3;
const STREAM_MIXUP: u64 = 4;

/// Batch boundaries for `n` examples: full batches, and the remainder as a
/// last batch, except that a remainder of one joins the batch before it
/// (batch norm cannot normalise a single example).
fn batch_bounds(n: usize, batch_size: usize) -> Vec<(i64, i64)> {
    let bs = batch_size.min(n).max(1);
    let mut bounds: Vec<(i64, i64)> = (0..n)
        .step_by(bs)
        .map(|s| (s as i64, (s + bs).min(n) as i64))
        .collect();
    if bounds.len() > 1 && n % bs == 1 {
        bounds.pop();
        if let Some(last) = bounds.last_mut() {
            last.1 = n as i64;
        }
    }
    bounds
}

fn class_weights(
    cfg: &TrainConfig,
    data: &Dataset,
    n_classes: usize,
    device: Device,
) -> Result<Option<Tensor>, Error> {
    let w: Vec<f32> = match &cfg.class_weights {
        ClassWeights::None => return Ok(None),
        ClassWeights::Explicit(w) => w.iter().map(|&x| x as f32).collect(),
        ClassWeights::Balanced => {
            let mut counts = vec![0usize; n_classes];
            for &c in &data.y {
                counts[c as usize] += 1;
            }
            // A class absent from training never appears as a target, so its
            // weight is irrelevant; 0 keeps it finite.
            counts
                .iter()
                .map(|&c| {
                    if c == 0 {
                        0.0
                    } else {
                        data.len() as f32 / (n_classes * c) as f32
                    }
                })
                .collect()
        }
    };
    Ok(Some(Tensor::f_from_slice(&w)?.f_to_device(device)?))
}

/// Mean plain cross-entropy and accuracy of `model` on the clips of a
/// set of windows: `clips` gives each window's clip number, `y` each clip's
/// label; a clip's probabilities are the mean of its windows'.
fn evaluate_clips(
    model: &Classifier,
    x: &Tensor,
    clips: &Tensor,
    y: &Tensor,
) -> Result<(f64, f64), Error> {
    let n = y.size()[0];
    let proba = model.eval_logits(x)?.f_softmax(1, Kind::Float)?;
    let k = proba.size()[1];
    let sums = Tensor::f_zeros([n, k], (Kind::Float, x.device()))?.f_index_add(0, clips, &proba)?;
    let ones = Tensor::f_ones([clips.size()[0]], (Kind::Float, x.device()))?;
    let counts = Tensor::f_zeros([n], (Kind::Float, x.device()))?.f_index_add(0, clips, &ones)?;
    let mean = sums.f_div(&counts.f_unsqueeze(1)?)?;
    let loss =
        mean.f_clamp_min(1e-12)?
            .f_log()?
            .f_nll_loss::<Tensor>(y, None, Reduction::Sum, -100)?;
    per_example(&loss, &mean, y)
}

/// Mean plain cross-entropy and accuracy of `model` on `(x, y)`.
pub(crate) fn evaluate(model: &Classifier, x: &Tensor, y: &Tensor) -> Result<(f64, f64), Error> {
    let logits = model.eval_logits(x)?;
    let loss = logits.f_cross_entropy_loss::<Tensor>(y, None, Reduction::Sum, -100, 0.0)?;
    per_example(&loss, &logits, y)
}

/// The summed `loss` and the accuracy of `scores` (probabilities or
/// logits, one row per example) against `y`, both per example.
fn per_example(loss: &Tensor, scores: &Tensor, y: &Tensor) -> Result<(f64, f64), Error> {
    let n = y.size()[0] as f64;
    let correct = scores
        .f_argmax(1, false)?
        .f_eq_tensor(y)?
        .f_sum(Kind::Int64)?;
    Ok((
        loss.f_double_value(&[])? / n,
        correct.f_int64_value(&[])? as f64 / n,
    ))
}

fn fingerprint(
    net: &NetConfig,
    cfg: &TrainConfig,
    aug: &AugmentConfig,
    n_classes: usize,
    train: &Dataset,
    val: Option<&Dataset>,
) -> serde_json::Value {
    // Device and thread count do not change what is computed, nor does the
    // pipeline's request for a final model.
    let cfg = TrainConfig {
        device: Default::default(),
        threads: None,
        final_model: false,
        ..cfg.clone()
    };
    serde_json::json!({
        "model": net,
        "train": cfg,
        "augment": aug,
        "data": {
            "n_classes": n_classes,
            "n_features": train.n_features,
            "n_frames": train.n_frames,
            "train_examples": train.len(),
            "val_examples": val.map_or(0, Dataset::len),
            "train_long_frames": train.long.as_ref().map(|l| l.lens.iter().sum::<usize>()),
            "val_clips": val.map(Dataset::n_clips),
        },
    })
}

fn deep_copy(vars: &[(String, Tensor)]) -> Result<Vec<(String, Tensor)>, Error> {
    tch::no_grad(|| {
        vars.iter()
            .map(|(n, t)| Ok((n.clone(), t.f_detach_copy()?)))
            .collect()
    })
}

/// Trains a network of config `net` for `n_classes` classes on `train`,
/// validating on `val` after every epoch.
///
/// Everything is checked before the first step: configs (with messages
/// naming the key), data shapes and labels. A loss that becomes NaN or
/// infinite stops training with [`Error::Diverged`].
///
/// Reproducibility: with the same seed, data and thread count, two CPU runs
/// give identical metrics and weights. libtorch's random generator and
/// thread count are process-wide, so two trainings running at the same time
/// in one process would interleave their draws; run them one after another.
pub fn train(
    net: &NetConfig,
    cfg: &TrainConfig,
    aug: &AugmentConfig,
    n_classes: usize,
    train: &Dataset,
    val: Option<&Dataset>,
    opts: TrainOptions<'_>,
) -> Result<TrainOutcome, Error> {
    fit(Start::Seeded(net, n_classes), cfg, aug, train, val, opts)
}

/// As [`train`], but training continues from the weights of `start` (a
/// single network, e.g. from [`Classifier::from_weights`] or a bundle)
/// instead of a seeded initialisation; its architecture and number of
/// classes are the network's. The seed still draws the shuffling, dropout
/// and augmentation. The network moves to `cfg.device` if it is elsewhere.
pub fn train_from(
    start: Classifier,
    cfg: &TrainConfig,
    aug: &AugmentConfig,
    train: &Dataset,
    val: Option<&Dataset>,
    opts: TrainOptions<'_>,
) -> Result<TrainOutcome, Error> {
    if start.n_members() > 1 {
        return Err(Error::Config(format!(
            "training starts from one network; this model is an ensemble of {}",
            start.n_members()
        )));
    }
    fit(Start::Given(Box::new(start)), cfg, aug, train, val, opts)
}

/// Where the weights of a training run come from.
enum Start<'a> {
    /// A fresh network of this config and number of classes, initialised
    /// from the seed.
    Seeded(&'a NetConfig, usize),
    /// This network as it is.
    Given(Box<Classifier>),
}

fn fit(
    start: Start<'_>,
    cfg: &TrainConfig,
    aug: &AugmentConfig,
    train: &Dataset,
    val: Option<&Dataset>,
    opts: TrainOptions<'_>,
) -> Result<TrainOutcome, Error> {
    let (n_features, n_frames) = (train.n_features, train.n_frames);
    let (net, n_classes) = match &start {
        Start::Seeded(net, n_classes) => ((*net).clone(), *n_classes),
        Start::Given(model) => {
            if (model.n_features(), model.n_frames()) != (n_features, n_frames) {
                return Err(Error::Data(format!(
                    "training set has examples of {n_features} x {n_frames}, the network \
                     expects {} x {}",
                    model.n_features(),
                    model.n_frames()
                )));
            }
            (model.config().clone(), model.n_classes())
        }
    };
    let net = &net;
    cfg.validate(n_classes)?;
    net.validate(n_features, n_frames, n_classes)?;
    aug.validate(n_features, n_frames)?;
    train.check_for("training", n_features, n_frames, n_classes)?;
    if train.len() < 2 {
        return Err(Error::Data(format!(
            "training set has {} example(s): need at least 2",
            train.len()
        )));
    }
    let val = val.filter(|v| !v.is_empty());
    if let Some(v) = val {
        v.check_for("validation", n_features, n_frames, n_classes)?;
    }
    if cfg.early_stopping.is_some() && val.is_none() {
        return Err(Error::Config(
            "train.early_stopping needs a validation set, and there is none".into(),
        ));
    }
    if opts.resume && opts.checkpoint_dir.is_none() {
        return Err(Error::Config("resume needs a checkpoint directory".into()));
    }
    let device = cfg.device.resolve()?;
    let threads = cfg
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    tch::set_num_threads(threads.min(i32::MAX as usize) as i32);

    let model = match start {
        Start::Seeded(..) => {
            tch::manual_seed(derive(cfg.seed, STREAM_INIT, 0) as i64);
            Classifier::build(net, n_features, n_frames, n_classes, device)?
        }
        Start::Given(mut model) => {
            if model.device() != device {
                model.var_store_mut().set_device(device);
            }
            *model
        }
    };
    let mut opt = Optim::new(model.var_store(), cfg)?;
    let (mut x, y) = train.to_tensors(device)?;
    let val_t = val.map(|v| v.to_tensors(device)).transpose()?;
    let val_clips = val.map(|v| v.clip_tensors(device)).transpose()?.flatten();
    let weights = class_weights(cfg, train, n_classes, device)?;
    let bounds = batch_bounds(train.len(), cfg.batch_size);
    let mut schedule = Schedule::new(cfg, bounds.len());
    let higher_is_better = cfg.monitor == Monitor::ValAccuracy;
    let fp = fingerprint(net, cfg, aug, n_classes, train, val);

    let mut progress = Progress {
        epoch: 0,
        history: Vec::new(),
        best_value: None,
        best_epoch: 0,
        bad_epochs: 0,
        stopped_early: false,
        plateau: PlateauState {
            lr: cfg.lr,
            best: None,
            bad_epochs: 0,
        },
        optimizer_steps: 0,
    };
    let mut best: Option<Vec<(String, Tensor)>> = None;
    if let (true, Some(dir)) = (opts.resume, opts.checkpoint_dir)
        && let Some((p, b)) = checkpoint::load(dir, &fp, &model, &mut opt)?
    {
        schedule.plateau = p.plateau.clone();
        progress = p;
        best = b;
    }

    // On the CPU reading each loss costs nothing; elsewhere it is a sync, so
    // losses stay on the device until the end of the epoch.
    let read_each_step = device == Device::Cpu || opts.on_batch.is_some();
    let mut on_batch = opts.on_batch;
    let mut interrupted = false;
    let n = train.len() as f64;
    let first_epoch = progress.epoch + 1;
    for epoch in first_epoch..=cfg.epochs {
        if progress.stopped_early {
            break;
        }
        let started = Instant::now();
        let mut order = Rng::new(derive(cfg.seed, STREAM_SHUFFLE, epoch as u64));
        let mut aug_rng = Rng::new(derive(cfg.seed, STREAM_AUGMENT, epoch as u64));
        let mut mix_rng = Rng::new(derive(cfg.seed, STREAM_MIXUP, epoch as u64));
        tch::manual_seed(derive(cfg.seed, STREAM_TORCH, epoch as u64) as i64);
        if train.long.is_some() {
            // A fresh crop of every long example, drawn from (seed, epoch).
            let crops = train.crops(&train.crop_starts(cfg.seed, epoch));
            x = Tensor::f_from_slice(&crops)?
                .f_reshape(x.size())?
                .f_to_device(device)?;
        }
        let perm = if cfg.shuffle {
            Tensor::f_from_slice(&order.permutation(train.len()))?
        } else {
            Tensor::f_arange(train.len() as i64, (Kind::Int64, Device::Cpu))?
        }
        .f_to_device(device)?;

        let mut loss_sum = Tensor::f_zeros([], (Kind::Float, device))?;
        let mut correct = Tensor::f_zeros([], (Kind::Int64, device))?;
        let mut step_losses = Vec::new();
        let first_lr = schedule.lr(epoch - 1, 0);
        for (step, &(start, end)) in bounds.iter().enumerate() {
            let lr = schedule.lr(epoch - 1, step);
            let idx = perm.f_narrow(0, start, end - start)?;
            let mut xb = x.f_index_select(0, &idx)?;
            let mut yb = y.f_index_select(0, &idx)?;
            if aug.is_enabled() {
                xb = augment(&xb, aug, &mut aug_rng)?;
            }
            let mut soft = None;
            if aug.mixup_enabled() {
                let m = mixup(&xb, &yb, n_classes, aug.mixup, &mut mix_rng)?;
                (xb, yb, soft) = (m.x, m.dominant, Some(m.targets));
            }
            let logits = model.net().forward_t(&xb, true)?;
            let loss = match &soft {
                Some(t) => soft_cross_entropy(&logits, t, weights.as_ref(), cfg.label_smoothing)?,
                None => logits.f_cross_entropy_loss(
                    &yb,
                    weights.as_ref(),
                    Reduction::Mean,
                    -100,
                    cfg.label_smoothing,
                )?,
            };
            opt.zero_grad()?;
            loss.f_backward()?;
            if let Some(max) = cfg.grad_clip {
                opt.clip_grad_norm(max)?;
            }
            opt.step(lr)?;

            let loss = loss.f_detach()?;
            tch::no_grad(|| -> Result<(), Error> {
                let _ = loss_sum.f_add_(&loss.f_mul_scalar((end - start) as f64)?)?;
                let _ = correct.f_add_(
                    &logits
                        .f_argmax(1, false)?
                        .f_eq_tensor(&yb)?
                        .f_sum(Kind::Int64)?,
                )?;
                Ok(())
            })?;
            if read_each_step {
                let value = loss.f_double_value(&[])?;
                if !value.is_finite() {
                    return Err(Error::Diverged {
                        epoch,
                        step: step + 1,
                        loss: value,
                        lr,
                    });
                }
                if let Some(cb) = on_batch.as_mut() {
                    cb(epoch, step + 1, bounds.len(), value);
                }
            } else {
                step_losses.push(loss);
            }
        }
        if !step_losses.is_empty() {
            let host =
                Vec::<f64>::try_from(Tensor::f_stack(&step_losses, 0)?.f_to_kind(Kind::Double)?)?;
            if let Some(step) = host.iter().position(|v| !v.is_finite()) {
                let lr = schedule.lr(epoch - 1, step);
                return Err(Error::Diverged {
                    epoch,
                    step: step + 1,
                    loss: host[step],
                    lr,
                });
            }
        }
        let train_loss = loss_sum.f_double_value(&[])? / n;
        let train_accuracy = correct.f_int64_value(&[])? as f64 / n;
        let (val_loss, val_accuracy) = match &val_t {
            Some((vx, vy)) => {
                let (l, a) = match &val_clips {
                    Some((clips, cy)) => evaluate_clips(&model, vx, clips, cy)?,
                    None => evaluate(&model, vx, vy)?,
                };
                (Some(l), Some(a))
            }
            None => (None, None),
        };
        let metrics = EpochMetrics {
            epoch,
            train_loss,
            train_accuracy,
            val_loss,
            val_accuracy,
            lr: first_lr,
            seconds: started.elapsed().as_secs_f64(),
        };

        let monitored = match cfg.monitor {
            Monitor::ValLoss => val_loss,
            Monitor::ValAccuracy => val_accuracy,
        };
        match monitored {
            Some(v) => {
                let improved = progress
                    .best_value
                    .is_none_or(|b| if higher_is_better { v > b } else { v < b });
                if improved {
                    progress.best_value = Some(v);
                    progress.best_epoch = epoch;
                    progress.bad_epochs = 0;
                    if cfg.early_stopping.is_some() {
                        best = Some(deep_copy(&model.named_variables())?);
                    }
                } else {
                    progress.bad_epochs += 1;
                }
                schedule.end_epoch(v, higher_is_better);
            }
            None => {
                progress.best_epoch = epoch;
                schedule.end_epoch(train_loss, false);
            }
        }
        if let Some(patience) = cfg.early_stopping {
            progress.stopped_early = progress.bad_epochs >= patience && epoch < cfg.epochs;
        }
        progress.epoch = epoch;
        progress.plateau = schedule.plateau.clone();
        progress.optimizer_steps = opt.steps;
        progress.history.push(metrics.clone());
        if let Some(dir) = opts.checkpoint_dir {
            checkpoint::save(dir, &fp, &progress, &model, &opt, best.as_deref())?;
        }
        if (opts.on_epoch)(&metrics) == Control::Stop
            && epoch < cfg.epochs
            && !progress.stopped_early
        {
            interrupted = true;
            break;
        }
    }

    if let (Some(_), Some(best)) = (cfg.early_stopping, &best) {
        let mut saved = best
            .iter()
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect();
        crate::bundle::copy_tensors(
            Path::new("best weights"),
            &mut saved,
            &model.named_variables(),
        )?;
    }
    Ok(TrainOutcome {
        model,
        best_epoch: progress.best_epoch,
        history: progress.history,
        stopped_early: progress.stopped_early,
        interrupted,
    })
}

#[cfg(test)]
mod tests {
    use super::batch_bounds;

    #[test]
    fn batches_cover_every_example_and_never_hold_one() {
        assert_eq!(batch_bounds(10, 4), [(0, 4), (4, 8), (8, 10)]);
        assert_eq!(batch_bounds(9, 4), [(0, 4), (4, 9)]);
        assert_eq!(batch_bounds(3, 64), [(0, 3)]);
        assert_eq!(batch_bounds(8, 4), [(0, 4), (4, 8)]);
    }
}
