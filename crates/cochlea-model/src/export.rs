//! The trained model as a TorchScript module that runs without this crate:
//! `torch.jit.load` in Python, `torch::jit::load` in C++.
//!
//! The module is traced: its graph records the tensor operations of one
//! call, with the weights as constants. Anything that depends on the input's
//! shape must therefore be a tensor operation on the input (a length read
//! with `size()` would be frozen at the traced value); the network reshapes
//! with `-1` for the batch, and the caller's preprocessing derives lengths
//! from the input tensor itself (see [`Classifier::to_torchscript`]).

use tch::{CModule, Kind, TchError, Tensor};

use crate::Error;
use crate::classifier::Classifier;

/// Maps the module's input to the network's input `[batch, n_features,
/// n_frames]`, with tensor operations only.
pub type Preprocess<'a> = dyn Fn(&Tensor) -> Result<Tensor, TchError> + 'a;

impl Classifier {
    /// Probabilities `[batch, n_classes]` of `pre(x)` in evaluation mode;
    /// for an ensemble the mean of its members' probabilities. The same
    /// function is traced by [`Classifier::to_torchscript`].
    pub fn proba_of(&self, x: &Tensor, pre: &Preprocess<'_>) -> Result<Tensor, Error> {
        tch::no_grad(|| {
            let input = pre(x)?;
            let mut sum = self
                .net()
                .forward_t(&input, false)?
                .f_softmax(1, Kind::Float)?;
            for m in self.members() {
                sum = sum.f_add(
                    &m.net()
                        .forward_t(&input, false)?
                        .f_softmax(1, Kind::Float)?,
                )?;
            }
            if self.n_members() > 1 {
                sum = sum.f_div_scalar(self.n_members() as f64)?;
            }
            Ok(sum)
        })
    }

    /// Traces `x -> pre -> network(s) -> probabilities` into a TorchScript
    /// module whose `forward` takes one tensor shaped like `example` (the
    /// batch size may differ) and returns `[batch, n_classes]`
    /// probabilities. The weights are stored in the module as constants, in
    /// float32 on the model's device.
    ///
    /// `pre` must compute every shape-dependent quantity from its argument
    /// with tensor operations (e.g. a length as `ones_like(row).sum()`), so
    /// that the traced graph follows the input instead of the example.
    pub fn to_torchscript(&self, example: &Tensor, pre: &Preprocess<'_>) -> Result<CModule, Error> {
        // Weights that require gradients cannot be recorded as constants:
        // trace on detached copies sharing their storage.
        let detached = self.detached()?;
        let mut failure: Option<Error> = None;
        let module = CModule::create_by_tracing(
            "CochleaClassifier",
            "forward",
            std::slice::from_ref(example),
            &mut |inputs: &[Tensor]| match detached.proba_of(&inputs[0], pre) {
                Ok(p) => vec![p],
                Err(e) => {
                    failure = Some(e);
                    // Ends the trace with a valid output; the error wins below.
                    vec![inputs[0].shallow_clone()]
                }
            },
        )?;
        match failure {
            Some(e) => Err(e),
            None => Ok(module),
        }
    }

    /// A copy of the model whose variables are detached views of this one's.
    fn detached(&self) -> Result<Classifier, Error> {
        let one = |c: &Classifier| -> Result<Classifier, Error> {
            let copy = Classifier::build(
                c.config(),
                c.n_features(),
                c.n_frames(),
                c.n_classes(),
                c.device(),
            )?;
            let src = c.named_variables();
            let mut copy = copy;
            copy.var_store_mut().freeze();
            for ((name, dst), (src_name, s)) in copy.named_variables().iter().zip(&src) {
                debug_assert_eq!(name, src_name);
                let mut dst = dst.shallow_clone();
                tch::no_grad(|| dst.f_copy_(s))?;
            }
            Ok(copy)
        };
        let mut all = vec![one(self)?];
        for m in self.members() {
            all.push(one(m)?);
        }
        Classifier::ensemble(all)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use crate::classifier::Classifier;
    use crate::config::{BlockConfig, Head, NetConfig, NetKind};

    fn network(seed: i64) -> Classifier {
        network_of(seed, NetKind::Cnn1d, Head::GlobalAvg)
    }

    fn network_of(seed: i64, kind: NetKind, head: Head) -> Classifier {
        tch::manual_seed(seed);
        let cfg = NetConfig {
            kind,
            head,
            attention_dim: 5,
            hidden: vec![6],
            blocks: vec![
                BlockConfig {
                    filters: 8,
                    kernel: 3,
                    pool: 2,
                    ..BlockConfig::default()
                },
                BlockConfig {
                    filters: 8,
                    kernel: 3,
                    ..BlockConfig::default()
                },
            ],
            ..NetConfig::default()
        };
        Classifier::build(&cfg, 4, 12, 3, Device::Cpu).unwrap()
    }

    /// The traced module, given any batch size, computes what
    /// `predict_proba` computes, for one network and for an ensemble.
    #[test]
    fn the_traced_module_takes_any_batch_and_matches_predict_proba() {
        let pre = |x: &Tensor| Ok(x.shallow_clone());
        let mut models = vec![
            network(1),
            Classifier::ensemble(vec![network(2), network(3)]).unwrap(),
        ];
        for kind in [NetKind::Cnn1d, NetKind::Conv2d, NetKind::Dense] {
            for head in [
                Head::GlobalMax,
                Head::Flatten,
                Head::Stats,
                Head::Attention,
                Head::AttentiveStats,
            ] {
                models.push(network_of(4, kind, head));
            }
        }
        for model in models {
            let example = Tensor::randn([2, 4, 12], (Kind::Float, Device::Cpu));
            let module = model.to_torchscript(&example, &pre).unwrap();
            for batch in [1i64, 2, 5] {
                let x = Tensor::randn([batch, 4, 12], (Kind::Float, Device::Cpu));
                let got: Vec<f32> =
                    Vec::try_from(module.forward_ts(&[&x]).unwrap().flatten(0, -1)).unwrap();
                let host: Vec<f32> = Vec::try_from(x.flatten(0, -1)).unwrap();
                let want = model.predict_proba(&host, batch as usize).unwrap();
                assert_eq!(got.len(), want.len());
                for (a, b) in got.iter().zip(&want) {
                    assert!(
                        (a - b).abs() < 1e-6,
                        "{:?}: batch {batch}: {a} vs {b}",
                        model.config()
                    );
                }
            }
        }
    }
}
