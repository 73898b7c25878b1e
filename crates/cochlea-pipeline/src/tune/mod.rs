//! `pipeline tune`: a search over config values that never looks at a test
//! file.
//!
//! - The space ([`space`]): `[tune.space]` entries, or a default built from
//!   what moved accuracy on FSDD. A trial is a set of overrides of the base
//!   config; trial 0 is the config itself, steered by doctor findings
//!   ([`steer`]).
//! - The folds ([`data`]): with a single test split the search runs inner
//!   cross-validation on the training part (its test files are never
//!   decoded); with k-fold or leave-one-group-out it is nested: a search
//!   inside each outer training part, and the outer test part scored once
//!   with that fold's winner.
//! - The schedule ([`halving`]): successive halving over rungs of rising
//!   fidelity (epochs, inner folds); evaluations of a rung run in parallel
//!   worker processes with `--jobs`.
//! - Resumability ([`journal`]): each finished evaluation is appended to a
//!   journal; `--resume` skips them and, everything being seeded, reaches
//!   the same winner as an uninterrupted search.
//! - Output ([`output`]): `tuned.toml`, `leaderboard.csv`, `leaderboard.md`,
//!   `tune.json` in `<report.dir>/<name>-tune-<UTC time>/`.

pub mod space;

#[cfg(feature = "torch")]
pub mod data;
#[cfg(feature = "torch")]
pub mod eval;
#[cfg(feature = "torch")]
pub mod halving;
#[cfg(feature = "torch")]
pub mod journal;
#[cfg(feature = "torch")]
pub mod output;
#[cfg(feature = "torch")]
mod search;
#[cfg(feature = "torch")]
pub mod steer;
#[cfg(feature = "torch")]
mod work;

#[cfg(feature = "torch")]
use search::stopper;
#[cfg(feature = "torch")]
pub use search::*;
pub use space::TuneConfig;
