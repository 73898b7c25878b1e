//! The model's input recipe (normalization, then length fitting or the
//! functionals of `features.pooling`) as tensor operations, so that it can
//! live inside a traced module.
//!
//! Every length is computed from the input tensor (`ones_like(row).sum()`),
//! never read with `size()`, so the traced graph accepts clips of any number
//! of frames, not only the length it was traced with.

use cochlea_features::Pooling;
use cochlea_model::tch::{Device, Kind, TchError, Tensor};

use crate::config::{CropMode, NormMethod, PadMode};
use crate::normalize::Normalizer;
use crate::spec::InputSpec;

/// Below this a row's spread counts as zero (as in [`Normalizer`]).
const MIN_SPREAD: f64 = 1e-8;

/// Raw features `[batch, rows, frames]` (frames >= 1, the same for the whole
/// batch) to the network input `[batch, rows, clip_frames]`: exactly
/// [`InputSpec::prepare`] for each clip of the batch.
///
/// The statistics are tensors made when this is built, before any trace:
/// a tensor filled from host memory while tracing would be recorded as its
/// empty allocation, not its values.
pub struct Prepare {
    method: NormMethod,
    /// `[1, rows, 1]` offset and scale of the standard and min-max methods.
    affine: Option<(Tensor, Tensor)>,
    clip_frames: i64,
    pad: PadMode,
    crop: CropMode,
    pooling: Pooling,
}

impl Prepare {
    /// The recipe of `spec` on `device`.
    pub fn new(spec: &InputSpec, device: Device) -> Result<Self, TchError> {
        let n: &Normalizer = &spec.normalizer;
        let rows = n.offset.len() as i64;
        let affine = match n.method {
            NormMethod::Standard | NormMethod::Minmax => Some((
                Tensor::f_from_slice(&n.offset)?
                    .f_view([1, rows, 1])?
                    .f_to_device(device)?,
                Tensor::f_from_slice(&n.scale)?
                    .f_view([1, rows, 1])?
                    .f_to_device(device)?,
            )),
            NormMethod::Utterance | NormMethod::None => None,
        };
        Ok(Prepare {
            method: n.method,
            affine,
            clip_frames: spec.clip_frames as i64,
            pad: spec.pad,
            crop: spec.crop,
            pooling: spec.features.pooling,
        })
    }

    /// Normalization, then length fitting or functionals.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let y = self.normalize(x)?;
        match self.pooling {
            Pooling::None => fit_length(&y, self.clip_frames, self.pad, self.crop),
            Pooling::Functionals => functionals(&y),
        }
    }

    /// [`Normalizer::apply`] on a batch; non-finite results become 0.
    fn normalize(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let y = match (&self.affine, self.method) {
            (Some((offset, scale)), _) => x.f_sub(offset)?.f_mul(scale)?,
            (None, NormMethod::Utterance) => {
                // Mean and population standard deviation of each row of each
                // clip, in float64 as the Rust path computes them.
                let (_, centred, std) = moments(x)?;
                let scale = std
                    .f_reciprocal()?
                    .f_where_self(&std.f_gt(MIN_SPREAD)?, &std.f_ones_like()?)?;
                centred.f_mul(&scale)?.f_to_kind(Kind::Float)?
            }
            (None, _) => x.shallow_clone(),
        };
        y.f_where_self(&y.f_isfinite()?, &y.f_zeros_like()?)
    }
}

/// `normalize::fit_length` on a batch: crop a long clip (centre or start),
/// pad a short one (zeros or repeats) to `frames` frames.
fn fit_length(x: &Tensor, frames: i64, pad: PadMode, crop: CropMode) -> Result<Tensor, TchError> {
    // The clip's length as a tensor computed from the input.
    let n = x
        .f_select(0, 0)?
        .f_select(0, 0)?
        .f_ones_like()?
        .f_sum(Kind::Int64)?;
    let i = Tensor::f_arange(frames, (Kind::Int64, x.device()))?;
    let start = match crop {
        CropMode::Center => n
            .f_sub_scalar(frames)?
            .f_div_scalar_mode(2, "floor")?
            .f_clamp_min(0)?,
        CropMode::Start => n.f_zeros_like()?,
    };
    match pad {
        PadMode::Repeat => {
            // Shorter clips repeat from their start; longer ones have
            // i < frames < n, so i % n = i.
            let idx = i.f_remainder_tensor(&n)?.f_add(&start)?;
            x.f_index_select(2, &idx)
        }
        PadMode::Zero => {
            let at = i.f_add(&start)?;
            let inside = at.f_lt_tensor(&n)?;
            let idx = at.f_minimum(&n.f_sub_scalar(1)?)?;
            let y = x.f_index_select(2, &idx)?;
            y.f_where_self(&inside, &y.f_zeros_like()?)
        }
    }
}

/// Per row of each clip of `[batch, rows, frames]`, in float64 as the Rust
/// path computes them: the mean, the values less the mean, and the
/// population standard deviation (per-utterance normalization and the
/// functionals share them).
fn moments(x: &Tensor) -> Result<(Tensor, Tensor, Tensor), TchError> {
    let xd = x.f_to_kind(Kind::Double)?;
    let dims = [2i64];
    let mean = xd.f_mean_dim(dims.as_slice(), true, Kind::Double)?;
    let centred = xd.f_sub(&mean)?;
    let std = centred
        .f_square()?
        .f_mean_dim(dims.as_slice(), true, Kind::Double)?
        .f_sqrt()?;
    Ok((mean, centred, std))
}

/// `crate::functionals::of_matrix` on a batch `[batch, rows, frames]`:
/// `[batch, rows * 7, 1]`, in float64 as the Rust path computes them.
/// Percentiles are `torch.quantile` with linear interpolation, numpy's
/// default; the frame index of the slope is a cumulative sum of ones, so
/// the traced graph follows the input's length.
fn functionals(x: &Tensor) -> Result<Tensor, TchError> {
    let xd = x.f_to_kind(Kind::Double)?;
    let dims = [2i64];
    let (mean, centred, std) = moments(x)?;
    let q = |p: f64| xd.f_quantile_scalar(p, 2, true, "linear");
    let range = xd
        .f_amax(dims.as_slice(), true)?
        .f_sub(&xd.f_amin(dims.as_slice(), true)?)?;
    // t = 0, 1, ..., n - 1 from the first row of the first clip.
    let t = xd
        .f_select(0, 0)?
        .f_select(0, 0)?
        .f_ones_like()?
        .f_cumsum(0, Kind::Double)?
        .f_sub_scalar(1.0)?;
    let dt = t.f_sub(&t.f_mean(Kind::Double)?)?;
    let sxx = dt.f_square()?.f_sum(Kind::Double)?;
    let sxy = centred
        .f_mul(&dt)?
        .f_sum_dim_intlist(dims.as_slice(), true, Kind::Double)?;
    let slope = sxy
        .f_div(&sxx)?
        .f_where_self(&sxx.f_gt(0.0)?, &sxy.f_zeros_like()?)?;
    let y = Tensor::f_cat(&[mean, std, q(0.1)?, q(0.5)?, q(0.9)?, range, slope], 2)?
        .f_to_kind(Kind::Float)?
        .f_flatten(1, 2)?
        .f_unsqueeze(2)?;
    y.f_where_self(&y.f_isfinite()?, &y.f_zeros_like()?)
}
