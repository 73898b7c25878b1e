//! `[data]`: where the audio files are and how their labels, groups and
//! lengths are read.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::source::Layout;

/// Where labels (or groups) come from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldSource {
    /// Not used (only meaningful for groups).
    #[default]
    None,
    /// The name of the file's parent folder.
    Folder,
    /// The first capture group of a regex matched against the file name,
    /// or, when it does not match there, against the path relative to
    /// `data.root` (`/`-separated), e.g. `{ regex = '^(\d)_' }` or
    /// `{ regex = '^([^/]+)/' }` (the top folder).
    Regex(String),
    /// The `label` (or `group`) column of the manifest CSV (`data.manifest`).
    Manifest,
}

/// How short clips are filled up to the fixed number of frames.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Zeros after the clip (after normalization, i.e. the training mean).
    #[default]
    Zero,
    /// The clip repeated until it fills the length.
    Repeat,
}

/// Which part of a long clip is kept.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum CropMode {
    /// The centre of the clip.
    #[default]
    Center,
    /// The start of the clip.
    Start,
}

/// What training and evaluation make of clips longer than the model input
/// (`data.clip_frames`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LongClips {
    /// One crop per clip, where `data.crop` says (centre or start), for
    /// training, evaluation and inference alike.
    #[default]
    Crop,
    /// Training: a fresh random crop of every clip each epoch (seeded by
    /// `train.seed` and the epoch, so runs repeat and resume). Validation and
    /// test: a clip's prediction is the mean of the class probabilities of
    /// all its windows (hop = half the input length, the last window ending
    /// at the clip's end).
    RandomCrop,
    /// Every window of a clip (hop = half the input length, the last window
    /// ending at the clip's end) is a training example of the clip's label;
    /// validation and test as for `random_crop`.
    Windows,
}

impl LongClips {
    /// The TOML spelling.
    pub fn name(self) -> &'static str {
        match self {
            LongClips::Crop => "crop",
            LongClips::RandomCrop => "random_crop",
            LongClips::Windows => "windows",
        }
    }
}

/// Annotation files read beside the audio (`data.annotations`): each
/// annotated segment is an example.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationFormat {
    /// No annotation files: whole files (or the manifest's `start`/`end`).
    #[default]
    None,
    /// Raven selection tables: for `x.wav`, every `x*.selections.txt` in
    /// its folder (Raven names them `x.Table.1.selections.txt`);
    /// tab-separated, `Begin Time (s)`, `End Time (s)` and the label column
    /// `data.annotation_column`.
    Raven,
    /// Audacity label tracks: `x.txt` beside `x.wav`, lines
    /// `start<TAB>end<TAB>label` in seconds (frequency lines starting with
    /// `\` are skipped).
    Audacity,
}

impl AnnotationFormat {
    /// The TOML spelling.
    pub fn name(self) -> &'static str {
        match self {
            AnnotationFormat::None => "none",
            AnnotationFormat::Raven => "raven",
            AnnotationFormat::Audacity => "audacity",
        }
    }
}

/// `[data]`: the audio files and their labels.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Folder searched recursively for audio (relative to the config file).
    pub root: PathBuf,
    /// File extensions taken as audio (case-insensitive).
    pub extensions: Vec<String>,
    /// Where the class label comes from: "folder", `{ regex = '...' }` or "manifest".
    pub label: FieldSource,
    /// Where the group (speaker, source recording) comes from; groups never
    /// straddle a split when the split strategy is group-aware.
    pub group: FieldSource,
    /// How the data set is laid out: "files" (scan or manifest), or a
    /// known layout that states labels, groups and split by itself.
    pub layout: Layout,
    /// CSV listing the files (columns named by the `*_column` keys); paths
    /// relative to the CSV or absolute. When set, it lists the files
    /// instead of a folder scan.
    pub manifest: Option<PathBuf>,
    /// Manifest column holding the file path.
    pub path_column: String,
    /// Manifest column holding the label (`label = "manifest"`).
    pub label_column: String,
    /// Manifest column holding the group (`group = "manifest"`), optional.
    pub group_column: String,
    /// Manifest column holding the split (`train`, `validation`/`val`/`dev`,
    /// `test`), optional.
    pub split_column: String,
    /// Globs (`*`, `**`, `?`) on the path relative to `root`; matching files
    /// (or files under matching folders) are left out.
    pub exclude: Vec<String>,
    /// Only these classes are kept; empty = every class.
    pub include_classes: Vec<String>,
    /// Every clip is resampled to this rate (Hz).
    pub sample_rate: u32,
    /// Frames fed to the model per clip; `0` picks the 95th percentile of the
    /// training clips' frame counts.
    pub clip_frames: usize,
    /// How shorter clips are padded: "zero" or "repeat".
    pub pad: PadMode,
    /// Which part of longer clips is kept: "center" or "start".
    pub crop: CropMode,
    /// What training and evaluation make of clips longer than the input:
    /// "crop", "random_crop" or "windows".
    pub long_clips: LongClips,
    /// Manifest column holding the start (seconds) of an annotated segment;
    /// a row with `start` and `end` cells is that segment of its file.
    pub start_column: String,
    /// Manifest column holding the end (seconds) of an annotated segment.
    pub end_column: String,
    /// Annotation files beside the audio: "none", "raven" or "audacity".
    pub annotations: AnnotationFormat,
    /// Raven table column holding the label; empty = the first of
    /// `Annotation`, `Species`, `Label`, `Class`, `Sound Type`.
    pub annotation_column: String,
    /// Unannotated parts of annotated files become examples of a
    /// `background` class.
    pub background: bool,
    /// A folder of negative recordings, every file an example of the
    /// `background` class.
    pub background_dir: Option<PathBuf>,
}

impl DataConfig {
    /// The checks of the keys on long clips and strong labels; each message
    /// names the key.
    pub fn validate_segments(&self) -> Result<(), String> {
        for (key, col) in [
            ("data.start_column", &self.start_column),
            ("data.end_column", &self.end_column),
        ] {
            if col.trim().is_empty() {
                return Err(format!("{key}: the column name is empty"));
            }
        }
        if self.annotations != AnnotationFormat::None {
            if self.manifest.is_some() {
                return Err(format!(
                    "data.annotations: \"{}\" reads the annotation files beside the audio of \
                     data.root; a manifest states its segments in its start and end columns \
                     instead: remove one of the two",
                    self.annotations.name()
                ));
            }
            if self.layout != Layout::Files {
                return Err(format!(
                    "data.annotations: the \"{}\" layout states one label per file; set \
                     data.layout = \"files\"",
                    self.layout.name()
                ));
            }
        }
        if self.background && self.annotations == AnnotationFormat::None && self.manifest.is_none()
        {
            return Err(
                "data.background: the unannotated parts of files need annotations \
                 (data.annotations = \"raven\" or \"audacity\", or a manifest with start and \
                 end columns); for a folder of negatives use data.background_dir"
                    .into(),
            );
        }
        if let Some(d) = &self.background_dir
            && !d.is_dir()
        {
            return Err(format!(
                "data.background_dir: {} is not a folder",
                d.display()
            ));
        }
        Ok(())
    }

    /// Whether files get a group: from `group`, from the layout, or (for
    /// annotated segments) their file.
    pub fn has_groups(&self) -> bool {
        self.group != FieldSource::None
            || self.layout.has_groups()
            || self.annotations != AnnotationFormat::None
    }
}

/// The file extensions read when a config does not say (`data.extensions`),
/// and by `classify`, `features --model` and `init`: every container the
/// decoder opens.
pub const AUDIO_EXTENSIONS: [&str; 9] = [
    "wav", "flac", "mp3", "ogg", "oga", "aiff", "aif", "m4a", "mp4",
];

/// [`AUDIO_EXTENSIONS`] as owned strings.
pub fn default_extensions() -> Vec<String> {
    AUDIO_EXTENSIONS.map(String::from).to_vec()
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            root: PathBuf::from("."),
            extensions: default_extensions(),
            label: FieldSource::Folder,
            group: FieldSource::None,
            layout: Layout::Files,
            manifest: None,
            path_column: "path".into(),
            label_column: "label".into(),
            group_column: "group".into(),
            split_column: "split".into(),
            exclude: Vec::new(),
            include_classes: Vec::new(),
            sample_rate: 8000,
            clip_frames: 0,
            pad: PadMode::Zero,
            crop: CropMode::Center,
            long_clips: LongClips::Crop,
            start_column: "start".into(),
            end_column: "end".into(),
            annotations: AnnotationFormat::None,
            annotation_column: String::new(),
            background: false,
            background_dir: None,
        }
    }
}
