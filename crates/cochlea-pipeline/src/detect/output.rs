//! Writing events: CSV and JSON lines (`path,start,end,label,confidence`),
//! Audacity label files and Raven selection tables.
//!
//! - CSV: a header, then one row per event; times in seconds with 3
//!   decimals, confidence with 4.
//! - JSON lines: `{"path":..,"start":..,"end":..,"label":..,"confidence":..}`.
//! - Audacity (`File > Import > Labels`): `start<TAB>end<TAB>label`, times
//!   with 6 decimals as Audacity writes them; no path, so one file per
//!   recording.
//! - Raven selection table (`File > Open Selection Table`): tab-separated,
//!   `Selection View Channel Begin Time (s) End Time (s) Low Freq (Hz)
//!   High Freq (Hz) Annotation Confidence`, one row per event in the
//!   `Spectrogram 1` view, the band from 0 Hz to the model's Nyquist
//!   frequency; one file per recording.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Event;
use crate::csv_rows::{Fixed, write_record};

/// How events are written (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    /// CSV `path,start,end,label,confidence`.
    Csv,
    /// JSON lines (`json` is accepted for the same).
    #[value(alias = "json")]
    Jsonl,
    /// Audacity label files (one per recording).
    Audacity,
    /// Raven selection tables (one per recording).
    Raven,
}

impl EventFormat {
    /// Whether the format has no path column, so that each recording needs
    /// a file of its own.
    pub fn per_recording(self) -> bool {
        matches!(self, EventFormat::Audacity | EventFormat::Raven)
    }

    /// The name of the file of `audio`'s events in a folder of outputs.
    pub fn file_name(self, audio: &Path) -> String {
        let stem = audio
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "stdin".into());
        match self {
            EventFormat::Csv => format!("{stem}.events.csv"),
            EventFormat::Jsonl => format!("{stem}.events.jsonl"),
            EventFormat::Audacity => format!("{stem}.txt"),
            EventFormat::Raven => format!("{stem}.Table.1.selections.txt"),
        }
    }
}

/// The first line(s) of a file or stream of events.
pub fn header(format: EventFormat) -> Vec<u8> {
    match format {
        EventFormat::Csv => b"path,start,end,label,confidence\n".to_vec(),
        EventFormat::Raven => b"Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tAnnotation\tConfidence\n".to_vec(),
        EventFormat::Jsonl | EventFormat::Audacity => Vec::new(),
    }
}

#[derive(Serialize)]
struct CsvRow<'a> {
    path: std::borrow::Cow<'a, str>,
    start: Fixed<f64>,
    end: Fixed<f64>,
    label: &'a str,
    confidence: Fixed<f32>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    path: std::borrow::Cow<'a, str>,
    start: f64,
    end: f64,
    label: &'a str,
    confidence: f32,
}

/// A label in a tab-separated line: no tabs or line breaks.
fn field(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// Writes events, numbering Raven selections from 1 per recording.
pub struct EventWriter {
    format: EventFormat,
    /// Nyquist frequency for Raven's band.
    high_hz: f64,
    selection: usize,
}

impl EventWriter {
    /// A writer for `format`; `sample_rate` is the model's.
    pub fn new(format: EventFormat, sample_rate: u32) -> EventWriter {
        EventWriter {
            format,
            high_hz: f64::from(sample_rate) / 2.0,
            selection: 0,
        }
    }

    /// The next recording: Raven numbers start again.
    pub fn restart(&mut self) {
        self.selection = 0;
    }

    /// One event of `path` to `out`.
    pub fn write(
        &mut self,
        out: &mut dyn std::io::Write,
        path: &Path,
        e: &Event,
    ) -> std::io::Result<()> {
        let r3 = |t: f64| (t * 1000.0).round() / 1000.0;
        match self.format {
            EventFormat::Csv => write_record(
                out,
                &CsvRow {
                    path: path.to_string_lossy(),
                    start: Fixed(e.start, 3),
                    end: Fixed(e.end, 3),
                    label: &e.label,
                    confidence: Fixed(e.confidence, 4),
                },
            ),
            EventFormat::Jsonl => {
                let row = JsonRow {
                    path: path.to_string_lossy(),
                    start: r3(e.start),
                    end: r3(e.end),
                    label: &e.label,
                    confidence: (e.confidence * 10_000.0).round() / 10_000.0,
                };
                serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::other)?;
                writeln!(out)
            }
            EventFormat::Audacity => {
                writeln!(out, "{:.6}\t{:.6}\t{}", e.start, e.end, field(&e.label))
            }
            EventFormat::Raven => {
                self.selection += 1;
                writeln!(
                    out,
                    "{}\tSpectrogram 1\t1\t{:.6}\t{:.6}\t0\t{:.1}\t{}\t{:.4}",
                    self.selection,
                    e.start,
                    e.end,
                    self.high_hz,
                    field(&e.label),
                    e.confidence
                )
            }
        }
    }
}

/// The file the events of `audio` go to in the folder `dir`, made unique
/// against `taken` (two recordings with the same stem in different
/// folders get `-2`, `-3`, ...).
pub fn output_path(
    dir: &Path,
    format: EventFormat,
    audio: &Path,
    taken: &mut std::collections::HashSet<PathBuf>,
) -> PathBuf {
    let name = format.file_name(audio);
    let mut p = dir.join(&name);
    let mut n = 2;
    while !taken.insert(p.clone()) {
        let (stem, rest) = name.split_once('.').unwrap_or((&name, ""));
        p = dir.join(format!("{stem}-{n}.{rest}"));
        n += 1;
    }
    p
}
