//! MNIST / Fashion-MNIST IDX files (raw or gzip) and their conversion to the common format.

use std::path::Path;

use super::read::read_data_file;
use super::{ColorMode, DataError, DatasetKind, Images, Split, SIDE};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;
/// Side of an MNIST-style image.
pub const IDX_SIDE: usize = 28;
/// Zero padding on each side to go from 28 to 32.
const PAD: usize = (SIDE - IDX_SIDE) / 2;

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn check_magic(path: &Path, bytes: &[u8], expected: u32, header_len: usize) -> Result<(), DataError> {
    if bytes.len() >= 4 {
        let found = be_u32(bytes, 0);
        if found != expected {
            return Err(DataError::BadMagic { path: path.to_path_buf(), expected, found });
        }
    }
    if bytes.len() < header_len {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected_bytes: header_len,
            found_bytes: bytes.len(),
        });
    }
    Ok(())
}

fn check_len(path: &Path, len: usize, expected: usize) -> Result<(), DataError> {
    if len < expected {
        return Err(DataError::Truncated { path: path.to_path_buf(), expected_bytes: expected, found_bytes: len });
    }
    if len > expected {
        return Err(DataError::Corrupt {
            path: path.to_path_buf(),
            msg: format!("{} trailing bytes after the {expected} bytes the header announces", len - expected),
        });
    }
    Ok(())
}

/// Validates an IDX image file and returns (count, pixel bytes without header).
pub(crate) fn parse_images<'a>(path: &Path, bytes: &'a [u8]) -> Result<(usize, &'a [u8]), DataError> {
    check_magic(path, bytes, IDX_IMAGES_MAGIC, 16)?;
    let n = be_u32(bytes, 4) as usize;
    let rows = be_u32(bytes, 8) as usize;
    let cols = be_u32(bytes, 12) as usize;
    if rows != IDX_SIDE || cols != IDX_SIDE {
        return Err(DataError::BadShape { path: path.to_path_buf(), rows, cols });
    }
    let expected = n
        .checked_mul(IDX_SIDE * IDX_SIDE)
        .and_then(|x| x.checked_add(16))
        .ok_or_else(|| DataError::Corrupt { path: path.to_path_buf(), msg: format!("absurd image count {n}") })?;
    check_len(path, bytes.len(), expected)?;
    Ok((n, &bytes[16..]))
}

/// Validates an IDX label file (all labels < 10) and returns the labels.
pub(crate) fn parse_labels<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a [u8], DataError> {
    check_magic(path, bytes, IDX_LABELS_MAGIC, 8)?;
    let n = be_u32(bytes, 4) as usize;
    check_len(path, bytes.len(), n + 8)?;
    let labels = &bytes[8..];
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= 10) {
        return Err(DataError::LabelOutOfRange { path: path.to_path_buf(), index, label });
    }
    Ok(labels)
}

/// File names (without `.gz`) of a split: (images, labels).
pub(crate) fn file_names(split: Split) -> (&'static str, &'static str) {
    match split {
        Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
}

/// Loads one split from a data set folder (e.g. `<root>/mnist`), each byte
/// as `f(byte)` ([`super::level`] for floats, itself for bytes).
pub(crate) fn load_idx<T: Copy + Default>(
    folder: &Path,
    kind: DatasetKind,
    split: Split,
    color: ColorMode,
    f: impl Fn(u8) -> T,
) -> Result<Images<T>, DataError> {
    let (img_name, lbl_name) = file_names(split);
    let (img_bytes, img_path) = read_data_file(folder, img_name)?;
    let (lbl_bytes, lbl_path) = read_data_file(folder, lbl_name)?;
    let (n, raw) = parse_images(&img_path, &img_bytes)?;
    let labels = parse_labels(&lbl_path, &lbl_bytes)?;
    if labels.len() != n {
        return Err(DataError::CountMismatch {
            images: img_path,
            labels: lbl_path,
            n_images: n,
            n_labels: labels.len(),
        });
    }
    let channels = color.channels();
    Ok(Images { kind, split, channels, pixels: layout(raw, n, channels, f), labels: labels.to_vec() })
}

/// 28x28 bytes -> C x 32 x 32 f32 in [0,1], zero-padded by 2 on each side, grey replicated to C planes.
pub(crate) fn convert(raw: &[u8], n: usize, channels: usize) -> Vec<f32> {
    let lut = super::levels();
    layout(raw, n, channels, |b| lut[b as usize])
}

/// 28x28 bytes -> C x 32 x 32 values `f(byte)`, zero-padded by 2 on each
/// side (`T::default()`, 0 for both f32 and bytes), grey replicated to C planes.
fn layout<T: Copy + Default>(raw: &[u8], n: usize, channels: usize, f: impl Fn(u8) -> T) -> Vec<T> {
    let plane = SIDE * SIDE;
    let img_len = channels * plane;
    let mut out = vec![T::default(); n * img_len];
    for (src, dst) in raw.chunks_exact(IDX_SIDE * IDX_SIDE).zip(out.chunks_exact_mut(img_len)) {
        let (first, rest) = dst.split_at_mut(plane);
        for (r, row) in src.chunks_exact(IDX_SIDE).enumerate() {
            let start = (r + PAD) * SIDE + PAD;
            for (d, &s) in first[start..start + IDX_SIDE].iter_mut().zip(row) {
                *d = f(s);
            }
        }
        for p in rest.chunks_exact_mut(plane) {
            p.copy_from_slice(first);
        }
    }
    out
}
