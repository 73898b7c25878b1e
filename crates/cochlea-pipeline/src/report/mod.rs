//! Run reports: `report.md`, a self-contained `report.html` (inline SVG, no
//! network), and `predictions.csv`. `metrics.json` is written by the run.
//!
//! The report is built once as data ([`model::Report`]: sections of
//! paragraphs, tables, charts, findings) and written by one renderer per
//! format ([`markdown`], [`html`]), so both files always say the same thing
//! in the same order. CSV goes through `csv::Writer` ([`csv`]).

pub mod csv;
mod events;
pub mod html;
pub mod markdown;
pub mod model;
mod sections;

#[cfg(test)]
mod tests;

use std::path::Path;

use crate::atomic;
use crate::config::Config;
use crate::doctor;
use crate::error::Error;
use crate::results::{Prediction, RunResult};

pub use model::Report;
pub use sections::headline;

/// Writes every report file of a run into its run directory.
pub fn write_all(
    r: &RunResult,
    preds: &[Prediction],
    cfg: &Config,
    cfg_path: &Path,
) -> Result<(), Error> {
    let csv_path = r.run_dir.join("predictions.csv");
    let csv =
        csv::predictions(r, preds).map_err(|e| Error::io(&csv_path, std::io::Error::from(e)))?;
    atomic::write(&csv_path, &csv)?;
    if r.events.is_some() {
        let path = r.run_dir.join("events.csv");
        let bytes = csv::events(r).map_err(|e| Error::io(&path, std::io::Error::from(e)))?;
        atomic::write(&path, &bytes)?;
    }
    let report = Report::build(
        r,
        preds,
        cfg.report.max_misclassified,
        &cfg.events,
        cfg_path,
    );
    atomic::write(
        &r.run_dir.join("report.md"),
        markdown::render(&report).as_bytes(),
    )?;
    atomic::write(
        &r.run_dir.join("report.html"),
        html::render(&report).as_bytes(),
    )?;
    Ok(())
}

/// The findings section as HTML: problems first with evidence and fix,
/// passed checks folded.
pub fn findings_html(findings: &[doctor::Finding]) -> String {
    html::section(&sections::findings(findings))
}
