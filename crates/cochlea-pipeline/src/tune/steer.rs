//! Doctor findings steer the first trial and the learning-rate range.
//!
//! Before the search the cheap checks of `pipeline doctor` (features,
//! architecture) and its learning-rate sweep run on the first inner fold's
//! training part, never on a test file. Each finding maps to a change:
//!
//! | finding | change |
//! |---|---|
//! | `scaling.unnormalized` | trial 0 sets `normalize.method = "standard"` |
//! | `representation.raw_samples` | trial 0 sets `features.kinds = ["mfcc"]` |
//! | `architecture.pooling` | trial 0 pools only in the first block |
//! | `optimization.lr_too_high` | trial 0 uses `lr / 10`; `train.lr` drawn from `[lr / 30, lr / 3]` |
//! | `optimization.lr_too_low` | trial 0 uses `lr * 10`; `train.lr` drawn from `[lr * 3, lr * 30]` |

use cochlea_features::FeatureKind;
use serde::{Deserialize, Serialize};
use toml::Value;

use super::space::Overrides;
use crate::config::Config;
use crate::doctor::{self, Check, Verdict};
use crate::error::Error;
use crate::prepare::{self, Prepared};
use crate::split::Fold;

/// What the findings changed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Steering {
    /// Overrides of the first trial.
    pub overrides: Overrides,
    /// Log-range the learning rate is drawn from instead of the space's.
    pub lr_range: Option<(f64, f64)>,
    /// One line per finding acted on.
    pub notes: Vec<String>,
}

/// Runs the checks on `fold` (an inner fold of the first outer fold) and
/// maps their findings to changes.
pub fn steer(cfg: &Config, p: &Prepared, fold: &Fold) -> Result<Steering, Error> {
    let mut s = Steering::default();
    let folds = std::slice::from_ref(fold);
    let frames = if cfg.data.clip_frames > 0 {
        cfg.data.clip_frames
    } else {
        prepare::auto_frames(&p.extracted, &fold.train)
    };
    let mut findings = doctor::feature_checks(cfg, p, folds);
    let k = p.classes.len();
    let (rows, in_frames) =
        crate::functionals::input_shape(cfg.features.pooling, p.extractor.n_rows(), frames);
    if let Ok(net) = cfg.model.validate(rows, in_frames, k) {
        findings.extend(doctor::arch_checks(
            &cfg.model,
            &net,
            in_frames,
            p.summary.hop_seconds,
            fold.train.len(),
        ));
    }
    let raw = cfg.features.has(FeatureKind::Raw);
    if !raw {
        let mut c = cfg.clone();
        c.train.threads = Some(1);
        let fi = prepare::fold_inputs(&c, p, fold, frames)?;
        // No time limit: the sweep's three short runs are part of the
        // seeded schedule and must not depend on the machine's speed.
        let sweep = doctor::lr_sweep(&c, &fi.train, k, f64::INFINITY, None);
        findings.extend(doctor::lr_checks(&sweep.trials, k));
    }
    let lr = cfg.train.lr;
    // Only what doctor is sure of steers: not "ok", not "inconclusive".
    for f in findings
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Warn | Verdict::Fail))
    {
        let note = |what: &str| format!("{} ({}): {what}", f.id, f.title);
        let Some(check) = f.check() else { continue };
        match check {
            Check::Unnormalized => {
                s.overrides
                    .insert("normalize.method".into(), Value::String("standard".into()));
                s.notes.push(note("first trial standardizes the features"));
            }
            Check::RawSamples => {
                s.overrides.insert(
                    "features.kinds".into(),
                    Value::Array(vec![Value::String("mfcc".into())]),
                );
                s.notes.push(note("first trial uses MFCCs"));
            }
            Check::Pooling => {
                if let Ok(Value::Array(mut blocks)) = Value::try_from(&cfg.model.blocks) {
                    for b in blocks.iter_mut().skip(1) {
                        if let Some(t) = b.as_table_mut() {
                            t.insert("pool".into(), Value::Integer(1));
                        }
                    }
                    s.overrides
                        .insert("model.blocks".into(), Value::Array(blocks));
                    s.notes
                        .push(note("first trial pools only in the first block"));
                }
            }
            Check::LrTooHigh => {
                s.overrides
                    .insert("train.lr".into(), Value::Float(lr / 10.0));
                s.lr_range = Some((lr / 30.0, lr / 3.0));
                s.notes.push(note(
                    "first trial uses lr / 10; lr drawn from [lr/30, lr/3]",
                ));
            }
            Check::LrTooLow => {
                s.overrides
                    .insert("train.lr".into(), Value::Float(lr * 10.0));
                s.lr_range = Some((lr * 3.0, lr * 30.0));
                s.notes.push(note(
                    "first trial uses lr * 10; lr drawn from [lr*3, lr*30]",
                ));
            }
            _ => {}
        }
    }
    Ok(s)
}
