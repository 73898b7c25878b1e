//! A trained network ready for inference: weights, config and input shape.

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::Error;
use crate::config::NetConfig;
use crate::net::Net;
use crate::shape::NetSummary;

/// Examples per forward pass at inference; large enough to keep the
/// convolutions efficient, small enough to bound memory.
pub(crate) const EVAL_BATCH: i64 = 256;

/// The network in evaluation mode (batch norm uses its running statistics,
/// no dropout), with the config and input shape it was built for.
///
/// It may be an ensemble ([`Classifier::ensemble`]): networks of the same
/// architecture trained with different seeds, whose class probabilities are
/// averaged.
#[derive(Debug)]
pub struct Classifier {
    vs: VarStore,
    net: Net,
    config: NetConfig,
    summary: NetSummary,
    n_features: usize,
    n_frames: usize,
    n_classes: usize,
    /// The other networks of an ensemble (each with no members of its own).
    members: Vec<Classifier>,
}

impl Classifier {
    /// Validates `config` for the shape and creates freshly initialised
    /// variables on `device` (seed libtorch first for reproducible values).
    pub(crate) fn build(
        config: &NetConfig,
        n_features: usize,
        n_frames: usize,
        n_classes: usize,
        device: Device,
    ) -> Result<Self, Error> {
        let summary = config.validate(n_features, n_frames, n_classes)?;
        let vs = VarStore::new(device);
        let net = Net::new(&vs.root(), config, &summary, n_features)?;
        Ok(Classifier {
            vs,
            net,
            config: config.clone(),
            summary,
            n_features,
            n_frames,
            n_classes,
            members: Vec::new(),
        })
    }

    /// A network of `config` for inputs of `n_features x n_frames` and
    /// `n_classes` outputs, on the CPU, whose variables are read from
    /// `weights`: a safetensors file with every variable of the network and
    /// nothing else, under the names of a bundle's `model.safetensors`
    /// (`blocks.0.conv.weight`, `blocks.0.bn.running_mean`, ...,
    /// `output.bias`), float32, in `torch.nn`'s shapes (a convolution's
    /// weight is `[out, in, kernel]`). A start for [`crate::train_from`].
    pub fn from_weights(
        config: &NetConfig,
        n_features: usize,
        n_frames: usize,
        n_classes: usize,
        weights: &std::path::Path,
    ) -> Result<Self, Error> {
        let model = Self::build(config, n_features, n_frames, n_classes, Device::Cpu)?;
        crate::bundle::load_tensors(weights, &model.named_variables())?;
        Ok(model)
    }

    /// One model from networks of the same architecture and input shape
    /// (ensemble members, e.g. trained with different seeds): it predicts
    /// the mean of their class probabilities. The first network's summary
    /// and config describe the model.
    pub fn ensemble(networks: Vec<Classifier>) -> Result<Classifier, Error> {
        let mut all = Vec::new();
        for mut n in networks {
            let extra = std::mem::take(&mut n.members);
            all.push(n);
            all.extend(extra);
        }
        let mut it = all.into_iter();
        let mut first = it
            .next()
            .ok_or_else(|| Error::Data("an ensemble needs at least one network".into()))?;
        for (i, m) in it.enumerate() {
            if m.config != first.config
                || (m.n_features, m.n_frames, m.n_classes)
                    != (first.n_features, first.n_frames, first.n_classes)
            {
                return Err(Error::Data(format!(
                    "ensemble member {} differs from the first in architecture or shape",
                    i + 2
                )));
            }
            if m.device() != first.device() {
                return Err(Error::Data(format!(
                    "ensemble member {} is on another device",
                    i + 2
                )));
            }
            first.members.push(m);
        }
        Ok(first)
    }

    /// Networks in the model: 1, or the size of the ensemble.
    pub fn n_members(&self) -> usize {
        1 + self.members.len()
    }

    /// The ensemble's networks after the first.
    pub(crate) fn members(&self) -> &[Classifier] {
        &self.members
    }

    pub(crate) fn net(&self) -> &Net {
        &self.net
    }

    pub(crate) fn var_store(&self) -> &VarStore {
        &self.vs
    }

    pub(crate) fn var_store_mut(&mut self) -> &mut VarStore {
        &mut self.vs
    }

    /// All variables (weights and batch-norm statistics) sorted by name.
    pub(crate) fn named_variables(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The architecture config.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Layers, parameter count and receptive field.
    pub fn summary(&self) -> &NetSummary {
        &self.summary
    }

    /// Feature rows per example.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Frames per example.
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Number of classes (outputs).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Where the weights live.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Logits `[n, n_classes]` of a device tensor `[n, n_features,
    /// n_frames]`, computed in evaluation mode without gradients, in batches.
    /// For an ensemble, the log of the members' mean probability, so that
    /// the softmax of these scores is that mean.
    pub(crate) fn eval_logits(&self, x: &Tensor) -> Result<Tensor, Error> {
        if self.members.is_empty() {
            return self.own_logits(x);
        }
        tch::no_grad(|| {
            let mut sum = self.own_logits(x)?.f_softmax(1, Kind::Float)?;
            for m in &self.members {
                sum = sum.f_add(&m.own_logits(x)?.f_softmax(1, Kind::Float)?)?;
            }
            Ok(sum
                .f_div_scalar(self.n_members() as f64)?
                .f_clamp_min(f64::from(f32::MIN_POSITIVE))?
                .f_log()?)
        })
    }

    /// This network's logits alone.
    fn own_logits(&self, x: &Tensor) -> Result<Tensor, Error> {
        tch::no_grad(|| {
            let n = x.size().first().copied().unwrap_or(0);
            let mut parts = Vec::new();
            let mut start = 0;
            while start < n {
                let len = EVAL_BATCH.min(n - start);
                parts.push(self.net.forward_t(&x.f_narrow(0, start, len)?, false)?);
                start += len;
            }
            if parts.is_empty() {
                return Ok(Tensor::f_zeros(
                    [0, self.n_classes as i64],
                    (Kind::Float, self.device()),
                )?);
            }
            Ok(Tensor::f_cat(&parts, 0)?)
        })
    }

    fn host_input(&self, x: &[f32], n: usize) -> Result<Tensor, Error> {
        let per = self.n_features * self.n_frames;
        if x.len() != n * per {
            return Err(Error::Data(format!(
                "{} input values for {n} examples of {} x {}: expected {}",
                x.len(),
                self.n_features,
                self.n_frames,
                n * per
            )));
        }
        let shape = [n as i64, self.n_features as i64, self.n_frames as i64];
        Ok(Tensor::f_from_slice(x)?
            .f_view(shape)?
            .f_to_device(self.device())?)
    }

    fn to_host(t: &Tensor) -> Result<Vec<f32>, Error> {
        Ok(Vec::<f32>::try_from(
            t.f_to_device(Device::Cpu)?.f_flatten(0, -1)?,
        )?)
    }

    /// Raw scores `[n x n_classes]` row-major for `n` examples laid out as
    /// `[n, n_features, n_frames]` (for an ensemble, the log of the mean
    /// probability).
    pub fn logits(&self, x: &[f32], n: usize) -> Result<Vec<f32>, Error> {
        Self::to_host(&self.eval_logits(&self.host_input(x, n)?)?)
    }

    /// Class probabilities (softmax of the logits) `[n x n_classes]`
    /// row-major; each row sums to 1.
    pub fn predict_proba(&self, x: &[f32], n: usize) -> Result<Vec<f32>, Error> {
        let logits = self.eval_logits(&self.host_input(x, n)?)?;
        Self::to_host(&logits.f_softmax(1, Kind::Float)?)
    }
}
