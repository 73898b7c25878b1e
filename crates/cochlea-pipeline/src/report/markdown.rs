//! `report.md`: the report model as GitHub-flavoured Markdown. A chart
//! appears as the table of the numbers it draws.

use std::fmt::Write;

use super::model::{Block, Cell, Report, Section, Span, Table, Text};
use crate::doctor::{self, Finding, Verdict};

/// Width in characters of a full bar cell.
const BAR_CHARS: f64 = 12.0;

/// The whole report.
pub fn render(r: &Report) -> String {
    let mut out = format!("# Run report: {}\n\n", r.title);
    for b in &r.lead {
        block(&mut out, b);
    }
    for s in &r.sections {
        section(&mut out, s);
    }
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}

fn section(out: &mut String, s: &Section) {
    let _ = writeln!(out, "## {}\n", s.title);
    for b in &s.blocks {
        block(out, b);
    }
}

/// Appends one block followed by a blank line.
fn block(out: &mut String, b: &Block) {
    match b {
        Block::Paragraph(t) | Block::Note(t) | Block::Warning(t) => {
            let _ = writeln!(out, "{}\n", text(t));
        }
        Block::Cards(kv) | Block::KeyValue(kv) => {
            for (k, v) in kv {
                let _ = writeln!(out, "- {k}: {v}");
            }
            out.push('\n');
        }
        Block::Table(t) => table(out, t),
        Block::Chart(c) => {
            if let Some(t) = &c.data {
                table(out, t);
            }
        }
        Block::Findings(f) => findings(out, f),
        Block::List { title, items } => {
            let _ = writeln!(out, "### {title}\n");
            for i in items {
                let _ = writeln!(out, "- {}", text(i));
            }
            out.push('\n');
        }
    }
}

fn table(out: &mut String, t: &Table) {
    if let Some(c) = &t.caption {
        let _ = writeln!(out, "*{c}*\n");
    }
    let row = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    let _ = writeln!(
        out,
        "{}",
        row(t.header.iter().map(|h| cell_text(h)).collect())
    );
    let _ = writeln!(out, "|{}", "---|".repeat(t.header.len()));
    for r in &t.rows {
        let cells = r
            .iter()
            .map(|c| match c {
                Cell::Text(x) => cell_text(&text(x)),
                Cell::Bar(f) => "█".repeat((f.clamp(0.0, 1.0) * BAR_CHARS).round() as usize),
            })
            .collect();
        let _ = writeln!(out, "{}", row(cells));
    }
    out.push('\n');
}

/// Problems in full, as `pipeline doctor` prints them; passed checks by id.
fn findings(out: &mut String, f: &[Finding]) {
    let problems: Vec<Finding> = f
        .iter()
        .filter(|x| x.verdict != Verdict::Ok)
        .cloned()
        .collect();
    let passed: Vec<String> = f
        .iter()
        .filter(|x| x.verdict == Verdict::Ok)
        .map(|x| format!("`{}`", x.id))
        .collect();
    if problems.is_empty() {
        let _ = writeln!(out, "No problem found ({} checks passed).\n", f.len());
        return;
    }
    let _ = writeln!(out, "{}", doctor::markdown(&problems));
    if !passed.is_empty() {
        let _ = writeln!(
            out,
            "{} checks passed: {}.\n",
            passed.len(),
            passed.join(", ")
        );
    }
}

/// Inline Markdown of a text.
fn text(t: &Text) -> String {
    t.0.iter()
        .map(|s| match s {
            Span::Plain(x) => x.clone(),
            Span::Strong(x) => format!("**{x}**"),
            Span::Code(x) if x.contains('`') => format!("`` {x} ``"),
            Span::Code(x) => format!("`{x}`"),
        })
        .collect()
}

/// A table cell on one line, its pipes escaped (also inside code spans,
/// as GitHub-flavoured Markdown requires).
fn cell_text(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}
