use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cochlea_model::{EpochMetrics, LayerSummary, NetSummary};

use super::model::{Block, Report, Span};
use super::sections::pooled_per_class;
use super::{csv, html, markdown};
use crate::config::NormMethod;
use crate::doctor::{Finding, Verdict};
use crate::metrics::{self, Metrics};
use crate::normalize::Normalizer;
use crate::results::{DataSummary, FoldResult, Prediction, RunResult};

fn classes() -> Vec<String> {
    vec!["a".into(), "b".into()]
}

/// Test metrics whose confusion is `conf` (`conf[true][predicted]`).
fn metrics_of(conf: [[usize; 2]; 2]) -> Metrics {
    let (mut truth, mut proba) = (Vec::new(), Vec::new());
    for (t, row) in conf.iter().enumerate() {
        for (p, &n) in row.iter().enumerate() {
            for _ in 0..n {
                truth.push(t);
                proba.extend(if p == 0 { [0.9, 0.1] } else { [0.1, 0.9] });
            }
        }
    }
    metrics::evaluate(&classes(), &truth, &proba)
}

fn fold(name: &str, conf: [[usize; 2]; 2]) -> FoldResult {
    let test = metrics_of(conf);
    FoldResult {
        name: name.into(),
        sizes: [20, 4, test.n],
        groups: [vec![], vec![], vec![]],
        test,
        history: (1..=3)
            .map(|e| EpochMetrics {
                epoch: e,
                train_loss: 1.0 / e as f64,
                train_accuracy: 0.5 + 0.1 * e as f64,
                val_loss: Some(1.2 / e as f64),
                val_accuracy: Some(0.4 + 0.1 * e as f64),
                lr: 1e-3,
                seconds: 0.5,
            })
            .collect(),
        best_epoch: 3,
        stopped_early: false,
        net: NetSummary {
            layers: vec![LayerSummary {
                name: "output".into(),
                out_channels: 2,
                out_frames: 1,
                out_bands: 1,
                params: 10,
            }],
            params: 10,
            receptive_field_frames: 5,
            frames_before_head: 4,
            bands_before_head: 1,
        },
        bundle: PathBuf::from("model"),
        normalizer: Normalizer {
            method: NormMethod::Standard,
            offset: vec![0.0],
            scale: vec![1.0],
            fitted_clips: 20,
            fitted_frames: 200,
            fitted_on_hash: String::new(),
        },
        train_seconds: 1.5,
        member_accuracy: vec![],
        events: vec![],
        events_skipped: vec![],
    }
}

fn run(folds: Vec<FoldResult>) -> RunResult {
    let acc: Vec<f64> = folds.iter().map(|f| f.test.accuracy).collect();
    let bal: Vec<f64> = folds.iter().map(|f| f.test.balanced_accuracy).collect();
    RunResult {
        schema_version: crate::results::METRICS_SCHEMA_VERSION,
        name: "tiny <run>".into(),
        run_dir: PathBuf::from("/runs/tiny"),
        strategy: "kfold".into(),
        data: DataSummary {
            classes: classes(),
            counts: vec![5, 9],
            files_found: 15,
            files_used: 14,
            skipped: vec![(PathBuf::from("x|y.wav"), "not audio".into())],
            sample_rates: BTreeMap::from([(8000, 14)]),
            channels: BTreeMap::from([(1, 14)]),
            durations: vec![[0.5, 0.6, 0.7], [0.4, 0.5, 0.9]],
            n_groups: 0,
            cache_hits: 0,
            row_names: vec!["mfcc0".into()],
            clip_frames: 10,
            noise: None,
            hop_seconds: 0.01,
        },
        accuracy_mean_std: crate::results::mean_std(&acc),
        balanced_accuracy_mean_std: crate::results::mean_std(&bal),
        folds,
        timings: BTreeMap::from([("features".to_string(), 1.25)]),
        config_hash: "c".repeat(64),
        data_hash: "d".repeat(64),
        interrupted: false,
        stopped_at: None,
        findings: vec![
            Finding {
                id: "data.imbalance".into(),
                verdict: Verdict::Warn,
                title: "classes are imbalanced".into(),
                evidence: "5 vs 9".into(),
                fix: "weight the classes".into(),
                weight: 1.0,
            },
            Finding {
                id: "split.leakage".into(),
                verdict: Verdict::Ok,
                title: "no leakage".into(),
                evidence: "none".into(),
                fix: String::new(),
                weight: 0.0,
            },
        ],
        final_model: None,
        events: None,
    }
}

/// Two folds: `a` is over-predicted in the second, so pooled and
/// first-fold scores differ.
fn two_folds() -> RunResult {
    run(vec![
        fold("fold1", [[3, 1], [0, 2]]),
        fold("fold2", [[1, 0], [3, 4]]),
    ])
}

fn preds() -> Vec<Prediction> {
    vec![
        Prediction {
            path: PathBuf::from("dir/a,\"b\".wav"),
            fold: "fold1".into(),
            truth: "a".into(),
            predicted: "b".into(),
            confidence: 0.9,
            proba: vec![0.1, 0.9],
            span: None,
        },
        Prediction {
            path: PathBuf::from("dir/plain.wav"),
            fold: "fold2".into(),
            truth: "b".into(),
            predicted: "b".into(),
            confidence: 0.75,
            proba: vec![0.25, 0.75],
            span: None,
        },
    ]
}

fn build(r: &RunResult) -> Report {
    Report::build(
        r,
        &preds(),
        10,
        &crate::config::EventsConfig::default(),
        Path::new("/cfg/run.toml"),
    )
}

/// `(level, title)` of every `##`/`###` heading of a Markdown text.
fn md_headings(md: &str) -> Vec<(usize, String)> {
    md.lines()
        .filter_map(|l| {
            let level = l.chars().take_while(|&c| c == '#').count();
            ((2..=3).contains(&level) && l[level..].starts_with(' '))
                .then(|| (level, l[level + 1..].to_string()))
        })
        .collect()
}

/// `(level, title)` of every `<h2>`/`<h3>` of an HTML text.
fn html_headings(html: &str) -> Vec<(usize, String)> {
    let re = regex::Regex::new(r"<h([23])>(.*?)</h[23]>").unwrap();
    re.captures_iter(html)
        .map(|c| (c[1].parse().unwrap(), c[2].to_string()))
        .collect()
}

#[test]
fn both_renderers_write_the_same_sections_in_the_same_order() {
    for r in [run(vec![fold("main", [[3, 1], [0, 2]])]), two_folds()] {
        let report = build(&r);
        let (md, html) = (markdown::render(&report), html::render(&report));
        let from_md = md_headings(&md);
        assert_eq!(from_md, html_headings(&html), "{md}\n{html}");
        let sections: Vec<(usize, String)> = report
            .sections
            .iter()
            .map(|s| (2, s.title.clone()))
            .collect();
        let h2: Vec<(usize, String)> = from_md.into_iter().filter(|h| h.0 == 2).collect();
        assert_eq!(h2, sections);
        // The skipped-files list is a third-level heading in both.
        assert!(md.contains("### Skipped files") && html.contains("<h3>Skipped files</h3>"));
        // Every section has its anchor, in model order.
        let ids: Vec<usize> = report
            .sections
            .iter()
            .map(|s| html.find(&format!("<section id=\"{}\">", s.id)).unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        // Every plain paragraph and note is in both files.
        for b in report.sections.iter().flat_map(|s| &s.blocks) {
            if let Block::Paragraph(t) | Block::Note(t) = b
                && let [Span::Plain(p)] = t.0.as_slice()
            {
                assert!(md.contains(p.as_str()), "report.md lacks {p:?}");
                assert!(
                    html.contains(&crate::svg::esc(p)),
                    "report.html lacks {p:?}"
                );
            }
        }
    }
}

#[test]
fn per_class_scores_of_several_folds_come_from_the_pooled_confusion() {
    let r = two_folds();
    // Pooled confusion [[4, 1], [3, 6]]:
    // a: precision 4/7, recall 4/5, F1 2*4/(5+7); support 5.
    // b: precision 6/7, recall 6/9, F1 2*6/(9+7); support 9.
    let pc = pooled_per_class(&r);
    let want = [
        (4.0 / 7.0, 4.0 / 5.0, 8.0 / 12.0, 5),
        (6.0 / 7.0, 6.0 / 9.0, 12.0 / 16.0, 9),
    ];
    for (c, (p, rc, f1, n)) in pc.iter().zip(want) {
        assert!((c.precision - p).abs() < 1e-12, "{c:?}");
        assert!((c.recall - rc).abs() < 1e-12, "{c:?}");
        assert!((c.f1 - f1).abs() < 1e-12, "{c:?}");
        assert_eq!(c.support, n);
    }
    // Not the first fold's scores, nor their mean over folds.
    assert_ne!(pc, r.folds[0].test.per_class);
    let report = build(&r);
    let (md, html) = (markdown::render(&report), html::render(&report));
    assert!(md.contains("| a | 0.571 | 0.800 | 0.667 | 5 |"), "{md}");
    assert!(md.contains("| b | 0.857 | 0.667 | 0.750 | 9 |"), "{md}");
    assert!(html.contains("<td>a</td><td>0.571</td><td>0.800</td><td>0.667</td><td>5</td>"));
    for text in [&md, &html] {
        assert!(text.contains("Pooled over 2 folds"));
    }
}

#[test]
fn per_class_scores_of_one_fold_are_that_folds() {
    let r = run(vec![fold("main", [[3, 1], [0, 2]])]);
    assert_eq!(pooled_per_class(&r), r.folds[0].test.per_class);
    let md = markdown::render(&build(&r));
    assert!(!md.contains("ooled"), "{md}");
    assert!(md.contains("| a | 1.000 | 0.750 | 0.857 | 4 |"), "{md}");
}

#[test]
fn text_is_escaped_for_each_format() {
    let report = build(&two_folds());
    let (md, html) = (markdown::render(&report), html::render(&report));
    assert!(html.contains("<h1>tiny &lt;run&gt;</h1>") && !html.contains("tiny <run>"));
    assert!(md.starts_with("# Run report: tiny <run>\n"));
    // A pipe in a table cell would split the cell; a path is code.
    assert!(md.contains("| `dir/a,\"b\".wav` |"), "{md}");
    assert!(md.contains("- `x|y.wav`: not audio"), "{md}");
    assert!(html.contains("<li><code>x|y.wav</code>: not audio</li>"));
    // Problems in full, passed checks by id, in both.
    assert!(md.contains("`data.imbalance`") && md.contains("1 checks passed: `split.leakage`"));
    assert!(html.contains("<code>data.imbalance</code>") && html.contains("1 checks passed"));
}

#[test]
fn predictions_csv_quotes_a_path_with_a_comma_and_a_quote() {
    let r = two_folds();
    let bytes = csv::predictions(&r, &preds()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(
        text,
        "path,fold,true,predicted,confidence,correct,p_a,p_b\n\
         \"dir/a,\"\"b\"\".wav\",fold1,a,b,0.900000,false,0.100000,0.900000\n\
         dir/plain.wav,fold2,b,b,0.750000,true,0.250000,0.750000\n"
    );
    // And a CSV reader gets the path back.
    let mut rd = ::csv::Reader::from_reader(text.as_bytes());
    let first = rd.records().next().unwrap().unwrap();
    assert_eq!(&first[0], "dir/a,\"b\".wav");
}

#[test]
fn a_streamed_record_quotes_only_what_needs_it() {
    let mut out = Vec::new();
    let row = (
        "a \"q\", b",
        None::<usize>,
        "line\nbreak",
        csv::Fixed(0.5f32, 6),
        "",
    );
    csv::write_record(&mut out, &row).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\"a \"\"q\"\", b\",,\"line\nbreak\",0.500000,\n"
    );
}

#[test]
fn several_folds_show_the_fold_of_a_mistake_and_macro_f1_over_folds() {
    let md = markdown::render(&build(&two_folds()));
    assert!(
        md.contains("| file | fold | true | predicted | confidence |"),
        "{md}"
    );
    assert!(
        md.contains("| `dir/a,\"b\".wav` | fold1 | a | b | 0.900 |"),
        "{md}"
    );
    // One card for several folds: mean ± standard deviation, as accuracy.
    let card = md.lines().find(|l| l.starts_with("- macro F1: ")).unwrap();
    assert!(card.contains(" ± "), "{card}");
    let one = run(vec![fold("main", [[3, 1], [0, 2]])]);
    let md = markdown::render(&Report::build(
        &one,
        &preds()[..1],
        10,
        &crate::config::EventsConfig::default(),
        Path::new("/cfg/run.toml"),
    ));
    assert!(
        md.contains("| file | true | predicted | confidence |"),
        "{md}"
    );
}
