//! The command line: the global options and each command's arguments.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use cochlea_pipeline::classify::{DeviceArg, Format};
use cochlea_pipeline::detect::output::EventFormat;
use cochlea_pipeline::detect::pcm::RawFormat;
use cochlea_pipeline::export::ExportFormat;

/// Turn folders of audio into trained, explained 1D-CNN classifiers.
#[derive(Parser)]
#[command(
    name = "pipeline",
    version,
    about,
    after_help = "Verbosity: COCHLEA_LOG=error|warn|info|debug sets the starting level \
                  (default info); each -v raises it one step, each -q lowers it one step. \
                  Progress shows at info: bars on a terminal, plain timestamped lines \
                  otherwise. Errors and per-file problems are printed at every level."
)]
pub struct Cli {
    /// Less on stderr: -q hides progress, -qq also warnings.
    #[arg(long, short, global = true, action = ArgAction::Count)]
    pub quiet: u8,
    /// More on stderr: the settings in effect, and each stage's start and
    /// end kept as lines on a terminal too.
    #[arg(long, short, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Worker threads for feature extraction (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Train and evaluate as the config says; writes a new run directory.
    Run(RunArgs),
    /// Classify audio files and folders (recursively) with a trained model.
    Classify(ClassifyArgs),
    /// Find events (label, start and end time) in long recordings or a
    /// live stream (`-`: WAV or raw PCM on stdin), and score them against
    /// annotations with --labels.
    Detect(DetectArgs),
    /// Write features as .npy (numpy-readable), an index CSV, and optional PNGs.
    Features(FeaturesArgs),
    /// Explain a model at chance: audit data, split, features and network,
    /// then run short probes (linear probe, overfit one batch, learning rates).
    Doctor(DoctorArgs),
    /// Write the model as one TorchScript or ONNX file (normalization, length
    /// fitting and ensemble averaging inside) with its feature recipe in a
    /// `.spec.json` beside it; see docs/python.md.
    Export(ExportArgs),
    /// Search config values on the training part only (nested cross-validation
    /// for k-fold and leave-one-group-out), write tuned.toml, then run it.
    Tune(TuneArgs),
    /// Look at a folder of audio and write a starter config.
    Init(InitArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// The TOML config.
    #[arg(required_unless_present = "resume")]
    pub config: Option<PathBuf>,
    /// Continue an interrupted run directory (its saved config is used).
    #[arg(long, conflicts_with = "config")]
    pub resume: Option<PathBuf>,
    /// Print the result summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ClassifyArgs {
    /// A run directory or a model folder.
    #[arg(long)]
    pub model: PathBuf,
    /// Files and folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output file (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Classes listed per file.
    #[arg(long, default_value_t = 3)]
    pub top_k: usize,
    /// Files whose best probability is below this are labelled "unknown".
    #[arg(long)]
    pub min_confidence: Option<f32>,
    /// Classify long clips by windows of the training length and average them.
    #[arg(long)]
    pub windows: bool,
    /// With --windows: one row per window instead of the average.
    #[arg(long, requires = "windows")]
    pub per_window: bool,
    /// Where the network runs; features are computed on the CPU.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

#[derive(Args)]
pub struct FeaturesArgs {
    /// Feature settings from this config.
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub config: Option<PathBuf>,
    /// Or from this model (also writes the normalized model input).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Files and folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write a PNG image per file.
    #[arg(long)]
    pub png: bool,
}

#[derive(Args)]
pub struct DoctorArgs {
    /// The TOML config.
    pub config: PathBuf,
    /// Seconds the probes may take (checked at every training step or epoch).
    #[arg(long, default_value_t = 120.0)]
    pub budget: f64,
    /// Only the cheap checks, no training probes.
    #[arg(long)]
    pub no_probes: bool,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    /// A run directory or a model folder.
    pub model: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Torchscript)]
    pub format: ExportFormat,
    /// The model file to write (e.g. model.pt or model.onnx).
    #[arg(long)]
    pub out: PathBuf,
    /// Print what was written as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct TuneArgs {
    /// The TOML config (its [tune] section, or the default space).
    #[arg(required_unless_present_any = ["resume", "worker"])]
    pub config: Option<PathBuf>,
    /// Continue an interrupted tune directory.
    #[arg(long, conflicts_with = "config")]
    pub resume: Option<PathBuf>,
    /// Time the search may take, e.g. 90s, 30m, 2h.
    #[arg(long, value_parser = cochlea_pipeline::tune::parse_budget)]
    pub budget: Option<f64>,
    /// Evaluations in parallel (worker processes, one libtorch thread each).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Only search: no `pipeline run` of tuned.toml afterwards.
    #[arg(long)]
    pub no_final: bool,
    /// Internal: run the evaluations of a work file.
    #[arg(long, hide = true)]
    pub worker: Option<PathBuf>,
}

#[derive(Args)]
pub struct InitArgs {
    /// The folder of audio.
    pub dir: PathBuf,
    /// Where to write the config, relative to the current folder; "-"
    /// prints it to stdout.
    #[arg(long, default_value = "cochlea.toml")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct DetectArgs {
    /// A run directory or a model folder.
    #[arg(long)]
    pub model: PathBuf,
    /// Files and folders (recursively), or `-` for a WAV or raw PCM stream
    /// on standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Seconds between window starts (default: a quarter of the model's
    /// window).
    #[arg(long)]
    pub hop: Option<f64>,
    /// An event starts in a window whose best class has at least this
    /// probability.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// Per-class start thresholds, e.g. `owl=0.7,fox=0.4`.
    #[arg(long, value_parser = cochlea_pipeline::detect::options::parse_thresholds)]
    pub thresholds: Option<Vec<(String, f32)>>,
    /// An event ends at the first window under this probability (default:
    /// half its start threshold).
    #[arg(long)]
    pub threshold_off: Option<f32>,
    /// Classes that never make events, comma-separated; "" for none
    /// (default: background, _background_, _background_noise_, noise,
    /// silence, _silence_, _unknown_).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// Close gaps shorter than this (seconds) between events of one class.
    #[arg(long, default_value_t = 0.0)]
    pub merge_gap: f64,
    /// Drop events shorter than this (seconds).
    #[arg(long, default_value_t = 0.0)]
    pub min_duration: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EventFormat::Csv)]
    pub format: EventFormat,
    /// Output file, or a folder (one file per recording; needed for
    /// audacity and raven with several inputs). Default: stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Annotations to score the events against: a CSV (path,start,end,
    /// label), a Raven or Audacity file, or a folder of them (beside the
    /// audio).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// With --labels: where the scores (metrics.json) and the timeline
    /// (timeline.html) go.
    #[arg(long, default_value = "detect-report")]
    pub report: PathBuf,
    /// With --labels: onset tolerance of the event-based scores, seconds.
    #[arg(long, default_value_t = 0.2)]
    pub t_collar: f64,
    /// With --labels: offsets must match too, within max(t_collar,
    /// percentage_of_length x reference length).
    #[arg(long)]
    pub evaluate_offset: bool,
    /// With --evaluate-offset: the offset tolerance as a fraction of the
    /// reference event's length.
    #[arg(long, default_value_t = 0.5)]
    pub percentage_of_length: f64,
    /// With --labels: segment length of the segment-based scores, seconds.
    #[arg(long, default_value_t = 1.0)]
    pub segment: f64,
    /// Standard input is raw PCM at this rate (Hz) instead of WAV.
    #[arg(long)]
    pub raw_rate: Option<u32>,
    /// Sample encoding of raw PCM.
    #[arg(long, value_enum, default_value_t = RawFormat::S16le)]
    pub raw_format: RawFormat,
    /// Channels of raw PCM.
    #[arg(long, default_value_t = 1)]
    pub raw_channels: u16,
    /// Windows per model call (default: 32 for files, 1 for stdin so each
    /// event is printed as soon as it ends).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Where the network runs; features are computed on the CPU.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}
