//! CSV output through `csv::Writer` and serde rows: `predictions.csv` of a
//! run, and the rows of `pipeline classify` and the `pipeline features` index.
//! Fields are quoted only when they hold a comma, a quote or a line break;
//! records end with `\n`.

use std::borrow::Cow;
use std::fmt;
use std::io;

use serde::{Serialize, Serializer};

use crate::results::{Prediction, RunResult};

/// A number written with a fixed count of decimals, as `{:.N}` does.
#[derive(Clone, Copy, Debug)]
pub struct Fixed<T>(pub T, pub usize);

impl<T: fmt::Display> Serialize for Fixed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.*}", self.1, self.0))
    }
}

/// A header and rows as CSV bytes. The rows must have as many fields as
/// the header (a sequence inside a row adds one field per element).
pub fn to_bytes<H, R>(
    header: &H,
    rows: impl IntoIterator<Item = R>,
) -> Result<Vec<u8>, ::csv::Error>
where
    H: Serialize + ?Sized,
    R: Serialize,
{
    let mut w = writer(Vec::new());
    w.serialize(header)?;
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Writes one record (a header or a row) to a stream, at once.
pub fn write_record<R: Serialize + ?Sized>(out: &mut dyn io::Write, row: &R) -> io::Result<()> {
    let mut w = writer(out);
    w.serialize(row)?;
    w.flush()
}

fn writer<W: io::Write>(out: W) -> ::csv::Writer<W> {
    // Headers are written as records of their own: some rows end in a
    // sequence (per-class probabilities), which serde cannot name.
    ::csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out)
}

/// One row of `predictions.csv`.
#[derive(Serialize)]
struct PredictionRow<'a> {
    path: Cow<'a, str>,
    fold: &'a str,
    #[serde(rename = "true")]
    truth: &'a str,
    predicted: &'a str,
    confidence: Fixed<f32>,
    correct: bool,
    /// `p_<class>` for every class, in class order.
    proba: Vec<Fixed<f32>>,
}

/// `predictions.csv`: one row per test file with the probability of every
/// class.
pub fn predictions(r: &RunResult, preds: &[Prediction]) -> Result<Vec<u8>, ::csv::Error> {
    let mut header: Vec<String> = ["path", "fold", "true", "predicted", "confidence", "correct"]
        .map(String::from)
        .to_vec();
    header.extend(r.data.classes.iter().map(|c| format!("p_{c}")));
    to_bytes(
        &header,
        preds.iter().map(|p| PredictionRow {
            path: p.path.to_string_lossy(),
            fold: &p.fold,
            truth: &p.truth,
            predicted: &p.predicted,
            confidence: Fixed(p.confidence, 6),
            correct: p.truth == p.predicted,
            proba: p.proba.iter().map(|&v| Fixed(v, 6)).collect(),
        }),
    )
}
