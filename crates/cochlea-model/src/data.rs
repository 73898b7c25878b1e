//! Training and evaluation data as plain owned arrays (no tensor types), and
//! their one-time move into a device tensor.
//!
//! Two optional parts serve examples longer than the network's input:
//! [`LongExamples`] keeps whole training examples so every epoch trains on a
//! fresh crop of each, and [`Dataset::clips`] marks evaluation examples as
//! windows of one clip, whose prediction is the mean of its windows'
//! probabilities.

use tch::{Device, Tensor};

use crate::Error;
use crate::classifier::Classifier;
use crate::rng::{Rng, derive};

/// Stream number (`rng::derive`) of the per-epoch crop offsets; the
/// training loop's other streams are 0 to 3.
pub(crate) const STREAM_CROP: u64 = 4;

/// Whole training examples of any length (at least the network's input
/// length), cropped afresh every epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct LongExamples {
    /// Each example's `[n_features, lens[i]]` values, row-major, one example
    /// after another.
    pub x: Vec<f32>,
    /// Frames of each example.
    pub lens: Vec<usize>,
}

/// Examples and labels: `x` is `[n, n_features, n_frames]` row-major (the
/// frames of feature 0 of example 0 first), `y` holds class indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Feature values, `len() * n_features * n_frames` of them.
    pub x: Vec<f32>,
    /// Class index of each example, in `0..n_classes`.
    pub y: Vec<i64>,
    /// Rows per example (the convolution's input channels).
    pub n_features: usize,
    /// Columns per example (time steps).
    pub n_frames: usize,
    /// Training only: the whole examples `x` was cut from. When set, each
    /// epoch trains on a random crop of `n_frames` of every one (offsets
    /// from [`Dataset::crop_starts`]); `x` (e.g. the centre crops) serves
    /// everything else, such as probes.
    pub long: Option<LongExamples>,
    /// Evaluation only: example `i` is a window of clip `clips[i]` (clips
    /// numbered from 0, every one with a window, all of a clip's windows
    /// with its label); a clip's prediction is the mean of its windows'
    /// class probabilities. `None`: every example is its own clip.
    pub clips: Option<Vec<usize>>,
}

impl Dataset {
    /// Checks that the sizes agree, that labels are not negative and that
    /// every value is finite.
    pub fn new(
        x: Vec<f32>,
        y: Vec<i64>,
        n_features: usize,
        n_frames: usize,
    ) -> Result<Self, Error> {
        let d = Dataset {
            x,
            y,
            n_features,
            n_frames,
            long: None,
            clips: None,
        };
        d.check()?;
        Ok(d)
    }

    /// Adds the whole examples the training crops are taken from; checks
    /// there is one per example, each at least `n_frames` long, finite.
    pub fn with_long(mut self, long: LongExamples) -> Result<Self, Error> {
        if long.lens.len() != self.len() {
            return Err(Error::Data(format!(
                "{} long examples for {} examples",
                long.lens.len(),
                self.len()
            )));
        }
        if let Some(i) = long.lens.iter().position(|&l| l < self.n_frames) {
            return Err(Error::Data(format!(
                "long example {i} has {} frames, fewer than the input's {}",
                long.lens[i], self.n_frames
            )));
        }
        let total: usize = long.lens.iter().sum();
        if long.x.len() != total * self.n_features {
            return Err(Error::Data(format!(
                "long examples hold {} values, expected {} ({total} frames x {} features)",
                long.x.len(),
                total * self.n_features,
                self.n_features
            )));
        }
        if long.x.iter().any(|v| !v.is_finite()) {
            return Err(Error::Data(
                "a long example holds a non-finite value".into(),
            ));
        }
        self.long = Some(long);
        Ok(self)
    }

    /// Marks example `i` as a window of clip `clips[i]`; checks the clip
    /// numbers are `0..n_clips` with no gap and that the windows of a clip
    /// share its label.
    pub fn with_clips(mut self, clips: Vec<usize>) -> Result<Self, Error> {
        if clips.len() != self.len() {
            return Err(Error::Data(format!(
                "{} clip numbers for {} examples",
                clips.len(),
                self.len()
            )));
        }
        let n = clips.iter().max().map_or(0, |&m| m + 1);
        let mut label = vec![None; n];
        for (i, &c) in clips.iter().enumerate() {
            match label[c] {
                None => label[c] = Some(self.y[i]),
                Some(l) if l != self.y[i] => {
                    return Err(Error::Data(format!(
                        "windows of clip {c} have labels {l} and {}",
                        self.y[i]
                    )));
                }
                Some(_) => {}
            }
        }
        if let Some(c) = label.iter().position(Option::is_none) {
            return Err(Error::Data(format!("clip {c} has no window")));
        }
        self.clips = Some(clips);
        Ok(self)
    }

    /// Number of clips: examples, or the clips their windows belong to.
    pub fn n_clips(&self) -> usize {
        match &self.clips {
            Some(c) => c.iter().max().map_or(0, |&m| m + 1),
            None => self.len(),
        }
    }

    /// The label of each clip.
    pub fn clip_labels(&self) -> Vec<i64> {
        match &self.clips {
            None => self.y.clone(),
            Some(clips) => {
                let mut out = vec![0; self.n_clips()];
                for (&c, &y) in clips.iter().zip(&self.y) {
                    out[c] = y;
                }
                out
            }
        }
    }

    /// The crop offset (first frame) of every long example for `epoch` of a
    /// training run seeded with `seed`. The crop's centre is drawn
    /// uniformly over the example's frames and the crop then kept inside
    /// it, so every frame is covered with probability at least
    /// `n_frames / (2 len)` per epoch (the middle ones `n_frames / len`);
    /// uniform offsets would reach the first and last frame only once in
    /// `len - n_frames + 1` epochs. Empty when there are no long examples.
    /// The training loop draws its crops from here, so a resumed run
    /// repeats them.
    pub fn crop_starts(&self, seed: u64, epoch: usize) -> Vec<usize> {
        let Some(long) = &self.long else {
            return Vec::new();
        };
        let t = self.n_frames;
        let mut rng = Rng::new(derive(seed, STREAM_CROP, epoch as u64));
        long.lens
            .iter()
            .map(|&l| {
                let centre = rng.below(l);
                centre.saturating_sub(t / 2).min(l - t)
            })
            .collect()
    }

    /// The `[n, n_features, n_frames]` values of the crops of the long
    /// examples starting at `starts`.
    pub(crate) fn crops(&self, starts: &[usize]) -> Vec<f32> {
        let Some(long) = &self.long else {
            return self.x.clone();
        };
        let (f, t) = (self.n_features, self.n_frames);
        let mut out = Vec::with_capacity(self.len() * f * t);
        let mut at = 0;
        for (&len, &s) in long.lens.iter().zip(starts) {
            for r in 0..f {
                let row = &long.x[at + r * len..at + (r + 1) * len];
                out.extend_from_slice(&row[s..s + t]);
            }
            at += f * len;
        }
        out
    }

    /// Class probabilities of every clip, `n_clips() x n_classes`
    /// row-major: the model's probabilities of each example, averaged over
    /// the windows of a clip when the examples are windows.
    pub fn predict_clips(&self, model: &Classifier) -> Result<Vec<f32>, Error> {
        let proba = model.predict_proba(&self.x, self.len())?;
        Ok(match &self.clips {
            None => proba,
            Some(clips) => mean_by_clip(&proba, model.n_classes(), clips, self.n_clips()),
        })
    }
}

/// Mean of the rows of `proba` (`clips.len() x k`) per clip.
pub fn mean_by_clip(proba: &[f32], k: usize, clips: &[usize], n_clips: usize) -> Vec<f32> {
    let mut sum = vec![0f64; n_clips * k];
    let mut count = vec![0usize; n_clips];
    for (row, &c) in proba.chunks(k).zip(clips) {
        count[c] += 1;
        for (s, &p) in sum[c * k..(c + 1) * k].iter_mut().zip(row) {
            *s += f64::from(p);
        }
    }
    sum.chunks(k)
        .zip(&count)
        .flat_map(|(row, &n)| row.iter().map(move |&s| (s / n.max(1) as f64) as f32))
        .collect()
}

impl Dataset {
    /// The clip number of each example as a device tensor, and the label of
    /// each clip, when the examples are windows.
    pub(crate) fn clip_tensors(&self, device: Device) -> Result<Option<(Tensor, Tensor)>, Error> {
        let Some(clips) = &self.clips else {
            return Ok(None);
        };
        let idx: Vec<i64> = clips.iter().map(|&c| c as i64).collect();
        let idx = Tensor::f_from_slice(&idx)?.f_to_device(device)?;
        let y = Tensor::f_from_slice(&self.clip_labels())?.f_to_device(device)?;
        Ok(Some((idx, y)))
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Values per example.
    pub fn example_len(&self) -> usize {
        self.n_features * self.n_frames
    }

    /// The checks of [`Dataset::new`], for datasets built field by field.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.n_features == 0 || self.n_frames == 0 {
            return Err(Error::Data(format!(
                "dataset of {} features x {} frames: both must be at least 1",
                self.n_features, self.n_frames
            )));
        }
        if self.x.len() != self.y.len() * self.example_len() {
            return Err(Error::Data(format!(
                "dataset has {} values for {} labels of {} x {}: expected {}",
                self.x.len(),
                self.y.len(),
                self.n_features,
                self.n_frames,
                self.y.len() * self.example_len()
            )));
        }
        if let Some(i) = self.y.iter().position(|&c| c < 0) {
            return Err(Error::Data(format!(
                "label {} of example {i} is negative",
                self.y[i]
            )));
        }
        if let Some(i) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "example {} holds a non-finite value ({}) at feature {}, frame {}",
                i / self.example_len(),
                self.x[i],
                (i % self.example_len()) / self.n_frames,
                i % self.n_frames
            )));
        }
        Ok(())
    }

    /// Checks the shape against what a network expects and the labels
    /// against `n_classes`; `what` names the set in messages.
    pub(crate) fn check_for(
        &self,
        what: &str,
        n_features: usize,
        n_frames: usize,
        n_classes: usize,
    ) -> Result<(), Error> {
        self.check()
            .map_err(|e| Error::Data(format!("{what} set: {e}")))?;
        if (self.n_features, self.n_frames) != (n_features, n_frames) {
            return Err(Error::Data(format!(
                "{what} set has examples of {} x {}, the network expects {n_features} x {n_frames}",
                self.n_features, self.n_frames
            )));
        }
        if let Some(i) = self.y.iter().position(|&c| c as usize >= n_classes) {
            return Err(Error::Data(format!(
                "{what} set: label {} of example {i} is out of range for {n_classes} classes",
                self.y[i]
            )));
        }
        Ok(())
    }

    /// The whole set as two tensors on `device`, copied once: `x` float
    /// `[n, n_features, n_frames]`, `y` int64 `[n]`.
    pub(crate) fn to_tensors(&self, device: Device) -> Result<(Tensor, Tensor), Error> {
        let shape = [
            self.len() as i64,
            self.n_features as i64,
            self.n_frames as i64,
        ];
        let x = Tensor::f_from_slice(&self.x)?
            .f_reshape(shape)?
            .f_to_device(device)?;
        let y = Tensor::f_from_slice(&self.y)?.f_to_device(device)?;
        Ok((x, y))
    }
}
