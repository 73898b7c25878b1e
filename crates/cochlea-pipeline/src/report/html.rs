//! `report.html`: the report model as one self-contained page (inline CSS
//! and SVG, no script, nothing fetched).

use std::fmt::Write;

use super::model::{Block, Cell, Chart, Report, Section, Span, Table, Text};
use crate::doctor::{Finding, Verdict};
use crate::svg::esc;

/// Width in pixels of a full bar cell.
const BAR_PX: f64 = 120.0;

/// The whole page.
pub fn render(r: &Report) -> String {
    let title = esc(&r.title);
    let mut s = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cochlea report: {title}</title><style>{CSS}</style></head><body><header><h1>{title}</h1>"
    );
    for b in &r.lead {
        block(&mut s, b);
    }
    s.push_str("</header>");
    for sec in &r.sections {
        s.push_str(&section(sec));
    }
    s.push_str("</body></html>");
    s
}

/// One `<section>` with its anchor and heading.
pub fn section(sec: &Section) -> String {
    let mut s = format!(
        "<section id=\"{}\"><h2>{}</h2>",
        esc(sec.id),
        esc(&sec.title)
    );
    for b in &sec.blocks {
        block(&mut s, b);
    }
    s.push_str("</section>");
    s
}

fn block(s: &mut String, b: &Block) {
    match b {
        Block::Paragraph(t) => {
            let _ = write!(s, "<p>{}</p>", text(t));
        }
        Block::Note(t) => {
            let _ = write!(s, "<p class=\"note\">{}</p>", text(t));
        }
        Block::Warning(t) => {
            let _ = write!(s, "<p class=\"warn\">{}</p>", text(t));
        }
        Block::Cards(kv) => {
            s.push_str("<div class=\"cards\">");
            for (k, v) in kv {
                let _ = write!(
                    s,
                    "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
                    esc(v),
                    esc(k)
                );
            }
            s.push_str("</div>");
        }
        Block::KeyValue(kv) => {
            s.push_str("<table>");
            for (k, v) in kv {
                let _ = write!(s, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
            }
            s.push_str("</table>");
        }
        Block::Table(t) => table(s, t, true),
        Block::Chart(c) => chart(s, c),
        Block::Findings(f) => findings(s, f),
        Block::List { title, items } => {
            let _ = write!(s, "<h3>{}</h3><ul>", esc(title));
            for i in items {
                let _ = write!(s, "<li>{}</li>", text(i));
            }
            s.push_str("</ul>");
        }
    }
}

/// The charts in a row, how to read them, and their numbers folded away.
fn chart(s: &mut String, c: &Chart) {
    s.push_str("<div class=\"row\">");
    for svg in &c.svgs {
        s.push_str(svg);
    }
    s.push_str("</div>");
    if let Some(n) = &c.note {
        let _ = write!(s, "<p class=\"note\">{}</p>", esc(n));
    }
    if let Some(t) = &c.data {
        let _ = write!(
            s,
            "<details><summary>{}</summary>",
            esc(t.caption.as_deref().unwrap_or("Numbers"))
        );
        table(s, t, false);
        s.push_str("</details>");
    }
}

fn table(s: &mut String, t: &Table, with_caption: bool) {
    s.push_str("<table>");
    if let (true, Some(c)) = (with_caption, &t.caption) {
        let _ = write!(s, "<caption>{}</caption>", esc(c));
    }
    s.push_str("<tr>");
    for h in &t.header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>");
    for r in &t.rows {
        s.push_str("<tr>");
        for c in r {
            match c {
                Cell::Text(x) => {
                    let _ = write!(s, "<td>{}</td>", text(x));
                }
                Cell::Bar(f) => {
                    let _ = write!(
                        s,
                        "<td><div class=\"hbar\" style=\"width:{:.0}px\"></div></td>",
                        BAR_PX * f.clamp(0.0, 1.0)
                    );
                }
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
}

/// Problems as cards with evidence and fix; passed checks folded.
fn findings(s: &mut String, findings: &[Finding]) {
    let (passed, problems): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().partition(|f| f.verdict == Verdict::Ok);
    if problems.is_empty() {
        let _ = write!(
            s,
            "<p class=\"okline\">No problem found: {} checks passed.</p>",
            findings.len()
        );
    }
    for f in &problems {
        let cls = match f.verdict {
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconc",
            _ => "warnf",
        };
        let word = f.verdict.label();
        let _ = write!(
            s,
            "<div class=\"finding {cls}\"><div><span class=\"badge\">{word}</span> <b>{}</b> <code>{}</code></div><div class=\"ev\">{}</div><div class=\"fix\">Fix: {}</div></div>",
            esc(&f.title),
            esc(&f.id),
            esc(&f.evidence),
            esc(&f.fix)
        );
    }
    if !passed.is_empty() {
        let _ = write!(
            s,
            "<details><summary>{} checks passed</summary><ul>",
            passed.len()
        );
        for f in passed {
            let _ = write!(
                s,
                "<li><code>{}</code> {}: {}</li>",
                esc(&f.id),
                esc(&f.title),
                esc(&f.evidence)
            );
        }
        s.push_str("</ul></details>");
    }
}

/// Inline HTML of a text, escaped.
fn text(t: &Text) -> String {
    t.0.iter()
        .map(|s| match s {
            Span::Plain(x) => esc(x),
            Span::Code(x) => format!("<code>{}</code>", esc(x)),
            Span::Strong(x) => format!("<b>{}</b>", esc(x)),
        })
        .collect()
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:16px 24px;color:#222;background:#fff}\
h1{margin:0 0 4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}.note{color:#666;font-size:13px}\
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:8px;padding:10px 16px;min-width:120px}\
.card .v{font-size:22px;font-weight:600}.card .k{color:#666;font-size:12px}table{border-collapse:collapse;margin:8px 0;font-size:13px}\
td,th{border:1px solid #e3e3e3;padding:3px 8px;text-align:left}th{background:#f6f6f6}.row{display:flex;flex-wrap:wrap;gap:8px}\
caption{text-align:left;color:#666;padding:2px 0}details{margin:6px 0;font-size:13px}summary{cursor:pointer;color:#444}\
.hbar{height:10px;background:#1f77b4;border-radius:2px}.warn{background:#fff4e5;border:1px solid #f0b866;padding:8px;border-radius:6px}\
code{font-size:12px}.finding{border-left:5px solid #999;padding:6px 10px;margin:8px 0;background:#fafafa}\
.finding.fail{border-color:#d62728}.finding.warnf{border-color:#f0a030}.badge{font-size:11px;font-weight:700;padding:1px 6px;border-radius:4px;background:#eee}\
.fail .badge{background:#d62728;color:#fff}.warnf .badge{background:#f0a030;color:#fff}.finding.inconc{border-color:#7f7f7f}.inconc .badge{background:#7f7f7f;color:#fff}.ev{color:#444;font-size:13px;margin-top:2px}.fix{font-size:13px;margin-top:2px}\
.okline{color:#2a7a2a}";
