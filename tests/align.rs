//! SLF and its baselines on two small transceivers trained apart (embedded
//! data): freezing, costs, what leaves TX, and split learning's equivalence.

mod common;
use common::*;

use slfsim::align::cost::CostParams;
use slfsim::align::{align, upload_payload, AlignInputs, AlignResult, Budget, FreezeSide, Method};
use slfsim::transceiver::{local_data, test_batch, train_profile, Profile, Transceiver};

fn tiny(name: &str, seed: u64) -> Profile {
    let text = format!(
        r#"Scenario(name: "t", profiles: [(name: "{name}", data: (dataset: mnist, partition: iid(size: 1000)),
           channel: (kind: index, epsilon: 0.05), seed: {seed},
           train: (steps: 60, classifier_steps: 30, batch_size: 32, eval_images: 200))])"#
    );
    slfsim::scenario::parse(&text, std::path::Path::new("t.ron")).unwrap().profiles.remove(0)
}

struct Pair {
    tx: Transceiver,
    rx: Transceiver,
    local: tch::Tensor,
    test: slfsim::transceiver::TestBatch,
}

fn pair() -> Pair {
    tch::set_num_threads(2);
    let (ptx, prx) = (tiny("a", 1), tiny("b", 2));
    let tx = train_profile(&ptx, &embedded_data(), &mut |_, _, _| {}).unwrap().0;
    let rx = train_profile(&prx, &embedded_data(), &mut |_, _, _| {}).unwrap().0;
    let local = local_data(&ptx, &embedded_data()).unwrap().0;
    let test = test_batch(&ptx, &embedded_data(), 200).unwrap();
    Pair { tx, rx, local, test }
}

fn run(p: &Pair, m: Method, steps: usize) -> (AlignResult, Transceiver) {
    let budget = Budget { steps, eval_every: 5, curve_images: 100, batch_size: 16, ..Budget::default() };
    let inputs = AlignInputs { local_images: &p.local, test: &p.test, data_dir: &embedded_data() };
    align(&p.tx, &p.rx, &m, &budget, &CostParams::default(), &inputs, 9).unwrap()
}

fn equal(a: &tch::Tensor, b: &tch::Tensor) -> bool {
    a.size() == b.size() && a.equal(b)
}

#[test]
fn slf_freezes_sends_and_costs_what_it_should() {
    let p = pair();
    let big_l = p.rx.decoder.layers.len();
    let mut prev: Option<AlignResult> = None;
    for freeze in 0..=big_l {
        let m = Method::Slf { freeze, side: FreezeSide::Output };
        let (r, aligned) = run(&p, m, 10);
        assert_eq!(r.steps, 10);
        assert_eq!(r.freeze, Some(freeze));
        // Frozen layers (the last ℓ) are exactly RX's; the others moved.
        for (i, (a, b)) in aligned.decoder.layers.iter().zip(&p.rx.decoder.layers).enumerate() {
            let frozen = i >= big_l - freeze;
            assert_eq!(equal(&a.weight, &b.weight), frozen, "ℓ={freeze} layer {i}");
        }
        // Privacy by construction: what leaves TX is decoder parameters and the
        // codebook only, with the shapes of RX's parameters, and nothing more.
        let payload = upload_payload(&aligned, &m);
        let bytes: u64 = payload.iter().map(|(_, t)| t.numel() as u64 * 4).sum();
        assert_eq!(bytes, r.upload_bytes);
        for (name, t) in &payload {
            let expected = if name == "codebook" {
                p.rx.codebook.weight.size()
            } else {
                let i: usize = name.split('.').nth(1).unwrap().parse().unwrap();
                assert!(name.starts_with("decoder.") && i < big_l - freeze, "{name} sent at ℓ={freeze}");
                let l = &p.rx.decoder.layers[i];
                if name.ends_with("weight") {
                    l.weight.size()
                } else {
                    l.bias.size()
                }
            };
            assert_eq!(t.size(), expected, "{name}");
        }
        if let Some(q) = &prev {
            assert!(r.upload_bytes < q.upload_bytes, "upload must shrink with ℓ");
            assert!(r.flops_per_step < q.flops_per_step, "FLOPs per step must shrink with ℓ");
            assert_eq!(r.download_bytes, q.download_bytes);
            assert!(r.recovery_time_s < q.recovery_time_s);
        }
        prev = Some(r);
    }
}

#[test]
fn split_learning_learns_like_full_fine_tuning_at_another_cost() {
    let p = pair();
    let (slf, _) = run(&p, Method::Slf { freeze: 0, side: FreezeSide::Output }, 12);
    let (sl, _) = run(&p, Method::SplitLearning, 12);
    assert_eq!(sl.after, slf.after);
    assert_eq!(sl.curve, slf.curve);
    assert!(sl.per_step_up_bytes > 0 && sl.per_step_down_bytes > 0);
    assert_eq!(sl.upload_bytes, sl.per_step_up_bytes * 12);
    assert!(sl.upload_bytes > slf.upload_bytes, "12 steps of activations outweigh one decoder here");
}

#[test]
fn none_changes_nothing_and_encoder_only_keeps_rx_decoder() {
    let p = pair();
    let (none, _) = run(&p, Method::None, 10);
    assert_eq!(none.before, none.after);
    assert_eq!((none.upload_bytes, none.download_bytes, none.finetune_flops), (0, 0, 0));
    let (eo, aligned) = run(&p, Method::EncoderOnly { codebook: false }, 10);
    assert_eq!(eo.upload_bytes, 0);
    assert!(equal(&aligned.codebook.weight, &p.rx.codebook.weight));
    for (a, b) in aligned.decoder.layers.iter().zip(&p.rx.decoder.layers) {
        assert!(equal(&a.weight, &b.weight) && equal(&a.bias, &b.bias));
    }
    assert!(!equal(&aligned.encoder.layers[0].weight, &p.tx.encoder.layers[0].weight), "encoder must train");
}

#[test]
fn target_accuracy_stops_early_and_freezing_too_many_layers_is_an_error() {
    let p = pair();
    let budget = Budget {
        steps: 50,
        eval_every: 5,
        target_accuracy: Some(0.0),
        curve_images: 50,
        batch_size: 16,
        ..Budget::default()
    };
    let inputs = AlignInputs { local_images: &p.local, test: &p.test, data_dir: &embedded_data() };
    let m = Method::Slf { freeze: 1, side: FreezeSide::Output };
    // A target of 0 is met at the first check (step 0), before any step.
    let (r, _) = align(&p.tx, &p.rx, &m, &budget, &CostParams::default(), &inputs, 1).unwrap();
    assert_eq!(r.steps, 0);
    let bad = Method::Slf { freeze: 5, side: FreezeSide::Output };
    assert!(align(&p.tx, &p.rx, &bad, &budget, &CostParams::default(), &inputs, 1).is_err());
}
