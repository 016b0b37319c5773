//! Acceptance of the shipped transceivers on the real MNIST test set (10,000
//! images, needs SLFSIM_DATA): matched pairs understand each other, pairs
//! trained apart (same data and channel, other seed) do not.

mod common;
use common::*;

use slfsim::transceiver::{evaluate_link, is_up_to_date, load_checkpoint, test_batch, LinkMetrics, Transceiver};

fn link(tx: &Transceiver, rx: &Transceiver, test: &slfsim::transceiver::TestBatch) -> LinkMetrics {
    let mut rng = slfsim::seed::stream(1, "eval-channel", &[tx.name(), rx.name()]);
    evaluate_link(tx, rx, &rx.classifier, test, &mut rng)
}

#[test]
fn shipped_checkpoints_are_up_to_date() {
    for f in ["scenarios/quickstart.ron", "scenarios/transceivers.ron", "scenarios/paper/two_user.ron"] {
        let sc = slfsim::scenario::load(&root().join(f)).unwrap();
        for p in &sc.profiles {
            assert!(
                is_up_to_date(&root().join(&sc.models_dir), p),
                "{f}: checkpoint of {} is missing or stale; run `make train`",
                p.name
            );
        }
    }
}

#[test]
fn matched_pairs_align_and_seeds_misalign_on_real_mnist() {
    tch::set_num_threads(2);
    let data = full_data();
    let sc = slfsim::scenario::load(&root().join("scenarios/transceivers.ron")).unwrap();
    let models: Vec<Transceiver> = sc
        .profiles
        .iter()
        .map(|p| load_checkpoint(&root().join(&sc.models_dir), p).unwrap_or_else(|e| panic!("{e}")).0)
        .collect();
    let test = test_batch(&sc.profiles[0], &data, 10_000).unwrap();
    assert_eq!(test.len(), 10_000, "SLFSIM_DATA must hold the full MNIST test set");
    let mut report = String::new();
    let matched: Vec<LinkMetrics> = models.iter().map(|m| link(m, m, &test)).collect();
    for (i, tx) in models.iter().enumerate() {
        let bar = if tx.profile.channel.epsilon == 0.0 { 0.95 } else { 0.90 };
        report += &format!("{} matched: acc {:.4} mse {:.5}\n", tx.name(), matched[i].accuracy, matched[i].mse);
        assert!(matched[i].accuracy >= bar, "{}: matched accuracy {:.4} < {bar}", tx.name(), matched[i].accuracy);
        // Same data, same channel, another seed: misaligned.
        for (j, rx) in models.iter().enumerate().filter(|(j, rx)| rx.profile.channel == tx.profile.channel && *j != i) {
            let cross = link(tx, rx, &test);
            report += &format!("  -> {}: acc {:.4} mse {:.5}\n", rx.name(), cross.accuracy, cross.mse);
            assert!(cross.accuracy <= 0.40, "{} -> {}: accuracy {:.4} > 0.40", tx.name(), rx.name(), cross.accuracy);
            let floor = 3.0 * matched[i].mse.max(matched[j].mse);
            assert!(
                cross.mse >= floor,
                "{} -> {}: mse {:.5} < 3x matched {:.5}",
                tx.name(),
                rx.name(),
                cross.mse,
                floor / 3.0
            );
        }
    }
    println!("{report}");
}

#[test]
fn slf_recovers_a_misaligned_pair_on_real_mnist() {
    use slfsim::align::{align, cost::CostParams, AlignInputs, Budget, FreezeSide, Method};
    use slfsim::transceiver::local_data;
    tch::set_num_threads(2);
    let data = full_data();
    let sc = slfsim::scenario::load(&root().join("scenarios/transceivers.ron")).unwrap();
    let models = root().join(&sc.models_dir);
    let (ptx, prx) = (sc.profile("mnist_e0_s1").unwrap(), sc.profile("mnist_e0_s2").unwrap());
    let tx = load_checkpoint(&models, ptx).unwrap().0;
    let rx = load_checkpoint(&models, prx).unwrap().0;
    let local = local_data(ptx, &data).unwrap().0;
    let test = test_batch(ptx, &data, 2000).unwrap();
    let inputs = AlignInputs { local_images: &local, test: &test, data_dir: &data };
    let budget = Budget { steps: 300, eval_every: 100, curve_images: 200, ..Budget::default() };
    let m = Method::Slf { freeze: 0, side: FreezeSide::Output };
    let (r, _) = align(&tx, &rx, &m, &budget, &CostParams::default(), &inputs, 1).unwrap();
    let gain = r.after.accuracy_rx - r.before.accuracy_rx;
    let cut = 1.0 - r.after.mse / r.before.mse;
    println!(
        "slf ℓ=0 {} -> {}: accuracy {:.4} -> {:.4} (+{:.1} points), mse {:.5} -> {:.5} (-{:.1}%)",
        r.tx,
        r.rx,
        r.before.accuracy_rx,
        r.after.accuracy_rx,
        100.0 * gain,
        r.before.mse,
        r.after.mse,
        100.0 * cut
    );
    assert!(gain >= 0.60, "accuracy gain {gain:.3} < 60 points");
    assert!(cut >= 0.85, "MSE cut {cut:.3} < 85%");
}
