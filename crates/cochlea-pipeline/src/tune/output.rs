//! What a search writes: the leaderboard (one row per trial and rung, as
//! CSV and Markdown), `tune.json`, and `tuned.toml`, a normal config with a
//! comment on each changed key saying what it beat.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Value;

use super::journal::{Entry, UnitKey};
use super::work::fold_winner;
use super::{Plan, TuneConfig, TuneResult, halving, space};
use crate::atomic;
use crate::config::Config;
use crate::error::Error;

/// One row of the leaderboard: a trial at a rung of an outer fold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// Outer fold.
    pub outer: String,
    /// Trial number.
    pub trial: usize,
    /// Rung (1-based).
    pub rung: usize,
    /// Where the trial came from.
    pub origin: String,
    /// Its overrides, `key = value; ...`.
    pub overrides: String,
    /// Accuracy on each inner fold scored, space-separated.
    pub fold_scores: String,
    /// Mean inner accuracy (of the folds scored).
    pub mean: f64,
    /// Standard deviation over the inner folds.
    pub sd: f64,
    /// Epochs trained per fold.
    pub epochs: usize,
    /// Seconds over all its folds.
    pub seconds: f64,
    /// Every fold of the rung was scored.
    pub complete: bool,
}

/// An outer fold's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OuterResult {
    /// Outer fold name.
    pub name: String,
    /// Its winning trial.
    pub winner: Option<usize>,
    /// The winner's mean inner accuracy at its highest rung.
    pub inner_accuracy: Option<f64>,
    /// The winner's accuracy on the outer test part (nested only).
    pub test_accuracy: Option<f64>,
}

/// The journal arranged for reporting.
pub struct Board<'a> {
    plan: &'a Plan,
    done: &'a BTreeMap<UnitKey, Entry>,
}

/// `key = value; ...` in key order.
pub fn describe(ov: &space::Overrides) -> String {
    if ov.is_empty() {
        return "(the config as it is)".into();
    }
    ov.iter()
        .map(|(k, v)| format!("{k} = {}", inline(v)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A value as inline TOML on one line (tables as `{ k = v }`).
fn inline(v: &Value) -> String {
    match v {
        Value::Table(t) => {
            let kv: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{k} = {}", inline(v)))
                .collect();
            format!("{{ {} }}", kv.join(", "))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

impl<'a> Board<'a> {
    /// A board over `done`.
    pub fn new(plan: &'a Plan, done: &'a BTreeMap<UnitKey, Entry>) -> Self {
        Board { plan, done }
    }

    /// Every trial and rung with at least one fold scored.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for outer in &self.plan.outer {
            for (r, rung) in self.plan.rungs.iter().enumerate() {
                for t in &self.plan.trials {
                    let e: Vec<&Entry> = (0..rung.folds)
                        .filter_map(|f| {
                            self.done.get(&UnitKey {
                                outer: outer.clone(),
                                trial: t.id,
                                rung: Some(r),
                                fold: Some(f),
                            })
                        })
                        .collect();
                    if e.is_empty() {
                        continue;
                    }
                    let acc: Vec<f64> = e.iter().map(|x| x.accuracy).collect();
                    let (mean, sd) = halving::mean_sd(&acc);
                    rows.push(Row {
                        outer: outer.clone(),
                        trial: t.id,
                        rung: r + 1,
                        origin: t.origin.clone(),
                        overrides: describe(&t.overrides),
                        fold_scores: acc
                            .iter()
                            .map(|a| format!("{a:.4}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                        mean,
                        sd,
                        epochs: e[0].epochs,
                        seconds: e.iter().map(|x| x.seconds).sum(),
                        complete: e.len() == rung.folds,
                    });
                }
            }
        }
        rows
    }

    /// Each outer fold's winner and scores.
    pub fn outer_results(&self) -> Vec<OuterResult> {
        self.plan
            .outer
            .iter()
            .map(|o| {
                let w = fold_winner(self.plan, self.done, o);
                let test = w.and_then(|(t, ..)| {
                    self.done
                        .get(&UnitKey {
                            outer: o.clone(),
                            trial: t,
                            rung: None,
                            fold: None,
                        })
                        .map(|e| e.accuracy)
                });
                OuterResult {
                    name: o.clone(),
                    winner: w.map(|x| x.0),
                    inner_accuracy: w.map(|x| x.2),
                    test_accuracy: test,
                }
            })
            .collect()
    }

    /// The trial written to `tuned.toml`: the one that won most outer
    /// folds, ties going to the higher mean inner accuracy, then the earlier
    /// trial (with a single split, simply that split's winner).
    pub fn final_winner(&self) -> Option<usize> {
        let mut votes: BTreeMap<usize, (usize, f64)> = BTreeMap::new();
        for o in &self.plan.outer {
            if let Some((t, _, m, _)) = fold_winner(self.plan, self.done, o) {
                let v = votes.entry(t).or_insert((0, 0.0));
                v.0 += 1;
                v.1 += m;
            }
        }
        votes
            .into_iter()
            .max_by(|a, b| {
                (a.1.0)
                    .cmp(&b.1.0)
                    .then((a.1.1 / a.1.0 as f64).total_cmp(&(b.1.1 / b.1.0 as f64)))
                    .then(b.0.cmp(&a.0))
            })
            .map(|(t, _)| t)
    }

    /// Mean inner accuracy of `trial` at `rung` over the outer folds where
    /// every fold of that rung was scored.
    fn score(&self, trial: usize, rung: usize) -> Option<f64> {
        let v: Vec<f64> = self
            .plan
            .outer
            .iter()
            .filter_map(|o| {
                super::ranked(self.plan, self.done, o, rung)
                    .into_iter()
                    .find(|x| x.0 == trial)
                    .map(|x| x.1)
            })
            .collect();
        (!v.is_empty()).then(|| halving::mean_sd(&v).0)
    }

    /// The highest rung `trial` completed somewhere.
    fn top_rung(&self, trial: usize) -> Option<usize> {
        (0..self.plan.rungs.len())
            .rev()
            .find(|&r| self.score(trial, r).is_some())
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// `tuned.toml`: the base config with the winner's overrides, each changed
/// key preceded by a `# tuned:` comment saying what it beat.
pub fn tuned_toml(
    cfg: &Config,
    dir: &Path,
    plan: &Plan,
    board: &Board<'_>,
    winner: usize,
) -> Result<String, Error> {
    let mut plain = cfg.clone();
    plain.tune = TuneConfig::default();
    let trial = &plan.trials[winner];
    let tuned = super::final_config(cfg, trial)?;
    let mut changed = trial.overrides.clone();
    changed
        .entry("train.ensemble".into())
        .or_insert_with(|| Value::Integer(tuned.train.ensemble as i64));
    let base_t = Value::try_from(&plain).map_err(|e| Error::Data(e.to_string()))?;
    let mut text = toml::to_string_pretty(&tuned).map_err(|e| Error::Data(e.to_string()))?;
    let rung = board.top_rung(winner).unwrap_or(0);
    let mut beat = format!(
        "trial {winner} scored {} mean inner accuracy at rung {}",
        board
            .score(winner, rung)
            .map(pct)
            .unwrap_or_else(|| "?".into()),
        rung + 1
    );
    // The config's own values and the best other trial, each compared at
    // the highest rung it shares with the winner.
    let against = |t: usize| {
        (0..=rung)
            .rev()
            .find_map(|r| Some((r, board.score(winner, r)?, board.score(t, r)?)))
    };
    if winner != 0
        && let Some((r, w, b)) = against(0)
    {
        let _ = write!(
            beat,
            "; the config's own values (trial 0) {} against {} at rung {}",
            pct(b),
            pct(w),
            r + 1
        );
    }
    let runner_up = plan
        .trials
        .iter()
        .filter(|t| t.id != winner && t.id != 0)
        .filter_map(|t| against(t.id).map(|(r, w, s)| (t.id, r, w, s)))
        .max_by(|a, b| a.1.cmp(&b.1).then(a.3.total_cmp(&b.3)).then(b.0.cmp(&a.0)));
    if let Some((t, r, w, s)) = runner_up {
        let _ = write!(
            beat,
            "; the runner-up (trial {t}) {} against {} at rung {}",
            pct(s),
            pct(w),
            r + 1
        );
    }
    let mut header = format!(
        "# Tuned by `pipeline tune` (tune directory {}).\n# Winner: trial {winner} ({}): {}.\n",
        dir.display(),
        trial.origin,
        describe(&trial.overrides)
    );
    for (key, v) in &changed {
        let old = lookup(&base_t, key);
        let new = Value::try_from(&tuned).ok().and_then(|t| lookup(&t, key));
        if old == new && v.as_str() != Some("default") {
            continue;
        }
        let was = old.map(|o| inline(&o)).unwrap_or_else(|| "unset".into());
        let comment = if trial.overrides.contains_key(key) {
            format!("# tuned: {key} was {was}; {beat}")
        } else {
            format!(
                "# tuned: {key} was {was}; tune.ensemble: the search scored single networks, the model averages this many"
            )
        };
        if !insert_before_key(&mut text, key, &comment) {
            let _ = writeln!(header, "{comment}");
        }
    }
    Ok(format!("{header}\n{text}"))
}

fn lookup(root: &Value, key: &str) -> Option<Value> {
    let mut v = root;
    for p in key.split('.') {
        v = v.as_table()?.get(p)?;
    }
    Some(v.clone())
}

/// Puts `comment` on the line before `key` in its section; false when the
/// key has no line of its own (a group, an array of tables).
fn insert_before_key(text: &mut String, key: &str, comment: &str) -> bool {
    let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    let mut out = Vec::new();
    let mut placed = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && !t.starts_with("[[") {
            current = t.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if t.starts_with("[[") {
            current = String::from("\u{0}");
        }
        if !placed && current == section && t.starts_with(&format!("{name} =")) {
            out.push(comment.to_string());
            placed = true;
        }
        out.push(line.to_string());
    }
    if placed {
        *text = out.join("\n") + "\n";
    }
    placed
}

/// Writes `leaderboard.csv`, `leaderboard.md`, `leaderboard.html` and `tune.json`.
pub fn write_leaderboards(
    dir: &Path,
    plan: &Plan,
    board: &Board<'_>,
    result: &TuneResult,
) -> Result<(), Error> {
    let rows = board.rows();
    let csv_path = dir.join("leaderboard.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &rows {
        w.serialize(r)
            .map_err(|e| Error::io(&csv_path, std::io::Error::other(e)))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io(&csv_path, std::io::Error::other(e.to_string())))?;
    atomic::write(&csv_path, &bytes)?;
    let v = view(plan, &rows, result);
    atomic::write(&dir.join("leaderboard.md"), markdown(&v).as_bytes())?;
    atomic::write(&dir.join("leaderboard.html"), html(&v).as_bytes())?;
    atomic::write_json(
        &dir.join("tune.json"),
        &serde_json::json!({ "result": result, "plan": plan, "leaderboard": rows }),
    )
}

/// The leaderboard as data: paragraphs, then tables (title, header, rows),
/// rendered by [`markdown`] and [`html`].
pub struct View {
    /// Lines of prose.
    pub lines: Vec<String>,
    /// Tables: a title, the header cells, the rows.
    pub tables: Vec<(String, Vec<String>, Vec<Vec<String>>)>,
}

/// The outcome, the outer folds (nested), then every trial at each rung,
/// per outer fold, best first.
pub fn view(plan: &Plan, rows: &[Row], result: &TuneResult) -> View {
    let mut lines = Vec::new();
    match (result.winner, &result.tuned) {
        (Some(w), Some(_)) => lines.push(format!(
            "Winner: trial {w}: {}. Config: tuned.toml.",
            describe(&plan.trials[w].overrides)
        )),
        _ => lines
            .push("The search did not finish: no winner yet (pipeline tune --resume DIR).".into()),
    }
    let mut tables = Vec::new();
    if let Some((m, sd)) = result.nested_accuracy {
        lines.push(format!(
            "Nested cross-validation: each outer fold searched on its training part, its winner scored once on its test part: {} mean (sd {:.1} points).",
            pct(m),
            100.0 * sd
        ));
        let outer = result
            .outer
            .iter()
            .map(|o| {
                vec![
                    o.name.clone(),
                    o.winner.map(|w| w.to_string()).unwrap_or_default(),
                    o.inner_accuracy.map(pct).unwrap_or_default(),
                    o.test_accuracy.map(pct).unwrap_or_default(),
                ]
            })
            .collect();
        tables.push((
            "Outer folds".to_string(),
            [
                "outer fold",
                "winner",
                "inner accuracy",
                "outer test accuracy",
            ]
            .map(String::from)
            .to_vec(),
            outer,
        ));
    }
    for n in &plan.steering.notes {
        lines.push(format!("doctor: {n}"));
    }
    if result.budget_spent {
        lines.push("The budget ran out before the last rung finished.".into());
    }
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        a.outer
            .cmp(&b.outer)
            .then(b.rung.cmp(&a.rung))
            .then(b.mean.total_cmp(&a.mean))
            .then(a.trial.cmp(&b.trial))
    });
    let body = sorted
        .iter()
        .map(|r| {
            vec![
                r.outer.clone(),
                r.trial.to_string(),
                r.rung.to_string(),
                pct(r.mean),
                format!("{:.1}", 100.0 * r.sd),
                r.fold_scores.clone(),
                r.epochs.to_string(),
                format!("{:.1}", r.seconds),
                r.overrides.clone(),
            ]
        })
        .collect();
    tables.push((
        "Trials".to_string(),
        [
            "outer",
            "trial",
            "rung",
            "mean",
            "sd",
            "folds",
            "epochs",
            "seconds",
            "overrides",
        ]
        .map(String::from)
        .to_vec(),
        body,
    ));
    View { lines, tables }
}

/// The leaderboard as Markdown.
pub fn markdown(v: &View) -> String {
    let mut s = String::from("# Tuning leaderboard\n\n");
    for l in &v.lines {
        let _ = writeln!(s, "{l}\n");
    }
    let row = |cells: &[String]| {
        let c: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |", c.join(" | "))
    };
    for (title, head, rows) in &v.tables {
        let _ = writeln!(
            s,
            "## {title}\n\n{}\n|{}",
            row(head),
            "---|".repeat(head.len())
        );
        for r in rows {
            let _ = writeln!(s, "{}", row(r));
        }
        s.push('\n');
    }
    s
}

/// The leaderboard as a self-contained HTML page.
pub fn html(v: &View) -> String {
    use crate::svg::esc;
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tuning leaderboard</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#eee}</style></head><body>\n<h1>Tuning leaderboard</h1>\n",
    );
    for l in &v.lines {
        let _ = writeln!(s, "<p>{}</p>", esc(l));
    }
    for (title, head, rows) in &v.tables {
        let _ = writeln!(s, "<h2>{}</h2>\n<table>", esc(title));
        let th: String = head
            .iter()
            .map(|h| format!("<th>{}</th>", esc(h)))
            .collect();
        let _ = writeln!(s, "<tr>{th}</tr>");
        for r in rows {
            let td: String = r.iter().map(|c| format!("<td>{}</td>", esc(c))).collect();
            let _ = writeln!(s, "<tr>{td}</tr>");
        }
        s.push_str("</table>\n");
    }
    s.push_str("</body></html>\n");
    s
}
