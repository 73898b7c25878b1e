//! `pipeline features`: what the model sees, as files a person (or numpy)
//! can inspect: one `.npy` per file, an index CSV, optional PNG images.

use std::path::{Path, PathBuf};

use cochlea_features::{Extractor, FeatureMatrix, npy};
use rayon::prelude::*;
use serde::Serialize;

use crate::atomic;
use crate::csv_rows::{Fixed, to_bytes};
use crate::error::Error;
use crate::extract;
use crate::spec::InputSpec;

/// Options of the dump.
pub struct DumpOptions<'a> {
    /// Output folder.
    pub out: &'a Path,
    /// Also write a PNG image of each matrix.
    pub png: bool,
    /// With a model: also write the normalized, fixed-length model input.
    pub input: Option<&'a InputSpec>,
    /// No progress bar.
    pub quiet: bool,
}

/// Columns of `index.csv`, as [`IndexRow`] writes them.
const INDEX_HEADER: [&str; 10] = [
    "path",
    "npy",
    "model_input_npy",
    "frames",
    "sample_rate",
    "source_sample_rate",
    "channels",
    "duration_s",
    "rows",
    "error",
];

/// One row of `index.csv`: a dumped file, or a file that failed and why.
#[derive(Serialize)]
struct IndexRow {
    path: String,
    npy: String,
    model_input_npy: String,
    frames: Option<usize>,
    sample_rate: Option<u32>,
    source_sample_rate: Option<u32>,
    channels: Option<u16>,
    duration_s: Option<Fixed<f64>>,
    /// Feature row names joined by spaces.
    rows: String,
    error: String,
}

/// The file name stem used for the `i`-th input path: unique and readable.
fn stem(i: usize, p: &Path) -> String {
    let s: String = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{i:05}_{s}")
}

/// Dumps features of `files`; returns (files written, failures).
pub fn dump(
    files: &[PathBuf],
    ex: &Extractor,
    o: &DumpOptions<'_>,
) -> Result<(usize, usize), Error> {
    atomic::create_dir_all(o.out)?;
    let pb = crate::progress::bar(files.len() as u64, "features", o.quiet);
    let rows: Vec<Result<IndexRow, String>> = files
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let r = dump_one(i, p, ex, o);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    let (mut ok, mut failed) = (0, 0);
    let rows: Vec<IndexRow> = files
        .iter()
        .zip(rows)
        .map(|(p, r)| match r {
            Ok(row) => {
                ok += 1;
                row
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
                IndexRow {
                    path: p.to_string_lossy().into_owned(),
                    npy: String::new(),
                    model_input_npy: String::new(),
                    frames: None,
                    sample_rate: None,
                    source_sample_rate: None,
                    channels: None,
                    duration_s: None,
                    rows: String::new(),
                    error: e,
                }
            }
        })
        .collect();
    let index_path = o.out.join("index.csv");
    let index = to_bytes(&INDEX_HEADER, &rows)
        .map_err(|e| Error::io(&index_path, std::io::Error::from(e)))?;
    atomic::write(&index_path, &index)?;
    Ok((ok, failed))
}

fn dump_one(i: usize, p: &Path, ex: &Extractor, o: &DumpOptions<'_>) -> Result<IndexRow, String> {
    let e = extract::extract_one(p, ex, None)?;
    let m = &e.features;
    let name = stem(i, p);
    let npy_path = o.out.join(format!("{name}.npy"));
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    npy::write_npy_f32(&npy_path, &[m.n_rows, m.n_frames], &m.data).map_err(|e| fail(&e))?;
    let mut input_name = String::new();
    if let Some(spec) = o.input {
        let x = spec.prepare(m);
        input_name = format!("{name}.input.npy");
        let (rows, frames) = (spec.input_rows(), spec.input_frames());
        npy::write_npy_f32(&o.out.join(&input_name), &[rows, frames], &x).map_err(|e| fail(&e))?;
        if o.png {
            let im = FeatureMatrix {
                n_rows: rows,
                n_frames: frames,
                data: x,
            };
            atomic::write(&o.out.join(format!("{name}.input.png")), &png_of(&im))
                .map_err(|e| fail(&e))?;
        }
    }
    if o.png {
        atomic::write(&o.out.join(format!("{name}.png")), &png_of(m)).map_err(|e| fail(&e))?;
    }
    Ok(IndexRow {
        path: p.to_string_lossy().into_owned(),
        npy: format!("{name}.npy"),
        model_input_npy: input_name,
        frames: Some(m.n_frames),
        sample_rate: Some(ex.sample_rate()),
        source_sample_rate: Some(e.info.source_sample_rate),
        channels: Some(e.info.channels),
        duration_s: Some(Fixed(e.info.duration_s, 6)),
        rows: ex.row_names().join(" "),
        error: String::new(),
    })
}

/// A colour image of a feature matrix: time left to right, row 0 at the
/// bottom, each row scaled by its own range so MFCC rows of very different
/// scales stay visible; magma-like colour map; pixels enlarged for reading.
fn png_of(m: &FeatureMatrix) -> Vec<u8> {
    let sx = (800 / m.n_frames.max(1)).clamp(1, 8);
    let sy = (400 / m.n_rows.max(1)).clamp(2, 16);
    let (w, h) = (m.n_frames.max(1) * sx, m.n_rows.max(1) * sy);
    let mut img = vec![0u8; w * h * 3];
    for r in 0..m.n_rows {
        let row = &m.data[r * m.n_frames..(r + 1) * m.n_frames];
        let (lo, hi) = row
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        for (t, &v) in row.iter().enumerate() {
            let c = colour(if v.is_finite() { (v - lo) / span } else { 0.0 });
            for yy in 0..sy {
                let y = h - 1 - (r * sy + yy);
                for xx in 0..sx {
                    let at = (y * w + t * sx + xx) * 3;
                    img[at..at + 3].copy_from_slice(&c);
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        if let Ok(mut wr) = enc.write_header() {
            let _ = wr.write_image_data(&img);
        }
    }
    out
}

/// Piecewise-linear approximation of the magma colour map.
fn colour(t: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [0.0, 0.0, 4.0],
        [81.0, 18.0, 124.0],
        [183.0, 55.0, 121.0],
        [252.0, 137.0, 97.0],
        [252.0, 253.0, 191.0],
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f32;
    let mut c = [0u8; 3];
    for k in 0..3 {
        c[k] = (STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * f).round() as u8;
    }
    c
}

/// Lists the audio files of `paths` (folders recursively, files as given).
pub fn gather(paths: &[PathBuf], extensions: &[String]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.is_dir() {
            match crate::dataset::find_audio(p, extensions) {
                Ok((f, pr)) => {
                    files.extend(f);
                    problems.extend(pr);
                }
                Err(e) => problems.push((p.clone(), e.to_string())),
            }
        } else {
            files.push(p.clone());
        }
    }
    (files, problems)
}
