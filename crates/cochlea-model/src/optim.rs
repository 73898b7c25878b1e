//! Optimisers with state we own, so a checkpoint can hold it and a resumed
//! run continues exactly where it stopped.
//!
//! The update rules are those of `torch.optim` (single-tensor code paths of
//! `adam.py`, `sgd.py`, `rmsprop.py` in PyTorch 2.x), written with the same
//! tensor operations.

use std::collections::HashMap;

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::Error;
use crate::config::{Optimizer, TrainConfig};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;
const RMS_ALPHA: f64 = 0.99;

/// Trainable parameters, their optimiser state and the step count.
#[derive(Debug)]
pub(crate) struct Optim {
    kind: Optimizer,
    weight_decay: f64,
    momentum: f64,
    nesterov: bool,
    /// Trainable parameters sorted by name, so state order is stable.
    params: Vec<(String, Tensor)>,
    /// Per parameter: Adam(W) `[exp_avg, exp_avg_sq]`, SGD
    /// `[momentum_buffer]` (when momentum > 0), RMSprop `[square_avg]`.
    state: Vec<Vec<Tensor>>,
    /// Steps taken (Adam's bias correction uses it).
    pub(crate) steps: u64,
}

impl Optim {
    fn slots(kind: Optimizer, momentum: f64) -> &'static [&'static str] {
        match kind {
            Optimizer::Adam | Optimizer::Adamw => &["exp_avg", "exp_avg_sq"],
            Optimizer::Sgd if momentum > 0.0 => &["momentum_buffer"],
            Optimizer::Sgd => &[],
            Optimizer::Rmsprop => &["square_avg"],
        }
    }

    pub(crate) fn new(vs: &VarStore, cfg: &TrainConfig) -> Result<Self, Error> {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = Self::slots(cfg.optimizer, cfg.momentum);
        let state = params
            .iter()
            .map(|(_, p)| {
                slots
                    .iter()
                    .map(|_| p.f_zeros_like())
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Optim {
            kind: cfg.optimizer,
            weight_decay: cfg.weight_decay,
            momentum: cfg.momentum,
            nesterov: cfg.nesterov,
            params,
            state,
            steps: 0,
        })
    }

    /// Zeroes every gradient before a backward pass.
    pub(crate) fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// Scales all gradients so their global L2 norm is at most `max`, as
    /// `torch.nn.utils.clip_grad_norm_` (no host round trip).
    pub(crate) fn clip_grad_norm(&self, max: f64) -> Result<(), Error> {
        tch::no_grad(|| -> Result<(), Error> {
            let grads: Vec<Tensor> = self
                .params
                .iter()
                .map(|(_, p)| p.grad())
                .filter(Tensor::defined)
                .collect();
            if grads.is_empty() {
                return Ok(());
            }
            let norms = grads
                .iter()
                .map(|g| g.f_norm())
                .collect::<Result<Vec<_>, _>>()?;
            let total = Tensor::f_stack(&norms, 0)?.f_norm()?;
            let coef = (total.f_add_scalar(1e-6)?.f_reciprocal()? * max).f_clamp_max(1.0)?;
            for mut g in grads {
                let _ = g.f_mul_(&coef)?;
            }
            Ok(())
        })
    }

    /// One update with learning rate `lr`.
    pub(crate) fn step(&mut self, lr: f64) -> Result<(), Error> {
        self.steps += 1;
        let t = self.steps as i32;
        let wd = self.weight_decay;
        tch::no_grad(|| -> Result<(), Error> {
            for ((_, p), state) in self.params.iter_mut().zip(&mut self.state) {
                let grad = p.grad();
                if !grad.defined() {
                    continue;
                }
                // Coupled L2 decay: grad + wd * p (all but AdamW).
                let coupled = |g: Tensor, p: &Tensor| -> Result<Tensor, Error> {
                    Ok(if wd > 0.0 {
                        g.f_add(&p.f_mul_scalar(wd)?)?
                    } else {
                        g
                    })
                };
                match self.kind {
                    Optimizer::Adam | Optimizer::Adamw => {
                        let g = if self.kind == Optimizer::Adamw {
                            // Decoupled decay (Loshchilov & Hutter 2019).
                            if wd > 0.0 {
                                let _ = p.f_mul_scalar_(1.0 - lr * wd)?;
                            }
                            grad
                        } else {
                            coupled(grad, p)?
                        };
                        let (m, v) = state.split_at_mut(1);
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
                        let g = coupled(grad, p)?;
                        let mut upd = if let Some(buf) = state.first_mut() {
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
                            g
                        };
                        let _ = upd.f_mul_scalar_(lr)?;
                        let _ = p.f_sub_(&upd)?;
                    }
                    Optimizer::Rmsprop => {
                        let g = coupled(grad, p)?;
                        let sq = &mut state[0];
                        let _ = sq.f_mul_scalar_(RMS_ALPHA)?;
                        let _ = sq.f_addcmul_(&g, &g.f_mul_scalar(1.0 - RMS_ALPHA)?)?;
                        let mut avg = sq.f_sqrt()?;
                        let _ = avg.f_add_scalar_(EPS)?;
                        let mut upd = g.f_div(&avg)?;
                        let _ = upd.f_mul_scalar_(lr)?;
                        let _ = p.f_sub_(&upd)?;
                    }
                }
            }
            Ok(())
        })
    }

    /// State tensors named `{slot}.{parameter}`, for a checkpoint.
    pub(crate) fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let slots = Self::slots(self.kind, self.momentum);
        let mut out = Vec::new();
        for ((name, _), state) in self.params.iter().zip(&self.state) {
            for (slot, t) in slots.iter().zip(state) {
                out.push((format!("{slot}.{name}"), t.shallow_clone()));
            }
        }
        out
    }

    /// Restores state written by [`Optim::state_tensors`]; `what` names the
    /// file in errors.
    pub(crate) fn load_state(
        &mut self,
        mut saved: HashMap<String, Tensor>,
        steps: u64,
        what: &std::path::Path,
    ) -> Result<(), Error> {
        let slots = Self::slots(self.kind, self.momentum);
        for ((name, _), state) in self.params.iter().zip(&mut self.state) {
            for (slot, t) in slots.iter().zip(state.iter_mut()) {
                let key = format!("{slot}.{name}");
                let src = saved.remove(&key).ok_or_else(|| {
                    Error::bundle(what, format!("optimizer state {key} is missing"))
                })?;
                if src.size() != t.size() || src.kind() != Kind::Float {
                    return Err(Error::bundle(
                        what,
                        format!(
                            "optimizer state {key} has shape {:?}, expected {:?}",
                            src.size(),
                            t.size()
                        ),
                    ));
                }
                tch::no_grad(|| t.f_copy_(&src.f_to_device(t.device())?))?;
            }
        }
        self.steps = steps;
        Ok(())
    }
}
