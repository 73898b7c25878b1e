//! Shape arithmetic: what a [`NetConfig`] builds for an input shape, checked
//! before any tensor exists ([`NetConfig::validate`]). No libtorch: configs
//! and shape checks work in builds without it.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::config::{BlockConfig, Head, NetConfig, NetKind, Padding};

/// What the network looks like for a given input shape: one entry per block,
/// then the head, hidden layers and output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetSummary {
    /// Blocks (`blocks[0]`, ...), `head`, `hidden[0]`, ..., `output`.
    pub layers: Vec<LayerSummary>,
    /// Trainable parameters (batch-norm running statistics excluded, as in
    /// PyTorch's `sum(p.numel() for p in model.parameters())`).
    pub params: usize,
    /// Input frames that one time step after the last block sees. It may
    /// exceed the input length, in which case padding fills the rest.
    pub receptive_field_frames: usize,
    /// Time steps left when the head pools or flattens.
    pub frames_before_head: usize,
    /// Frequency rows left after the last block of a `conv2d` network,
    /// averaged away before the head; 1 for the other kinds.
    #[serde(default = "one")]
    pub bands_before_head: usize,
}

fn one() -> usize {
    1
}

/// One layer (or block) of a [`NetSummary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// `blocks[i]`, `head`, `hidden[i]` or `output`.
    pub name: String,
    /// Channels (or units) out of the layer.
    pub out_channels: usize,
    /// Time steps out of the layer (1 once the head has pooled).
    pub out_frames: usize,
    /// Frequency rows out of a `conv2d` block; 1 otherwise.
    #[serde(default = "one")]
    pub out_bands: usize,
    /// Trainable parameters of the layer.
    pub params: usize,
}

impl NetSummary {
    /// The receptive field in seconds, for features computed every
    /// `hop_seconds` (hop length / sample rate).
    pub fn receptive_field_seconds(&self, hop_seconds: f64) -> f64 {
        self.receptive_field_frames as f64 * hop_seconds
    }
}

/// Output length of a convolution, `None` when the input is too short.
/// Follows the formula in the `torch.nn.Conv1d` docs.
fn conv_out(len: usize, b: &BlockConfig, kernel: i64, stride: i64) -> Option<usize> {
    let stride = stride as usize;
    match b.padding {
        Padding::Same => Some(len.div_ceil(stride)),
        Padding::Valid => {
            let span = (b.dilation * (kernel - 1)) as usize + 1;
            (len >= span).then(|| (len - span) / stride + 1)
        }
    }
}

/// Parameters of a convolution with `taps` weights per input and output
/// channel (`kernel` in 1D, `kernel * kernel` in 2D), plus its bias or norm.
fn conv_params(b: &BlockConfig, c_in: usize, c_out: usize, taps: usize) -> usize {
    let bias_or_norm = if b.batch_norm { 2 * c_out } else { c_out };
    c_out
        .saturating_mul(c_in)
        .saturating_mul(taps)
        .saturating_add(bias_or_norm)
}

/// Parameters of a head over `channels` channels: the frame scorer of the
/// attention heads (`W`, `b`, `v`), none for the others.
fn head_params(head: Head, channels: usize, attention_dim: usize) -> usize {
    match head {
        Head::Attention | Head::AttentiveStats => attention_dim
            .saturating_mul(channels)
            .saturating_add(2 * attention_dim),
        _ => 0,
    }
}

/// Largest filters, kernel, stride, dilation, pool or hidden width: far above
/// any useful value, low enough that the shape arithmetic cannot overflow.
const MAX_SIZE: i64 = 1 << 16;

/// Most trainable parameters a network may have (1 GiB of f32 weights, four
/// times that with gradients and Adam's moments): a typo such as
/// `filters = 4000000000` is named here instead of failing inside libtorch.
pub const MAX_PARAMS: usize = 1 << 28;

fn dropout_ok(p: f64) -> bool {
    (0.0..1.0).contains(&p)
}

impl NetKind {
    /// The kind's name in the config.
    pub fn name(self) -> &'static str {
        match self {
            NetKind::Cnn1d => "cnn1d",
            NetKind::Conv2d => "conv2d",
            NetKind::Dense => "dense",
        }
    }
}

impl NetConfig {
    /// Index of the head in [`NetSummary::layers`]: after the blocks this
    /// kind builds.
    pub fn head_index(&self) -> usize {
        match self.kind {
            NetKind::Dense => 0,
            NetKind::Cnn1d | NetKind::Conv2d => self.blocks.len(),
        }
    }

    /// Checks the config against an input of `n_features x n_frames` and
    /// `n_classes` outputs, and describes the network it builds: time length
    /// after every block, parameters, receptive field.
    ///
    /// A block that would leave fewer than one time step is an error naming
    /// the block and the lengths.
    pub fn validate(
        &self,
        n_features: usize,
        n_frames: usize,
        n_classes: usize,
    ) -> Result<NetSummary, Error> {
        let cfg = |msg: String| Err(Error::Config(msg));
        if n_features == 0 || n_frames == 0 {
            return cfg(format!(
                "input of {n_features} features x {n_frames} frames: both must be at least 1"
            ));
        }
        if n_classes < 2 {
            return cfg(format!(
                "{n_classes} classes: a classifier needs at least 2"
            ));
        }
        let conv = self.kind != NetKind::Dense;
        if conv && self.blocks.is_empty() {
            return cfg(format!(
                "model.blocks is empty: kind = \"{}\" needs at least one conv block \
                 (kind = \"dense\" has none)",
                self.kind.name()
            ));
        }
        if !dropout_ok(self.dropout) {
            return cfg(format!(
                "model.dropout = {}: must be in [0, 1)",
                self.dropout
            ));
        }
        if matches!(self.head, Head::Attention | Head::AttentiveStats)
            && !(1..=MAX_SIZE as usize).contains(&self.attention_dim)
        {
            return cfg(format!(
                "model.attention_dim = {}: must be from 1 to {MAX_SIZE} for head = \"{}\"",
                self.attention_dim,
                self.head.name()
            ));
        }
        let two_d = self.kind == NetKind::Conv2d;

        let mut layers = Vec::new();
        let mut lengths = vec![n_frames];
        let mut bands_path = vec![n_features];
        // A 2D network's input is one channel of n_features rows.
        let (mut c_in, mut len, mut bands) = if two_d {
            (1, n_frames, n_features)
        } else {
            (n_features, n_frames, 1)
        };
        let (mut rf, mut jump) = (1usize, 1usize);
        let blocks: &[BlockConfig] = if conv { &self.blocks } else { &[] };
        for (i, b) in blocks.iter().enumerate() {
            let key = format!("model.blocks[{i}]");
            for (name, v) in [
                ("filters", b.filters),
                ("kernel", b.kernel),
                ("stride", b.stride),
                ("dilation", b.dilation),
                ("pool", b.pool),
            ] {
                if !(1..=MAX_SIZE).contains(&v) {
                    return cfg(format!("{key}.{name} = {v}: must be from 1 to {MAX_SIZE}"));
                }
            }
            if !dropout_ok(b.dropout) {
                return cfg(format!("{key}.dropout = {}: must be in [0, 1)", b.dropout));
            }
            if b.residual && b.padding != Padding::Same {
                return cfg(format!(
                    "{key}: residual = true needs padding = \"same\" so the shortcut and \
                     the convolutions keep the same length"
                ));
            }
            let too_short = |what: String, axis: &str, from: usize, path: &[usize]| {
                let path: Vec<String> = path.iter().map(|l| l.to_string()).collect();
                let (unit, input) = if axis == "time" {
                    ("frame(s)", n_frames)
                } else {
                    ("row(s)", n_features)
                };
                cfg(format!(
                    "{key}: {what} shrinks {axis} from {from} {unit} to 0 \
                     (input {input} {unit}, after each block: {}); too much pooling, \
                     stride or kernel for this input: reduce them or use fewer blocks",
                    path.join(" -> ")
                ))
            };
            let (c_out, k) = (b.filters as usize, b.kernel as usize);
            let taps = if two_d { k * k } else { k };
            let conv_what = || {
                format!(
                    "a kernel of {k} with dilation {} (padding valid)",
                    b.dilation
                )
            };
            let Some(after_conv) = conv_out(len, b, b.kernel, b.stride) else {
                return too_short(conv_what(), "time", len, &lengths);
            };
            let bands_after_conv = if two_d {
                match conv_out(bands, b, b.kernel, b.stride) {
                    Some(v) => v,
                    None => return too_short(conv_what(), "frequency", bands, &bands_path),
                }
            } else {
                1
            };
            let mut params = conv_params(b, c_in, c_out, taps);
            // Saturating: strides of "same" blocks multiply without bound.
            let grow = |jump: usize| ((b.dilation as usize) * (k - 1)).saturating_mul(jump);
            rf = rf.saturating_add(grow(jump));
            jump = jump.saturating_mul(b.stride as usize);
            if b.residual {
                params = params.saturating_add(conv_params(b, c_out, c_out, taps));
                rf = rf.saturating_add(grow(jump));
                if c_in != c_out || b.stride != 1 {
                    params = params.saturating_add(conv_params(b, c_in, c_out, 1));
                }
            }
            let pool = b.pool as usize;
            let after_pool = after_conv / pool;
            if after_pool == 0 {
                return too_short(format!("pool {pool}"), "time", after_conv, &lengths);
            }
            let bands_after_pool = if two_d { bands_after_conv / pool } else { 1 };
            if bands_after_pool == 0 {
                return too_short(
                    format!("pool {pool}"),
                    "frequency",
                    bands_after_conv,
                    &bands_path,
                );
            }
            rf = rf.saturating_add((pool - 1).saturating_mul(jump));
            jump = jump.saturating_mul(pool);
            layers.push(LayerSummary {
                name: format!("blocks[{i}]"),
                out_channels: c_out,
                out_frames: after_pool,
                out_bands: bands_after_pool,
                params,
            });
            (c_in, len, bands) = (c_out, after_pool, bands_after_pool);
            lengths.push(len);
            bands_path.push(bands);
        }

        let head_width = match self.head {
            Head::Flatten => c_in.saturating_mul(len),
            h => c_in.saturating_mul(h.per_channel()),
        };
        layers.push(LayerSummary {
            name: "head".into(),
            out_channels: head_width,
            out_frames: 1,
            out_bands: 1,
            params: head_params(self.head, c_in, self.attention_dim),
        });
        let mut width = head_width;
        for (i, &h) in self.hidden.iter().enumerate() {
            if !(1..=MAX_SIZE as usize).contains(&h) {
                return cfg(format!(
                    "model.hidden[{i}] = {h}: must be from 1 to {MAX_SIZE}"
                ));
            }
            layers.push(LayerSummary {
                name: format!("hidden[{i}]"),
                out_channels: h,
                out_frames: 1,
                out_bands: 1,
                params: width.saturating_mul(h).saturating_add(h),
            });
            width = h;
        }
        layers.push(LayerSummary {
            name: "output".into(),
            out_channels: n_classes,
            out_frames: 1,
            out_bands: 1,
            params: width.saturating_mul(n_classes).saturating_add(n_classes),
        });
        let params = layers
            .iter()
            .fold(0usize, |a, l| a.saturating_add(l.params));
        if params > MAX_PARAMS {
            let big = layers
                .iter()
                .max_by_key(|l| l.params)
                .map_or("", |l| &l.name);
            return cfg(format!(
                "model: the network would have {params} parameters, more than the \
                 {MAX_PARAMS} allowed; the largest layer is model.{big}: use fewer \
                 filters, smaller kernels or a pooling head"
            ));
        }
        Ok(NetSummary {
            params,
            layers,
            receptive_field_frames: rf,
            frames_before_head: len,
            bands_before_head: bands,
        })
    }
}
