//! `pipeline classify`: batch classification of files and folders with a
//! trained model, streaming in chunks so huge folders never sit in memory.

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use crate::bundle::LoadedModel;
use crate::csv_rows::{Fixed, write_record};
use crate::error::Error;
use crate::extract;
use crate::metrics::argmax;
use crate::normalize;
use crate::spec::InputSpec;

/// How the output is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One row per file (or window), with a probability column per class.
    Csv,
    /// JSON lines: one object per file (or window) and line (`json` is
    /// accepted for the same).
    #[value(alias = "json")]
    Jsonl,
}

/// Where `classify` runs the network (`--device`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// The CPU.
    #[default]
    Cpu,
    /// The first CUDA device; an error if libtorch sees none.
    Cuda,
    /// CUDA when libtorch sees a device, else the CPU.
    Auto,
}

impl DeviceArg {
    /// The libtorch device this choice means on this machine.
    pub fn resolve(self) -> Result<cochlea_model::tch::Device, Error> {
        use cochlea_model::tch::{Cuda, Device};
        match self {
            DeviceArg::Cpu => Ok(Device::Cpu),
            DeviceArg::Auto => Ok(Device::cuda_if_available()),
            DeviceArg::Cuda if Cuda::is_available() => Ok(Device::Cuda(0)),
            DeviceArg::Cuda => Err(Error::Data(
                "--device cuda: libtorch sees no CUDA device; use cpu or auto".into(),
            )),
        }
    }
}

/// Options of `classify`.
#[derive(Clone, Debug)]
pub struct ClassifyOptions {
    /// Output format.
    pub format: Format,
    /// How many top classes to list.
    pub top_k: usize,
    /// Below this confidence the label is "unknown".
    pub min_confidence: Option<f32>,
    /// Classify long clips by windows of the training length and average.
    pub windows: bool,
    /// With `windows`, one row per window instead of the average.
    pub per_window: bool,
    /// Files per chunk.
    pub chunk: usize,
    /// No progress bar.
    pub quiet: bool,
}

/// One output row.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The file (in JSON, a path that is not UTF-8 has its bad bytes
    /// replaced by U+FFFD, as in CSV).
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// Window index, when rows are per window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<usize>,
    /// Where the window starts in the file, seconds (rows per window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Where the window ends, seconds (rows per window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Predicted class, "unknown" under the confidence threshold, empty on error.
    pub label: String,
    /// Probability of the best class.
    pub confidence: f32,
    /// Best classes with probabilities.
    pub top: Vec<(String, f32)>,
    /// Probability of every class, in the model's class order (written in
    /// JSON as an object `{class: probability}`); empty on error.
    #[serde(skip)]
    pub proba: Vec<f32>,
    /// Why the file could not be classified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Columns of the CSV output before the per-class ones, as [`CsvRow`]
/// writes them; `p_<class>` follows for every class, as in `predictions.csv`.
/// `start` and `end` (seconds, rows per window) came last, after `error`,
/// so that the earlier columns kept their places.
const CSV_HEADER: [&str; 8] = [
    "path",
    "window",
    "label",
    "confidence",
    "top",
    "error",
    "start",
    "end",
];

/// The CSV header for `classes`.
fn csv_header(classes: &[String]) -> Vec<String> {
    let mut h: Vec<String> = CSV_HEADER.map(String::from).to_vec();
    h.extend(classes.iter().map(|c| format!("p_{c}")));
    h
}

/// One row of the CSV output: the top classes as `class:probability`
/// joined by `;`, empty fields where JSON leaves keys out.
#[derive(Serialize)]
struct CsvRow<'a> {
    path: Cow<'a, str>,
    window: Option<usize>,
    label: &'a str,
    confidence: Fixed<f32>,
    top: String,
    error: &'a str,
    start: Option<Fixed<f64>>,
    end: Option<Fixed<f64>>,
    /// `p_<class>` for every class (empty fields on error).
    proba: Vec<Option<Fixed<f32>>>,
}

/// One JSON line: the row and `proba` as `{class: probability}` in class
/// order.
#[derive(Serialize)]
struct JsonRow<'a> {
    #[serde(flatten)]
    row: &'a Row,
    #[serde(skip_serializing_if = "ClassProba::is_empty")]
    proba: ClassProba<'a>,
}

/// Probabilities keyed by class name, in class order.
struct ClassProba<'a>(&'a [String], &'a [f32]);

impl ClassProba<'_> {
    fn is_empty(&self) -> bool {
        self.1.is_empty()
    }
}

impl Serialize for ClassProba<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.1.len()))?;
        for (c, p) in self.0.iter().zip(self.1) {
            m.serialize_entry(c, p)?;
        }
        m.end()
    }
}

/// JSON strings are UTF-8: serde refuses other paths, which would stop the
/// whole batch at one oddly named file.
fn lossy_path<S: serde::Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// Counts of a classify run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Files classified.
    pub ok: usize,
    /// Files that failed.
    pub failed: usize,
}

/// One model input and the time span it covers in the file, seconds.
type Input = ((f64, f64), Vec<f32>);

/// Inputs for one file: one per window, or one. A window of frames
/// `s..s + clip_frames` spans `s * hop / rate` to `(s + clip_frames) *
/// hop / rate` seconds, the end cut at the file's duration.
fn inputs(spec: &InputSpec, e: &extract::Extracted, windows: bool) -> Vec<Input> {
    let duration = e.info.duration_s;
    if !spec.features.pooling.is_none() {
        // Functionals summarise the whole clip: there are no windows.
        return vec![((0.0, duration), spec.prepare(&e.features))];
    }
    let normed = spec.normalizer.apply(&e.features);
    let secs = |frame: usize| {
        (frame as f64 * spec.features.hop_length as f64 / f64::from(spec.sample_rate)).min(duration)
    };
    if !windows || normed.n_frames <= spec.clip_frames {
        return vec![(
            (0.0, duration),
            normalize::fit_length(&normed, spec.clip_frames, spec.pad, spec.crop),
        )];
    }
    // The windows a long clip is judged by in training too (`data.long_clips`).
    normalize::window_starts(normed.n_frames, spec.clip_frames)
        .into_iter()
        .map(|s| {
            let w = normalize::window(&normed, s, spec.clip_frames, spec.pad);
            ((secs(s), secs(s + spec.clip_frames)), w)
        })
        .collect()
}

fn row_of(
    m: &LoadedModel,
    path: PathBuf,
    window: Option<(usize, (f64, f64))>,
    p: &[f32],
    o: &ClassifyOptions,
) -> Row {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let best = argmax(p);
    let confidence = p[best];
    let label = match o.min_confidence {
        Some(t) if confidence < t => "unknown".to_string(),
        _ => m.classes[best].clone(),
    };
    let top = order
        .iter()
        .take(o.top_k.max(1))
        .map(|&i| (m.classes[i].clone(), p[i]))
        .collect();
    Row {
        path,
        window: window.map(|w| w.0),
        start: window.map(|w| w.1.0),
        end: window.map(|w| w.1.1),
        label,
        confidence,
        top,
        error: None,
        proba: p.to_vec(),
    }
}

/// Writes one row in the chosen format.
fn write_row(
    out: &mut dyn Write,
    r: &Row,
    classes: &[String],
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Jsonl => {
            let row = JsonRow {
                row: r,
                proba: ClassProba(classes, &r.proba),
            };
            serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::other)?;
            writeln!(out)
        }
        Format::Csv => {
            let top: Vec<String> = r.top.iter().map(|(c, p)| format!("{c}:{p:.4}")).collect();
            let row = CsvRow {
                path: r.path.to_string_lossy(),
                window: r.window,
                label: &r.label,
                confidence: Fixed(r.confidence, 6),
                top: top.join(";"),
                error: r.error.as_deref().unwrap_or(""),
                start: r.start.map(|t| Fixed(t, 3)),
                end: r.end.map(|t| Fixed(t, 3)),
                proba: if r.proba.is_empty() {
                    vec![None; classes.len()]
                } else {
                    r.proba.iter().map(|&v| Some(Fixed(v, 6))).collect()
                },
            };
            write_record(out, &row)
        }
    }
}

/// Classifies `files`, writing rows to `out` as each chunk finishes.
pub fn classify(
    m: &LoadedModel,
    files: &[PathBuf],
    o: &ClassifyOptions,
    out: &mut dyn Write,
) -> Result<Tally, Error> {
    let io = |e: std::io::Error| Error::io(std::path::Path::new("<output>"), e);
    if o.format == Format::Csv {
        write_record(out, &csv_header(&m.classes)).map_err(io)?;
    }
    let mut tally = Tally::default();
    let pb = crate::progress::bar(files.len() as u64, "classify", o.quiet);
    for chunk in files.chunks(o.chunk.max(1)) {
        let (ex, spec) = (&m.extractor, &m.input);
        let prepared: Vec<Result<Vec<Input>, String>> = chunk
            .par_iter()
            .map(|p| extract::extract_one(p, ex, None).map(|e| inputs(spec, &e, o.windows)))
            .collect();
        let batch: Vec<f32> = prepared
            .iter()
            .flatten()
            .flatten()
            .flat_map(|(_, x)| x)
            .copied()
            .collect();
        let n_inputs: usize = prepared.iter().flatten().map(Vec::len).sum();
        let proba = if n_inputs > 0 {
            m.model.predict_proba(&batch, n_inputs)?
        } else {
            Vec::new()
        };
        let k = m.classes.len();
        let mut at = 0;
        for (path, r) in chunk.iter().zip(prepared) {
            match r {
                Err(e) => {
                    eprintln!("error: {e}");
                    tally.failed += 1;
                    let row = Row {
                        path: path.clone(),
                        window: None,
                        start: None,
                        end: None,
                        label: String::new(),
                        confidence: 0.0,
                        top: Vec::new(),
                        error: Some(e),
                        proba: Vec::new(),
                    };
                    write_row(out, &row, &m.classes, o.format).map_err(io)?;
                }
                Ok(wins) => {
                    tally.ok += 1;
                    let n = wins.len();
                    let block = &proba[at * k..(at + n) * k];
                    at += n;
                    if o.per_window && o.windows {
                        for (j, p) in block.chunks(k).enumerate() {
                            let row = row_of(m, path.clone(), Some((j, wins[j].0)), p, o);
                            write_row(out, &row, &m.classes, o.format).map_err(io)?;
                        }
                    } else {
                        // As a held-out long clip is judged in training.
                        let mean = cochlea_model::mean_by_clip(block, k, &vec![0; n], 1);
                        let row = row_of(m, path.clone(), None, &mean, o);
                        write_row(out, &row, &m.classes, o.format).map_err(io)?;
                    }
                }
            }
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    Ok(tally)
}
