//! Run reports: `report.md`, a self-contained `report.html` (inline SVG, no
//! network), and `predictions.csv`. `metrics.json` is written by the run.

use std::fmt::Write;
use std::path::Path;

use crate::atomic;
use crate::config::Config;
use crate::doctor::{self, Verdict};
use crate::error::Error;
use crate::results::{Prediction, RunResult};
use crate::svg::{self, Series, esc};

/// Writes every report file of a run into its run directory.
pub fn write_all(
    r: &RunResult,
    preds: &[Prediction],
    cfg: &Config,
    cfg_path: &Path,
) -> Result<(), Error> {
    atomic::write(
        &r.run_dir.join("predictions.csv"),
        predictions_csv(r, preds).as_bytes(),
    )?;
    atomic::write(
        &r.run_dir.join("report.md"),
        markdown(r, preds, cfg, cfg_path).as_bytes(),
    )?;
    atomic::write(
        &r.run_dir.join("report.html"),
        html(r, preds, cfg, cfg_path).as_bytes(),
    )?;
    Ok(())
}

/// Quotes a CSV field when needed.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn predictions_csv(r: &RunResult, preds: &[Prediction]) -> String {
    let mut s = String::from("path,fold,true,predicted,confidence,correct");
    for c in &r.data.classes {
        let _ = write!(s, ",p_{}", csv_field(c));
    }
    s.push('\n');
    for p in preds {
        let _ = write!(
            s,
            "{},{},{},{},{:.6},{}",
            csv_field(&p.path.to_string_lossy()),
            csv_field(&p.fold),
            csv_field(&p.truth),
            csv_field(&p.predicted),
            p.confidence,
            p.truth == p.predicted
        );
        for v in &p.proba {
            let _ = write!(s, ",{v:.6}");
        }
        s.push('\n');
    }
    s
}

/// Confusion summed over folds.
fn total_confusion(r: &RunResult) -> Vec<Vec<usize>> {
    let k = r.data.classes.len();
    let mut m = vec![vec![0usize; k]; k];
    for f in &r.folds {
        for (i, row) in f.test.confusion.iter().enumerate() {
            for (j, c) in row.iter().enumerate() {
                m[i][j] += c;
            }
        }
    }
    m
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// For an ensemble: each member's test accuracy beside the ensemble's.
fn members_note(r: &RunResult) -> Option<String> {
    let with: Vec<_> = r
        .folds
        .iter()
        .filter(|f| !f.member_accuracy.is_empty())
        .collect();
    let n = with.first()?.member_accuracy.len();
    let parts: Vec<String> = with
        .iter()
        .map(|f| {
            let alone: Vec<String> = f.member_accuracy.iter().map(|&a| pct(a)).collect();
            let name = if r.folds.len() > 1 {
                format!("{}: ", f.name)
            } else {
                String::new()
            };
            format!(
                "{name}{} alone, {} together",
                alone.join(", "),
                pct(f.test.accuracy)
            )
        })
        .collect();
    Some(format!(
        "Ensemble of {n} networks (train.ensemble); test accuracy of each member {}.",
        parts.join("; ")
    ))
}

/// The one-line result: accuracy with its interval and the baselines.
pub fn headline(r: &RunResult) -> String {
    let [m, sd] = r.accuracy_mean_std;
    if r.folds.len() == 1 {
        let t = &r.folds[0].test;
        format!(
            "test accuracy {} (95% CI {} to {}) on {} files; balanced accuracy {}; macro F1 {:.3}; chance {}, majority class {}",
            pct(t.accuracy),
            pct(t.accuracy_ci95[0]),
            pct(t.accuracy_ci95[1]),
            t.n,
            pct(t.balanced_accuracy),
            t.macro_f1,
            pct(t.chance),
            pct(t.majority_baseline)
        )
    } else {
        format!(
            "mean test accuracy over {} folds {} ± {}; balanced accuracy {} ± {}; chance {}",
            r.folds.len(),
            pct(m),
            pct(sd),
            pct(r.balanced_accuracy_mean_std[0]),
            pct(r.balanced_accuracy_mean_std[1]),
            pct(r.folds[0].test.chance)
        )
    }
}

fn misclassified(preds: &[Prediction], limit: usize) -> Vec<&Prediction> {
    let mut v: Vec<&Prediction> = preds.iter().filter(|p| p.truth != p.predicted).collect();
    v.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    v.truncate(limit);
    v
}

fn markdown(r: &RunResult, preds: &[Prediction], cfg: &Config, cfg_path: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Run report: {}\n", r.name);
    let _ = writeln!(
        s,
        "Config: `{}` · split: {} · run directory: `{}`",
        cfg_path.display(),
        r.strategy,
        r.run_dir.display()
    );
    if r.interrupted {
        let _ = writeln!(
            s,
            "\n**Interrupted** {}: results cover the completed part only. Continue with `pipeline run --resume {}`.",
            r.stopped_at.as_deref().unwrap_or(""),
            r.run_dir.display()
        );
    }
    let _ = writeln!(s, "\n## Summary\n\n{}\n", headline(r));
    if r.folds.len() > 1 {
        let _ = writeln!(
            s,
            "| fold | train | val | test | test groups | accuracy | balanced | best epoch |\n|---|---|---|---|---|---|---|---|"
        );
        for f in &r.folds {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                f.name,
                f.sizes[0],
                f.sizes[1],
                f.sizes[2],
                f.groups[2].join(" "),
                pct(f.test.accuracy),
                pct(f.test.balanced_accuracy),
                f.best_epoch
            );
        }
        s.push('\n');
    }
    if let Some(note) = members_note(r) {
        let _ = writeln!(s, "{note}\n");
    }
    let _ = writeln!(s, "## Findings\n");
    let problems: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.verdict != Verdict::Ok)
        .cloned()
        .collect();
    if problems.is_empty() {
        let _ = writeln!(
            s,
            "No problem found ({} checks passed).\n",
            r.findings.len()
        );
    } else {
        let _ = writeln!(s, "{}", doctor::markdown(&problems));
    }
    let classes = &r.data.classes;
    let conf = total_confusion(r);
    let _ = writeln!(s, "## Confusion matrix (rows: true, columns: predicted)\n");
    let _ = writeln!(s, "| | {} |", classes.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(classes.len()));
    for (i, row) in conf.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
        let _ = writeln!(s, "| **{}** | {} |", classes[i], cells.join(" | "));
    }
    let _ = writeln!(
        s,
        "\n## Per class (first fold)\n\n| class | precision | recall | F1 | support |\n|---|---|---|---|---|"
    );
    for c in &r.folds[0].test.per_class {
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.3} | {:.3} | {} |",
            c.class, c.precision, c.recall, c.f1, c.support
        );
    }
    let _ = writeln!(
        s,
        "\n## Learning curve ({} fold)\n\n| epoch | train loss | train acc | val loss | val acc | lr | s |\n|---|---|---|---|---|---|---|",
        r.folds[0].name
    );
    for e in &r.folds[0].history {
        let o = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {} | {} | {:.2e} | {:.2} |",
            e.epoch,
            e.train_loss,
            e.train_accuracy,
            o(e.val_loss),
            o(e.val_accuracy),
            e.lr,
            e.seconds
        );
    }
    let mis = misclassified(preds, cfg.report.max_misclassified);
    let _ = writeln!(
        s,
        "\n## Misclassified files ({} of {} shown, most confident first)\n",
        mis.len(),
        preds.iter().filter(|p| p.truth != p.predicted).count()
    );
    if !mis.is_empty() {
        let _ = writeln!(
            s,
            "| file | true | predicted | confidence |\n|---|---|---|---|"
        );
        for p in mis {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {:.3} |",
                p.path.display(),
                p.truth,
                p.predicted,
                p.confidence
            );
        }
    }
    let d = &r.data;
    let _ = writeln!(
        s,
        "\n## Data\n\n{} files found, {} used, {} skipped; {} groups; sample rates {:?}; channels {:?}; {} features x {} frames per clip ({:.2} s); {} of {} feature sets from the cache.\n",
        d.files_found,
        d.files_used,
        d.skipped.len(),
        d.n_groups,
        d.sample_rates,
        d.channels,
        d.row_names.len(),
        d.clip_frames,
        d.clip_frames as f64 * d.hop_seconds,
        d.cache_hits,
        d.files_used
    );
    let _ = writeln!(
        s,
        "| class | files | min s | mean s | max s |\n|---|---|---|---|---|"
    );
    for (i, c) in d.classes.iter().enumerate() {
        let [a, b, cc] = d.durations[i];
        let _ = writeln!(s, "| {c} | {} | {a:.2} | {b:.2} | {cc:.2} |", d.counts[i]);
    }
    for (p, why) in &d.skipped {
        let _ = writeln!(s, "- skipped `{}`: {why}", p.display());
    }
    let net = &r.folds[0].net;
    let _ = writeln!(
        s,
        "\n## Model\n\n{} parameters; receptive field {} frames ({:.3} s); {} frames reach the head.\n",
        net.params,
        net.receptive_field_frames,
        net.receptive_field_seconds(d.hop_seconds),
        net.frames_before_head
    );
    let _ = writeln!(
        s,
        "| layer | channels | frames | params |\n|---|---|---|---|"
    );
    for l in &net.layers {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            l.name, l.out_channels, l.out_frames, l.params
        );
    }
    let _ = writeln!(s, "\n## Timings\n");
    for (k, v) in &r.timings {
        let _ = writeln!(s, "- {k}: {v:.2} s");
    }
    let _ = writeln!(
        s,
        "\nConfig hash `{}`, data hash `{}`.",
        &r.config_hash[..16],
        &r.data_hash[..16]
    );
    s
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

fn curves(r: &RunResult) -> String {
    let mut out = String::new();
    for (fi, f) in r.folds.iter().enumerate() {
        let pts = |g: &dyn Fn(&cochlea_model::EpochMetrics) -> Option<f64>| -> Vec<(f64, f64)> {
            f.history
                .iter()
                .filter_map(|e| g(e).map(|v| (e.epoch as f64, v)))
                .collect()
        };
        let title = if r.folds.len() > 1 {
            format!(" — {}", f.name)
        } else {
            String::new()
        };
        let loss = [
            Series {
                name: "train",
                points: pts(&|e| Some(e.train_loss)),
                color: PALETTE[0],
                dashed: false,
            },
            Series {
                name: "validation",
                points: pts(&|e| e.val_loss),
                color: PALETTE[1],
                dashed: true,
            },
        ];
        let acc = [
            Series {
                name: "train",
                points: pts(&|e| Some(e.train_accuracy)),
                color: PALETTE[0],
                dashed: false,
            },
            Series {
                name: "validation",
                points: pts(&|e| e.val_accuracy),
                color: PALETTE[1],
                dashed: true,
            },
        ];
        let _ = write!(
            out,
            "<div class=\"row\">{}{}</div>",
            svg::lines(
                &format!("Loss{title}"),
                "epoch",
                "cross-entropy",
                &loss,
                None
            ),
            svg::lines(
                &format!("Accuracy{title}"),
                "epoch",
                "accuracy",
                &acc,
                Some((0.0, 1.0))
            )
        );
        if fi >= 9 {
            break;
        }
    }
    out
}

fn html(r: &RunResult, preds: &[Prediction], cfg: &Config, cfg_path: &Path) -> String {
    let d = &r.data;
    let classes = &d.classes;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cochlea report: {}</title><style>{}</style></head><body>",
        esc(&r.name),
        CSS
    );
    let _ = write!(
        s,
        "<header><h1>{}</h1><p class=\"sub\">config <code>{}</code> · split <b>{}</b> · <code>{}</code></p></header>",
        esc(&r.name),
        esc(&cfg_path.display().to_string()),
        esc(&r.strategy),
        esc(&r.run_dir.display().to_string())
    );
    if r.interrupted {
        let _ = write!(
            s,
            "<p class=\"warn\"><b>Interrupted</b> {}: results cover the completed part only. Continue with <code>pipeline run --resume {}</code>.</p>",
            esc(r.stopped_at.as_deref().unwrap_or("")),
            esc(&r.run_dir.display().to_string())
        );
    }
    // Summary cards.
    let _ = write!(
        s,
        "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">"
    );
    let [m, sd] = r.accuracy_mean_std;
    let t0 = &r.folds[0].test;
    let acc_card = if r.folds.len() > 1 {
        format!("{} ± {}", pct(m), pct(sd))
    } else {
        pct(t0.accuracy)
    };
    for (label, value) in [
        ("test accuracy", acc_card),
        ("balanced accuracy", pct(r.balanced_accuracy_mean_std[0])),
        (
            "macro F1",
            format!(
                "{:.3}",
                r.folds.iter().map(|f| f.test.macro_f1).sum::<f64>() / r.folds.len() as f64
            ),
        ),
        ("chance", pct(t0.chance)),
        ("majority class", pct(t0.majority_baseline)),
        (
            "test files",
            r.folds.iter().map(|f| f.test.n).sum::<usize>().to_string(),
        ),
    ] {
        let _ = write!(
            s,
            "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{label}</div></div>",
            esc(&value)
        );
    }
    let _ = write!(s, "</div><p>{}</p>", esc(&headline(r)));
    if r.folds.len() > 1 {
        s.push_str("<table><tr><th>fold</th><th>train</th><th>val</th><th>test</th><th>test groups</th><th>accuracy</th><th>balanced</th><th>best epoch</th></tr>");
        for f in &r.folds {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&f.name),
                f.sizes[0],
                f.sizes[1],
                f.sizes[2],
                esc(&f.groups[2].join(" ")),
                pct(f.test.accuracy),
                pct(f.test.balanced_accuracy),
                f.best_epoch
            );
        }
        s.push_str("</table>");
    }
    if let Some(note) = members_note(r) {
        let _ = write!(s, "<p class=\"note\">{}</p>", esc(&note));
    }
    s.push_str("</section>");
    s.push_str(&findings_html(&r.findings));
    let _ = write!(
        s,
        "<section id=\"confusion\"><h2>Confusion matrix</h2><p class=\"note\">Rows are true classes, columns predicted; colour is the share of the row{}.</p>{}</section>",
        if r.folds.len() > 1 {
            ", summed over folds"
        } else {
            ""
        },
        svg::confusion(classes, &total_confusion(r))
    );
    let _ = write!(
        s,
        "<section id=\"curves\"><h2>Learning curves</h2>{}</section>",
        curves(r)
    );
    let pc = &r.folds[0].test.per_class;
    let _ = write!(
        s,
        "<section id=\"per-class\"><h2>Per class</h2>{}",
        svg::bars(
            "Precision, recall and F1 per class",
            classes,
            &[
                (
                    "precision",
                    PALETTE[0],
                    pc.iter().map(|c| c.precision).collect()
                ),
                ("recall", PALETTE[1], pc.iter().map(|c| c.recall).collect()),
                ("F1", PALETTE[2], pc.iter().map(|c| c.f1).collect()),
            ]
        )
    );
    s.push_str("<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>");
    for c in pc {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
            esc(&c.class),
            c.precision,
            c.recall,
            c.f1,
            c.support
        );
    }
    s.push_str("</table></section>");
    let mis = misclassified(preds, cfg.report.max_misclassified);
    let n_wrong = preds.iter().filter(|p| p.truth != p.predicted).count();
    let _ = write!(
        s,
        "<section id=\"misclassified\"><h2>Misclassified files</h2><p class=\"note\">{} of {} shown, most confident mistakes first.</p>",
        mis.len(),
        n_wrong
    );
    if !mis.is_empty() {
        s.push_str(
            "<table><tr><th>file</th><th>true</th><th>predicted</th><th>confidence</th></tr>",
        );
        for p in mis {
            let _ = write!(
                s,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{:.3}</td></tr>",
                esc(&p.path.display().to_string()),
                esc(&p.truth),
                esc(&p.predicted),
                p.confidence
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");
    let _ = write!(
        s,
        "<section id=\"data\"><h2>Data</h2><p>{} files found, {} used, {} skipped · {} groups · source sample rates {} · channels {} · {} features × {} frames per clip ({:.2} s) · {} of {} feature sets from the cache.</p>",
        d.files_found,
        d.files_used,
        d.skipped.len(),
        d.n_groups,
        esc(&d
            .sample_rates
            .iter()
            .map(|(k, v)| format!("{k} Hz: {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
        esc(&d
            .channels
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
        d.row_names.len(),
        d.clip_frames,
        d.clip_frames as f64 * d.hop_seconds,
        d.cache_hits,
        d.files_used
    );
    let max_count = d.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    s.push_str("<table><tr><th>class</th><th>files</th><th></th><th>min s</th><th>mean s</th><th>max s</th></tr>");
    for (i, c) in classes.iter().enumerate() {
        let [a, b, cc] = d.durations[i];
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td><div class=\"hbar\" style=\"width:{:.0}px\"></div></td><td>{a:.2}</td><td>{b:.2}</td><td>{cc:.2}</td></tr>",
            esc(c),
            d.counts[i],
            120.0 * d.counts[i] as f64 / max_count
        );
    }
    s.push_str("</table>");
    if !d.skipped.is_empty() {
        s.push_str("<h3>Skipped files</h3><ul>");
        for (p, why) in &d.skipped {
            let _ = write!(
                s,
                "<li><code>{}</code>: {}</li>",
                esc(&p.display().to_string()),
                esc(why)
            );
        }
        s.push_str("</ul>");
    }
    let _ = write!(
        s,
        "<p class=\"note\">Feature rows: {}</p></section>",
        esc(&d.row_names.join(", "))
    );
    let net = &r.folds[0].net;
    let _ = write!(
        s,
        "<section id=\"model\"><h2>Model</h2><p>{} parameters · receptive field {} frames ({:.3} s) · {} frames reach the head · best epoch {} · trained {:.1} s</p><table><tr><th>layer</th><th>channels</th><th>frames</th><th>params</th></tr>",
        net.params,
        net.receptive_field_frames,
        net.receptive_field_seconds(d.hop_seconds),
        net.frames_before_head,
        r.folds[0].best_epoch,
        r.folds[0].train_seconds
    );
    for l in &net.layers {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.name),
            l.out_channels,
            l.out_frames,
            l.params
        );
    }
    s.push_str("</table></section>");
    s.push_str("<section id=\"timings\"><h2>Timings</h2><table>");
    for (k, v) in &r.timings {
        let _ = write!(s, "<tr><td>{}</td><td>{v:.2} s</td></tr>", esc(k));
    }
    let _ = write!(
        s,
        "</table><p class=\"note\">config hash <code>{}</code> · data hash <code>{}</code></p></section></body></html>",
        &r.config_hash[..16],
        &r.data_hash[..16]
    );
    s
}

/// The findings section: problems first with evidence and fix, passed checks folded.
pub fn findings_html(findings: &[doctor::Finding]) -> String {
    let mut s = String::from("<section id=\"findings\"><h2>Findings</h2>");
    let problems: Vec<&doctor::Finding> = findings
        .iter()
        .filter(|f| f.verdict != Verdict::Ok)
        .collect();
    if problems.is_empty() {
        let _ = write!(
            s,
            "<p class=\"okline\">No problem found: {} checks passed.</p>",
            findings.len()
        );
    }
    for f in &problems {
        let (cls, word) = if f.verdict == Verdict::Fail {
            ("fail", "FAIL")
        } else {
            ("warnf", f.verdict.label())
        };
        let _ = write!(
            s,
            "<div class=\"finding {cls}\"><div><span class=\"badge\">{word}</span> <b>{}</b> <code>{}</code></div><div class=\"ev\">{}</div><div class=\"fix\">Fix: {}</div></div>",
            esc(&f.title),
            esc(&f.id),
            esc(&f.evidence),
            esc(&f.fix)
        );
    }
    let passed: Vec<&doctor::Finding> = findings
        .iter()
        .filter(|f| f.verdict == Verdict::Ok)
        .collect();
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
    s.push_str("</section>");
    s
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:16px 24px;color:#222;background:#fff}\
h1{margin:0 0 4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}.sub,.note{color:#666;font-size:13px}\
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:8px;padding:10px 16px;min-width:120px}\
.card .v{font-size:22px;font-weight:600}.card .k{color:#666;font-size:12px}table{border-collapse:collapse;margin:8px 0;font-size:13px}\
td,th{border:1px solid #e3e3e3;padding:3px 8px;text-align:left}th{background:#f6f6f6}.row{display:flex;flex-wrap:wrap;gap:8px}\
.hbar{height:10px;background:#1f77b4;border-radius:2px}.warn{background:#fff4e5;border:1px solid #f0b866;padding:8px;border-radius:6px}\
code{font-size:12px}.finding{border-left:5px solid #999;padding:6px 10px;margin:8px 0;background:#fafafa}\
.finding.fail{border-color:#d62728}.finding.warnf{border-color:#f0a030}.badge{font-size:11px;font-weight:700;padding:1px 6px;border-radius:4px;background:#eee}\
.fail .badge{background:#d62728;color:#fff}.warnf .badge{background:#f0a030;color:#fff}.ev{color:#444;font-size:13px;margin-top:2px}.fix{font-size:13px;margin-top:2px}\
.okline{color:#2a7a2a}";
