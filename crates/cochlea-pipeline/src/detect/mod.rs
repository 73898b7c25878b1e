//! `pipeline detect`: events with start and end times in long recordings.
//!
//! A trained classifier slides over a recording in windows of its training
//! length every `hop` seconds ([`windows`]), scoring each window as the
//! audio arrives, so memory stays bounded on recordings of hours and on
//! endless streams ([`detector`], fed by the file decoder or by [`pcm`] on
//! a pipe). Window probabilities become events by hysteresis, gap merging
//! and a minimum duration, with classes that never make events
//! ([`postprocess`], [`options`]); events are written as CSV, JSON lines,
//! Audacity labels or Raven selection tables ([`output`]). Given
//! annotations ([`crate::annotations`]), the events are scored as DCASE's
//! sed_eval scores them ([`metrics`]) and drawn against the truth
//! ([`timeline`]). A run whose examples are annotated segments scores its
//! held-out recordings the same way ([`held_out`]).

#[cfg(feature = "torch")]
pub mod detector;
#[cfg(feature = "torch")]
pub mod drive;
pub mod evaluate;
pub mod held_out;
pub mod metrics;
pub mod options;
pub mod output;
pub mod pcm;
pub mod postprocess;
pub mod timeline;
pub mod windows;

#[cfg(test)]
mod metrics_golden;

pub use crate::annotations::{Annotation, read_annotations};
pub use postprocess::{Event, PostOptions};
