//! `predictions.csv` of a run, written with the CSV rows of
//! [`crate::csv_rows`] (re-exported here).

use std::borrow::Cow;

use serde::Serialize;

pub use crate::csv_rows::{Fixed, to_bytes, write_record};

use crate::detect::Event;
use crate::detect::held_out::RecordingEvents;
use crate::results::{Prediction, RunResult};

/// One row of `predictions.csv`.
#[derive(Serialize)]
struct PredictionRow<'a> {
    path: Cow<'a, str>,
    /// `start,end` of the segment (seconds), when the run's examples are
    /// segments; empty for a whole-file example among them.
    #[serde(skip_serializing_if = "Option::is_none")]
    times: Option<[String; 2]>,
    fold: &'a str,
    #[serde(rename = "true")]
    truth: &'a str,
    predicted: &'a str,
    confidence: Fixed<f32>,
    correct: bool,
    /// `p_<class>` for every class, in class order.
    proba: Vec<Fixed<f32>>,
}

/// `predictions.csv`: one row per test file (or segment, with its `start`
/// and `end` in seconds) with the probability of every class.
pub fn predictions(r: &RunResult, preds: &[Prediction]) -> Result<Vec<u8>, ::csv::Error> {
    let segments = preds.iter().any(|p| p.span.is_some());
    let mut header: Vec<String> = vec!["path".into()];
    if segments {
        header.extend(["start".into(), "end".into()]);
    }
    header.extend(["fold", "true", "predicted", "confidence", "correct"].map(String::from));
    header.extend(r.data.classes.iter().map(|c| format!("p_{c}")));
    to_bytes(
        &header,
        preds.iter().map(|p| PredictionRow {
            path: p.path.to_string_lossy(),
            times: segments.then(|| match p.span {
                Some((a, b)) => [format!("{a:.3}"), format!("{b:.3}")],
                None => [String::new(), String::new()],
            }),
            fold: &p.fold,
            truth: &p.truth,
            predicted: &p.predicted,
            confidence: Fixed(p.confidence, 6),
            correct: p.truth == p.predicted,
            proba: p.proba.iter().map(|&v| Fixed(v, 6)).collect(),
        }),
    )
}

/// One row of `events.csv`.
#[derive(Serialize)]
struct EventRow<'a> {
    path: Cow<'a, str>,
    fold: &'a str,
    /// `annotated` or `detected`.
    source: &'a str,
    start: Fixed<f64>,
    end: Fixed<f64>,
    label: &'a str,
    confidence: Fixed<f32>,
}

/// `events.csv`: the annotated and the detected events of every held-out
/// recording a run scored, recording by recording, each by onset.
pub fn events(r: &RunResult) -> Result<Vec<u8>, ::csv::Error> {
    let header = [
        "path",
        "fold",
        "source",
        "start",
        "end",
        "label",
        "confidence",
    ];
    fn row<'a>(rec: &'a RecordingEvents, source: &'a str, e: &'a Event) -> EventRow<'a> {
        EventRow {
            path: rec.path.to_string_lossy(),
            fold: &rec.fold,
            source,
            start: Fixed(e.start, 3),
            end: Fixed(e.end, 3),
            label: &e.label,
            confidence: Fixed(e.confidence, 4),
        }
    }
    let rows = r.folds.iter().flat_map(|f| &f.events).flat_map(|rec| {
        rec.reference
            .iter()
            .map(move |e| row(rec, "annotated", e))
            .chain(rec.detected.iter().map(move |e| row(rec, "detected", e)))
    });
    to_bytes(&header, rows)
}
