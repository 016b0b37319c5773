//! The loaders on the real data sets (needs SLFSIM_DATA).

mod common;
use common::*;
use slfsim::data::{load, ColorMode, DatasetKind, Split};

#[test]
fn real_data_sets_load_with_canonical_sizes() {
    let dir = full_data();
    for (kind, train, test) in [
        (DatasetKind::Mnist, 60_000, 10_000),
        (DatasetKind::FashionMnist, 60_000, 10_000),
        (DatasetKind::Cifar10, 50_000, 10_000),
    ] {
        for (split, n) in [(Split::Train, train), (Split::Test, test)] {
            let s = load(&dir, kind, split, ColorMode::Grey).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.len(), n, "{kind} {split}");
            assert_eq!(s.channels, 1);
            let (lo, hi) = s.pixels.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
            assert!(lo >= 0.0 && hi <= 1.0 && hi > 0.9, "{kind} {split}: pixel range {lo}..{hi}");
            let mut counts = [0usize; 10];
            s.labels.iter().for_each(|&l| counts[l as usize] += 1);
            assert!(counts.iter().all(|&c| c > n / 20), "{kind} {split}: class counts {counts:?}");
        }
    }
    let rgb = load(&dir, DatasetKind::Cifar10, Split::Test, ColorMode::Rgb).unwrap();
    assert_eq!(rgb.channels, 3);
    assert_eq!(rgb.pixels.len(), 10_000 * 3 * 32 * 32);
}
