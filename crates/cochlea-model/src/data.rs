//! Training and evaluation data as plain owned arrays (no tensor types), and
//! their one-time move into a device tensor.

use tch::{Device, Tensor};

use crate::Error;

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
        };
        d.check()?;
        Ok(d)
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
