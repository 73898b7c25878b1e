//! Shape arithmetic: what a [`NetConfig`] builds for an input shape, checked
//! before any tensor exists ([`NetConfig::validate`]). No libtorch: configs
//! and shape checks work in builds without it.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::config::{BlockConfig, Head, NetConfig, Padding};

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

fn conv_params(b: &BlockConfig, c_in: usize, c_out: usize, kernel: usize) -> usize {
    let bias_or_norm = if b.batch_norm { 2 * c_out } else { c_out };
    c_out
        .saturating_mul(c_in)
        .saturating_mul(kernel)
        .saturating_add(bias_or_norm)
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

impl NetConfig {
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
        if self.blocks.is_empty() {
            return cfg("model.blocks is empty: the network needs at least one conv block".into());
        }
        if !dropout_ok(self.dropout) {
            return cfg(format!(
                "model.dropout = {}: must be in [0, 1)",
                self.dropout
            ));
        }

        let mut layers = Vec::new();
        let mut lengths = vec![n_frames];
        let (mut c_in, mut len) = (n_features, n_frames);
        let (mut rf, mut jump) = (1usize, 1usize);
        for (i, b) in self.blocks.iter().enumerate() {
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
            let too_short = |what: String, from: usize, lengths: &[usize]| {
                let path: Vec<String> = lengths.iter().map(|l| l.to_string()).collect();
                cfg(format!(
                    "{key}: {what} shrinks time from {from} frame(s) to 0 \
                     (input {n_frames} frames, after each block: {}); too much pooling, \
                     stride or kernel for this input: reduce them or use fewer blocks",
                    path.join(" -> ")
                ))
            };
            let (c_out, k) = (b.filters as usize, b.kernel as usize);
            let Some(after_conv) = conv_out(len, b, b.kernel, b.stride) else {
                return too_short(
                    format!(
                        "a kernel of {k} with dilation {} (padding valid)",
                        b.dilation
                    ),
                    len,
                    &lengths,
                );
            };
            let mut params = conv_params(b, c_in, c_out, k);
            // Saturating: strides of "same" blocks multiply without bound.
            let grow = |jump: usize| ((b.dilation as usize) * (k - 1)).saturating_mul(jump);
            rf = rf.saturating_add(grow(jump));
            jump = jump.saturating_mul(b.stride as usize);
            if b.residual {
                params = params.saturating_add(conv_params(b, c_out, c_out, k));
                rf = rf.saturating_add(grow(jump));
                if c_in != c_out || b.stride != 1 {
                    params = params.saturating_add(conv_params(b, c_in, c_out, 1));
                }
            }
            let pool = b.pool as usize;
            let after_pool = after_conv / pool;
            if after_pool == 0 {
                return too_short(format!("pool {pool}"), after_conv, &lengths);
            }
            rf = rf.saturating_add((pool - 1).saturating_mul(jump));
            jump = jump.saturating_mul(pool);
            layers.push(LayerSummary {
                name: format!("blocks[{i}]"),
                out_channels: c_out,
                out_frames: after_pool,
                params,
            });
            (c_in, len) = (c_out, after_pool);
            lengths.push(len);
        }

        let head_width = match self.head {
            Head::GlobalAvg | Head::GlobalMax => c_in,
            Head::Flatten => c_in.saturating_mul(len),
        };
        layers.push(LayerSummary {
            name: "head".into(),
            out_channels: head_width,
            out_frames: 1,
            params: 0,
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
                params: width.saturating_mul(h).saturating_add(h),
            });
            width = h;
        }
        layers.push(LayerSummary {
            name: "output".into(),
            out_channels: n_classes,
            out_frames: 1,
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
        })
    }
}
