//! The report as data: sections of paragraphs, tables, charts and
//! findings. [`Report::build`] decides every figure and sentence once
//! (section by section, in `sections`); `markdown` and `html` only choose
//! the markup, so the two files cannot drift apart.

use std::path::Path;

use super::sections;
use crate::config::EventsConfig;
use crate::doctor::Finding;
use crate::results::{Prediction, RunResult};

/// A whole report: a title, lines under it, then the sections in order.
#[derive(Clone, Debug)]
pub struct Report {
    /// The run name.
    pub title: String,
    /// Under the title: where the run came from, whether it was interrupted.
    pub lead: Vec<Block>,
    /// The sections, in reading order.
    pub sections: Vec<Section>,
}

/// One titled section; `id` is the HTML anchor.
#[derive(Clone, Debug)]
pub struct Section {
    /// Anchor (`summary`, `findings`, ...), stable for links and tests.
    pub id: &'static str,
    /// Heading.
    pub title: String,
    /// Content, in order.
    pub blocks: Vec<Block>,
}

/// One piece of a section.
#[derive(Clone, Debug)]
pub enum Block {
    /// Running text.
    Paragraph(Text),
    /// Secondary text: how to read what is next to it.
    Note(Text),
    /// Something the reader must not miss (an interrupted run).
    Warning(Text),
    /// The headline figures, label and value.
    Cards(Vec<(String, String)>),
    /// Named values (timings).
    KeyValue(Vec<(String, String)>),
    /// A table.
    Table(Table),
    /// SVG charts side by side, with the numbers they draw.
    Chart(Chart),
    /// Diagnostics: problems in full, passed checks in short.
    Findings(Vec<Finding>),
    /// A titled list.
    List {
        /// Heading of the list.
        title: String,
        /// Items.
        items: Vec<Text>,
    },
}

/// A table with a header row.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// What the table holds, when the section does not say it.
    pub caption: Option<String>,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells, as many as the header.
    pub rows: Vec<Vec<Cell>>,
}

/// A table cell.
#[derive(Clone, Debug)]
pub enum Cell {
    /// Text.
    Text(Text),
    /// A bar of this fraction (0 to 1) of the column's width.
    Bar(f64),
}

/// Charts drawn in one row, and the numbers behind them.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Self-contained `<svg>` elements from `crate::svg`.
    pub svgs: Vec<String>,
    /// How to read the picture (colours, scales).
    pub note: Option<String>,
    /// The charted numbers as a table; `None` when a table next to the
    /// chart already shows them. Formats without pictures show this instead.
    pub data: Option<Table>,
}

/// Inline text: plain runs, code (paths, commands) and emphasis.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Text(pub Vec<Span>);

/// A run of inline text.
#[derive(Clone, Debug, PartialEq)]
pub enum Span {
    /// Plain text.
    Plain(String),
    /// Code: a path, a command, an identifier.
    Code(String),
    /// Emphasis.
    Strong(String),
}

impl Text {
    /// Plain text.
    pub fn plain(s: impl Into<String>) -> Text {
        Text(vec![Span::Plain(s.into())])
    }

    /// Code text.
    pub fn code(s: impl Into<String>) -> Text {
        Text(vec![Span::Code(s.into())])
    }

    /// Appends plain text.
    pub fn and(mut self, s: impl Into<String>) -> Text {
        self.0.push(Span::Plain(s.into()));
        self
    }

    /// Appends code.
    pub fn and_code(mut self, s: impl Into<String>) -> Text {
        self.0.push(Span::Code(s.into()));
        self
    }

    /// Appends emphasis.
    pub fn and_strong(mut self, s: impl Into<String>) -> Text {
        self.0.push(Span::Strong(s.into()));
        self
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(Text::plain(s))
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(Text::plain(s))
    }
}

impl From<Text> for Cell {
    fn from(t: Text) -> Cell {
        Cell::Text(t)
    }
}

impl Report {
    /// The report of a run: its result, its test predictions, at most
    /// `max_misclassified` mistakes listed, how events were scored, and the
    /// config file it ran.
    pub fn build(
        r: &RunResult,
        preds: &[Prediction],
        max_misclassified: usize,
        events: &EventsConfig,
        cfg_path: &Path,
    ) -> Report {
        let mut lead = vec![Block::Note(
            Text::plain("config ")
                .and_code(cfg_path.display().to_string())
                .and(" · split ")
                .and_strong(&r.strategy)
                .and(" · run directory ")
                .and_code(r.run_dir.display().to_string()),
        )];
        if r.interrupted {
            lead.push(Block::Warning(
                Text::default()
                    .and_strong("Interrupted")
                    .and(format!(
                        " {}: results cover the completed part only. Continue with ",
                        r.stopped_at.as_deref().unwrap_or("")
                    ))
                    .and_code(format!("pipeline run --resume {}", r.run_dir.display()))
                    .and("."),
            ));
        }
        let mut sections = vec![
            sections::summary(r),
            sections::findings(&r.findings),
            sections::confusion(r),
            sections::per_class(r),
        ];
        sections.extend(super::events::events(r, events, events.timelines));
        sections.extend([
            sections::curves(r),
            sections::misclassified(preds, max_misclassified),
            sections::data(&r.data),
            sections::model(r),
            sections::timings(r),
        ]);
        Report {
            title: r.name.clone(),
            lead,
            sections,
        }
    }
}
