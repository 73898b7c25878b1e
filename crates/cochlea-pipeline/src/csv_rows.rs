//! CSV rows through `csv::Writer` and serde: a header and rows as bytes,
//! or one record at a time to a stream. Fields are quoted only when they
//! hold a comma, a quote or a line break; records end with `\n`. Used by
//! every CSV the pipeline writes (`predictions.csv`, `classify`, the
//! `features` index, `detect`'s events).

use std::fmt;
use std::io;

use serde::{Serialize, Serializer};

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
