//! The `pipeline` binary: `run`, `classify`, `export`, `features`, `doctor`, `init`, `tune`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use clap::{ArgAction, Parser, Subcommand};
use cochlea_features::Extractor;
use cochlea_pipeline::classify::{self, ClassifyOptions, DeviceArg, Format};
use cochlea_pipeline::config::default_extensions;
use cochlea_pipeline::export::{self, ExportFormat};
use cochlea_pipeline::run::{self, RunOptions};
use cochlea_pipeline::rundir::{self, RunDir};
use cochlea_pipeline::{Config, bundle, doctor, dump, init};

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
struct Cli {
    /// Less on stderr: -q hides progress, -qq also warnings.
    #[arg(long, short, global = true, action = ArgAction::Count)]
    quiet: u8,
    /// More on stderr: the settings in effect, and each stage's start and
    /// end kept as lines on a terminal too.
    #[arg(long, short, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// Worker threads for feature extraction (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Train and evaluate as the config says; writes a new run directory.
    Run {
        /// The TOML config.
        #[arg(required_unless_present = "resume")]
        config: Option<PathBuf>,
        /// Continue an interrupted run directory (its saved config is used).
        #[arg(long, conflicts_with = "config")]
        resume: Option<PathBuf>,
        /// Print the result summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Classify audio files and folders (recursively) with a trained model.
    Classify {
        /// A run directory or a model folder.
        #[arg(long)]
        model: PathBuf,
        /// Files and folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Classes listed per file.
        #[arg(long, default_value_t = 3)]
        top_k: usize,
        /// Files whose best probability is below this are labelled "unknown".
        #[arg(long)]
        min_confidence: Option<f32>,
        /// Classify long clips by windows of the training length and average them.
        #[arg(long)]
        windows: bool,
        /// With --windows: one row per window instead of the average.
        #[arg(long, requires = "windows")]
        per_window: bool,
        /// Where the network runs; features are computed on the CPU.
        #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
        device: DeviceArg,
    },
    /// Write features as .npy (numpy-readable), an index CSV, and optional PNGs.
    Features {
        /// Feature settings from this config.
        #[arg(long, required_unless_present = "model", conflicts_with = "model")]
        config: Option<PathBuf>,
        /// Or from this model (also writes the normalized model input).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Files and folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Also write a PNG image per file.
        #[arg(long)]
        png: bool,
    },
    /// Explain a model at chance: audit data, split, features and network,
    /// then run short probes (linear probe, overfit one batch, learning rates).
    Doctor {
        /// The TOML config.
        config: PathBuf,
        /// Seconds the probes may take (checked at every training step or epoch).
        #[arg(long, default_value_t = 120.0)]
        budget: f64,
        /// Only the cheap checks, no training probes.
        #[arg(long)]
        no_probes: bool,
        /// Print the findings as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write the model as one TorchScript or ONNX file (normalization, length
    /// fitting and ensemble averaging inside) with its feature recipe in a
    /// `.spec.json` beside it; see docs/python.md.
    Export {
        /// A run directory or a model folder.
        model: PathBuf,
        /// File format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Torchscript)]
        format: ExportFormat,
        /// The model file to write (e.g. model.pt or model.onnx).
        #[arg(long)]
        out: PathBuf,
        /// Print what was written as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Search config values on the training part only (nested cross-validation
    /// for k-fold and leave-one-group-out), write tuned.toml, then run it.
    Tune {
        /// The TOML config (its [tune] section, or the default space).
        #[arg(required_unless_present_any = ["resume", "worker"])]
        config: Option<PathBuf>,
        /// Continue an interrupted tune directory.
        #[arg(long, conflicts_with = "config")]
        resume: Option<PathBuf>,
        /// Time the search may take, e.g. 90s, 30m, 2h.
        #[arg(long, value_parser = cochlea_pipeline::tune::parse_budget)]
        budget: Option<f64>,
        /// Evaluations in parallel (worker processes, one libtorch thread each).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Only search: no `pipeline run` of tuned.toml afterwards.
        #[arg(long)]
        no_final: bool,
        /// Internal: run the evaluations of a work file.
        #[arg(long, hide = true)]
        worker: Option<PathBuf>,
    },
    /// Look at a folder of audio and write a starter config.
    Init {
        /// The folder of audio.
        dir: PathBuf,
        /// Where to write the config, relative to the current folder; "-"
        /// prints it to stdout.
        #[arg(long, default_value = "cochlea.toml")]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    use cochlea_pipeline::progress::{self, Level};

    let cli = Cli::parse();
    let env = std::env::var_os("COCHLEA_LOG").map(|v| v.to_string_lossy().into_owned());
    let level = match Level::resolve(env.as_deref(), cli.verbose, cli.quiet) {
        Ok(level) => level,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    progress::set_level(level);
    if let Some(n) = cli.threads {
        // Only fails when a pool exists already, which cannot happen here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    progress::debug(format_args!(
        "pipeline {}: log level {level} (COCHLEA_LOG={}, -v x{}, -q x{}), {} feature threads",
        env!("CARGO_PKG_VERSION"),
        env.as_deref().unwrap_or("unset"),
        cli.verbose,
        cli.quiet,
        rayon::current_num_threads()
    ));
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line. Library errors already end with
/// their cause ("path: No space left on device"), so a cause is added only
/// when the text does not hold it yet.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if !text.contains(&c) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&c);
        }
    }
    text
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    use cochlea_pipeline::progress::{self, Level};

    // Progress shows from level info up.
    let quiet = !progress::enabled(Level::Info);
    match cli.cmd {
        Cmd::Run {
            config,
            resume,
            json,
        } => {
            let config = match (&config, &resume) {
                (Some(c), _) => c.clone(),
                (None, Some(dir)) => rundir::config_of(dir),
                (None, None) => bail!("give a config file or --resume RUN_DIR"),
            };
            if let Some(dir) = &resume
                && !RunDir::is_resumable_dir(dir)
            {
                bail!(
                    "{}: not an interrupted run directory (no checkpoints or state)",
                    dir.display()
                );
            }
            let cfg = Config::load(&config)?;
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            ctrlc::set_handler(move || {
                if flag.swap(true, Ordering::SeqCst) {
                    // Second Ctrl-C: the user insists.
                    std::process::exit(130);
                }
                eprintln!("\ninterrupt: stopping after this epoch (Ctrl-C again to quit now)");
            })
            .context("cannot install the Ctrl-C handler")?;
            let r = match run::run(
                &config,
                &cfg,
                &RunOptions {
                    quiet,
                    stop,
                    resume,
                },
            ) {
                Err(cochlea_pipeline::Error::Interrupted) => {
                    eprintln!("interrupted before any training finished; nothing to report");
                    return Ok(ExitCode::from(130));
                }
                r => r?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_summary(&r);
            }
            if r.interrupted {
                eprintln!(
                    "interrupted ({}); continue with: pipeline run --resume {}",
                    r.stopped_at.as_deref().unwrap_or(""),
                    r.run_dir.display()
                );
            }
            Ok(if r.interrupted {
                ExitCode::from(130)
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Classify {
            model,
            paths,
            out,
            format,
            top_k,
            min_confidence,
            windows,
            per_window,
            device,
        } => {
            let m = bundle::load_on(&model, device.resolve()?)?;
            let exts = default_extensions();
            let (files, problems) = dump::gather(&paths, &exts);
            for (p, why) in &problems {
                eprintln!("error: {}: {why}", p.display());
            }
            let opts = ClassifyOptions {
                format,
                top_k,
                min_confidence,
                windows,
                per_window,
                chunk: 256,
                quiet,
            };
            let tally = match &out {
                Some(path) => {
                    let mut buf = Vec::new();
                    let t = classify::classify(&m, &files, &opts, &mut buf)?;
                    cochlea_pipeline::atomic::write(path, &buf)?;
                    t
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = std::io::BufWriter::new(stdout.lock());
                    let t = classify::classify(&m, &files, &opts, &mut lock)?;
                    lock.flush()?;
                    t
                }
            };
            let failed = tally.failed + problems.len();
            eprintln!("classified {} files, {} failed", tally.ok, failed);
            Ok(if failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Features {
            config,
            model,
            paths,
            out,
            png,
        } => {
            let (extractor, spec, exts) = match (&config, &model) {
                (Some(c), _) => {
                    let cfg = Config::load(c)?;
                    (
                        Extractor::new(&cfg.features, cfg.data.sample_rate)?,
                        None,
                        cfg.data.extensions.clone(),
                    )
                }
                (None, Some(mdir)) => {
                    let m = bundle::load(mdir)?;
                    let exts = default_extensions();
                    (m.extractor, Some(m.input), exts)
                }
                (None, None) => bail!("give --config or --model"),
            };
            let (files, problems) = dump::gather(&paths, &exts);
            for (p, why) in &problems {
                eprintln!("error: {}: {why}", p.display());
            }
            let (ok, failed) = dump::dump(
                &files,
                &extractor,
                &dump::DumpOptions {
                    out: &out,
                    png,
                    input: spec.as_ref(),
                    quiet,
                },
            )?;
            eprintln!(
                "wrote features of {ok} files to {} ({} failed)",
                out.display(),
                failed + problems.len()
            );
            Ok(if failed + problems.len() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Doctor {
            config,
            budget,
            no_probes,
            json,
        } => {
            let cfg = Config::load(&config)?;
            let r = doctor::diagnose(&cfg, quiet, budget, !no_probes)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_findings(&r);
            }
            let failed = r
                .findings
                .iter()
                .any(|f| f.verdict == doctor::Verdict::Fail);
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Export {
            model,
            format,
            out,
            json,
        } => {
            let e = export::export(&model, format, &out)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!("model: {}", e.model.display());
                println!("spec:  {}", e.spec.display());
                println!(
                    "checked against the model on {} input shapes: max |difference| {:.1e}",
                    e.checked.len(),
                    e.max_abs_diff
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Tune {
            config,
            resume,
            budget,
            jobs,
            no_final,
            worker,
        } => tune_command(config, resume, budget, jobs, no_final, worker, quiet),
        Cmd::Init { dir, out, force } => {
            let s = init::survey(&dir)?;
            let to_stdout = out == Path::new("-");
            let config_dir = if to_stdout {
                PathBuf::from(".")
            } else {
                out.parent()
                    .map(Path::to_path_buf)
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or_else(|| PathBuf::from("."))
            };
            let text = init::starter_config(&dir, &s, &config_dir);
            if to_stdout {
                print!("{text}");
            } else {
                if out.exists() && !force {
                    bail!("{} exists; pass --force to replace it", out.display());
                }
                cochlea_pipeline::atomic::write(&out, text.as_bytes())?;
                eprintln!(
                    "wrote {} ({} files, {} classes); run it with: pipeline run {}",
                    out.display(),
                    s.files,
                    s.classes.len(),
                    out.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `pipeline tune`: the search, then (unless `--no-final`) a run of the winner.
fn tune_command(
    config: Option<PathBuf>,
    resume: Option<PathBuf>,
    budget: Option<f64>,
    jobs: usize,
    no_final: bool,
    worker: Option<PathBuf>,
    quiet: bool,
) -> Result<ExitCode> {
    use cochlea_pipeline::tune::{self, TuneOptions};
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    })
    .context("cannot install the Ctrl-C handler")?;
    let opts = TuneOptions {
        quiet,
        stop: stop.clone(),
        resume: resume.clone(),
        budget,
        jobs,
        exe: std::env::current_exe().ok(),
    };
    if let Some(work) = worker {
        tune::worker(&work, &opts)?;
        return Ok(ExitCode::SUCCESS);
    }
    let path = match (&config, &resume) {
        (Some(c), _) => c.clone(),
        (None, Some(dir)) => tune::base_config(dir),
        (None, None) => bail!("give a config file or --resume TUNE_DIR"),
    };
    let r = tune::tune(&Config::load(&path)?, &opts)?;
    println!("{}", tune::summary(&r));
    let Some(tuned) = r.tuned.filter(|_| !r.interrupted) else {
        eprintln!(
            "interrupted; continue with: pipeline tune --resume {}",
            r.dir.display()
        );
        return Ok(ExitCode::from(130));
    };
    if no_final {
        return Ok(ExitCode::SUCCESS);
    }
    let res = run::run(
        &tuned,
        &Config::load(&tuned)?,
        &RunOptions {
            quiet,
            stop,
            resume: None,
        },
    )?;
    print_summary(&res);
    Ok(ExitCode::SUCCESS)
}

fn print_findings(r: &doctor::DoctorReport) {
    let problems: Vec<&doctor::Finding> = r
        .findings
        .iter()
        .filter(|f| f.verdict != doctor::Verdict::Ok)
        .collect();
    if problems.is_empty() {
        println!("No problem found: {} checks passed.", r.findings.len());
    }
    for (i, f) in problems.iter().enumerate() {
        let word = f.verdict.label();
        println!(
            "{}. {word} [{}] {}\n   evidence: {}\n   fix: {}",
            i + 1,
            f.id,
            f.title,
            f.evidence,
            f.fix
        );
    }
    let passed: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.verdict == doctor::Verdict::Ok)
        .map(|f| f.id.as_str())
        .collect();
    if !passed.is_empty() && !problems.is_empty() {
        println!("passed: {}", passed.join(", "));
    }
    for n in &r.probes.notes {
        println!("probe: {n}");
    }
    println!("({:.1} s)", r.seconds);
}

fn print_summary(r: &cochlea_pipeline::results::RunResult) {
    if r.folds.len() > 1 {
        for f in &r.folds {
            println!(
                "{:>12}: accuracy {:.2}% ({} test files)",
                f.name,
                100.0 * f.test.accuracy,
                f.test.n
            );
        }
    }
    println!("{}", cochlea_pipeline::report::headline(r));
    if let Some(first) = r.findings.iter().find(|f| f.verdict != doctor::Verdict::Ok) {
        println!("first finding: [{}] {}", first.id, first.title);
    }
    if let Some(f) = &r.final_model {
        println!(
            "final model: {} (all {} files, {} epochs)",
            r.run_dir.join(&f.bundle).display(),
            f.files,
            f.epochs
        );
    }
    println!("report: {}", r.run_dir.join("report.html").display());
}
