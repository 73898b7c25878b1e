//! A finding of the doctor: plain data, kept apart from the checks so that
//! what a run produced (`results`) can hold findings without depending on
//! the code that makes them.

use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing wrong.
    Ok,
    /// The data are too few to tell; the fix says what would settle it.
    Inconclusive,
    /// Suspicious; may cost accuracy.
    Warn,
    /// Wrong; explains a bad result.
    Fail,
}

impl Verdict {
    /// The word shown beside a finding: `FAIL`, `WARN`, `INCONCLUSIVE`, `ok`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Fail => "FAIL",
            Verdict::Warn => "WARN",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::Ok => "ok",
        }
    }
}

/// One check's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id, e.g. `leakage.group` (a check's id in the doctor's catalog).
    pub id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One line: what was found.
    pub title: String,
    /// The numbers behind it.
    pub evidence: String,
    /// The fix, in one sentence.
    pub fix: String,
    /// Ranking weight: how likely this explains a bad result (higher first).
    pub weight: f64,
}
