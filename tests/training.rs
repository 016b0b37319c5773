//! Training is a pure function of the profile (and the thread count), and
//! checkpoints round-trip.

mod common;
use common::*;

use slfsim::transceiver::{
    checkpoint_paths, evaluate_link, is_up_to_date, load_checkpoint, save_checkpoint, test_batch, train_profile,
    Profile,
};

fn tiny(seed: u64) -> Profile {
    let text = format!(
        r#"Scenario(name: "t", profiles: [(name: "p{seed}", data: (dataset: mnist, partition: dirichlet(alpha: 1.0, size: 512)),
           channel: (kind: bsc, epsilon: 0.05), seed: {seed},
           train: (steps: 30, classifier_steps: 10, batch_size: 32, eval_images: 100, restart_every: 10))])"#
    );
    slfsim::scenario::parse(&text, std::path::Path::new("t.ron")).unwrap().profiles.remove(0)
}

fn train_bytes(p: &Profile, dir: &std::path::Path) -> Vec<u8> {
    let (m, r) = train_profile(p, &embedded_data(), &mut |_, _, _| {}).unwrap();
    let (w, _) = save_checkpoint(dir, &m, &r).unwrap();
    std::fs::read(w).unwrap()
}

#[test]
fn same_profile_and_seed_give_identical_checkpoint_bytes() {
    tch::set_num_threads(2);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let p = tiny(1);
    let x = train_bytes(&p, a.path());
    let y = train_bytes(&p, b.path());
    assert!(x == y, "two trainings of one profile differ");
    let z = train_bytes(&tiny(2), b.path());
    assert!(x != z, "different seeds gave identical weights");
}

#[test]
fn checkpoint_round_trip_and_staleness() {
    tch::set_num_threads(2);
    let d = tempfile::tempdir().unwrap();
    let p = tiny(3);
    let (m, r) = train_profile(&p, &embedded_data(), &mut |_, _, _| {}).unwrap();
    assert!(!is_up_to_date(d.path(), &p));
    save_checkpoint(d.path(), &m, &r).unwrap();
    assert!(is_up_to_date(d.path(), &p));
    let (loaded, meta) = load_checkpoint(d.path(), &p).unwrap();
    assert_eq!(meta.config_hash, p.config_hash());
    // The loaded model reproduces the matched metrics stored at training time.
    let test = test_batch(&p, &embedded_data(), p.train.eval_images).unwrap();
    let mut rng = slfsim::seed::stream(p.seed, "channel", &["eval"]);
    let again = evaluate_link(&loaded, &loaded, &loaded.classifier, &test, &mut rng);
    assert_eq!(again, r.matched);
    // A changed config makes the checkpoint stale; the name alone does not.
    let mut q = p.clone();
    q.train.steps += 1;
    assert!(!is_up_to_date(d.path(), &q));
    // Tampered weights are not up to date.
    let (w, _) = checkpoint_paths(d.path(), &p);
    let mut bytes = std::fs::read(&w).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&w, bytes).unwrap();
    assert!(!is_up_to_date(d.path(), &p));
    assert!(load_checkpoint(d.path(), &p).is_err());
}
