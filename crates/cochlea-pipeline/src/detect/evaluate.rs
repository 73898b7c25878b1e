//! Detected events scored against annotations, file by file, with the
//! event-based and segment-based metrics of [`super::metrics`].
//!
//! Every recording that was processed is scored; one without any
//! annotation counts as a recording with no events (its detections are
//! insertions), and is listed in `unannotated` so that a misnamed
//! annotation file does not go unnoticed. The classes are those of the
//! annotations and the detections together, in alphabetical order.
//! Events are compared in the order of their onsets.

use std::path::PathBuf;

use serde::Serialize;

use super::Event;
use super::metrics::{EventBased, EventParams, Results, SegmentBased};
use crate::annotations::{Annotation, same_recording};

/// Scores of a detection run against annotations.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// Event-based metrics (onset within `params.t_collar`).
    pub event_based: Results,
    /// Segment-based metrics.
    pub segment_based: Results,
    /// Event matching settings.
    pub params: EventParams,
    /// Segment length, seconds.
    pub time_resolution: f64,
    /// Recordings scored.
    pub files: usize,
    /// Classes scored.
    pub labels: Vec<String>,
    /// Recordings with no annotation.
    pub unannotated: Vec<PathBuf>,
}

/// The annotations of `audio` as events, in their file's order.
pub fn reference_for(audio: &std::path::Path, annotations: &[Annotation]) -> Vec<Event> {
    annotations
        .iter()
        .filter(|a| same_recording(&a.path, audio))
        .map(|a| Event {
            start: a.start,
            end: a.end,
            label: a.label.clone(),
            confidence: 1.0,
        })
        .collect()
}

/// Events sorted by onset (then offset and label).
pub fn by_onset(mut v: Vec<Event>) -> Vec<Event> {
    v.sort_by(|a, b| {
        a.start
            .total_cmp(&b.start)
            .then(a.end.total_cmp(&b.end))
            .then(a.label.cmp(&b.label))
    });
    v
}

/// Scores `detected` (per recording) against `annotations`.
pub fn evaluate(
    detected: &[(PathBuf, Vec<Event>)],
    annotations: &[Annotation],
    params: EventParams,
    time_resolution: f64,
) -> Evaluation {
    let recordings: Vec<(PathBuf, Vec<Event>, Vec<Event>)> = detected
        .iter()
        .map(|(p, d)| {
            (
                p.clone(),
                reference_for(p, annotations),
                by_onset(d.clone()),
            )
        })
        .collect();
    evaluate_recordings(&recordings, params, time_resolution)
}

/// Scores recordings given as (path, reference events, detected events),
/// each list by onset.
pub fn evaluate_recordings(
    recordings: &[(PathBuf, Vec<Event>, Vec<Event>)],
    params: EventParams,
    time_resolution: f64,
) -> Evaluation {
    let unannotated = recordings
        .iter()
        .filter(|(_, r, _)| r.is_empty())
        .map(|(p, _, _)| p.clone())
        .collect();
    let mut labels: Vec<String> = recordings
        .iter()
        .flat_map(|(_, r, d)| r.iter().chain(d).map(|e| e.label.clone()))
        .collect();
    labels.sort();
    labels.dedup();
    let mut ev = EventBased::new(&labels, params);
    let mut seg = SegmentBased::new(&labels, time_resolution);
    for (_, r, d) in recordings {
        ev.evaluate(r, d);
        seg.evaluate(r, d);
    }
    Evaluation {
        event_based: ev.results(),
        segment_based: seg.results(),
        params,
        time_resolution,
        files: recordings.len(),
        labels,
        unannotated,
    }
}

/// A few lines for the terminal: micro and macro F1, per class F1.
pub fn summary(e: &Evaluation) -> String {
    let pct = |v: f64| {
        if v.is_nan() {
            "   -  ".to_string()
        } else {
            format!("{:5.1}%", 100.0 * v)
        }
    };
    let mut s = format!(
        "event-based (onset within {} s{}): F1 {} micro, {} macro; error rate {:.3}\n\
         segment-based ({} s segments): F1 {} micro, {} macro; error rate {:.3}\n",
        e.params.t_collar,
        if e.params.evaluate_offset {
            format!(
                ", offset within max({} s, {} of length)",
                e.params.t_collar, e.params.percentage_of_length
            )
        } else {
            String::new()
        },
        pct(e.event_based.overall.f_measure),
        pct(e.event_based.class_wise_average.f_measure),
        e.event_based.overall.error_rate,
        e.time_resolution,
        pct(e.segment_based.overall.f_measure),
        pct(e.segment_based.class_wise_average.f_measure),
        e.segment_based.overall.error_rate,
    );
    s.push_str("class          ref  det  event F1  segment F1\n");
    for l in &e.labels {
        let ev = &e.event_based.class_wise[l];
        let sg = &e.segment_based.class_wise[l];
        s.push_str(&format!(
            "{:<12} {:>5} {:>4}  {:>8}  {:>10}\n",
            l,
            ev.counts.n_ref,
            ev.counts.n_sys,
            pct(ev.f_measure),
            pct(sg.f_measure)
        ));
    }
    s
}
