//! SLF and its baselines on two small transceivers trained apart (embedded
//! data): freezing on either side, costs, what leaves TX and how RX is built
//! from it, split learning really split, retraining, and SLF's gain on the
//! shipped checkpoints.

mod common;
use common::*;

use slfsim::align::cost::{layer_costs, method_cost, split_learning_step_bytes, CostParams};
use slfsim::align::{
    align, download_payload, install, split_step, start_finetune, AlignInputs, AlignResult, Aligned, Budget,
    CutTraffic, FreezeSide, Method,
};
use slfsim::seed::stream;
use slfsim::transceiver::{
    evaluate_link_judged, load_checkpoint, local_data, test_batch, train_profile, vq_step, Profile, Transceiver,
};

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

fn train_pair() -> Pair {
    let (ptx, prx) = (tiny("a", 1), tiny("b", 2));
    let tx = train_profile(&ptx, &embedded_data(), &mut |_, _, _| {}).unwrap().0;
    let rx = train_profile(&prx, &embedded_data(), &mut |_, _, _| {}).unwrap().0;
    let local = local_data(&ptx, &embedded_data()).unwrap().0;
    let test = test_batch(&ptx, &embedded_data(), 200).unwrap();
    Pair { tx, rx, local, test }
}

/// The pair, trained once for all tests of this file; each test holds it
/// for its whole run (LibTorch already uses both cores).
fn pair() -> std::sync::MutexGuard<'static, Option<Pair>> {
    static PAIR: std::sync::Mutex<Option<Pair>> = std::sync::Mutex::new(None);
    tch::set_num_threads(2);
    // A test that failed while holding the pair leaves it intact (it is only read).
    let mut g = PAIR.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = Some(train_pair());
    }
    g
}

fn run(p: &Pair, m: Method, steps: usize) -> (AlignResult, Aligned) {
    let budget = Budget { steps, eval_every: 5, curve_images: 100, batch_size: 16, ..Budget::default() };
    let inputs = AlignInputs { local_images: &p.local, test: &p.test, data_dir: &embedded_data() };
    align(&p.tx, &p.rx, &m, &budget, &CostParams::default(), &inputs, 9).unwrap()
}

// Bounds from measurements on this pair (LibTorch 2.13, 2 threads; README, Tests):
// - one split-learning step vs the joint step: parameters differ by at most 1.4e-7
//   of the largest (rounding); a lost gradient differs by the step itself (~0.5 with SGD 1);
const STEP_TOL: f64 = 1e-5;
// - 30 steps of split learning vs SLF ℓ = 0: the same accuracy on 200 images and MSE
//   within 1e-8 (relative); allowed: 2 images, and 1e-4, while one step moves the MSE by per cents.
const ACC_TOL: f64 = 0.01;
const MSE_TOL: f64 = 1e-4;
// - retrain, 40 steps from scratch: MSE 0.077 -> 0.044 (x 0.57).
const RETRAIN_MSE_CUT: f64 = 0.75;
// - SLF ℓ = 2, 40 steps, shipped mnist_e0_s2 -> mnist_e0_s1 on ./data: accuracy
//   0.114 -> 0.748, MSE 0.137 -> 0.031 (x 0.22).
const SHIPPED_BEFORE_MAX: f64 = 0.3;
const SHIPPED_AFTER_MIN: f64 = 0.6;
const SHIPPED_MSE_CUT: f64 = 0.5;

fn equal(a: &tch::Tensor, b: &tch::Tensor) -> bool {
    a.size() == b.size() && a.equal(b)
}

/// Checks one SLF run: which decoder layers TX trained, what it uploaded, and
/// that RX's side is RX's own transceiver with exactly the uploaded tensors
/// installed. Returns the decoder layers that moved.
fn check_upload(p: &Pair, m: Method, r: &AlignResult, a: &Aligned) -> Vec<bool> {
    let big_l = p.rx.decoder.layers.len();
    let flags = m.trainable(big_l).decoder;
    // TX trained exactly the unfrozen layers; the frozen ones are RX's.
    let moved: Vec<bool> =
        a.tx.decoder.layers.iter().zip(&p.rx.decoder.layers).map(|(x, y)| !equal(&x.weight, &y.weight)).collect();
    assert_eq!(moved, flags, "{}: layers TX trained", r.method);
    assert!(!equal(&a.tx.encoder.layers[0].weight, &p.tx.encoder.layers[0].weight), "encoder θ must train");
    // What left TX: the unfrozen layers and the codebook, by name, and nothing else.
    let mut names: Vec<String> = vec!["codebook".into()];
    for (i, &f) in flags.iter().enumerate() {
        if f {
            names.extend([format!("decoder.{i}.weight"), format!("decoder.{i}.bias")]);
        }
    }
    let sent: Vec<String> = a.upload.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(sent, names, "{}", r.method);
    let bytes: u64 = a.upload.iter().map(|(_, t)| t.numel() as u64 * 4).sum();
    assert_eq!(bytes, r.upload_bytes, "{}: bytes uploaded vs the cost model", r.method);
    assert_eq!(a.handed.upload_bytes, r.upload_bytes);
    assert_eq!(a.handed.download_bytes, r.download_bytes, "{}: RX hands over φ_j and the codebook", r.method);
    // RX's side: its own encoder, classifier and frozen layers, and the uploaded
    // tensors, equal to what TX trained.
    let installed: Vec<(String, &tch::Tensor)> = a.rx.named_tensors();
    let own: Vec<(String, &tch::Tensor)> = p.rx.named_tensors();
    for ((name, t), (_, mine)) in installed.iter().zip(&own) {
        match a.upload.iter().find(|(n, _)| n == name) {
            Some((_, u)) => assert!(equal(t, u), "{name}: RX did not install the uploaded tensor"),
            None => assert!(equal(t, mine), "{name}: RX changed a tensor nobody sent"),
        }
    }
    for (x, y) in a.tx.decoder.layers.iter().zip(&a.rx.decoder.layers) {
        assert!(equal(&x.weight, &y.weight) && equal(&x.bias, &y.bias), "{}: RX decodes with φ_ij", r.method);
    }
    assert!(equal(&a.tx.codebook.weight, &a.rx.codebook.weight));
    // The accuracy after is that of the link from TX's side to RX's installed side.
    let judges = [&p.rx.classifier, &p.tx.classifier];
    let mut rng = stream(9, "align-eval", &[p.tx.name(), p.rx.name()]);
    let (mm, acc) = evaluate_link_judged(&a.tx, &a.rx, &judges, &p.test, &mut rng);
    assert_eq!((acc[0], acc[1], mm.mse), (r.after.accuracy_rx, r.after.accuracy_tx, r.after.mse), "{}", r.method);
    moved
}

#[test]
fn slf_freezes_sends_and_costs_what_it_should() {
    let guard = pair();
    let p = guard.as_ref().unwrap();
    let big_l = p.rx.decoder.layers.len();
    let mut prev: Option<AlignResult> = None;
    for freeze in 0..=big_l {
        let m = Method::Slf { freeze, side: FreezeSide::Output };
        let (r, a) = run(p, m, 10);
        assert_eq!(r.steps, 10);
        assert_eq!(r.freeze, Some(freeze));
        let moved = check_upload(p, m, &r, &a);
        // The last ℓ layers stay RX's.
        assert_eq!(moved, (0..big_l).map(|i| i < big_l - freeze).collect::<Vec<_>>(), "ℓ={freeze}");
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
fn input_side_freezing_trains_and_sends_the_last_layers_only() {
    let guard = pair();
    let p = guard.as_ref().unwrap();
    let big_l = p.rx.decoder.layers.len();
    for freeze in [1, 2] {
        let m = Method::Slf { freeze, side: FreezeSide::Input };
        let (r, a) = run(p, m, 10);
        assert_eq!(r.method, format!("slf-in-l{freeze}"));
        let moved = check_upload(p, m, &r, &a);
        // The first ℓ layers (next to the codebook) stay RX's; the rest trained.
        assert_eq!(moved, (0..big_l).map(|i| i >= freeze).collect::<Vec<_>>(), "input ℓ={freeze}");
        let out = Method::Slf { freeze, side: FreezeSide::Output };
        let c = method_cost(&p.tx.profile.model, 1, &out, 10, 16, &CostParams::default());
        assert_ne!(r.upload_bytes, c.upload_bytes, "input-side ℓ={freeze} sends other layers than output-side");
    }
}

/// Largest |a - b| over two lists of tensors, relative to the largest |b|.
fn rel_diff(a: &[&tch::Tensor], b: &[&tch::Tensor]) -> f64 {
    let (mut num, mut den) = (0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        num = num.max((*x - *y).abs().max().double_value(&[]));
        den = den.max(y.abs().max().double_value(&[]));
    }
    num / den
}

#[test]
fn a_split_learning_step_hands_over_four_tensors_and_computes_the_joint_gradients() {
    let guard = pair();
    let p = guard.as_ref().unwrap();
    let batch = 16;
    let x = p.local.narrow(0, 0, batch);
    // Joint: SLF ℓ = 0 at TX, one SGD step of rate 1, so each parameter moves by its gradient.
    let (joint, _) = start_finetune(&p.tx, &p.rx, &Method::Slf { freeze: 0, side: FreezeSide::Output }, 1e-3).unwrap();
    let sgd = |ps: Vec<&tch::Tensor>| {
        let mut o = tch::COptimizer::sgd(1.0, 0.0, 0.0, 0.0, false).unwrap();
        for t in ps {
            o.add_parameters(t, 0).unwrap();
        }
        o
    };
    let opt = sgd(joint.vq_params());
    let mse_joint = vq_step(&joint, &x, &opt, &mut stream(1, "t", &[])).unwrap().0;
    // Split: TX holds θ_i and the codebook RX handed it, RX its own φ_j; one optimiser each.
    let tx_side = install(&p.tx, &download_payload(&p.rx, &Method::SplitLearning)).unwrap();
    let rx_side = p.rx.deep_clone();
    let mut tx_params: Vec<&tch::Tensor> = tx_side.encoder.layers.iter().flat_map(|l| l.params()).collect();
    tx_params.push(&tx_side.codebook.weight);
    let (opt_tx, opt_rx) = (sgd(tx_params), sgd(rx_side.decoder.layers.iter().flat_map(|l| l.params()).collect()));
    let mut traffic = CutTraffic::default();
    let mse_split =
        split_step(&tx_side, &rx_side, &x, &opt_tx, &opt_rx, &mut stream(1, "t", &[]), &mut traffic).unwrap();
    // What crossed: z and ∂L/∂x̂ up, x̂ and ∂L/∂z down, as the cost model counts.
    let layers = layer_costs(&p.tx.profile.model, 1);
    let (up, down) = split_learning_step_bytes(&layers, batch as u64);
    assert_eq!((traffic.up_bytes, traffic.down_bytes), (up, down));
    assert_eq!(up, (16 * 8 * 8 + 32 * 32) * 4 * batch as u64, "z (D·8·8) and ∂L/∂x̂ (32·32) per image");
    // TX's own decoder never took part.
    for (a, b) in tx_side.decoder.layers.iter().zip(&p.tx.decoder.layers) {
        assert!(equal(&a.weight, &b.weight));
    }
    // The same gradients as the joint step, up to float rounding (measured below, printed);
    // a gradient lost at the cut leaves a difference of the size of the gradient itself.
    assert!((mse_split - mse_joint).abs() < 1e-6, "{mse_split} vs {mse_joint}");
    fn enc(m: &Transceiver) -> Vec<&tch::Tensor> {
        m.encoder.layers.iter().flat_map(|l| l.params()).collect()
    }
    fn dec(m: &Transceiver) -> Vec<&tch::Tensor> {
        m.decoder.layers.iter().flat_map(|l| l.params()).collect()
    }
    let (de, dd) = (rel_diff(&enc(&tx_side), &enc(&joint)), rel_diff(&dec(&rx_side), &dec(&joint)));
    let dc = rel_diff(&[&tx_side.codebook.weight], &[&joint.codebook.weight]);
    println!("split vs joint after one step: encoder {de:.1e}, decoder {dd:.1e}, codebook {dc:.1e}");
    assert!(de < STEP_TOL && dd < STEP_TOL && dc < STEP_TOL, "encoder {de:.1e}, decoder {dd:.1e}, codebook {dc:.1e}");
    let moved = [rel_diff(&enc(&tx_side), &enc(&p.tx)), rel_diff(&dec(&rx_side), &dec(&p.rx))];
    println!("moved by the step: encoder {:.1e}, decoder {:.1e}", moved[0], moved[1]);
    assert!(moved.iter().all(|&m| m > 100.0 * STEP_TOL), "a side did not train: {moved:?}");
}

#[test]
fn split_learning_learns_like_full_fine_tuning_at_another_cost() {
    let guard = pair();
    let p = guard.as_ref().unwrap();
    let steps = 30;
    let (slf, _) = run(p, Method::Slf { freeze: 0, side: FreezeSide::Output }, steps);
    let (sl, a) = run(p, Method::SplitLearning, steps);
    println!("slf ℓ=0: {:?}\nsplit:   {:?}", slf.after, sl.after);
    // Alike to rounding, at every curve point and after (see ACC_TOL, MSE_TOL).
    assert_eq!(sl.curve.len(), slf.curve.len());
    let pts =
        sl.curve.iter().zip(&slf.curve).map(|(a, b)| (a.accuracy_rx, a.mse, b.accuracy_rx, b.mse, a.step, b.step));
    for (acc, mse, acc0, mse0, s, s0) in
        pts.chain([(sl.after.accuracy_rx, sl.after.mse, slf.after.accuracy_rx, slf.after.mse, steps, steps)])
    {
        assert_eq!(s, s0);
        assert!((acc - acc0).abs() <= ACC_TOL, "step {s}: accuracy {acc} vs {acc0} at ℓ = 0");
        assert!((mse - mse0).abs() <= MSE_TOL * mse0, "step {s}: MSE {mse} vs {mse0} at ℓ = 0");
    }
    assert!(sl.after.mse < 0.7 * sl.before.mse, "split learning must learn: {:?} -> {:?}", sl.before, sl.after);
    // Bytes handed over, counted on the tensors that crossed, are the cost model's.
    assert_eq!(a.handed.cut.up_bytes, sl.per_step_up_bytes * steps as u64);
    assert_eq!(a.handed.cut.down_bytes, sl.per_step_down_bytes * steps as u64);
    assert_eq!(a.handed.download_bytes + a.handed.cut.down_bytes, sl.download_bytes);
    assert_eq!(a.handed.upload_bytes + a.handed.cut.up_bytes, sl.upload_bytes);
    // φ stayed at RX: only the codebook went up at the end, RX's decoder trained in place.
    let sent: Vec<&str> = a.upload.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(sent, ["codebook"]);
    assert!(!equal(&a.rx.decoder.layers[0].weight, &p.rx.decoder.layers[0].weight), "φ_j trained at RX");
    for (x, y) in a.tx.decoder.layers.iter().zip(&p.tx.decoder.layers) {
        assert!(equal(&x.weight, &y.weight), "TX never holds φ");
    }
    assert!(sl.upload_bytes > slf.upload_bytes, "30 steps of activations outweigh one decoder here");
}

#[test]
fn retrain_builds_a_new_pair_and_uploads_its_whole_decoder() {
    let guard = pair();
    let p = guard.as_ref().unwrap();
    let (r, a) = run(p, Method::Retrain, 40);
    assert_eq!((r.method.as_str(), r.steps, r.download_bytes, a.handed.download_bytes), ("retrain", 40, 0, 0));
    let mut names = vec!["codebook".to_string()];
    for i in 0..p.rx.decoder.layers.len() {
        names.extend([format!("decoder.{i}.weight"), format!("decoder.{i}.bias")]);
    }
    assert_eq!(a.upload.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), names);
    assert_eq!(a.handed.upload_bytes, r.upload_bytes);
    // Nothing of RX's decoder or codebook survives, nor TX's encoder: a new pair.
    for (x, y) in a.rx.decoder.layers.iter().zip(&p.rx.decoder.layers) {
        assert!(!equal(&x.weight, &y.weight));
    }
    assert!(!equal(&a.tx.encoder.layers[0].weight, &p.tx.encoder.layers[0].weight));
    assert!(equal(&a.rx.encoder.layers[0].weight, &p.rx.encoder.layers[0].weight), "RX keeps its own encoder");
    println!("retrain: {:?} -> {:?}", r.before, r.after);
    assert!(r.after.mse < RETRAIN_MSE_CUT * r.before.mse, "{:?} -> {:?}", r.before, r.after);
    assert_eq!(r.curve.len(), 1);
    assert_eq!(r.curve[0].step, 40);
}

#[test]
fn none_changes_nothing_and_encoder_only_keeps_rx_decoder() {
    let guard = pair();
    let p = guard.as_ref().unwrap();
    let (none, a) = run(p, Method::None, 10);
    assert_eq!(none.before, none.after);
    assert_eq!((none.upload_bytes, none.download_bytes, none.finetune_flops), (0, 0, 0));
    assert!(a.upload.is_empty() && a.handed.download_bytes == 0);
    let (eo, a) = run(p, Method::EncoderOnly { codebook: false }, 10);
    assert_eq!(eo.upload_bytes, 0);
    assert!(a.upload.is_empty());
    assert_eq!(a.handed.download_bytes, eo.download_bytes);
    for m in [&a.tx, &a.rx] {
        assert!(equal(&m.codebook.weight, &p.rx.codebook.weight));
    }
    for (x, y) in a.rx.decoder.layers.iter().zip(&p.rx.decoder.layers) {
        assert!(equal(&x.weight, &y.weight) && equal(&x.bias, &y.bias));
    }
    assert!(!equal(&a.tx.encoder.layers[0].weight, &p.tx.encoder.layers[0].weight), "encoder must train");
    // With the codebook: it trains, goes up, and RX installs it.
    let m = Method::EncoderOnly { codebook: true };
    let (eo, a) = run(p, m, 10);
    assert_eq!(a.upload.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["codebook"]);
    assert_eq!((a.handed.upload_bytes, eo.upload_bytes), (64 * 16 * 4, 64 * 16 * 4));
    assert!(
        !equal(&a.rx.codebook.weight, &p.rx.codebook.weight) && equal(&a.rx.codebook.weight, &a.tx.codebook.weight)
    );
}

#[test]
fn target_accuracy_stops_early_and_freezing_too_many_layers_is_an_error() {
    let guard = pair();
    let p = guard.as_ref().unwrap();
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

#[test]
fn slf_recovers_a_misaligned_shipped_pair_on_the_embedded_data() {
    tch::set_num_threads(2);
    let data = embedded_data();
    let sc = slfsim::scenario::load(&root().join("scenarios/quickstart.ron")).unwrap();
    let models = root().join(&sc.models_dir);
    // Same data and channel, other seeds: trained apart, so misaligned.
    let (ptx, prx) = (sc.profile("mnist_e0_s2").unwrap(), sc.profile("mnist_e0_s1").unwrap());
    let tx = load_checkpoint(&models, ptx).unwrap().0;
    let rx = load_checkpoint(&models, prx).unwrap().0;
    let local = local_data(ptx, &data).unwrap().0;
    let test = test_batch(ptx, &data, 1000).unwrap();
    let inputs = AlignInputs { local_images: &local, test: &test, data_dir: &data };
    let budget = Budget { steps: 40, eval_every: 20, curve_images: 200, ..Budget::default() };
    let m = Method::Slf { freeze: 2, side: FreezeSide::Output };
    let (r, _) = align(&tx, &rx, &m, &budget, &CostParams::default(), &inputs, 1).unwrap();
    println!("slf ℓ=2, 40 steps on ./data: {:?} -> {:?}", r.before, r.after);
    assert!(r.before.accuracy_rx < SHIPPED_BEFORE_MAX, "the pair must start misaligned: {:?}", r.before);
    assert!(r.after.accuracy_rx > SHIPPED_AFTER_MIN, "{:?} -> {:?}", r.before, r.after);
    assert!(r.after.mse < SHIPPED_MSE_CUT * r.before.mse, "{:?} -> {:?}", r.before, r.after);
}

/// A run keeps 8-bit local images as bytes (a quarter of the memory) and
/// decodes each batch through the loaders' levels: SLF on them must be SLF on
/// the floats, to the bit.
#[test]
fn slf_on_local_images_kept_as_bytes_is_slf_on_the_floats() {
    use slfsim::data::{load_bytes, DatasetKind, Split};
    use slfsim::transceiver::{decode_images, local_images_bytes};
    let g = pair();
    let p = g.as_ref().unwrap();
    let ptx = tiny("a", 1);
    let set = load_bytes(&embedded_data(), DatasetKind::Mnist, Split::Train, ptx.data.color).unwrap().unwrap();
    let bytes = local_images_bytes(&ptx, &set).unwrap();
    assert_eq!(bytes.kind(), tch::Kind::Uint8);
    assert_eq!(bytes.size(), p.local.size());
    assert!(decode_images(&bytes).equal(&p.local), "decoded bytes differ from the loader's floats");
    let budget = Budget { steps: 12, eval_every: 4, curve_images: 100, batch_size: 16, ..Budget::default() };
    let m = Method::Slf { freeze: 2, side: FreezeSide::Output };
    let on = |local: &tch::Tensor| {
        let inputs = AlignInputs { local_images: local, test: &p.test, data_dir: &embedded_data() };
        align(&p.tx, &p.rx, &m, &budget, &CostParams::default(), &inputs, 9).unwrap()
    };
    let ((r_f32, a_f32), (r_u8, a_u8)) = (on(&p.local), on(&bytes));
    assert_eq!(serde_json::to_string(&r_f32).unwrap(), serde_json::to_string(&r_u8).unwrap());
    assert!(r_f32.after.mse < r_f32.before.mse, "the steps did something");
    let (cb_f32, cb_u8) = (&a_f32.tx.codebook.weight, &a_u8.tx.codebook.weight);
    assert!(cb_f32.equal(cb_u8), "TX's fine-tuned codebook differs");
}

#[test]
fn judging_and_confidences_in_one_pass_equal_the_two_passes() {
    use rand::RngCore;
    use slfsim::transceiver::{encode_messages, judge_messages, judge_messages_seen, message_confidences, ChannelSpec};
    let g = pair();
    let p = g.as_ref().unwrap();
    let msgs = encode_messages(&p.tx, &p.test);
    // ε = 0 (both copies agree: one decoding) and ε > 0 (they differ: two);
    // the seer the judge itself, and another classifier.
    for eps in [0.0, 0.2] {
        let channel = ChannelSpec { epsilon: eps, ..p.tx.profile.channel };
        for (judge, seer) in [(&p.rx.classifier, &p.rx.classifier), (&p.tx.classifier, &p.rx.classifier)] {
            let (mut j1, mut s1) = (stream(5, "judged", &[]), stream(5, "seen", &[]));
            let (m, acc) = judge_messages(&msgs, &channel, &p.rx, &[judge], &p.test, &mut j1);
            let conf = message_confidences(&msgs, &channel, &p.rx, seer, &p.test, &mut s1);
            let (mut j2, mut s2) = (stream(5, "judged", &[]), stream(5, "seen", &[]));
            let (m2, conf2) =
                judge_messages_seen(&msgs, &channel, &p.rx, judge, (seer, Some(&mut s2)), &p.test, &mut j2);
            assert_eq!((m.accuracy.to_bits(), m.mse.to_bits()), (m2.accuracy.to_bits(), m2.mse.to_bits()), "ε {eps}");
            assert_eq!(acc[0], m2.accuracy);
            assert_eq!(conf, conf2, "ε {eps}");
            // Both streams were used up alike.
            assert_eq!((j1.next_u64(), s1.next_u64()), (j2.next_u64(), s2.next_u64()));
        }
    }
}
