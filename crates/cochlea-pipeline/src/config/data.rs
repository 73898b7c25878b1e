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
}

impl DataConfig {
    /// Whether files get a group: from `group` or from the layout.
    pub fn has_groups(&self) -> bool {
        self.group != FieldSource::None || self.layout.has_groups()
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
        }
    }
}
