//! One evaluation: train a trial's network(s) on one fold's training part
//! and score them on its held-out part, with real features and real
//! training, on one libtorch thread so that any number of parallel
//! evaluations gives the same numbers as one after another.

use std::time::Instant;

use cochlea_model::{Classifier, Control, EpochMetrics, TrainConfig, TrainOptions};

use crate::config::Config;
use crate::error::Error;
use crate::prepare::{self, Prepared};
use crate::split::Fold;

/// What an evaluation gave.
#[derive(Clone, Debug)]
pub struct Score {
    /// Accuracy on the fold's held-out part; 0 when training failed.
    pub accuracy: f64,
    /// Epochs the first network trained.
    pub epochs: usize,
    /// Seconds spent.
    pub seconds: f64,
    /// Why training failed, if it did.
    pub error: Option<String>,
}

/// Trains `cfg` (its epochs already set to the rung's) on `fold.train`,
/// validating on `fold.val`, and scores it on `fold.test`. `Ok(None)` when
/// `stop` asked to stop mid-training: the evaluation is then discarded.
pub fn evaluate(
    cfg: &Config,
    p: &Prepared,
    fold: &Fold,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Score>, Error> {
    let t = Instant::now();
    let frames = if cfg.data.clip_frames > 0 {
        cfg.data.clip_frames
    } else {
        prepare::auto_frames(&p.extracted, &fold.train)
    };
    let fi = prepare::fold_inputs(cfg, p, fold, frames)?;
    let k = p.classes.len();
    let mut networks = Vec::new();
    let mut epochs = 0;
    for member in 0..cfg.train.ensemble {
        let tc = TrainConfig {
            seed: cfg.train.member_seed(member),
            threads: Some(1),
            ..cfg.train.clone()
        };
        let mut on_epoch = |_: &EpochMetrics| {
            if stop() {
                Control::Stop
            } else {
                Control::Continue
            }
        };
        let outcome = match cochlea_model::train(
            &cfg.model,
            &tc,
            &cfg.augment,
            k,
            &fi.train,
            fi.val.as_ref(),
            TrainOptions::new(&mut on_epoch),
        ) {
            Ok(o) => o,
            // A trial whose training fails (diverges, a shape the data does
            // not allow) scores nothing; the search goes on.
            Err(e) => {
                return Ok(Some(Score {
                    accuracy: 0.0,
                    epochs,
                    seconds: t.elapsed().as_secs_f64(),
                    error: Some(e.to_string()),
                }));
            }
        };
        if outcome.interrupted {
            return Ok(None);
        }
        if member == 0 {
            epochs = outcome.history.len();
        }
        networks.push(outcome.model);
    }
    let model = Classifier::ensemble(networks)?;
    let proba = fi.test.predict_clips(&model)?;
    Ok(Some(Score {
        accuracy: crate::doctor::accuracy(&proba, &fi.test.y, k),
        epochs,
        seconds: t.elapsed().as_secs_f64(),
        error: None,
    }))
}
