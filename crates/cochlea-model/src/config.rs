//! The three config sections this crate reads: `[model]` (the network),
//! `[train]` (optimisation) and `[augment]` (on-the-fly augmentation).
//!
//! Each is plain serde data with defaults for every field and no unknown keys
//! allowed. `validate` methods check ranges before any tensor exists, with
//! messages that name the key; the network's shape arithmetic lives in
//! [`crate::net`] (`NetConfig::validate`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The network: conv blocks, then a head that pools over time, optional
/// hidden dense layers, and a linear output per class.
///
/// Input is `[batch, n_features, n_frames]`. How the blocks see it depends
/// on [`NetConfig::kind`]: features as the channels of a 1D convolution
/// over time (`cnn1d`), as the rows of a one-channel image (`conv2d`), or
/// no convolution at all (`dense`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetConfig {
    /// Which network the blocks build. Default `cnn1d`.
    pub kind: NetKind,
    /// Conv blocks, applied in order. Default: three blocks with 64, 128 and
    /// 128 filters, kernels 5, 3, 3, each followed by max pooling of 2,
    /// batch norm and ReLU. `kind = "dense"` ignores them.
    pub blocks: Vec<BlockConfig>,
    /// How the time axis is reduced after the last block (or, for `dense`,
    /// of the input itself).
    pub head: Head,
    /// Width of the hidden layer of the frame scorer of the `attention` and
    /// `attentive_stats` heads (`score = v . tanh(W h + b)`); other heads
    /// ignore it.
    pub attention_dim: usize,
    /// Widths of hidden dense layers between the head and the output layer
    /// (ReLU, then dropout). Default: none.
    pub hidden: Vec<usize>,
    /// Dropout probability before the output layer and after each hidden
    /// layer (`torch.nn.functional.dropout`). 0 disables it.
    pub dropout: f64,
    /// How the weights start. Default: as `torch.nn` initialises its layers.
    pub init: InitScheme,
}

impl Default for NetConfig {
    fn default() -> Self {
        let block = |filters, kernel| BlockConfig {
            filters,
            kernel,
            pool: 2,
            ..BlockConfig::default()
        };
        NetConfig {
            kind: NetKind::Cnn1d,
            blocks: vec![block(64, 5), block(128, 3), block(128, 3)],
            head: Head::GlobalAvg,
            attention_dim: 64,
            hidden: Vec::new(),
            dropout: 0.3,
            init: InitScheme::Pytorch,
        }
    }
}

/// The kind of network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NetKind {
    /// 1D convolutions over time, the feature rows as input channels
    /// (`torch.nn.Conv1d` on `[batch, n_features, n_frames]`).
    #[default]
    Cnn1d,
    /// 2D convolutions over the feature matrix as a one-channel image
    /// (`torch.nn.Conv2d` on `[batch, 1, n_features, n_frames]`, log-mel
    /// bands as the frequency axis, as ESC-50 baselines do). Kernels,
    /// strides, dilations and pools are square: the block's value on both
    /// axes. After the last block the frequency axis is reduced by its
    /// mean, then the head reduces time.
    Conv2d,
    /// No convolution: the head reduces the input's time axis (with
    /// `features.pooling = "functionals"` there is one frame, so every
    /// pooling head passes the functionals through), then `hidden` layers
    /// and the output.
    Dense,
}

/// Initialisation of the convolution and dense weights. Batch-norm scales
/// start at 1 and shifts at 0, and biases (convolutions without batch norm,
/// dense layers) from `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, under every
/// scheme; `fan_in` is `in_channels * kernel` for a convolution and the
/// input width for a dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InitScheme {
    /// What `torch.nn.Conv1d` and `torch.nn.Linear` do by default,
    /// `kaiming_uniform_(w, a=sqrt(5))`: weights from
    /// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`. With it, training follows
    /// PyTorch's at the same settings (docs/benchmarks.md, "Training parity
    /// with PyTorch").
    #[default]
    Pytorch,
    /// He et al. 2015 for ReLU networks on the convolutions,
    /// `kaiming_uniform_(w, nonlinearity="relu")`: weights from
    /// `U(-sqrt(6/fan_in), sqrt(6/fan_in))`, 2.45 times wider; dense layers
    /// as `pytorch`. The earlier default of this crate.
    He,
}

/// One conv block: conv -> batch norm -> activation -> pooling -> dropout.
///
/// With `residual = true` the block is a ResNet basic block (He et al. 2016,
/// "Deep Residual Learning", fig. 2): conv -> BN -> act -> conv -> BN, plus a
/// shortcut (identity, or a 1x1 conv with the block's stride when the shape
/// changes), then act -> pooling -> dropout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockConfig {
    /// Output channels of the convolution(s).
    pub filters: i64,
    /// Kernel size in frames.
    pub kernel: i64,
    /// Convolution stride in frames (the first conv of a residual block).
    pub stride: i64,
    /// Convolution dilation (`torch.nn.Conv1d(dilation=...)`).
    pub dilation: i64,
    /// `same` keeps `ceil(frames / stride)` frames (zero padding as
    /// `torch.nn.Conv1d(padding="same")`, the extra frame on the right for
    /// even kernels); `valid` pads nothing.
    pub padding: Padding,
    /// Non-linearity after the (first) convolution.
    pub activation: Activation,
    /// Batch normalisation after each convolution (`torch.nn.BatchNorm1d`).
    /// The convolution then has no bias, which the norm would cancel.
    pub batch_norm: bool,
    /// Pooling window and stride in frames after the activation; 1 = none.
    /// Frames left over at the end are dropped (floor), as in
    /// `torch.nn.MaxPool1d`.
    pub pool: i64,
    /// Pooling kind.
    pub pool_kind: PoolKind,
    /// Dropout probability at the end of the block; 0 disables it.
    pub dropout: f64,
    /// Make this a residual (basic) block; needs `padding = "same"`.
    pub residual: bool,
}

impl Default for BlockConfig {
    fn default() -> Self {
        BlockConfig {
            filters: 64,
            kernel: 3,
            stride: 1,
            dilation: 1,
            padding: Padding::Same,
            activation: Activation::Relu,
            batch_norm: true,
            pool: 1,
            pool_kind: PoolKind::Max,
            dropout: 0.0,
            residual: false,
        }
    }
}

/// Convolution padding mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// Output length `ceil(frames / stride)`.
    #[default]
    Same,
    /// No padding: output length `floor((frames - dilation*(kernel-1) - 1) / stride) + 1`.
    Valid,
}

/// Activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)`.
    #[default]
    Relu,
    /// Gaussian error linear unit (exact, erf form: `torch.nn.GELU()`).
    Gelu,
    /// `torch.nn.LeakyReLU()` with slope 0.01.
    LeakyRelu,
    /// `torch.nn.ELU()` with alpha 1.
    Elu,
}

/// Pooling kind inside a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    /// `torch.nn.MaxPool1d`.
    #[default]
    Max,
    /// `torch.nn.AvgPool1d`.
    Avg,
}

/// How the time axis is reduced before the dense layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// Mean over time: one value per channel, any input length.
    #[default]
    GlobalAvg,
    /// Maximum over time: one value per channel.
    GlobalMax,
    /// Keep every frame: channels x frames values (fixed input length).
    Flatten,
    /// Mean and standard deviation over time, concatenated: two values per
    /// channel (the statistics pooling of x-vector speaker models, Snyder
    /// et al. 2018), any input length.
    Stats,
    /// Attentive pooling: a learned score per frame, `v . tanh(W h_t + b)`
    /// (`W` of `attention_dim` rows), softmax over time, and the weighted
    /// mean of the frames: one value per channel.
    Attention,
    /// Attentive statistics pooling (Okabe et al. 2018): the weighted mean
    /// and weighted standard deviation under the attention weights, two
    /// values per channel.
    AttentiveStats,
}

impl Head {
    /// Values per channel out of the head (flatten: per channel and frame).
    pub fn per_channel(self) -> usize {
        match self {
            Head::GlobalAvg | Head::GlobalMax | Head::Flatten | Head::Attention => 1,
            Head::Stats | Head::AttentiveStats => 2,
        }
    }

    /// The head's name in the config.
    pub fn name(self) -> &'static str {
        match self {
            Head::GlobalAvg => "global_avg",
            Head::GlobalMax => "global_max",
            Head::Flatten => "flatten",
            Head::Stats => "stats",
            Head::Attention => "attention",
            Head::AttentiveStats => "attentive_stats",
        }
    }
}

/// Optimisation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Optimiser; each follows the update rule of its `torch.optim` namesake.
    pub optimizer: Optimizer,
    /// Base (peak, for one-cycle) learning rate.
    pub lr: f64,
    /// L2 weight decay; decoupled (`p *= 1 - lr*wd`) for AdamW, added to the
    /// gradient for the others, as `torch.optim` does.
    pub weight_decay: f64,
    /// SGD momentum (`torch.optim.SGD(momentum=...)`); other optimisers
    /// ignore it.
    pub momentum: f64,
    /// Nesterov momentum for SGD.
    pub nesterov: bool,
    /// Examples per training batch. A last batch of a single example is
    /// merged into the one before (batch norm needs two).
    pub batch_size: usize,
    /// Draw a new order of the training examples every epoch (as
    /// `DataLoader(shuffle=True)`); `false` keeps their given order, the
    /// same batches every epoch.
    pub shuffle: bool,
    /// Number of passes over the training set.
    pub epochs: usize,
    /// Learning-rate schedule.
    pub scheduler: Scheduler,
    /// `step`: epochs between decays.
    pub step_size: usize,
    /// `step`: factor applied every `step_size` epochs.
    pub gamma: f64,
    /// `cosine`: epochs of linear warm-up from 0 to `lr` before the cosine
    /// decay; `onecycle`: epochs of the rising phase (0 = 30% of `epochs`,
    /// as `OneCycleLR(pct_start=0.3)`).
    pub warmup_epochs: usize,
    /// `plateau`: epochs without improvement of `monitor` before the rate is
    /// multiplied by `factor`.
    pub patience: usize,
    /// `plateau`: factor applied when the monitored metric stalls.
    pub factor: f64,
    /// Lowest learning rate the `cosine`, `onecycle` and `plateau` schedules
    /// reach.
    pub min_lr: f64,
    /// Clip the global L2 norm of all gradients to this value
    /// (`torch.nn.utils.clip_grad_norm_`). Default: no clipping.
    pub grad_clip: Option<f64>,
    /// Label smoothing of the training loss (`torch.nn.CrossEntropyLoss(
    /// label_smoothing=...)`), in [0, 1).
    pub label_smoothing: f64,
    /// Per-class weights of the training loss.
    pub class_weights: ClassWeights,
    /// Stop after this many epochs without improvement of `monitor` on the
    /// validation set, and keep the weights of the best epoch. Needs a
    /// validation set. Default: train all epochs.
    pub early_stopping: Option<usize>,
    /// Validation metric for early stopping and the `plateau` schedule.
    pub monitor: Monitor,
    /// Seed for initialisation, shuffling, dropout and augmentation.
    pub seed: u64,
    /// Where to train.
    pub device: DeviceChoice,
    /// libtorch intra-op threads (`torch.set_num_threads`). Default: the
    /// number of available cores.
    pub threads: Option<usize>,
    /// Networks trained per model, each with its own seed
    /// ([`TrainConfig::member_seed`]) on the same data; the model predicts
    /// the mean of their class probabilities. 1 = a single network.
    pub ensemble: usize,
    /// After a run of several folds (k-fold, group k-fold, leave one group
    /// out), train one more model on all the data, with the epoch count the
    /// folds chose, as the run's deployable model. Read by the pipeline;
    /// training itself ignores it.
    pub final_model: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            optimizer: Optimizer::Adam,
            lr: 1e-3,
            weight_decay: 1e-4,
            momentum: 0.9,
            nesterov: false,
            batch_size: 64,
            shuffle: true,
            epochs: 40,
            scheduler: Scheduler::None,
            step_size: 10,
            gamma: 0.1,
            warmup_epochs: 0,
            patience: 5,
            factor: 0.1,
            min_lr: 0.0,
            grad_clip: None,
            label_smoothing: 0.0,
            class_weights: ClassWeights::None,
            early_stopping: None,
            monitor: Monitor::ValLoss,
            seed: 0,
            device: DeviceChoice::Cpu,
            threads: None,
            ensemble: 1,
            final_model: false,
        }
    }
}

/// Optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// `torch.optim.Adam` (betas 0.9, 0.999; eps 1e-8).
    #[default]
    Adam,
    /// `torch.optim.AdamW` (decoupled weight decay).
    Adamw,
    /// `torch.optim.SGD` with `momentum` and optional Nesterov.
    Sgd,
    /// `torch.optim.RMSprop` (alpha 0.99, eps 1e-8, no momentum).
    Rmsprop,
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scheduler {
    /// Constant `lr`.
    #[default]
    None,
    /// `lr * gamma^(epoch / step_size)` (`torch.optim.lr_scheduler.StepLR`).
    Step,
    /// Linear warm-up over `warmup_epochs`, then cosine decay to `min_lr`
    /// (`CosineAnnealingLR`), updated every batch.
    Cosine,
    /// One-cycle (`OneCycleLR`, cosine annealing): from `lr/25` up to `lr`,
    /// then down to `min_lr`, updated every batch.
    Onecycle,
    /// Multiply by `factor` after `patience` epochs without improvement
    /// (`ReduceLROnPlateau`).
    Plateau,
}

/// Validation metric watched by early stopping and the plateau schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Validation cross-entropy; lower is better.
    #[default]
    ValLoss,
    /// Validation accuracy; higher is better.
    ValAccuracy,
}

/// Where tensors live during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// The CPU.
    #[default]
    Cpu,
    /// The first CUDA device; an error if there is none.
    Cuda,
    /// CUDA when available, else CPU.
    Auto,
}

#[cfg(feature = "torch")]
impl DeviceChoice {
    /// The libtorch device this choice means on this machine.
    pub fn resolve(self) -> Result<tch::Device, Error> {
        match self {
            DeviceChoice::Cpu => Ok(tch::Device::Cpu),
            DeviceChoice::Auto => Ok(tch::Device::cuda_if_available()),
            DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(tch::Device::Cuda(0)),
            DeviceChoice::Cuda => Err(Error::Device(
                "train.device = \"cuda\" but libtorch sees no CUDA device; \
                 use \"cpu\" or \"auto\""
                    .into(),
            )),
        }
    }
}

/// Per-class weights of the training loss: `"none"`, `"balanced"`, or a list
/// with one weight per class, in class order.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ClassWeights {
    /// Every class weighs 1.
    #[default]
    None,
    /// `n_examples / (n_classes * count[c])`, as scikit-learn's
    /// `compute_class_weight("balanced")`, from the training labels.
    Balanced,
    /// Explicit weights, one per class.
    Explicit(Vec<f64>),
}

impl Serialize for ClassWeights {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ClassWeights::None => s.serialize_str("none"),
            ClassWeights::Balanced => s.serialize_str("balanced"),
            ClassWeights::Explicit(w) => w.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ClassWeights {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ClassWeights;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"none\", \"balanced\" or a list of numbers, one per class")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ClassWeights, E> {
                match v {
                    "none" => Ok(ClassWeights::None),
                    "balanced" => Ok(ClassWeights::Balanced),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ClassWeights, A::Error> {
                let mut w = Vec::new();
                while let Some(x) = seq.next_element::<f64>()? {
                    w.push(x);
                }
                Ok(ClassWeights::Explicit(w))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// On-the-fly augmentation of training batches. Everything is off by
/// default; validation, evaluation and prediction never see it.
///
/// The input is whatever features the caller trains on (normalised MFCCs,
/// say), so "noise" and "gain" act on those values, not on audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AugmentConfig {
    /// Largest random shift along time, in frames, either direction.
    /// Circular, as `numpy.roll`, so no frame is lost. 0 = off.
    pub time_shift: usize,
    /// Add Gaussian noise at a signal-to-noise ratio drawn uniformly from
    /// `[low, high]` dB, the signal power being the example's mean square.
    pub noise_snr_db: Option<[f64; 2]>,
    /// Multiply the example by `10^(g/20)`, `g` drawn uniformly from
    /// `[low, high]` dB.
    pub gain_db: Option<[f64; 2]>,
    /// SpecAugment time masks per example (Park et al. 2019): bands of
    /// frames set to 0, the mean of standardised features.
    pub time_masks: usize,
    /// Largest width of a time mask in frames (width drawn from 0..=this).
    pub time_mask_width: usize,
    /// SpecAugment frequency masks per example: bands of feature rows set
    /// to 0.
    pub freq_masks: usize,
    /// Largest width of a frequency mask in feature rows.
    pub freq_mask_width: usize,
    /// Speed perturbation on the feature matrix: each example is resampled
    /// along time by a rate drawn uniformly from `[low, high]` (1.1 = 10 %
    /// faster), with linear interpolation between frames; frames read past
    /// the end are 0. The feature-domain counterpart of Ko et al. 2015,
    /// "Audio augmentation for speech recognition" (rates 0.9 to 1.1).
    pub time_stretch: Option<[f64; 2]>,
    /// Vocal tract length perturbation (Jaitly and Hinton 2013, "Vocal Tract
    /// Length Perturbation (VTLP) improves speech recognition"): the feature
    /// rows, taken as a frequency axis (log-mel bands), are warped by a
    /// factor drawn uniformly from `[low, high]`: row `r` moves to `r *
    /// alpha` up to a boundary at 7/8 of the axis, then linearly so that
    /// the top row stays in place; linear interpolation between rows.
    /// Meant for log-mel input; MFCC rows are not ordered by frequency.
    pub freq_warp: Option<[f64; 2]>,
    /// Rows per frequency axis for `freq_warp`: each consecutive block of
    /// this many rows is warped on its own (40 for 40 log-mel bands followed
    /// by their deltas). 0 = all rows form one axis.
    pub freq_warp_rows: usize,
    /// Probability that each enabled augmentation is applied to a given
    /// example, drawn independently per augmentation and example.
    pub probability: f64,
    /// Mixup (Zhang et al. 2018): `alpha` of the Beta(alpha, alpha) draw of
    /// the mixing weight `lambda`, one per training batch; each example is
    /// mixed with another of the batch (a random pairing), inputs and
    /// one-hot targets alike, and the loss is the cross-entropy against the
    /// soft targets. 0 = off. Applied after the other augmentations and
    /// not subject to `probability`.
    pub mixup: f64,
    /// A folder of background recordings (searched recursively, any format
    /// the decoder reads) mixed into the *audio* of training clips before
    /// features are computed: `background_noise_copies` noisy copies per training
    /// clip beside the clean original. The pipeline does the mixing (this
    /// crate knows no audio); relative paths are resolved against the
    /// config file's folder. `None` = off.
    pub background_noise_dir: Option<PathBuf>,
    /// Signal-to-noise ratio of a noisy copy in dB, drawn uniformly from
    /// `[low, high]` per copy: signal power (the clip's mean square) over
    /// noise power. The default `[3, 30]` is audiomentations'
    /// `AddBackgroundNoise` default, which scales the noise the same way.
    pub background_noise_snr_db: [f64; 2],
    /// Noisy copies made of each training clip when `background_noise_dir` is
    /// set (the clean original stays). 0 turns the mixing off.
    pub background_noise_copies: usize,
}

/// Largest `augment.background_noise_copies`: every copy is a featurised clip
/// held in memory.
pub const MAX_NOISE_COPIES: usize = 32;

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            time_shift: 0,
            noise_snr_db: None,
            gain_db: None,
            time_masks: 0,
            time_mask_width: 0,
            freq_masks: 0,
            freq_mask_width: 0,
            time_stretch: None,
            freq_warp: None,
            freq_warp_rows: 0,
            probability: 1.0,
            mixup: 0.0,
            background_noise_dir: None,
            background_noise_snr_db: [3.0, 30.0],
            background_noise_copies: 1,
        }
    }
}

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::Config(msg()))
    }
}

fn check_range(key: &str, range: Option<[f64; 2]>) -> Result<(), Error> {
    if let Some([lo, hi]) = range {
        check(lo.is_finite() && hi.is_finite() && lo <= hi, || {
            format!("augment.{key} = [{lo}, {hi}]: needs two finite numbers, low <= high")
        })?;
    }
    Ok(())
}

impl AugmentConfig {
    /// True when at least one augmentation is switched on.
    pub fn is_enabled(&self) -> bool {
        self.time_shift > 0
            || self.noise_snr_db.is_some()
            || self.gain_db.is_some()
            || (self.time_masks > 0 && self.time_mask_width > 0)
            || (self.freq_masks > 0 && self.freq_mask_width > 0)
            || self.time_stretch.is_some()
            || self.freq_warp.is_some()
    }

    /// Noisy copies per training clip: `background_noise_copies` when
    /// `background_noise_dir` is set, else 0.
    pub fn noise_copies(&self) -> usize {
        if self.background_noise_dir.is_some() {
            self.background_noise_copies
        } else {
            0
        }
    }

    /// True when mixup is on (`mixup > 0`).
    pub fn mixup_enabled(&self) -> bool {
        self.mixup > 0.0
    }

    /// Checks ranges against the input shape.
    pub fn validate(&self, n_features: usize, n_frames: usize) -> Result<(), Error> {
        check(
            self.probability.is_finite() && (0.0..=1.0).contains(&self.probability),
            || {
                format!(
                    "augment.probability = {}: must be in [0, 1]",
                    self.probability
                )
            },
        )?;
        check(self.mixup.is_finite() && self.mixup >= 0.0, || {
            format!(
                "augment.mixup = {}: must be 0 (off) or a positive Beta alpha",
                self.mixup
            )
        })?;
        check_range("noise_snr_db", self.noise_snr_db)?;
        check_range("gain_db", self.gain_db)?;
        check_range(
            "background_noise_snr_db",
            Some(self.background_noise_snr_db),
        )?;
        check(self.background_noise_copies <= MAX_NOISE_COPIES, || {
            format!(
                "augment.background_noise_copies = {}: at most {MAX_NOISE_COPIES} \
                 (each copy is a whole featurised clip held in memory)",
                self.background_noise_copies
            )
        })?;
        for (key, range) in [
            ("time_stretch", self.time_stretch),
            ("freq_warp", self.freq_warp),
        ] {
            check_range(key, range)?;
            if let Some([lo, hi]) = range {
                check(lo >= 0.5 && hi <= 2.0, || {
                    format!("augment.{key} = [{lo}, {hi}]: factors must be in [0.5, 2]")
                })?;
            }
        }
        let warp_rows = if self.freq_warp_rows == 0 {
            n_features
        } else {
            self.freq_warp_rows
        };
        check(
            self.freq_warp.is_none() || (warp_rows >= 2 && n_features.is_multiple_of(warp_rows)),
            || {
                format!(
                    "augment.freq_warp_rows = {}: must divide the {n_features} input features \
                     into blocks of at least 2 rows",
                    self.freq_warp_rows
                )
            },
        )?;
        check(self.time_shift < n_frames.max(1), || {
            format!(
                "augment.time_shift = {}: must be below the {n_frames} input frames",
                self.time_shift
            )
        })?;
        check(self.time_mask_width <= n_frames, || {
            format!(
                "augment.time_mask_width = {}: wider than the {n_frames} input frames",
                self.time_mask_width
            )
        })?;
        check(self.freq_mask_width <= n_features, || {
            format!(
                "augment.freq_mask_width = {}: wider than the {n_features} input features",
                self.freq_mask_width
            )
        })?;
        check(self.time_masks == 0 || self.time_mask_width > 0, || {
            "augment.time_masks is set but augment.time_mask_width = 0".into()
        })?;
        check(self.freq_masks == 0 || self.freq_mask_width > 0, || {
            "augment.freq_masks is set but augment.freq_mask_width = 0".into()
        })
    }
}

/// Largest `train.ensemble`: each member is a full training run.
pub const MAX_ENSEMBLE: usize = 32;

/// `rng::derive` stream of ensemble member seeds (the training streams are
/// numbered from 0 in `train.rs`).
const STREAM_MEMBER: u64 = 16;

impl TrainConfig {
    /// The seed of ensemble member `member` (0-based): `seed` itself for the
    /// first, so a one-network model trains exactly as without an ensemble;
    /// the others from a hash of both, so the members of seed 0 and seed 1
    /// share no seed.
    pub fn member_seed(&self, member: usize) -> u64 {
        if member == 0 {
            self.seed
        } else {
            crate::rng::derive(self.seed, STREAM_MEMBER, member as u64)
        }
    }

    /// Checks every value's range and the combinations that cannot work.
    /// `n_classes` sizes an explicit class-weight list.
    pub fn validate(&self, n_classes: usize) -> Result<(), Error> {
        let positive = |key: &str, v: f64| {
            check(v.is_finite() && v > 0.0, || {
                format!("train.{key} = {v}: must be a positive number")
            })
        };
        positive("lr", self.lr)?;
        check(
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            || format!("train.weight_decay = {}: must be >= 0", self.weight_decay),
        )?;
        check((0.0..1.0).contains(&self.momentum), || {
            format!("train.momentum = {}: must be in [0, 1)", self.momentum)
        })?;
        if self.nesterov {
            check(
                self.optimizer == Optimizer::Sgd && self.momentum > 0.0,
                || "train.nesterov = true needs optimizer = \"sgd\" and momentum > 0".into(),
            )?;
        }
        check(self.batch_size >= 1, || {
            "train.batch_size = 0: must be at least 1".into()
        })?;
        check(self.epochs >= 1, || {
            "train.epochs = 0: must be at least 1".into()
        })?;
        check((1..=MAX_ENSEMBLE).contains(&self.ensemble), || {
            format!(
                "train.ensemble = {}: must be 1 to {MAX_ENSEMBLE} networks",
                self.ensemble
            )
        })?;
        match self.scheduler {
            Scheduler::None => {}
            Scheduler::Step => {
                check(self.step_size >= 1, || {
                    "train.step_size = 0: must be at least 1".into()
                })?;
                check(self.gamma > 0.0 && self.gamma <= 1.0, || {
                    format!("train.gamma = {}: must be in (0, 1]", self.gamma)
                })?;
            }
            Scheduler::Cosine | Scheduler::Onecycle => {
                check(self.warmup_epochs < self.epochs, || {
                    format!(
                        "train.warmup_epochs = {}: must be below train.epochs = {}",
                        self.warmup_epochs, self.epochs
                    )
                })?;
            }
            Scheduler::Plateau => {
                check(self.factor > 0.0 && self.factor < 1.0, || {
                    format!("train.factor = {}: must be in (0, 1)", self.factor)
                })?;
            }
        }
        check(
            self.min_lr.is_finite() && self.min_lr >= 0.0 && self.min_lr <= self.lr,
            || {
                format!(
                    "train.min_lr = {}: must be in [0, train.lr = {}]",
                    self.min_lr, self.lr
                )
            },
        )?;
        if let Some(c) = self.grad_clip {
            positive("grad_clip", c)?;
        }
        check((0.0..1.0).contains(&self.label_smoothing), || {
            format!(
                "train.label_smoothing = {}: must be in [0, 1)",
                self.label_smoothing
            )
        })?;
        if let ClassWeights::Explicit(w) = &self.class_weights {
            check(w.len() == n_classes, || {
                format!(
                    "train.class_weights has {} values for {n_classes} classes",
                    w.len()
                )
            })?;
            check(
                w.iter().all(|x| x.is_finite() && *x >= 0.0) && w.iter().any(|x| *x > 0.0),
                || "train.class_weights: every weight must be >= 0 and at least one > 0".into(),
            )?;
        }
        if let Some(p) = self.early_stopping {
            check(p >= 1, || {
                "train.early_stopping = 0: patience must be at least 1".into()
            })?;
        }
        if let Some(t) = self.threads {
            check(t >= 1, || "train.threads = 0: must be at least 1".into())?;
        }
        Ok(())
    }
}
