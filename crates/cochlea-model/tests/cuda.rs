//! Training on a CUDA device: built and run only with `--features cuda`, on
//! a machine with a GPU and a CUDA libtorch.

#![cfg(feature = "torch")]
#![cfg(feature = "cuda")]

mod common;

use cochlea_model::{AugmentConfig, Classifier, DeviceChoice, TrainConfig, TrainOptions, train};
use common::*;

#[test]
fn trains_on_cuda_and_the_bundle_loads_on_cpu() {
    let _guard = serial();
    assert!(
        cochlea_model::tch::Cuda::is_available(),
        "the cuda feature needs a CUDA device"
    );
    let data = offset_task(400, 4, 1);
    let test = offset_task(200, 4, 2);
    let cfg = TrainConfig {
        device: DeviceChoice::Cuda,
        epochs: 6,
        batch_size: 32,
        ..TrainConfig::default()
    };
    let aug = AugmentConfig {
        time_shift: 4,
        noise_snr_db: Some([20.0, 30.0]),
        ..AugmentConfig::default()
    };
    let mut log = Vec::new();
    let mut on_epoch = recorder(&mut log);
    let out = train(
        &small_net(),
        &cfg,
        &aug,
        4,
        &data,
        Some(&test),
        TrainOptions::new(&mut on_epoch),
    )
    .expect("training on cuda");
    assert!(out.model.device().is_cuda());
    let on_gpu = out.model.logits(&test.x, test.len()).expect("logits");
    assert!(accuracy(&on_gpu, &test.y) > 0.9);

    let tmp = tempfile::tempdir().expect("tempdir");
    let classes = ["a", "b", "c", "d"].map(String::from);
    out.model
        .save(tmp.path(), &classes, &serde_json::json!({}))
        .expect("save");
    let (cpu, _) = Classifier::load(tmp.path()).expect("load on cpu");
    let on_cpu = cpu.logits(&test.x, test.len()).expect("logits");
    for (a, b) in on_gpu.iter().zip(&on_cpu) {
        assert!(
            (a - b).abs() < 1e-3 * a.abs().max(1.0),
            "gpu {a} vs cpu {b}"
        );
    }
}
