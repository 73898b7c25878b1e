//! Times training epochs of this crate on tensors saved as `.npy`, for the
//! side-by-side benchmark against PyTorch (`bench/model.sh`).
//!
//! ```text
//! train_bench DATA_DIR EPOCHS THREADS
//! ```
//! `DATA_DIR` holds `x_train.npy` (float32 `[n, 13, 100]`), `y_train.npy`
//! (int64), `x_val.npy`, `y_val.npy`, as written by `bench/model_ref.py
//! --make-data`. Prints one JSON line with the seconds of every epoch
//! (training plus validation) and the accuracies of the last one.

use std::path::Path;
use std::time::Instant;

use cochlea_model::tch::{Kind, Tensor};
use cochlea_model::{
    AugmentConfig, Control, Dataset, EpochMetrics, NetConfig, TrainConfig, TrainOptions, train,
};

fn load(dir: &Path, split: &str) -> Result<Dataset, Box<dyn std::error::Error>> {
    let x = Tensor::read_npy(dir.join(format!("x_{split}.npy")))?;
    let y = Tensor::read_npy(dir.join(format!("y_{split}.npy")))?;
    let (_, f, t) = x.size3()?;
    let xs = Vec::<f32>::try_from(x.to_kind(Kind::Float).flatten(0, -1))?;
    let ys = Vec::<i64>::try_from(y.to_kind(Kind::Int64))?;
    Ok(Dataset::new(xs, ys, f as usize, t as usize)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        return Err("usage: train_bench DATA_DIR EPOCHS THREADS".into());
    }
    let dir = Path::new(&args[1]);
    let epochs: usize = args[2].parse()?;
    let threads: usize = args[3].parse()?;
    let (tr, val) = (load(dir, "train")?, load(dir, "val")?);
    let n_classes =
        tr.y.iter()
            .chain(&val.y)
            .max()
            .map_or(0, |&m| m as usize + 1);
    // The defaults are the benchmarked configuration: three conv blocks
    // 64/128/128 (kernels 5/3/3, batch norm, ReLU, max pool 2), global
    // average pooling, dropout 0.3, Adam lr 1e-3, weight decay 1e-4,
    // batch 64.
    let cfg = TrainConfig {
        epochs,
        threads: Some(threads),
        ..TrainConfig::default()
    };
    let mut on_epoch = |m: &EpochMetrics| {
        eprintln!(
            "rust epoch {}: {:.3} s, loss {:.4}, val acc {:.3}",
            m.epoch,
            m.seconds,
            m.train_loss,
            m.val_accuracy.unwrap_or(f64::NAN)
        );
        Control::Continue
    };
    let before_train = started.elapsed().as_secs_f64();
    let out = train(
        &NetConfig::default(),
        &cfg,
        &AugmentConfig::default(),
        n_classes,
        &tr,
        Some(&val),
        TrainOptions::new(&mut on_epoch),
    )?;
    let seconds: Vec<f64> = out.history.iter().map(|m| m.seconds).collect();
    let last = out.history.last().ok_or("no epoch ran")?;
    println!(
        "{}",
        serde_json::json!({
            "impl": "cochlea-model",
            "threads": threads,
            "epoch_seconds": seconds,
            "train_loss": last.train_loss,
            "val_accuracy": last.val_accuracy,
            "setup_seconds": before_train,
            "process_seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
