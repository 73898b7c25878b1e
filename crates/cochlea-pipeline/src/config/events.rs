//! `[events]`: how a run scores its held-out annotated recordings as
//! `pipeline detect --labels` would score them (docs/detect.md).

use serde::{Deserialize, Serialize};

/// `[events]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Score the held-out annotated recordings of each fold: detection over
    /// the whole recording with the fold's model, against its annotations.
    pub score: bool,
    /// Seconds between window starts; `0`: a quarter of the model's window
    /// (`pipeline detect`'s default).
    pub hop: f64,
    /// An event starts in a window whose class has at least this probability.
    pub threshold: f32,
    /// Gaps shorter than this (seconds) between events of one class close.
    pub merge_gap: f64,
    /// Events shorter than this (seconds) are dropped.
    pub min_duration: f64,
    /// Onset tolerance of the event-based scores, seconds.
    pub t_collar: f64,
    /// Segment length of the segment-based scores, seconds.
    pub segment: f64,
    /// Recordings drawn as timelines in the report.
    pub timelines: usize,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            score: true,
            hop: 0.0,
            threshold: 0.5,
            merge_gap: 0.0,
            min_duration: 0.0,
            t_collar: 0.2,
            segment: 1.0,
            timelines: 12,
        }
    }
}

impl EventsConfig {
    /// Checks the values; each message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let finite_at_least = |key: &str, v: f64, low: f64| {
            if v.is_finite() && v >= low {
                Ok(())
            } else {
                Err(format!(
                    "events.{key}: {v} must be a number of seconds >= {low}"
                ))
            }
        };
        finite_at_least("hop", self.hop, 0.0)?;
        finite_at_least("merge_gap", self.merge_gap, 0.0)?;
        finite_at_least("min_duration", self.min_duration, 0.0)?;
        for (key, v) in [("t_collar", self.t_collar), ("segment", self.segment)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("events.{key}: {v} must be above 0 seconds"));
            }
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(format!(
                "events.threshold: {} must be a probability in (0, 1]",
                self.threshold
            ));
        }
        Ok(())
    }
}
