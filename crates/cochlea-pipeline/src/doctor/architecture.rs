//! Checks of the architecture against the input, from the network summary
//! (before any tensor).
//!
//! The time-axis checks are about convolutions over time: a `dense`
//! network has none (its head reads the frames, or the single frame of
//! functionals, directly), so for it they state that instead of firing; a
//! `conv2d` network's frequency axis is reported beside its time axis.

use cochlea_model::{NetConfig, NetKind, NetSummary};

use super::{Check, Finding};

/// `architecture.pooling`: at most this many frames reaching the head ...
pub const POOLED_FRAMES: usize = 2;
/// ... from clips of at least this many frames.
pub const POOLING_MIN_CLIP: usize = 16;
/// `architecture.receptive_field`: the receptive field must cover at least
/// this fraction of a clip.
pub const RECEPTIVE_FRACTION: f64 = 0.1;
/// `architecture.parameters`: parameters per training clip above which the
/// network is large for the data.
pub const PARAMS_PER_CLIP: usize = 1000;

/// Checks of the architecture `cfg` (summarised as `net`) against inputs
/// of `clip_frames` frames (the model input: 1 for functionals).
pub fn arch_checks(
    cfg: &NetConfig,
    net: &NetSummary,
    clip_frames: usize,
    hop_seconds: f64,
    n_train: usize,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if cfg.kind == NetKind::Dense {
        let what = if clip_frames == 1 {
            "one frame per clip (functionals): no time axis, by design".to_string()
        } else {
            format!("{clip_frames} frames into the {} head", cfg.head.name())
        };
        out.push(Check::Pooling.ok("a dense network: no convolution over time", what));
        out.push(Check::ReceptiveField.ok(
            "a dense network: the head sees every frame",
            format!("{clip_frames} frame(s)"),
        ));
        params_check(net, n_train, &mut out);
        return out;
    }
    let bands = if cfg.kind == NetKind::Conv2d {
        format!(
            "; frequency: {} rows averaged before the head",
            net.bands_before_head
        )
    } else {
        String::new()
    };
    if net.frames_before_head <= POOLED_FRAMES && clip_frames >= POOLING_MIN_CLIP {
        let layers: Vec<String> = net
            .layers
            .iter()
            .map(|l| format!("{}→{}", l.name, l.out_frames))
            .collect();
        out.push(Check::Pooling.warn(
            format!(
                "time is pooled from {clip_frames} frames to {} before the head",
                net.frames_before_head
            ),
            format!("layers: {}{bands}", layers.join(", ")),
        ));
    } else {
        out.push(Check::Pooling.ok(
            "the time axis survives to the head",
            format!("{clip_frames} → {} frames{bands}", net.frames_before_head),
        ));
    }
    let rf = net.receptive_field_frames;
    let rf_s = net.receptive_field_seconds(hop_seconds);
    if (rf as f64) < RECEPTIVE_FRACTION * clip_frames as f64 {
        out.push(Check::ReceptiveField.warn(
            format!(
                "the receptive field ({rf} frames, {rf_s:.3} s) covers under a tenth of a clip"
            ),
            format!("clip {clip_frames} frames"),
        ));
    } else {
        out.push(Check::ReceptiveField.ok(
            "the receptive field fits the clip",
            format!("{rf} frames ({rf_s:.3} s) for {clip_frames}-frame clips"),
        ));
    }
    params_check(net, n_train, &mut out);
    out
}

fn params_check(net: &NetSummary, n_train: usize, out: &mut Vec<Finding>) {
    if net.params > PARAMS_PER_CLIP * n_train.max(1) {
        out.push(Check::Parameters.warn(
            format!("{} parameters for {n_train} training clips", net.params),
            format!(
                "{:.0} parameters per clip",
                net.params as f64 / n_train.max(1) as f64
            ),
        ));
    }
}
