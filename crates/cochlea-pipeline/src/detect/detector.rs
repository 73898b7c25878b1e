//! The detector: audio in, pieces at a time; windows scored by the model in
//! small batches; events out as soon as they are final.
//!
//! Each window's features are computed from the window's own samples, as a
//! training clip's are from the clip's, then normalized and fitted to the
//! input length by the model's recipe ([`crate::spec::InputSpec::prepare`]).
//! Nothing depends on how the audio was cut into pieces, so a file and the
//! same audio piped give the same windows and the same probabilities.

use rayon::prelude::*;

use super::Event;
use super::postprocess::{PostOptions, Tracker};
use super::windows::{Window, Windower};
use crate::bundle::LoadedModel;
use crate::error::Error;

/// Samples of audio that make `frames` feature frames: the shortest input
/// the extractor turns into at least that many.
pub fn window_samples(m: &LoadedModel, frames: usize) -> usize {
    let (mut lo, mut hi) = (1usize, 1usize);
    while m.extractor.n_frames(hi) < frames {
        hi *= 2;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if m.extractor.n_frames(mid) >= frames {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The hop in samples for `hop_s` seconds between window starts, by
/// default a quarter of the model's window; `Err` gives the valid range
/// when `hop_s` is not in (0, window].
pub fn hop_samples(m: &LoadedModel, hop_s: Option<f64>) -> Result<usize, String> {
    let window = window_samples(m, m.input.clip_frames);
    let rate = f64::from(m.input.sample_rate);
    let window_s = window as f64 / rate;
    let hop_s = hop_s.unwrap_or(window_s / 4.0);
    if !(hop_s.is_finite() && hop_s > 0.0 && hop_s <= window_s + 1e-9) {
        return Err(format!(
            "{hop_s}: seconds between 0 and the model's window ({window_s:.3} s)"
        ));
    }
    Ok(((hop_s * rate).round() as usize).clamp(1, window))
}

/// Every window's extent `[start, end)` in seconds and its class
/// probabilities.
pub type Trace = Vec<(f64, f64, Vec<f32>)>;

/// Windows scored per model call by default: large enough to keep the
/// network busy, small enough that an event is reported a few seconds
/// after it ends.
pub const DEFAULT_BATCH: usize = 32;

/// Events of one recording, fed as its audio arrives.
pub struct Detector<'a> {
    m: &'a LoadedModel,
    windower: Windower,
    tracker: Tracker,
    /// Windows waiting for their batch.
    waiting: Vec<(Window, Vec<f32>)>,
    batch: usize,
    windows: u64,
    /// Every window's extent and probabilities, when asked for.
    trace: Option<Trace>,
}

impl<'a> Detector<'a> {
    /// A detector for one recording at the model's sample rate: windows of
    /// the training length every `hop` samples, `batch` windows per model
    /// call.
    pub fn new(m: &'a LoadedModel, hop: usize, post: PostOptions, batch: usize) -> Detector<'a> {
        let len = window_samples(m, m.input.clip_frames);
        Detector {
            m,
            windower: Windower::new(len, hop),
            tracker: Tracker::new(post, hop as f64 / f64::from(m.input.sample_rate)),
            waiting: Vec::new(),
            batch: batch.max(1),
            windows: 0,
            trace: None,
        }
    }

    /// Keep every window's probabilities (for plots); memory grows with the
    /// recording.
    pub fn keep_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// Feeds samples at the model's rate; events that are final go to `emit`.
    pub fn push(&mut self, x: &[f32], emit: &mut dyn FnMut(Event)) -> Result<(), Error> {
        let waiting = &mut self.waiting;
        self.windower
            .push(x, &mut |w, s| waiting.push((w, s.to_vec())));
        if self.waiting.len() >= self.batch {
            self.score(emit)?;
        }
        Ok(())
    }

    /// Seconds of audio received.
    pub fn seconds(&self) -> f64 {
        self.windower.total() as f64 / f64::from(self.m.input.sample_rate)
    }

    /// The end of the recording: the last windows are scored and every
    /// event still open goes to `emit`. Returns the windows scored and the
    /// per-window trace if one was kept.
    pub fn finish(mut self, emit: &mut dyn FnMut(Event)) -> Result<(u64, Option<Trace>), Error> {
        let end = self.seconds();
        let windower = std::mem::replace(&mut self.windower, Windower::new(1, 1));
        let waiting = &mut self.waiting;
        windower.finish(&mut |w, s| waiting.push((w, s.to_vec())));
        self.score(emit)?;
        let Detector {
            tracker,
            windows,
            trace,
            ..
        } = self;
        tracker.finish(end, emit);
        Ok((windows, trace))
    }

    /// Scores the waiting windows and moves the tracker on.
    fn score(&mut self, emit: &mut dyn FnMut(Event)) -> Result<(), Error> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        let m = self.m;
        let (ex, spec) = (&m.extractor, &m.input);
        let inputs: Vec<Result<Vec<f32>, String>> = self
            .waiting
            .par_iter()
            .map(|(w, s)| {
                let f = ex.compute(s);
                if f.data.iter().any(|v| !v.is_finite()) {
                    let at = w.start as f64 / f64::from(spec.sample_rate);
                    return Err(format!(
                        "features are not finite in the window at {at:.3} s"
                    ));
                }
                Ok(spec.prepare(&f))
            })
            .collect();
        let mut batch = Vec::new();
        for i in inputs {
            batch.extend(i.map_err(Error::Data)?);
        }
        let n = self.waiting.len();
        let proba = m.model.predict_proba(&batch, n)?;
        let k = m.classes.len();
        for (j, (w, _)) in self.waiting.drain(..).enumerate() {
            let p = &proba[j * k..(j + 1) * k];
            let rate = f64::from(m.input.sample_rate);
            let (from, to) = (
                w.start as f64 / rate,
                (w.start + w.len as u64) as f64 / rate,
            );
            self.tracker.push(from, to, p, emit);
            if let Some(t) = &mut self.trace {
                t.push((from, to, p.to_vec()));
            }
        }
        self.windows += n as u64;
        Ok(())
    }
}
