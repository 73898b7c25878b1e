//! Running the detector over a file (decoded as it is read) or over a pipe
//! (WAV or raw PCM, resampled as it arrives).

use std::io::Read;
use std::path::{Path, PathBuf};

use cochlea_features::{decode, resample};

use super::Event;
use super::detector::{Detector, Trace};
use super::pcm::PcmStream;
use super::postprocess::PostOptions;
use crate::bundle::LoadedModel;
use crate::error::Error;

/// What detection needs besides the audio.
pub struct Job<'a> {
    /// The model.
    pub model: &'a LoadedModel,
    /// Hop between windows, samples at the model's rate.
    pub hop: usize,
    /// Postprocessing.
    pub post: PostOptions,
    /// Windows per model call.
    pub batch: usize,
    /// Keep each window's probabilities in [`Recording::trace`].
    pub trace: bool,
}

/// What one recording gave.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The file, or `-` for standard input.
    pub path: PathBuf,
    /// Seconds of audio.
    pub duration: f64,
    /// Windows scored.
    pub windows: u64,
    /// Its events, in the order they became final (none kept for a
    /// stream).
    pub events: Vec<Event>,
    /// Per window: span and class probabilities (when asked for).
    pub trace: Option<Trace>,
}

/// Ends the recording; its last events go to `emit` and, if kept, join
/// `events`.
fn finish(
    path: &Path,
    d: Detector<'_>,
    mut events: Option<Vec<Event>>,
    emit: &mut dyn FnMut(&Event),
) -> Result<Recording, Error> {
    let duration = d.seconds();
    let (windows, trace) = d.finish(&mut |e| {
        emit(&e);
        if let Some(v) = &mut events {
            v.push(e);
        }
    })?;
    Ok(Recording {
        path: path.to_path_buf(),
        duration,
        windows,
        events: events.unwrap_or_default(),
        trace,
    })
}

fn detector<'a>(job: &Job<'a>) -> Detector<'a> {
    let mut d = Detector::new(job.model, job.hop, job.post.clone(), job.batch);
    if job.trace {
        d.keep_trace();
    }
    d
}

/// Detects events in the file at `path`, decoded piece by piece (memory
/// does not grow with its length). Each event goes to `emit` as soon as it
/// is final. The error names the file; events emitted before it stand.
pub fn detect_file(
    job: &Job<'_>,
    path: &Path,
    on_progress: &mut dyn FnMut(f64),
    emit: &mut dyn FnMut(&Event),
) -> Result<Recording, String> {
    let mut d = detector(job);
    let mut events = Vec::new();
    let mut failed: Option<Error> = None;
    let rate = job.model.input.sample_rate;
    decode::decode_file_each(path, rate, &mut |x| {
        if failed.is_none() {
            let r = d.push(x, &mut |e| {
                emit(&e);
                events.push(e);
            });
            if let Err(e) = r {
                failed = Some(e);
            }
            on_progress(d.seconds());
        }
    })
    .map_err(|e| e.to_string())?;
    if let Some(e) = failed {
        return Err(format!("{}: {e}", path.display()));
    }
    finish(path, d, Some(events), emit).map_err(|e| format!("{}: {e}", path.display()))
}

/// Detects events in a PCM stream (standard input), resampled to the
/// model's rate as it arrives; each event goes to `emit` as soon as it is
/// final. Memory is bounded however long the stream runs, unless the
/// job keeps a trace.
pub fn detect_stream<R: Read>(
    job: &Job<'_>,
    mut pcm: PcmStream<R>,
    name: &Path,
    emit: &mut dyn FnMut(&Event),
) -> Result<Recording, Error> {
    let rate = job.model.input.sample_rate;
    let mut rs = resample::Stream::new(pcm.rate, rate).map_err(|e| {
        Error::Data(format!(
            "{}: resampling {} Hz to {rate} Hz: {e}",
            name.display(),
            pcm.rate
        ))
    })?;
    let mut d = detector(job);
    let mut piece = Vec::new();
    let mut send = |d: &mut Detector<'_>, x: &[f32]| d.push(x, &mut |e| emit(&e));
    while pcm.read_into(&mut piece).map_err(|e| Error::io(name, e))? {
        rs.push(&piece)
            .map_err(|e| Error::Data(format!("{}: {e}", name.display())))?;
        piece.clear();
        let mut out = Vec::new();
        rs.drain(|x| out.extend_from_slice(x));
        send(&mut d, &out)?;
    }
    let tail = rs
        .finish()
        .map_err(|e| Error::Data(format!("{}: {e}", name.display())))?;
    send(&mut d, &tail)?;
    // Events are not kept for an endless stream: they go out as they come.
    finish(name, d, None, emit)
}
