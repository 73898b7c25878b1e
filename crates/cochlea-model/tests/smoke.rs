//! libtorch is linked, loads without `LD_LIBRARY_PATH`, and trains: a small
//! Conv1d network takes Adam steps on one fixed batch and its loss falls.

#![cfg(feature = "torch")]

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

#[test]
fn conv1d_loss_falls_on_a_fixed_batch() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let conv_cfg = nn::ConvConfig {
        padding: 1,
        ..Default::default()
    };
    let net = nn::seq()
        .add(nn::conv1d(&root / "conv1", 4, 8, 3, conv_cfg))
        .add_fn(|x| x.relu())
        .add_fn(|x| x.mean_dim(&[2i64][..], false, Kind::Float))
        .add(nn::linear(&root / "out", 8, 3, Default::default()));

    // 12 examples, 4 features, 20 frames, 3 classes.
    let x = Tensor::randn([12, 4, 20], (Kind::Float, Device::Cpu));
    let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    let mut opt = nn::Adam::default().build(&vs, 1e-2).unwrap();

    let loss_at = |net: &nn::Sequential| {
        net.forward(&x)
            .cross_entropy_for_logits(&y)
            .double_value(&[])
    };
    let before = loss_at(&net);
    for _ in 0..50 {
        let loss = net.forward(&x).cross_entropy_for_logits(&y);
        opt.backward_step(&loss);
    }
    let after = loss_at(&net);
    assert!(after.is_finite(), "loss is not finite: {after}");
    assert!(
        after < 0.5 * before,
        "loss did not fall enough: {before:.4} -> {after:.4}"
    );
}
