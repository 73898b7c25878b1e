//! One function per command: arguments in, exit code out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use cochlea_features::Extractor;
use cochlea_pipeline::classify::{self, ClassifyOptions};
use cochlea_pipeline::config::default_extensions;
use cochlea_pipeline::run::{self, RunOptions};
use cochlea_pipeline::rundir::{self, RunDir};
use cochlea_pipeline::{Config, bundle, doctor, dump, export as export_model, init as init_config};

use crate::cli::{ClassifyArgs, DoctorArgs, ExportArgs, FeaturesArgs, InitArgs, RunArgs, TuneArgs};
use crate::print;

/// `pipeline run`.
pub fn run(args: RunArgs, quiet: bool) -> Result<ExitCode> {
    let RunArgs {
        config,
        resume,
        json,
    } = args;
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
        print::summary(&r);
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

/// `pipeline classify`.
pub fn classify(args: ClassifyArgs, quiet: bool) -> Result<ExitCode> {
    let ClassifyArgs {
        model,
        paths,
        out,
        format,
        top_k,
        min_confidence,
        windows,
        per_window,
        device,
    } = args;
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

/// `pipeline features`.
pub fn features(args: FeaturesArgs, quiet: bool) -> Result<ExitCode> {
    let FeaturesArgs {
        config,
        model,
        paths,
        out,
        png,
    } = args;
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

/// `pipeline doctor`.
pub fn doctor(args: DoctorArgs, quiet: bool) -> Result<ExitCode> {
    let DoctorArgs {
        config,
        budget,
        no_probes,
        json,
    } = args;
    let cfg = Config::load(&config)?;
    let r = doctor::diagnose(&cfg, quiet, budget, !no_probes)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print::findings(&r);
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

/// `pipeline export`.
pub fn export(args: ExportArgs) -> Result<ExitCode> {
    let ExportArgs {
        model,
        format,
        out,
        json,
    } = args;
    let e = export_model::export(&model, format, &out)?;
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

/// `pipeline init`.
pub fn init(args: InitArgs) -> Result<ExitCode> {
    let InitArgs { dir, out, force } = args;
    let s = init_config::survey(&dir)?;
    let to_stdout = out == Path::new("-");
    let config_dir = if to_stdout {
        PathBuf::from(".")
    } else {
        out.parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let text = init_config::starter_config(&dir, &s, &config_dir);
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

/// `pipeline tune`: the search, then (unless `--no-final`) a run of the winner.
pub fn tune(args: TuneArgs, quiet: bool) -> Result<ExitCode> {
    let TuneArgs {
        config,
        resume,
        budget,
        jobs,
        no_final,
        worker,
    } = args;
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
    print::summary(&res);
    Ok(ExitCode::SUCCESS)
}
