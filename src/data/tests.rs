//! Unit tests on tiny synthetic files written to a temporary directory.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use flate2::write::GzEncoder;
use flate2::Compression;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;

fn idx_images(n: usize, rows: u32, cols: u32, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0x0803u32.to_be_bytes());
    v.extend_from_slice(&(n as u32).to_be_bytes());
    v.extend_from_slice(&rows.to_be_bytes());
    v.extend_from_slice(&cols.to_be_bytes());
    let px = rows as usize * cols as usize;
    for i in 0..n {
        for p in 0..px {
            v.push(f(i, p));
        }
    }
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0x0801u32.to_be_bytes());
    v.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    v.extend_from_slice(labels);
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Pixel value of image i at 28x28 position p: distinct, never 0 so padding is recognisable.
fn pix(i: usize, p: usize) -> u8 {
    (1 + (i * 7 + p) % 254) as u8
}

/// Writes a MNIST-style folder `<root>/<sub>` with the given split files.
fn write_idx(root: &Path, sub: &str, split: Split, n: usize, labels: &[u8], compress: bool) {
    let folder = root.join(sub);
    fs::create_dir_all(&folder).unwrap();
    let (iname, lname) = idx::file_names(split);
    let (ib, lb) = (idx_images(n, 28, 28, pix), idx_labels(labels));
    if compress {
        fs::write(folder.join(format!("{iname}.gz")), gz(&ib)).unwrap();
        fs::write(folder.join(format!("{lname}.gz")), gz(&lb)).unwrap();
    } else {
        fs::write(folder.join(iname), ib).unwrap();
        fs::write(folder.join(lname), lb).unwrap();
    }
}

fn check_padded(set: &ImageSet) {
    for i in 0..set.len() {
        let img = set.image(i);
        for c in 0..set.channels {
            for r in 0..SIDE {
                for col in 0..SIDE {
                    let v = img[c * SIDE * SIDE + r * SIDE + col];
                    if (2..30).contains(&r) && (2..30).contains(&col) {
                        let p = (r - 2) * 28 + (col - 2);
                        assert_eq!(v, pix(i, p) as f32 / 255.0, "image {i} c{c} ({r},{col})");
                    } else {
                        assert_eq!(v, 0.0, "padding at image {i} c{c} ({r},{col})");
                    }
                }
            }
        }
    }
}

#[test]
fn idx_raw_reads_and_pads() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Train, 3, &[0, 9, 4], false);
    let s = load(t.path(), DatasetKind::Mnist, Split::Train, ColorMode::Grey).unwrap();
    assert_eq!((s.len(), s.channels, s.image_len()), (3, 1, 1024));
    assert_eq!(s.labels, vec![0, 9, 4]);
    assert_eq!(s.pixels.len(), 3 * 1024);
    assert_eq!((s.kind, s.split), (DatasetKind::Mnist, Split::Train));
    check_padded(&s);
    // First real pixel sits at row 2, column 2.
    assert_eq!(s.image(0)[2 * 32 + 2], pix(0, 0) as f32 / 255.0);
}

#[test]
fn idx_gz_reads_and_rgb_replicates() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "fashion-mnist", Split::Test, 2, &[1, 2], true);
    let s = load(t.path(), DatasetKind::FashionMnist, Split::Test, ColorMode::Rgb).unwrap();
    assert_eq!((s.len(), s.channels, s.image_len()), (2, 3, 3072));
    check_padded(&s);
    let g = load(t.path(), DatasetKind::FashionMnist, Split::Test, ColorMode::Grey).unwrap();
    check_padded(&g);
    // As bytes: the same layout (padding, replicated planes), each byte the float's 8-bit level.
    for (set, color) in [(&s, ColorMode::Rgb), (&g, ColorMode::Grey)] {
        let b = load_bytes(t.path(), DatasetKind::FashionMnist, Split::Test, color).unwrap().unwrap();
        assert_eq!((b.len(), b.channels, &b.labels), (set.len(), set.channels, &set.labels));
        assert_eq!(b.pixels.len(), set.pixels.len());
        assert!(b.pixels.iter().zip(&set.pixels).all(|(&x, &v)| level(x).to_bits() == v.to_bits()));
    }
    // Errors as `load`'s: a missing folder.
    assert!(load_bytes(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).is_err());
}

#[test]
fn fashion_alternate_folder_name() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "fashion_mnist", Split::Test, 1, &[3], true);
    let s = load(t.path(), DatasetKind::FashionMnist, Split::Test, ColorMode::Grey).unwrap();
    assert_eq!(s.labels, vec![3]);
}

#[test]
fn raw_preferred_over_gz() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Test, 2, &[5, 6], false);
    // A gz label file with other labels next to the raw one must be ignored.
    let f = t.path().join("mnist/t10k-labels-idx1-ubyte.gz");
    fs::write(f, gz(&idx_labels(&[7, 8]))).unwrap();
    let s = load(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap();
    assert_eq!(s.labels, vec![5, 6]);
}

#[test]
fn wrong_magic() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Test, 1, &[0], false);
    let f = t.path().join("mnist/t10k-labels-idx1-ubyte");
    let mut b = fs::read(&f).unwrap();
    b[3] = 0x03; // image magic in a label file
    fs::write(&f, b).unwrap();
    let e = load(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap_err();
    match &e {
        DataError::BadMagic { path, expected, found } => {
            assert_eq!(path, &f);
            assert_eq!((*expected, *found), (0x801, 0x803));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.to_string().contains("t10k-labels-idx1-ubyte"), "{e}");
}

#[test]
fn truncated_images_and_labels() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Test, 2, &[0, 1], true);
    let f = t.path().join("mnist/t10k-images-idx3-ubyte.gz");
    let mut b = idx_images(2, 28, 28, pix);
    b.truncate(16 + 784 + 100);
    fs::write(&f, gz(&b)).unwrap();
    let e = load(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(
        matches!(e, DataError::Truncated { expected_bytes: 1584, found_bytes: 900, ref path } if *path == f),
        "{e:?}"
    );
    // Header itself cut short.
    fs::write(&f, gz(&b[..10])).unwrap();
    let e = load(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::Truncated { expected_bytes: 16, found_bytes: 10, .. }), "{e:?}");
    // Labels short.
    fs::write(&f, gz(&idx_images(2, 28, 28, pix))).unwrap();
    let lf = t.path().join("mnist/t10k-labels-idx1-ubyte.gz");
    fs::write(&lf, gz(&idx_labels(&[0, 1])[..9])).unwrap();
    let e = load(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::Truncated { expected_bytes: 10, found_bytes: 9, .. }), "{e:?}");
}

#[test]
fn trailing_bytes_are_corrupt() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Test, 1, &[0], false);
    let lf = t.path().join("mnist/t10k-labels-idx1-ubyte");
    let mut b = idx_labels(&[0]);
    b.push(1);
    fs::write(&lf, b).unwrap();
    let e = load(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::Corrupt { .. }), "{e:?}");
}

#[test]
fn corrupt_gzip() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Test, 1, &[0], true);
    let f = t.path().join("mnist/t10k-images-idx3-ubyte.gz");
    let mut b = fs::read(&f).unwrap();
    let n = b.len();
    b.truncate(n / 2);
    fs::write(&f, b).unwrap();
    let e = load(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::Corrupt { ref path, .. } if *path == f), "{e:?}");
    assert!(e.to_string().contains("t10k-images-idx3-ubyte.gz"));
}

#[test]
fn idx_label_out_of_range() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Train, 3, &[0, 1, 10], false);
    let e = load(t.path(), DatasetKind::Mnist, Split::Train, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::LabelOutOfRange { index: 2, label: 10, .. }), "{e:?}");
}

#[test]
fn count_mismatch() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Train, 3, &[0, 1], false);
    let e = load(t.path(), DatasetKind::Mnist, Split::Train, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::CountMismatch { n_images: 3, n_labels: 2, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("train-images-idx3-ubyte") && msg.contains("train-labels-idx1-ubyte"), "{msg}");
}

#[test]
fn bad_shape() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Train, 1, &[0], false);
    fs::write(t.path().join("mnist/train-images-idx3-ubyte"), idx_images(1, 32, 32, pix)).unwrap();
    let e = load(t.path(), DatasetKind::Mnist, Split::Train, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::BadShape { rows: 32, cols: 32, .. }), "{e:?}");
}

#[test]
fn missing_file() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Test, 1, &[0], false);
    let e = load(t.path(), DatasetKind::Mnist, Split::Train, ColorMode::Grey).unwrap_err();
    let want = t.path().join("mnist/train-images-idx3-ubyte");
    assert!(matches!(e, DataError::MissingFile { ref path } if *path == want), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("train-images-idx3-ubyte") && msg.contains(".gz"), "{msg}");
}

#[test]
fn missing_dirs() {
    let t = tempfile::tempdir().unwrap();
    // Data set folder missing.
    let e = load(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::MissingDir { ref path, .. } if *path == t.path().join("cifar-10-jpeg75")), "{e:?}");
    assert!(e.to_string().contains("cifar-10-batches-bin"), "{e}");
    // Root missing.
    let gone = t.path().join("nope");
    let e = load(&gone, DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::MissingDir { ref path, .. } if *path == gone), "{e:?}");
}

#[test]
fn resolve_sources() {
    let t = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    assert_eq!(resolve_from(Some(t.path()), Some(other.path())).unwrap(), t.path());
    assert_eq!(resolve_from(None, Some(other.path())).unwrap(), other.path());
    let gone = t.path().join("gone");
    let e = resolve_from(Some(&gone), None).unwrap_err();
    assert!(e.to_string().contains("--data-dir") && e.to_string().contains("gone"), "{e}");
    let e = resolve_from(None, Some(&gone)).unwrap_err();
    assert!(e.to_string().contains("SLFSIM_DATA"), "{e}");
    // The default: ./data (the tests run in the crate root, which ships it) ...
    assert_eq!(resolve_from(None, None).unwrap(), Path::new("data"));
    // ... and a missing default is a clear error naming it.
    let e = resolve_with_default(None, None, &gone).unwrap_err();
    assert!(matches!(e, DataError::MissingDir { ref path, .. } if *path == gone), "{e:?}");
    assert!(e.to_string().contains("default") && e.to_string().contains("gone"), "{e}");
    assert_eq!(resolve_with_default(None, None, other.path()).unwrap(), other.path());
}

fn cifar_record(label: u8, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut v = vec![label];
    for c in 0..3 {
        for p in 0..1024 {
            v.push(f(c, p));
        }
    }
    v
}

fn write_cifar(folder: &Path, name: &str, records: &[Vec<u8>], compress: bool) {
    fs::create_dir_all(folder).unwrap();
    let b: Vec<u8> = records.concat();
    if compress {
        fs::write(folder.join(format!("{name}.gz")), gz(&b)).unwrap();
    } else {
        fs::write(folder.join(name), b).unwrap();
    }
}

#[test]
fn cifar_luma_and_rgb() {
    let t = tempfile::tempdir().unwrap();
    let folder = t.path().join("cifar-10-batches-bin");
    // Image 0: constant planes R=200, G=100, B=50; image 1: varying.
    let r0 = cifar_record(7, |c, _| [200, 100, 50][c]);
    let r1 = cifar_record(2, |c, p| ((p * (c + 1)) % 256) as u8);
    write_cifar(&folder, "test_batch.bin", &[r0, r1.clone()], true);
    let g = load(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Grey).unwrap();
    assert_eq!((g.len(), g.channels, g.labels.clone()), (2, 1, vec![7, 2]));
    let y0 = (0.299 * 200.0 + 0.587 * 100.0 + 0.114 * 50.0) / 255.0; // 0.4835...
    for &v in g.image(0) {
        assert!((v - y0 as f32).abs() < 1e-6, "{v} vs {y0}");
    }
    for p in 0..1024 {
        let (r, gg, b) = (r1[1 + p] as f64, r1[1 + 1024 + p] as f64, r1[1 + 2048 + p] as f64);
        let y = (0.299 * r + 0.587 * gg + 0.114 * b) / 255.0;
        assert!((g.image(1)[p] as f64 - y).abs() < 1e-6);
    }
    let c = load(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Rgb).unwrap();
    assert_eq!((c.channels, c.image_len()), (3, 3072));
    assert_eq!(c.image(0)[0], 200.0 / 255.0);
    assert_eq!(c.image(0)[1024], 100.0 / 255.0);
    assert_eq!(c.image(0)[3071], 50.0 / 255.0);
    for i in 0..3072 {
        assert_eq!(c.image(1)[i], r1[1 + i] as f32 / 255.0);
    }
    // Colour values read as bytes are the floats' 8-bit levels; grey mixes channels and has none.
    let b = load_bytes(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Rgb).unwrap().unwrap();
    assert_eq!((b.len(), b.channels, b.labels.clone()), (2, 3, vec![7, 2]));
    assert!(b.pixels.iter().zip(&c.pixels).all(|(&x, &v)| level(x).to_bits() == v.to_bits()));
    assert_eq!(b.pixels.len(), c.pixels.len());
    assert!(load_bytes(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Grey).unwrap().is_none());
    // White stays within [0, 1].
    write_cifar(&folder, "test_batch.bin", &[cifar_record(0, |_, _| 255)], false);
    let w = load(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Grey).unwrap();
    assert!(w.pixels.iter().all(|&v| v <= 1.0 && v > 0.999));
}

#[test]
fn cifar_train_needs_all_five_batches_in_order() {
    let t = tempfile::tempdir().unwrap();
    let folder = t.path().join("cifar-10-jpeg75");
    for b in 1..=4u8 {
        write_cifar(&folder, &format!("data_batch_{b}.bin"), &[cifar_record(b, |_, _| b)], b % 2 == 0);
    }
    let e = load(t.path(), DatasetKind::Cifar10, Split::Train, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::MissingFile { ref path } if path.ends_with("data_batch_5.bin")), "{e:?}");
    write_cifar(&folder, "data_batch_5.bin", &[cifar_record(5, |_, _| 5), cifar_record(6, |_, _| 6)], false);
    let s = load(t.path(), DatasetKind::Cifar10, Split::Train, ColorMode::Rgb).unwrap();
    assert_eq!(s.labels, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(s.image(4)[0], 5.0 / 255.0);
}

#[test]
fn cifar_truncated_and_bad_label() {
    let t = tempfile::tempdir().unwrap();
    let folder = t.path().join("cifar10");
    let mut b = cifar_record(1, |_, _| 0);
    b.extend_from_slice(&[1, 2, 3]);
    fs::create_dir_all(&folder).unwrap();
    fs::write(folder.join("test_batch.bin"), &b).unwrap();
    let e = load(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::Truncated { expected_bytes: 6146, found_bytes: 3076, .. }), "{e:?}");
    write_cifar(&folder, "test_batch.bin", &[cifar_record(1, |_, _| 0), cifar_record(12, |_, _| 0)], false);
    let e = load(t.path(), DatasetKind::Cifar10, Split::Test, ColorMode::Grey).unwrap_err();
    assert!(matches!(e, DataError::LabelOutOfRange { index: 1, label: 12, .. }), "{e:?}");
}

#[test]
fn imageset_subset_take_and_cache() {
    let t = tempfile::tempdir().unwrap();
    write_idx(t.path(), "mnist", Split::Test, 4, &[0, 1, 2, 3], true);
    let s = load_cached(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap();
    let s2 = load_cached(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Grey).unwrap();
    assert!(Arc::ptr_eq(&s, &s2));
    let s3 = load_cached(t.path(), DatasetKind::Mnist, Split::Test, ColorMode::Rgb).unwrap();
    assert!(!Arc::ptr_eq(&s, &s3));
    let sub = s.subset(&[3, 1]);
    assert_eq!(sub.labels, vec![3, 1]);
    assert_eq!(sub.image(0), s.image(3));
    assert_eq!(sub.image(1), s.image(1));
    let tk = s.take(2);
    assert_eq!(tk.labels, vec![0, 1]);
    assert_eq!(tk.pixels, s.pixels[..2048]);
    assert_eq!(s.take(100).len(), 4);
    assert!(s.take(0).is_empty());
    assert!(!s.is_empty());
}

#[test]
fn kind_names() {
    assert_eq!(DatasetKind::Mnist.to_string(), "mnist");
    assert_eq!(DatasetKind::FashionMnist.to_string(), "fashion_mnist");
    assert_eq!(DatasetKind::Cifar10.to_string(), "cifar10");
    for k in DatasetKind::ALL {
        assert_eq!(k.to_string().parse::<DatasetKind>().unwrap(), k);
        assert_eq!(k.num_classes(), 10);
    }
    assert_eq!("fashion-mnist".parse::<DatasetKind>().unwrap(), DatasetKind::FashionMnist);
    assert_eq!(ColorMode::default(), ColorMode::Grey);
    assert_eq!((ColorMode::Grey.channels(), ColorMode::Rgb.channels()), (1, 3));
}

// ---------- partitions ----------

fn balanced_labels(per_class: usize) -> Vec<u8> {
    (0..10 * per_class).map(|i| (i % 10) as u8).collect()
}

fn histogram(labels: &[u8], idx: &[usize]) -> [usize; 10] {
    let mut h = [0; 10];
    for &i in idx {
        h[labels[i] as usize] += 1;
    }
    h
}

fn assert_sorted_unique(idx: &[usize]) {
    assert!(idx.windows(2).all(|w| w[0] < w[1]), "not strictly ascending");
}

#[test]
fn select_all_and_iid() {
    let labels = balanced_labels(50);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    assert_eq!(select(&labels, 10, &Partition::All, &mut rng).unwrap(), (0..500).collect::<Vec<_>>());
    let p = Partition::Iid { size: 123 };
    let a = select(&labels, 10, &p, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
    let b = select(&labels, 10, &p, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
    let c = select(&labels, 10, &p, &mut ChaCha8Rng::seed_from_u64(8)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), 123);
    assert_sorted_unique(&a);
    assert!(a.iter().all(|&i| i < 500));
    assert_eq!(select(&labels, 10, &Partition::Iid { size: 500 }, &mut rng).unwrap().len(), 500);
    assert!(select(&labels, 10, &Partition::Iid { size: 0 }, &mut rng).unwrap().is_empty());
    let e = select(&labels, 10, &Partition::Iid { size: 501 }, &mut rng).unwrap_err();
    assert!(matches!(e, DataError::BadPartition { .. }));
}

#[test]
fn select_dirichlet_deterministic_and_sized() {
    let labels = balanced_labels(100);
    for alpha in [0.01, 0.05, 0.5, 1.0, 10.0, 1000.0] {
        for size in [0, 1, 7, 100, 333, 1000] {
            let p = Partition::Dirichlet { alpha, size };
            let a = select(&labels, 10, &p, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
            let b = select(&labels, 10, &p, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.len(), size, "alpha {alpha} size {size}");
            assert_sorted_unique(&a);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(select(&labels, 10, &Partition::Dirichlet { alpha: bad, size: 10 }, &mut rng).is_err());
    }
    assert!(select(&labels, 10, &Partition::Dirichlet { alpha: 1.0, size: 1001 }, &mut rng).is_err());
    assert!(select(&[0, 11], 10, &Partition::All, &mut rng).is_err());
}

#[test]
fn dirichlet_refills_when_a_class_runs_out() {
    // 5 items per class: a skewed draw of 40 must overflow and be refilled.
    let labels = balanced_labels(5);
    for seed in 0..20 {
        let p = Partition::Dirichlet { alpha: 0.05, size: 40 };
        let idx = select(&labels, 10, &p, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        assert_eq!(idx.len(), 40);
        assert_sorted_unique(&idx);
        assert!(histogram(&labels, &idx).iter().all(|&c| c <= 5));
    }
}

#[test]
fn dirichlet_skew_depends_on_alpha() {
    let labels = balanced_labels(1000);
    let size = 1000;
    let (mut top2_small, mut max_big, mut min_big) = (0.0, 0usize, usize::MAX);
    let trials = 20;
    for seed in 0..trials {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let small = select(&labels, 10, &Partition::Dirichlet { alpha: 0.05, size }, &mut rng).unwrap();
        let mut h = histogram(&labels, &small);
        h.sort_unstable_by(|a, b| b.cmp(a));
        top2_small += (h[0] + h[1]) as f64 / size as f64;
        let big = select(&labels, 10, &Partition::Dirichlet { alpha: 100.0, size }, &mut rng).unwrap();
        let h = histogram(&labels, &big);
        max_big = max_big.max(*h.iter().max().unwrap());
        min_big = min_big.min(*h.iter().min().unwrap());
    }
    let top2_small = top2_small / trials as f64;
    assert!(top2_small > 0.9, "alpha=0.05: mean mass of top-2 classes {top2_small}");
    // Dir(100) over 10 classes: sd of p_c ~ 0.03, so 1000 draws stay within ~[40, 170] per class.
    assert!(min_big >= 40 && max_big <= 170, "alpha=100: class counts in [{min_big}, {max_big}]");
}

#[test]
fn dirichlet_proportions_are_valid() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for alpha in [1e-4, 0.05, 1.0, 100.0] {
        let p = partition::dirichlet(alpha, 10, &mut rng);
        assert!(p.iter().all(|x| x.is_finite() && *x >= 0.0));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
