//! The libtorch module built from a checked config ([`Net`]); its shape
//! arithmetic lives in `shape`.
//!
//! Every kind runs on 4-D activations `[batch, channels, bands, frames]`:
//! a `cnn1d` network sees its input as `[batch, n_features, 1, n_frames]`
//! and convolves with `(1, kernel)` kernels, a `conv2d` network as
//! `[batch, 1, n_features, n_frames]` with `(kernel, kernel)` kernels, and
//! a `dense` network hands `[batch, n_features, 1, n_frames]` straight to
//! the head.

use tch::nn::{Init, Path};
use tch::{Kind, TchError, Tensor};

use crate::Error;
use crate::config::{
    Activation, BlockConfig, Head, InitScheme, NetConfig, NetKind, Padding, PoolKind,
};
use crate::shape::NetSummary;

/// `1 / sqrt(fan_in)`: the bound of `torch.nn.Conv1d`'s and
/// `torch.nn.Linear`'s default weight and bias init. Their weights start from
/// `kaiming_uniform_(w, a=sqrt(5))`, whose gain `sqrt(2 / (1 + 5))` times
/// `sqrt(3 / fan_in)` is this bound; their biases from the same bound.
fn uniform_bound(fan_in: i64) -> f64 {
    1.0 / (fan_in.max(1) as f64).sqrt()
}

/// `U(-bound, bound)`, drawn by libtorch's `uniform_` as `torch.nn.init` does.
fn uniform(bound: f64) -> Init {
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// A convolution with its padding plan.
#[derive(Debug)]
struct Conv {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: i64,
    dilation: i64,
    /// Zero padding left and right; equal sides go to the conv kernel itself.
    pad: (i64, i64),
    /// Square kernel over (bands, frames) instead of (1, frames).
    two_d: bool,
}

impl Conv {
    fn new(
        p: &Path<'_>,
        b: &BlockConfig,
        init: InitScheme,
        (c_in, c_out): (i64, i64),
        kernel: i64,
        stride: i64,
        two_d: bool,
    ) -> Result<Self, TchError> {
        let taps = if two_d { kernel * kernel } else { kernel };
        let fan_in = c_in * taps;
        let weight_bound = match init {
            // He et al. 2015 uniform init for ReLU nets, fan-in mode
            // (`torch.nn.init.kaiming_uniform_(w, nonlinearity="relu")`):
            // gain sqrt(2), bound gain * sqrt(3 / fan_in).
            InitScheme::He => (6.0 / fan_in as f64).sqrt(),
            InitScheme::Pytorch => uniform_bound(fan_in),
        };
        let shape: &[i64] = if two_d {
            &[c_out, c_in, kernel, kernel]
        } else {
            &[c_out, c_in, kernel]
        };
        let weight = p.f_var("weight", shape, uniform(weight_bound))?;
        // Batch norm subtracts the mean, so a bias before it is dead weight.
        let bias = if b.batch_norm {
            None
        } else {
            // `torch.nn.Conv1d`'s default bias init.
            Some(p.f_var("bias", &[c_out], uniform(uniform_bound(fan_in)))?)
        };
        let pad = match b.padding {
            Padding::Valid => (0, 0),
            Padding::Same => {
                // As `torch.nn.Conv1d(padding="same")`: the odd frame goes right.
                let total = b.dilation * (kernel - 1);
                (total / 2, total - total / 2)
            }
        };
        Ok(Conv {
            weight,
            bias,
            stride,
            dilation: b.dilation,
            pad,
            two_d,
        })
    }

    /// `x` is `[batch, channels, 1, frames]` in channels-last layout (see
    /// [`Net::forward_t`]); the kernel is the `[out, in, kernel]` weight
    /// seen as `[out, in, 1, kernel]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let (l, r) = self.pad;
        if self.two_d {
            let (x, pad) = if l == r {
                (x.shallow_clone(), l)
            } else {
                (x.f_constant_pad_nd([l, r, l, r])?, 0)
            };
            let (s, d) = (self.stride, self.dilation);
            return x.f_conv2d(
                &self.weight,
                self.bias.as_ref(),
                [s, s],
                [pad, pad],
                [d, d],
                1,
            );
        }
        let (x, pad) = if l == r {
            (x.shallow_clone(), l)
        } else {
            (x.f_constant_pad_nd([l, r])?, 0)
        };
        x.f_conv2d(
            &self.weight.f_unsqueeze(2)?,
            self.bias.as_ref(),
            [1, self.stride],
            [0, pad],
            [1, self.dilation],
            1,
        )
    }
}

/// `torch.nn.BatchNorm1d` (momentum 0.1, eps 1e-5).
#[derive(Debug)]
struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
}

impl BatchNorm {
    fn new(p: &Path<'_>, c: i64) -> Result<Self, TchError> {
        Ok(BatchNorm {
            weight: p.f_var("weight", &[c], Init::Const(1.0))?,
            bias: p.f_var("bias", &[c], Init::Const(0.0))?,
            running_mean: p.f_zeros_no_train("running_mean", &[c])?,
            running_var: p.f_ones_no_train("running_var", &[c])?,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor, TchError> {
        Tensor::f_batch_norm(
            x,
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.running_mean),
            Some(&self.running_var),
            train,
            0.1,
            1e-5,
            true,
        )
    }
}

/// A convolution followed by an optional batch norm.
#[derive(Debug)]
struct ConvNorm {
    conv: Conv,
    norm: Option<BatchNorm>,
}

impl ConvNorm {
    fn new(
        p: &Path<'_>,
        b: &BlockConfig,
        init: InitScheme,
        channels: (i64, i64),
        kernel: i64,
        stride: i64,
        two_d: bool,
    ) -> Result<Self, TchError> {
        let conv = Conv::new(&(p / "conv"), b, init, channels, kernel, stride, two_d)?;
        let c_out = channels.1;
        let norm = if b.batch_norm {
            Some(BatchNorm::new(&(p / "bn"), c_out)?)
        } else {
            None
        };
        Ok(ConvNorm { conv, norm })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor, TchError> {
        let y = self.conv.forward(x)?;
        match &self.norm {
            Some(n) => n.forward(&y, train),
            None => Ok(y),
        }
    }
}

/// Applies the activation, in place where autograd allows it: ReLU's
/// backward needs only its output, and no caller reuses `x`.
fn activate(mut x: Tensor, a: Activation) -> Result<Tensor, TchError> {
    match a {
        Activation::Relu => x.f_relu_(),
        Activation::Gelu => x.f_gelu("none"),
        Activation::LeakyRelu => x.f_leaky_relu(),
        Activation::Elu => x.f_elu(),
    }
}

/// `[batch, channels, frames]` (any layout) as `[batch, channels, 1,
/// frames]` with channels-last strides, which libtorch recognises as the
/// `channels_last` memory format: one copy.
fn channels_last(x: &Tensor) -> Result<Tensor, TchError> {
    let (_, c, t) = x.size3()?;
    // The batch as -1, not its size: a traced module (`export`) then takes
    // any batch size.
    x.f_permute([0, 2, 1])?
        .f_contiguous()?
        .f_view([-1, 1, t, c])?
        .f_permute([0, 3, 1, 2])
}

fn dropout(x: Tensor, p: f64, train: bool) -> Result<Tensor, TchError> {
    if p > 0.0 && train {
        x.f_dropout(p, true)
    } else {
        Ok(x)
    }
}

#[derive(Debug)]
struct Block {
    first: ConvNorm,
    /// Second conv and shortcut of a residual block.
    residual: Option<(ConvNorm, Option<ConvNorm>)>,
    activation: Activation,
    pool: i64,
    pool_kind: PoolKind,
    dropout: f64,
    two_d: bool,
}

impl Block {
    fn pool(&self, y: Tensor) -> Result<Tensor, TchError> {
        if self.pool == 1 {
            return Ok(y);
        }
        let bands = if self.two_d { self.pool } else { 1 };
        let (window, none) = ([bands, self.pool], [0, 0]);
        match self.pool_kind {
            PoolKind::Max => y.f_max_pool2d(window, window, none, [1, 1], false),
            PoolKind::Avg => y.f_avg_pool2d(window, window, none, false, true, None),
        }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor, TchError> {
        let mut y = self.first.forward(x, train)?;
        if let Some((second, shortcut)) = &self.residual {
            y = second.forward(&activate(y, self.activation)?, train)?;
            y = match shortcut {
                Some(s) => y.f_add(&s.forward(x, train)?)?,
                None => y.f_add(x)?,
            };
        }
        // A non-decreasing activation commutes with max pooling,
        // act(max(a, b)) = max(act(a), act(b)), values and gradients alike;
        // pooling first runs the activation on 1/pool of the frames.
        let monotone = matches!(
            self.activation,
            Activation::Relu | Activation::LeakyRelu | Activation::Elu
        );
        let y = if self.pool_kind == PoolKind::Max && monotone {
            activate(self.pool(y)?, self.activation)?
        } else {
            self.pool(activate(y, self.activation)?)?
        };
        dropout(y, self.dropout, train)
    }
}

/// A linear layer with `torch.nn.Linear`'s default init,
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and bias, under every
/// [`InitScheme`].
#[derive(Debug)]
struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn new(p: &Path<'_>, c_in: i64, c_out: i64) -> Result<Self, TchError> {
        let init = uniform(uniform_bound(c_in));
        Ok(Linear {
            weight: p.f_var("weight", &[c_out, c_in], init)?,
            bias: p.f_var("bias", &[c_out], init)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        x.f_linear(&self.weight, Some(&self.bias))
    }
}

/// Floor of a variance before its square root in the statistics heads: the
/// gradient of `sqrt` at 0 is infinite, and a channel that is constant over
/// time (a ReLU that never fires) would make it NaN.
pub(crate) const STATS_VAR_FLOOR: f64 = 1e-8;

/// The frame scorer of the attention heads: `score_t = v . tanh(W h_t + b)`
/// (no bias on `v`: the softmax over time would cancel it).
#[derive(Debug)]
struct Attention {
    proj: Linear,
    score: Tensor,
}

impl Attention {
    fn new(p: &Path<'_>, channels: i64, dim: i64) -> Result<Self, TchError> {
        Ok(Attention {
            proj: Linear::new(&(p / "proj"), channels, dim)?,
            score: p.f_var("score", &[1, dim], uniform(uniform_bound(dim)))?,
        })
    }

    /// Softmax weights over time `[batch, 1, frames]` for `z` `[batch,
    /// channels, frames]`.
    fn weights(&self, z: &Tensor) -> Result<Tensor, TchError> {
        let h = self.proj.forward(&z.f_transpose(1, 2)?)?.f_tanh()?;
        h.f_linear::<Tensor>(&self.score, None)?
            .f_transpose(1, 2)?
            .f_softmax(2, Kind::Float)
    }
}

/// Mean and standard deviation over time of `z` `[batch, channels,
/// frames]` under weights `w` `[batch, 1, frames]` summing to 1 (uniform
/// for the `stats` head), concatenated: `[batch, 2 * channels]`.
fn weighted_stats(z: &Tensor, w: Option<&Tensor>) -> Result<Tensor, TchError> {
    let dims = [2i64];
    let mean_of = |t: &Tensor| match w {
        Some(w) => t
            .f_mul(w)?
            .f_sum_dim_intlist(dims.as_slice(), true, Kind::Float),
        None => t.f_mean_dim(dims.as_slice(), true, Kind::Float),
    };
    let mean = mean_of(z)?;
    let var = mean_of(&z.f_sub(&mean)?.f_square()?)?;
    let std = var.f_clamp_min(STATS_VAR_FLOOR)?.f_sqrt()?;
    Tensor::f_cat(&[mean.f_squeeze_dim(2)?, std.f_squeeze_dim(2)?], 1)
}

/// The network built in a `VarStore` from a validated [`NetConfig`].
///
/// Variable names (`blocks.0.conv.weight`, `blocks.0.bn.running_mean`,
/// `hidden.0.weight`, `output.bias`, ...) are the keys in saved weights.
#[derive(Debug)]
pub(crate) struct Net {
    kind: NetKind,
    blocks: Vec<Block>,
    head: Head,
    attention: Option<Attention>,
    hidden: Vec<Linear>,
    output: Linear,
    dropout: f64,
}

impl Net {
    /// Creates the variables under `root`, initialised from libtorch's
    /// global generator (seed it first with `tch::manual_seed`).
    pub(crate) fn new(
        root: &Path<'_>,
        cfg: &NetConfig,
        summary: &NetSummary,
        n_features: usize,
    ) -> Result<Self, Error> {
        let two_d = cfg.kind == NetKind::Conv2d;
        let conv_blocks: &[BlockConfig] = match cfg.kind {
            NetKind::Dense => &[],
            NetKind::Cnn1d | NetKind::Conv2d => &cfg.blocks,
        };
        let mut blocks = Vec::with_capacity(conv_blocks.len());
        let mut c_in = if two_d { 1 } else { n_features as i64 };
        for (i, b) in conv_blocks.iter().enumerate() {
            let p = root / "blocks" / i;
            let init = cfg.init;
            let first = ConvNorm::new(&p, b, init, (c_in, b.filters), b.kernel, b.stride, two_d)?;
            let residual = if b.residual {
                let second = ConvNorm::new(
                    &(&p / "second"),
                    b,
                    init,
                    (b.filters, b.filters),
                    b.kernel,
                    1,
                    two_d,
                )?;
                let shortcut = if c_in != b.filters || b.stride != 1 {
                    let plain = BlockConfig {
                        padding: Padding::Valid,
                        ..b.clone()
                    };
                    Some(ConvNorm::new(
                        &(&p / "shortcut"),
                        &plain,
                        init,
                        (c_in, b.filters),
                        1,
                        b.stride,
                        two_d,
                    )?)
                } else {
                    None
                };
                Some((second, shortcut))
            } else {
                None
            };
            blocks.push(Block {
                first,
                residual,
                activation: b.activation,
                pool: b.pool,
                pool_kind: b.pool_kind,
                dropout: b.dropout,
                two_d,
            });
            c_in = b.filters;
        }
        let attention = match cfg.head {
            Head::Attention | Head::AttentiveStats => Some(Attention::new(
                &(root / "head"),
                c_in,
                cfg.attention_dim as i64,
            )?),
            _ => None,
        };
        // layers = blocks, head, hidden..., output: the head's width and the
        // hidden widths come from the summary so they are computed once.
        let head_width = summary.layers[cfg.head_index()].out_channels as i64;
        let mut hidden = Vec::with_capacity(cfg.hidden.len());
        let mut width = head_width;
        for (i, &h) in cfg.hidden.iter().enumerate() {
            hidden.push(Linear::new(&(root / "hidden" / i), width, h as i64)?);
            width = h as i64;
        }
        let n_classes = summary.layers.last().map_or(0, |l| l.out_channels) as i64;
        let output = Linear::new(&(root / "output"), width, n_classes)?;
        Ok(Net {
            kind: cfg.kind,
            blocks,
            head: cfg.head,
            attention,
            hidden,
            output,
            dropout: cfg.dropout,
        })
    }

    /// The output of the last block, `[batch, channels, bands,
    /// frames_before_head]` (channels-last layout for `cnn1d`; bands = 1
    /// but for `conv2d`); for `dense` the input as `[batch, n_features, 1,
    /// n_frames]`.
    fn features(&self, x: &Tensor, train: bool) -> Result<Tensor, TchError> {
        let mut y = match self.kind {
            NetKind::Cnn1d => channels_last(x)?,
            NetKind::Conv2d => x.f_unsqueeze(1)?,
            NetKind::Dense => x.f_unsqueeze(2)?,
        };
        for b in &self.blocks {
            y = b.forward(&y, train)?;
        }
        Ok(y)
    }

    /// The head on `y` `[batch, channels, bands, frames]`: bands reduced by
    /// their mean, then time by the head: `[batch, head width]`.
    fn pool_head(&self, y: Tensor) -> Result<Tensor, TchError> {
        let y = if self.kind == NetKind::Conv2d {
            y.f_mean_dim([2i64].as_slice(), true, Kind::Float)?
        } else {
            y
        };
        match self.head {
            Head::GlobalAvg => y.f_mean_dim([2i64, 3].as_slice(), false, Kind::Float),
            Head::GlobalMax => y.f_amax([2i64, 3].as_slice(), false),
            // Channel-major, frame-minor: the order of `[channels, frames]`.
            Head::Flatten => y.f_squeeze_dim(2)?.f_flatten(1, 2),
            Head::Stats => weighted_stats(&y.f_squeeze_dim(2)?, None),
            Head::Attention | Head::AttentiveStats => {
                let z = y.f_squeeze_dim(2)?;
                let Some(att) = &self.attention else {
                    return Err(TchError::Kind("attention head without its scorer".into()));
                };
                let w = att.weights(&z)?;
                if self.head == Head::Attention {
                    z.f_mul(&w)?
                        .f_sum_dim_intlist([2i64].as_slice(), false, Kind::Float)
                } else {
                    weighted_stats(&z, Some(&w))
                }
            }
        }
    }

    /// Logits `[batch, n_classes]` for input `[batch, n_features, n_frames]`.
    /// `train` switches batch norm to batch statistics and enables dropout.
    ///
    /// Inside, activations are `[batch, channels, 1, frames]` tensors in
    /// channels-last memory layout (each frame's channels contiguous), and
    /// the blocks run as `(1, kernel)` 2-D convolutions, batch norm and
    /// pooling on them: the same arithmetic as `Conv1d`, `BatchNorm1d` and
    /// `MaxPool1d` on `[batch, channels, frames]`, but libtorch's CPU kernels
    /// for this layout (oneDNN convolutions without reorders, vectorised
    /// pooling) take about half the time of the channels-first ones for a
    /// training step of the default network.
    pub(crate) fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor, TchError> {
        let mut y = self.pool_head(self.features(x, train)?)?;
        for h in &self.hidden {
            y = dropout(
                activate(h.forward(&y)?, Activation::Relu)?,
                self.dropout,
                train,
            )?;
        }
        if self.hidden.is_empty() {
            y = dropout(y, self.dropout, train)?;
        }
        self.output.forward(&y)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tch::{Device, Kind, Tensor};

    use crate::classifier::Classifier;
    use crate::config::{Activation, BlockConfig, Head, InitScheme, NetConfig, Padding, PoolKind};

    fn block(filters: i64, kernel: i64) -> BlockConfig {
        BlockConfig {
            filters,
            kernel,
            ..BlockConfig::default()
        }
    }

    fn configs() -> Vec<NetConfig> {
        vec![
            NetConfig::default(),
            NetConfig {
                blocks: vec![
                    BlockConfig {
                        residual: true,
                        stride: 2,
                        ..block(16, 3)
                    },
                    BlockConfig {
                        residual: true,
                        pool: 2,
                        pool_kind: PoolKind::Avg,
                        ..block(16, 5)
                    },
                    BlockConfig {
                        batch_norm: false,
                        padding: Padding::Valid,
                        dilation: 2,
                        ..block(8, 3)
                    },
                ],
                head: Head::Flatten,
                hidden: vec![20, 7],
                dropout: 0.2,
                init: InitScheme::He,
                ..NetConfig::default()
            },
            NetConfig {
                blocks: vec![BlockConfig {
                    kernel: 4,
                    activation: Activation::Gelu,
                    ..block(6, 4)
                }],
                head: Head::GlobalMax,
                ..NetConfig::default()
            },
        ]
    }

    #[test]
    fn summary_matches_the_built_network() {
        for cfg in configs() {
            let model = Classifier::build(&cfg, 13, 100, 10, Device::Cpu).expect("build");
            let params: i64 = model
                .var_store()
                .trainable_variables()
                .iter()
                .map(|t| t.numel() as i64)
                .sum();
            assert_eq!(params as usize, model.summary().params, "{cfg:?}");
            let x = Tensor::randn([3, 13, 100], (Kind::Float, Device::Cpu));
            let feats = model.net().features(&x, false).expect("features");
            let s = model.summary();
            let last = &s.layers[cfg.blocks.len() - 1];
            assert_eq!(
                feats.size(),
                [3, last.out_channels as i64, 1, s.frames_before_head as i64]
            );
            for (i, b) in cfg.blocks.iter().enumerate() {
                assert_eq!(s.layers[i].out_channels, b.filters as usize);
            }
            let logits = model.net().forward_t(&x, true).expect("forward");
            assert_eq!(logits.size(), [3, 10]);
        }
    }

    #[test]
    fn summary_matches_the_built_network_for_every_kind_and_head() {
        use crate::config::NetKind;
        let heads = [
            Head::GlobalAvg,
            Head::GlobalMax,
            Head::Flatten,
            Head::Stats,
            Head::Attention,
            Head::AttentiveStats,
        ];
        for kind in [NetKind::Cnn1d, NetKind::Conv2d, NetKind::Dense] {
            for head in heads {
                let cfg = NetConfig {
                    kind,
                    head,
                    attention_dim: 7,
                    hidden: vec![9],
                    blocks: vec![
                        BlockConfig {
                            pool: 2,
                            ..block(6, 3)
                        },
                        BlockConfig {
                            residual: true,
                            stride: 2,
                            ..block(5, 3)
                        },
                    ],
                    ..NetConfig::default()
                };
                let model = Classifier::build(&cfg, 12, 40, 3, Device::Cpu).expect("build");
                let s = model.summary();
                let params: usize = model
                    .var_store()
                    .trainable_variables()
                    .iter()
                    .map(|t| t.numel())
                    .sum();
                assert_eq!(params, s.params, "{kind:?} {head:?}");
                let x = Tensor::randn([4, 12, 40], (Kind::Float, Device::Cpu));
                let feats = model.net().features(&x, false).expect("features");
                let (c, bands, frames) = match kind {
                    // 12 rows: pool 2 -> 6, stride 2 -> 3; 40 frames -> 20 -> 10.
                    NetKind::Conv2d => (5, 3, 10),
                    NetKind::Cnn1d => (5, 1, 10),
                    NetKind::Dense => (12, 1, 40),
                };
                assert_eq!(feats.size(), [4, c, bands, frames], "{kind:?}");
                assert_eq!(s.bands_before_head, bands as usize);
                assert_eq!(s.frames_before_head, frames as usize);
                let pooled = model.net().pool_head(feats).expect("head");
                assert_eq!(
                    pooled.size(),
                    [4, s.layers[cfg.head_index()].out_channels as i64],
                    "{kind:?} {head:?}"
                );
                let logits = model.net().forward_t(&x, true).expect("forward");
                assert_eq!(logits.size(), [4, 3]);
            }
        }
    }

    #[test]
    fn pooling_heads_compute_their_statistics() {
        // One example, two channels, four frames, given directly to the
        // head of a dense network.
        use crate::config::NetKind;
        let x = Tensor::from_slice(&[1.0f32, 3.0, 2.0, 6.0, 0.0, 0.0, 0.0, 4.0]).view([1, 2, 4]);
        let build = |head| {
            let cfg = NetConfig {
                kind: NetKind::Dense,
                head,
                attention_dim: 3,
                ..NetConfig::default()
            };
            Classifier::build(&cfg, 2, 4, 2, Device::Cpu).expect("build")
        };
        let pooled = |m: &Classifier| {
            let y = m
                .net()
                .pool_head(m.net().features(&x, false).expect("f"))
                .expect("head");
            Vec::<f32>::try_from(y.flatten(0, -1)).expect("values")
        };
        // Means 3 and 1; population standard deviations sqrt(3.5), sqrt(3).
        let stats = pooled(&build(Head::Stats));
        let want = [3.0, 1.0, 3.5f32.sqrt(), 3.0f32.sqrt()];
        for (a, b) in stats.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{stats:?}");
        }
        // Attention: a weighted mean, between the smallest and largest
        // frame of each channel; with a zero scorer, uniform weights give
        // the plain mean and standard deviation.
        let m = build(Head::AttentiveStats);
        let att = pooled(&m);
        assert!(
            att[0] > 1.0 && att[0] < 6.0 && att[1] >= 0.0 && att[1] < 4.0,
            "{att:?}"
        );
        for (name, t) in m.named_variables() {
            if name.starts_with("head.") {
                let mut t = t;
                tch::no_grad(|| {
                    let _ = t.zero_();
                });
            }
        }
        let uniform = pooled(&m);
        for (a, b) in uniform.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{uniform:?}");
        }
    }

    /// The network written the plain way, with `Conv1d`-style operations on
    /// `[batch, channels, frames]`, activation before pooling, reading the
    /// same variables.
    fn reference(
        cfg: &NetConfig,
        vars: &HashMap<String, Tensor>,
        x: &Tensor,
        train: bool,
    ) -> Tensor {
        let var = |name: String| vars.get(&name).map(Tensor::shallow_clone);
        let act = |y: Tensor, a: Activation| match a {
            Activation::Relu => y.relu(),
            Activation::Gelu => y.gelu("none"),
            Activation::LeakyRelu => y.leaky_relu(),
            Activation::Elu => y.elu(),
        };
        let conv_norm =
            |y: &Tensor, prefix: String, b: &BlockConfig, k: i64, stride: i64, same: bool| {
                let total = if same { b.dilation * (k - 1) } else { 0 };
                let w = var(format!("{prefix}.conv.weight")).expect("weight");
                let y = y.constant_pad_nd([total / 2, total - total / 2]).conv1d(
                    &w,
                    var(format!("{prefix}.conv.bias")).as_ref(),
                    [stride],
                    [0],
                    [b.dilation],
                    1,
                );
                if !b.batch_norm {
                    return y;
                }
                // Copies: batch norm in training mode updates running statistics.
                let stat = |n: &str| var(format!("{prefix}.bn.{n}")).expect("bn").copy();
                y.batch_norm(
                    var(format!("{prefix}.bn.weight")).as_ref(),
                    var(format!("{prefix}.bn.bias")).as_ref(),
                    Some(&stat("running_mean")),
                    Some(&stat("running_var")),
                    train,
                    0.1,
                    1e-5,
                    false,
                )
            };
        let mut y = x.shallow_clone();
        for (i, b) in cfg.blocks.iter().enumerate() {
            let same = b.padding == Padding::Same;
            let mut z = conv_norm(&y, format!("blocks.{i}"), b, b.kernel, b.stride, same);
            if b.residual {
                z = conv_norm(
                    &act(z, b.activation),
                    format!("blocks.{i}.second"),
                    b,
                    b.kernel,
                    1,
                    true,
                );
                z = if vars.contains_key(&format!("blocks.{i}.shortcut.conv.weight")) {
                    z + conv_norm(&y, format!("blocks.{i}.shortcut"), b, 1, b.stride, false)
                } else {
                    z + &y
                };
            }
            z = act(z, b.activation);
            if b.pool > 1 {
                z = match b.pool_kind {
                    PoolKind::Max => z.max_pool1d([b.pool], [b.pool], [0], [1], false),
                    PoolKind::Avg => z.avg_pool1d([b.pool], [b.pool], [0], false, true),
                };
            }
            y = z;
        }
        y = match cfg.head {
            Head::GlobalAvg => y.mean_dim([2i64].as_slice(), false, Kind::Float),
            Head::GlobalMax => y.amax([2i64].as_slice(), false),
            Head::Flatten => y.flatten(1, 2),
            h => panic!("the plain reference has no {h:?} head (see tests/parity.rs)"),
        };
        for h in 0..cfg.hidden.len() {
            let w = var(format!("hidden.{h}.weight")).expect("hidden");
            y = y
                .linear(&w, var(format!("hidden.{h}.bias")).as_ref())
                .relu();
        }
        y.linear(
            &var("output.weight".into()).expect("output"),
            var("output.bias".into()).as_ref(),
        )
    }

    #[test]
    fn channels_last_network_computes_the_plain_conv1d_network() {
        let mut cfgs = configs();
        cfgs.push(NetConfig {
            blocks: vec![
                BlockConfig {
                    kernel: 4,
                    pool: 3,
                    activation: Activation::LeakyRelu,
                    ..block(7, 4)
                },
                BlockConfig {
                    pool: 2,
                    pool_kind: PoolKind::Avg,
                    activation: Activation::Elu,
                    ..block(5, 3)
                },
            ],
            ..NetConfig::default()
        });
        for cfg in cfgs {
            // Dropout off: the two forward passes must see the same network.
            let cfg = NetConfig {
                dropout: 0.0,
                blocks: cfg
                    .blocks
                    .iter()
                    .map(|b| BlockConfig {
                        dropout: 0.0,
                        ..b.clone()
                    })
                    .collect(),
                ..cfg
            };
            let model = Classifier::build(&cfg, 13, 100, 10, Device::Cpu).expect("build");
            let vars: HashMap<String, Tensor> = model.named_variables().into_iter().collect();
            let x = Tensor::randn([6, 13, 100], (Kind::Float, Device::Cpu));
            for train in [true, false] {
                let ours = model.net().forward_t(&x, train).expect("forward");
                let plain = reference(&cfg, &vars, &x, train);
                let diff = f64::try_from((&ours - &plain).abs().max()).expect("diff");
                let scale = f64::try_from(plain.abs().max()).expect("scale");
                assert!(
                    diff <= 1e-5 * scale.max(1.0),
                    "train {train}: differs by {diff} (scale {scale}) for {cfg:?}"
                );
            }
        }
    }

    #[test]
    fn dropout_zeroes_a_fraction_p_and_scales_the_rest_as_torch() {
        // torch.nn.functional.dropout: each value zeroed with probability
        // p, the others divided by 1 - p.
        tch::manual_seed(7);
        let n = 100_000;
        let x = Tensor::ones([n], (Kind::Float, Device::Cpu));
        for p in [0.1, 0.3, 0.5] {
            let y = super::dropout(x.shallow_clone(), p, true).expect("dropout");
            let kept = y.ne(0.0);
            let frac = f64::try_from(kept.to_kind(Kind::Double).mean(Kind::Double)).expect("mean");
            // Five standard errors of a binomial proportion.
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (1.0 - frac - p).abs() < 5.0 * se,
                "p {p}: zeroed {}",
                1.0 - frac
            );
            let vals = Vec::<f32>::try_from(y.masked_select(&kept)).expect("values");
            let want = (1.0 / (1.0 - p)) as f32;
            assert!(
                vals.iter().all(|&v| (v - want).abs() <= 1e-6 * want),
                "p {p}"
            );
            let same = super::dropout(x.shallow_clone(), p, false).expect("eval");
            assert!(same.equal(&x));
        }
    }

    #[test]
    fn init_schemes_draw_from_their_bounds() {
        // fan_in: 13 x 5, 64 x 3, 128 x 3 for the convolutions, 128 for the
        // output layer.
        for (init, conv_gain) in [(InitScheme::Pytorch, 1.0), (InitScheme::He, 6f64.sqrt())] {
            let cfg = NetConfig {
                init,
                ..NetConfig::default()
            };
            let model = Classifier::build(&cfg, 13, 100, 10, Device::Cpu).expect("build");
            for (name, t) in model.named_variables() {
                let fan_in: i64 = t.size()[1..].iter().product();
                let (bound, gain) = if name.ends_with("conv.weight") {
                    (conv_gain / (fan_in as f64).sqrt(), conv_gain)
                } else if name == "output.weight" {
                    (1.0 / (fan_in as f64).sqrt(), 1.0)
                } else {
                    continue;
                };
                let top = f64::try_from(t.abs().max()).expect("max");
                let sd = f64::try_from(t.std(true)).expect("sd");
                assert!(
                    top <= bound && top > 0.95 * bound,
                    "{init:?} {name}: {top} vs {bound}"
                );
                // U(-b, b) has standard deviation b / sqrt(3).
                let want = bound / 3f64.sqrt();
                assert!(
                    (sd / want - 1.0).abs() < 0.05,
                    "{init:?} {name}: sd {sd} vs {want}, gain {gain}"
                );
            }
        }
    }

    #[test]
    fn receptive_field_is_the_support_of_the_input_gradient() {
        // Average pooling and ELU pass gradient everywhere, so one output
        // step depends on exactly its receptive field.
        let b = |k, d, pool, stride| BlockConfig {
            filters: 4,
            kernel: k,
            dilation: d,
            pool,
            stride,
            pool_kind: PoolKind::Avg,
            activation: Activation::Elu,
            batch_norm: false,
            ..BlockConfig::default()
        };
        let cfg = NetConfig {
            blocks: vec![b(5, 1, 2, 1), b(3, 2, 1, 2), b(3, 1, 3, 1)],
            ..NetConfig::default()
        };
        let frames = 200;
        let model = Classifier::build(&cfg, 3, frames, 2, Device::Cpu).expect("build");
        let s = model.summary().clone();
        let x = Tensor::randn([1, 3, frames as i64], (Kind::Float, Device::Cpu))
            .set_requires_grad(true);
        let feats = model.net().features(&x, false).expect("features");
        let mid = s.frames_before_head as i64 / 2;
        feats.narrow(3, mid, 1).sum(Kind::Float).backward();
        let grad = x
            .grad()
            .abs()
            .sum_dim_intlist([0i64, 1].as_slice(), false, Kind::Float);
        let support = Vec::<f32>::try_from(grad.gt(0.0).to_kind(Kind::Float)).expect("grad");
        let width = support.iter().filter(|&&v| v > 0.0).count();
        // k5: 5; pool 2: 6 (jump 2); k3 d2 stride 2: 6 + 4*2 = 14 (jump 4);
        // k3: 14 + 2*4 = 22; pool 3: 22 + 2*4 = 30.
        assert_eq!(s.receptive_field_frames, 30);
        assert_eq!(width, s.receptive_field_frames);
    }
}
