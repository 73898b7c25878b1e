//! What a user sees on stderr while work goes on, and how much of it.
//!
//! One verbosity [`Level`] for the process, set once by the binary from
//! `COCHLEA_LOG` and the `-v` / `-q` flags. Progress takes one of two forms:
//!
//! - on a terminal, indicatif bars, cleared when their stage ends;
//! - elsewhere (`nohup`, Slurm, CI, `2> log`), where bars would be hidden,
//!   plain lines stamped with the UTC time: one when a stage starts, one
//!   when it ends, one per message (a training epoch's metrics), and for
//!   long stages one every 10 % of the steps or every 30 s, whichever
//!   comes first, never one per step:
//!
//! ```text
//! [12:03:01] features 0/500 started
//! [12:03:02] features 50/500 (10%)
//! ...
//! [12:03:09] features 500/500 finished in 8.2 s
//! [12:03:09] george train 0/40 started
//! [12:03:11] george train 1/40 loss 2.291 acc 0.120 val 0.150
//! ```
//!
//! Errors and per-file problems are printed by the code that meets them,
//! whatever the level: they change what the result means.

use std::borrow::Cow;
use std::fmt::{self, Display};
use std::io::{IsTerminal, Write};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};

/// How much the process prints on stderr, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Errors and per-file problems only.
    Error = 0,
    /// Also warnings that do not change the result (a feature cache that
    /// cannot be written).
    Warn = 1,
    /// Also progress: bars, or plain lines when stderr is not a terminal.
    Info = 2,
    /// Also the settings in effect, and the start and end of every stage
    /// kept as lines on a terminal too.
    Debug = 3,
}

impl Level {
    const ALL: [Level; 4] = [Level::Error, Level::Warn, Level::Info, Level::Debug];

    /// The level's name, as `COCHLEA_LOG` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// The level from `COCHLEA_LOG` (`None`: unset, meaning `info`), raised
    /// one step per `-v` and lowered one step per `-q`, within error..debug.
    pub fn resolve(env: Option<&str>, verbose: u8, quiet: u8) -> Result<Level, String> {
        let base = match env.map(str::trim) {
            None | Some("") => Level::Info,
            Some(v) => v
                .parse()
                .map_err(|e: String| format!("COCHLEA_LOG={v}: {e}"))?,
        };
        let step = base as i32 + i32::from(verbose) - i32::from(quiet);
        Ok(Level::ALL[step.clamp(0, 3) as usize])
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Level, String> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| "expected one of error, warn, info, debug".to_string())
    }
}

impl Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Sets the level of the process (the binary does, once, before any work).
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The level of the process (`info` unless [`set_level`] said otherwise).
pub fn level() -> Level {
    Level::ALL[usize::from(LEVEL.load(Ordering::Relaxed)).min(3)]
}

/// Whether messages of `at` are shown.
pub fn enabled(at: Level) -> bool {
    level() >= at
}

/// `warning: {msg}` on stderr, unless the level is `error`.
pub fn warn(msg: impl Display) {
    if enabled(Level::Warn) {
        line(&format!("warning: {msg}"));
    }
}

/// `[hh:mm:ss] {msg}` on stderr at level `debug`.
pub fn debug(msg: impl Display) {
    if enabled(Level::Debug) {
        line(&stamp(msg));
    }
}

/// `msg` after the UTC time of day, `[hh:mm:ss] msg`.
fn stamp(msg: impl Display) -> String {
    format!("[{}] {msg}", clock(SystemTime::now()))
}

/// One whole line on stderr (one write under the lock, so lines from
/// threads do not interleave).
fn line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// `hh:mm:ss` of `t` in UTC.
fn clock(t: SystemTime) -> String {
    let s = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// Progress of one stage of `len` steps: a bar on a terminal, plain lines
/// elsewhere, nothing when quiet. Safe to update from many threads.
pub struct Progress {
    inner: Inner,
}

enum Inner {
    Hidden,
    Bar { pb: ProgressBar, log: Option<Log> },
    Lines(Mutex<Log>),
}

/// Makes the progress of a stage of `len` steps named `what` (`features`,
/// `classify`, `george train`). Hidden when `quiet` is set or the level is
/// below `info`.
pub fn bar(len: u64, what: &str, quiet: bool) -> Progress {
    if quiet || !enabled(Level::Info) {
        return Progress {
            inner: Inner::Hidden,
        };
    }
    let now = Instant::now();
    if !std::io::stderr().is_terminal() {
        let log = Log::new(what, len, now);
        line(&stamp(log.started()));
        return Progress {
            inner: Inner::Lines(Mutex::new(log)),
        };
    }
    let pb = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{prefix:>10} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    pb.set_style(style);
    pb.set_prefix(what.to_string());
    // At debug level the start and end of each stage stay in the
    // terminal's scrollback, above the bar that is cleared.
    let log = enabled(Level::Debug).then(|| Log::new(what, len, now));
    if let Some(log) = &log {
        pb.println(stamp(log.started()));
    }
    Progress {
        inner: Inner::Bar { pb, log },
    }
}

impl Progress {
    /// A progress that shows nothing.
    pub fn hidden() -> Progress {
        Progress {
            inner: Inner::Hidden,
        }
    }

    /// Moves to step `pos`.
    pub fn set_position(&self, pos: u64) {
        match &self.inner {
            Inner::Hidden => {}
            Inner::Bar { pb, .. } => pb.set_position(pos),
            Inner::Lines(log) => self.with(log, |l, now| l.set_position(pos, now)),
        }
    }

    /// Advances by `delta` steps.
    pub fn inc(&self, delta: u64) {
        match &self.inner {
            Inner::Hidden => {}
            Inner::Bar { pb, .. } => pb.inc(delta),
            Inner::Lines(log) => self.with(log, |l, now| {
                l.set_position(l.pos.saturating_add(delta), now)
            }),
        }
    }

    /// Shows `msg` beside the position; as plain lines, each message is a
    /// line of its own (a training epoch's loss and accuracy).
    pub fn set_message(&self, msg: impl Into<Cow<'static, str>>) {
        match &self.inner {
            Inner::Hidden => {}
            Inner::Bar { pb, .. } => pb.set_message(msg),
            Inner::Lines(log) => {
                let msg = msg.into();
                self.with(log, |l, now| Some(l.message(&msg, now)))
            }
        }
    }

    /// Ends the stage: the bar disappears; as plain lines, a last line says
    /// where it ended and how long it took.
    pub fn finish_and_clear(&self) {
        match &self.inner {
            Inner::Hidden => {}
            Inner::Bar { pb, log } => {
                pb.finish_and_clear();
                if let Some(log) = log {
                    let mut log = log.clone();
                    log.pos = pb.position();
                    line(&stamp(log.finished(Instant::now())));
                }
            }
            Inner::Lines(log) => self.with(log, |l, now| Some(l.finished(now))),
        }
    }

    fn with(&self, log: &Mutex<Log>, f: impl FnOnce(&mut Log, Instant) -> Option<String>) {
        // A panic elsewhere while the lock was held leaves a usable log.
        let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(text) = f(&mut l, Instant::now()) {
            line(&stamp(text));
        }
    }
}

/// A stage reported as plain lines: the rules for when a line is due,
/// without the clock or stderr, so they can be tested with made-up times.
#[derive(Clone, Debug)]
struct Log {
    what: String,
    len: u64,
    pos: u64,
    started: Instant,
    /// When the last line was printed, and the position it showed.
    last_at: Instant,
    last_pos: u64,
}

impl Log {
    /// A position line is due at least this often while steps are done.
    const EVERY: Duration = Duration::from_secs(30);

    fn new(what: &str, len: u64, now: Instant) -> Log {
        Log {
            what: what.to_string(),
            len,
            pos: 0,
            started: now,
            last_at: now,
            last_pos: 0,
        }
    }

    fn started(&self) -> String {
        format!("{} {}/{} started", self.what, self.pos, self.len)
    }

    /// Parts per `of` of the stage done at `pos` (all of it when the stage
    /// has no steps).
    fn done(&self, pos: u64, of: u64) -> u64 {
        pos.min(self.len)
            .saturating_mul(of)
            .checked_div(self.len)
            .unwrap_or(of)
    }

    /// Moves to `pos`, first reporting the position reached so far if a
    /// line is due for it: it crossed a tenth of the stage since the last
    /// line, or the last line is [`Log::EVERY`] old. Reporting the position
    /// before the move, not after, lets a message for the new position
    /// (which usually follows a move) be its only line.
    fn set_position(&mut self, pos: u64, now: Instant) -> Option<String> {
        let due = self.pos != self.last_pos
            && (self.done(self.pos, 10) > self.done(self.last_pos, 10)
                || now.saturating_duration_since(self.last_at) >= Log::EVERY);
        let text = due.then(|| {
            self.last_at = now;
            self.last_pos = self.pos;
            let pct = self.done(self.pos, 100);
            format!("{} {}/{} ({pct}%)", self.what, self.pos, self.len)
        });
        self.pos = pos;
        text
    }

    fn message(&mut self, msg: &str, now: Instant) -> String {
        self.last_at = now;
        self.last_pos = self.pos;
        format!("{} {}/{} {msg}", self.what, self.pos, self.len)
    }

    fn finished(&mut self, now: Instant) -> String {
        self.last_at = now;
        self.last_pos = self.pos;
        format!(
            "{} {}/{} finished in {:.1} s",
            self.what,
            self.pos,
            self.len,
            now.saturating_duration_since(self.started).as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_comes_from_the_variable_and_moves_one_step_per_flag() {
        assert_eq!(Level::resolve(None, 0, 0), Ok(Level::Info));
        assert_eq!(Level::resolve(Some(""), 0, 0), Ok(Level::Info));
        assert_eq!(Level::resolve(Some("DEBUG"), 0, 0), Ok(Level::Debug));
        assert_eq!(Level::resolve(Some(" warn "), 0, 0), Ok(Level::Warn));
        assert_eq!(Level::resolve(None, 1, 0), Ok(Level::Debug));
        assert_eq!(Level::resolve(None, 5, 0), Ok(Level::Debug));
        assert_eq!(Level::resolve(None, 0, 1), Ok(Level::Warn));
        assert_eq!(Level::resolve(None, 0, 2), Ok(Level::Error));
        assert_eq!(Level::resolve(None, 0, 9), Ok(Level::Error));
        assert_eq!(Level::resolve(Some("error"), 2, 0), Ok(Level::Info));
        assert_eq!(Level::resolve(Some("debug"), 1, 1), Ok(Level::Debug));
        let e = Level::resolve(Some("loud"), 0, 0).unwrap_err();
        assert!(
            e.contains("COCHLEA_LOG=loud") && e.contains("error, warn, info, debug"),
            "{e}"
        );
        for l in Level::ALL {
            assert_eq!(l.name().parse::<Level>(), Ok(l));
        }
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        let t = UNIX_EPOCH + Duration::from_secs(3 * 86_400 + 12 * 3600 + 3 * 60 + 4);
        assert_eq!(clock(t), "12:03:04");
    }

    /// Lines printed for `n` steps of one each, one step every `dt`.
    fn steps(len: u64, n: u64, dt: Duration) -> Vec<String> {
        let t0 = Instant::now();
        let mut log = Log::new("features", len, t0);
        let mut out = vec![log.started()];
        for i in 1..=n {
            out.extend(log.set_position(log.pos + 1, t0 + dt * i as u32));
        }
        out.push(log.finished(t0 + dt * (n + 1) as u32));
        out
    }

    #[test]
    fn fast_steps_give_a_line_per_tenth_never_per_step() {
        let lines = steps(1000, 1000, Duration::from_millis(1));
        // Start, 10 % .. 90 % (100 % is reported by the finish line), finish.
        assert_eq!(lines.len(), 11, "{lines:#?}");
        assert_eq!(lines[0], "features 0/1000 started");
        assert_eq!(lines[1], "features 100/1000 (10%)");
        assert_eq!(lines[9], "features 900/1000 (90%)");
        assert_eq!(lines[10], "features 1000/1000 finished in 1.0 s");
        // Fewer steps than tenths: at most one line per step.
        let few = steps(3, 3, Duration::from_millis(1));
        assert_eq!(
            few[1..],
            [
                "features 1/3 (33%)",
                "features 2/3 (66%)",
                "features 3/3 finished in 0.0 s"
            ]
        );
    }

    #[test]
    fn slow_steps_give_a_line_every_30_seconds() {
        // One step a second in a stage of 100 000: a tenth would take
        // hours, so the 30 s rule gives the lines, at 30, 60 and 90 s, each
        // with the position reached by then.
        let slow = steps(100_000, 100, Duration::from_secs(1));
        assert_eq!(slow.len(), 2 + 3, "{slow:#?}");
        assert_eq!(slow[1], "features 29/100000 (0%)");
        assert_eq!(slow[2], "features 59/100000 (0%)");
        assert_eq!(slow[3], "features 89/100000 (0%)");
    }

    #[test]
    fn each_message_is_one_line_and_a_move_before_it_adds_none() {
        let t0 = Instant::now();
        let mut log = Log::new("george train", 3, t0);
        let mut lines = vec![log.started()];
        for epoch in 1..=3u32 {
            let now = t0 + Duration::from_secs(40 * u64::from(epoch));
            lines.extend(log.set_position(u64::from(epoch), now));
            lines.push(log.message(&format!("loss 0.{epoch}"), now));
        }
        lines.push(log.finished(t0 + Duration::from_secs(125)));
        assert_eq!(
            lines,
            [
                "george train 0/3 started",
                "george train 1/3 loss 0.1",
                "george train 2/3 loss 0.2",
                "george train 3/3 loss 0.3",
                "george train 3/3 finished in 125.0 s",
            ]
        );
    }
}
