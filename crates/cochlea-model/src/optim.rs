//! Optimisers with state we own, so a checkpoint can hold it and a resumed
//! run continues exactly where it stopped.
//!
//! The update rules are those of `torch.optim` (single-tensor code paths of
//! `adam.py`, `sgd.py`, `rmsprop.py` in PyTorch 2.x). All trainable
//! parameters live in one flat buffer and their gradients in another
//! (each parameter and each `.grad` is a view into them, the layout of the
//! `contiguous_params` technique), so a step is a dozen tensor operations
//! over the whole model instead of a dozen per parameter, and zeroing the
//! gradients is one fill.

use std::collections::HashMap;

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::Error;
use crate::config::{Optimizer, TrainConfig};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;
const RMS_ALPHA: f64 = 0.99;

/// A parameter's place in the flat buffers.
#[derive(Debug)]
struct Slot {
    name: String,
    offset: i64,
    shape: Vec<i64>,
}

/// Trainable parameters, their gradients and optimiser state, flat.
#[derive(Debug)]
pub(crate) struct Optim {
    kind: Optimizer,
    weight_decay: f64,
    momentum: f64,
    nesterov: bool,
    /// Trainable parameters sorted by name, so state layout is stable.
    slots: Vec<Slot>,
    params: Tensor,
    grads: Tensor,
    /// Adam(W) `[exp_avg, exp_avg_sq]`, SGD `[momentum_buffer]` (when
    /// momentum > 0), RMSprop `[square_avg]`; each as long as `params`.
    state: Vec<Tensor>,
    /// Steps taken (Adam's bias correction uses it).
    pub(crate) steps: u64,
}

fn state_names(kind: Optimizer, momentum: f64) -> &'static [&'static str] {
    match kind {
        Optimizer::Adam | Optimizer::Adamw => &["exp_avg", "exp_avg_sq"],
        Optimizer::Sgd if momentum > 0.0 => &["momentum_buffer"],
        Optimizer::Sgd => &[],
        Optimizer::Rmsprop => &["square_avg"],
    }
}

impl Optim {
    /// Moves every trainable variable of `vs` (and its gradient) into flat
    /// buffers; the variables keep their values and names.
    pub(crate) fn new(vs: &VarStore, cfg: &TrainConfig) -> Result<Self, Error> {
        let mut vars: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let total: i64 = vars.iter().map(|(_, t)| t.numel() as i64).sum();
        let opts = (Kind::Float, vs.device());
        let params = Tensor::f_zeros([total], opts)?;
        let grads = Tensor::f_zeros([total], opts)?;

        // A backward pass through zero gives every parameter a `.grad`, which
        // can then be pointed into the flat gradient buffer. Autograd adds
        // into an existing `.grad` in place, so backward fills the buffer.
        if !vars.is_empty() {
            let parts = vars
                .iter()
                .map(|(_, t)| t.f_sum(Kind::Float))
                .collect::<Result<Vec<_>, _>>()?;
            Tensor::f_stack(&parts, 0)?
                .f_sum(Kind::Float)?
                .f_mul_scalar(0.0)?
                .f_backward()?;
        }
        let mut slots = Vec::with_capacity(vars.len());
        let mut offset = 0;
        for (name, mut p) in vars {
            let shape = p.size();
            let n = p.numel() as i64;
            let mut view = params.f_narrow(0, offset, n)?.f_view(shape.as_slice())?;
            tch::no_grad(|| view.f_copy_(&p))?;
            p.f_set_data(&view)?;
            p.f_grad()?
                .f_set_data(&grads.f_narrow(0, offset, n)?.f_view(shape.as_slice())?)?;
            slots.push(Slot {
                name,
                offset,
                shape,
            });
            offset += n;
        }
        let state = state_names(cfg.optimizer, cfg.momentum)
            .iter()
            .map(|_| params.f_zeros_like())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Optim {
            kind: cfg.optimizer,
            weight_decay: cfg.weight_decay,
            momentum: cfg.momentum,
            nesterov: cfg.nesterov,
            slots,
            params,
            grads,
            state,
            steps: 0,
        })
    }

    /// Zeroes every gradient before a backward pass.
    pub(crate) fn zero_grad(&mut self) -> Result<(), Error> {
        let _ = self.grads.f_zero_()?;
        Ok(())
    }

    /// Scales the gradients so their global L2 norm is at most `max`, as
    /// `torch.nn.utils.clip_grad_norm_` (no host round trip).
    pub(crate) fn clip_grad_norm(&mut self, max: f64) -> Result<(), Error> {
        tch::no_grad(|| -> Result<(), Error> {
            let coef = (self.grads.f_norm()?.f_add_scalar(1e-6)?.f_reciprocal()? * max)
                .f_clamp_max(1.0)?;
            let _ = self.grads.f_mul_(&coef)?;
            Ok(())
        })
    }

    /// One update with learning rate `lr`.
    pub(crate) fn step(&mut self, lr: f64) -> Result<(), Error> {
        self.steps += 1;
        let t = self.steps as i32;
        let wd = self.weight_decay;
        let p = &mut self.params;
        let grad = &self.grads;
        tch::no_grad(|| -> Result<(), Error> {
            // Coupled L2 decay, grad + wd * p, for all but AdamW.
            let coupled = |p: &Tensor| -> Result<Tensor, Error> {
                Ok(if wd > 0.0 {
                    grad.f_add(&p.f_mul_scalar(wd)?)?
                } else {
                    grad.shallow_clone()
                })
            };
            match self.kind {
                Optimizer::Adam | Optimizer::Adamw => {
                    let g = if self.kind == Optimizer::Adamw {
                        // Decoupled decay (Loshchilov & Hutter 2019).
                        if wd > 0.0 {
                            let _ = p.f_mul_scalar_(1.0 - lr * wd)?;
                        }
                        grad.shallow_clone()
                    } else {
                        coupled(p)?
                    };
                    let (m, v) = self.state.split_at_mut(1);
                    let (m, v) = (&mut m[0], &mut v[0]);
                    let _ = m.f_lerp_(&g, 1.0 - BETA1)?;
                    let _ = v.f_mul_scalar_(BETA2)?;
                    let _ = v.f_addcmul_(&g, &g.f_mul_scalar(1.0 - BETA2)?)?;
                    let bc1 = 1.0 - BETA1.powi(t);
                    let bc2 = 1.0 - BETA2.powi(t);
                    let mut denom = v.f_sqrt()?;
                    let _ = denom.f_div_scalar_(bc2.sqrt())?;
                    let _ = denom.f_add_scalar_(EPS)?;
                    let mut upd = m.f_div(&denom)?;
                    let _ = upd.f_mul_scalar_(lr / bc1)?;
                    let _ = p.f_sub_(&upd)?;
                }
                Optimizer::Sgd => {
                    let g = coupled(p)?;
                    let mut upd = if let Some(buf) = self.state.first_mut() {
                        // buf = momentum * buf + g; torch starts buf at g,
                        // which is the same thing from a zero buffer.
                        let _ = buf.f_mul_scalar_(self.momentum)?;
                        let _ = buf.f_add_(&g)?;
                        if self.nesterov {
                            g.f_add(&buf.f_mul_scalar(self.momentum)?)?
                        } else {
                            buf.f_mul_scalar(1.0)?
                        }
                    } else {
                        g.f_mul_scalar(1.0)?
                    };
                    let _ = upd.f_mul_scalar_(lr)?;
                    let _ = p.f_sub_(&upd)?;
                }
                Optimizer::Rmsprop => {
                    let g = coupled(p)?;
                    let sq = &mut self.state[0];
                    let _ = sq.f_mul_scalar_(RMS_ALPHA)?;
                    let _ = sq.f_addcmul_(&g, &g.f_mul_scalar(1.0 - RMS_ALPHA)?)?;
                    let mut avg = sq.f_sqrt()?;
                    let _ = avg.f_add_scalar_(EPS)?;
                    let mut upd = g.f_div(&avg)?;
                    let _ = upd.f_mul_scalar_(lr)?;
                    let _ = p.f_sub_(&upd)?;
                }
            }
            Ok(())
        })
    }

    /// State tensors named `{state}.{parameter}`, for a checkpoint.
    pub(crate) fn state_tensors(&self) -> Result<Vec<(String, Tensor)>, Error> {
        let mut out = Vec::new();
        for (what, flat) in state_names(self.kind, self.momentum)
            .iter()
            .zip(&self.state)
        {
            for s in &self.slots {
                let n = s.shape.iter().product::<i64>();
                out.push((
                    format!("{what}.{}", s.name),
                    flat.f_narrow(0, s.offset, n)?.f_view(s.shape.as_slice())?,
                ));
            }
        }
        Ok(out)
    }

    /// Restores state written by [`Optim::state_tensors`]; `what` names the
    /// file in errors.
    pub(crate) fn load_state(
        &mut self,
        mut saved: HashMap<String, Tensor>,
        steps: u64,
        what: &std::path::Path,
    ) -> Result<(), Error> {
        let named = self.state_tensors()?;
        crate::bundle::copy_tensors(what, &mut saved, &named)?;
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tch::nn::VarStore;
    use tch::{Device, Kind, Tensor};

    use super::Optim;
    use crate::config::TrainConfig;

    #[test]
    fn parameters_and_gradients_live_in_the_flat_buffers() {
        let vs = VarStore::new(Device::Cpu);
        let a = vs.root().var("a", &[2, 3], tch::nn::Init::Const(1.5));
        let b = vs.root().var("b", &[4], tch::nn::Init::Const(-2.0));
        let mut opt = Optim::new(&vs, &TrainConfig::default()).expect("optim");
        // Values survive the move, in name order.
        let flat = Vec::<f32>::try_from(&opt.params).expect("params");
        assert_eq!(flat, [1.5, 1.5, 1.5, 1.5, 1.5, 1.5, -2.0, -2.0, -2.0, -2.0]);
        // Backward lands in the flat gradient, twice accumulates, zero clears.
        for _ in 0..2 {
            (a.sum(Kind::Float) * 3.0 + b.sum(Kind::Float) * 5.0).backward();
        }
        let g = Vec::<f32>::try_from(&opt.grads).expect("grads");
        assert_eq!(g, [6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 10.0, 10.0, 10.0, 10.0]);
        opt.zero_grad().expect("zero");
        assert_eq!(
            f64::try_from(opt.grads.abs().sum(Kind::Double)).expect("sum"),
            0.0
        );
        // A step moves the variables themselves.
        (a.sum(Kind::Float) + b.sum(Kind::Float)).backward();
        opt.step(0.1).expect("step");
        let moved = Vec::<f32>::try_from(a.flatten(0, -1)).expect("a");
        assert!(moved.iter().all(|&v| (v - 1.4).abs() < 1e-3), "{moved:?}");
        assert_eq!(a.grad().size(), [2, 3]);
        assert!(!Tensor::zeros([1], (Kind::Float, Device::Cpu)).requires_grad());
    }
}
