//! CIFAR-10 binary version (records of 1 label byte + 3072 pixel bytes: R, G, B planes).

use std::path::Path;

use super::read::read_data_file;
use super::{ByteSet, ColorMode, DataError, DatasetKind, ImageSet, Split, SIDE};

/// Bytes per CIFAR-10 record.
pub const RECORD: usize = 1 + 3 * SIDE * SIDE;

/// File names (without `.gz`) of a split, in load order. Train needs all five.
pub(crate) fn file_names(split: Split) -> &'static [&'static str] {
    match split {
        Split::Train => {
            &["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"]
        }
        Split::Test => &["test_batch.bin"],
    }
}

/// Loads one split from a CIFAR-10 folder.
pub(crate) fn load_cifar(
    folder: &Path,
    kind: DatasetKind,
    split: Split,
    color: ColorMode,
) -> Result<ImageSet, DataError> {
    Ok(decode(&read_checked(folder, split)?, kind, split, color))
}

/// Loads one split in colour as bytes (the records' pixels, R, G, B planes).
pub(crate) fn load_cifar_bytes(folder: &Path, kind: DatasetKind, split: Split) -> Result<ByteSet, DataError> {
    let files = read_checked(folder, split)?;
    let n: usize = files.iter().map(|b| b.len() / RECORD).sum();
    let mut bytes = Vec::with_capacity(n * (RECORD - 1));
    let mut labels = Vec::with_capacity(n);
    for rec in files.iter().flat_map(|b| b.chunks_exact(RECORD)) {
        labels.push(rec[0]);
        bytes.extend_from_slice(&rec[1..]);
    }
    Ok(ByteSet { kind, split, channels: 3, pixels: bytes, labels })
}

/// A split's files, all read first (fails fast on a missing one) and checked.
fn read_checked(folder: &Path, split: Split) -> Result<Vec<Vec<u8>>, DataError> {
    let mut files = Vec::new();
    for name in file_names(split) {
        let (bytes, path) = read_data_file(folder, name)?;
        check_records(&path, &bytes)?;
        files.push(bytes);
    }
    Ok(files)
}

/// Checks that `bytes` are whole CIFAR-10 records with labels < 10.
pub(crate) fn check_records(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD) {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected_bytes: bytes.len().div_ceil(RECORD).max(1) * RECORD,
            found_bytes: bytes.len(),
        });
    }
    if let Some((index, rec)) = bytes.chunks_exact(RECORD).enumerate().find(|(_, r)| r[0] >= 10) {
        return Err(DataError::LabelOutOfRange { path: path.to_path_buf(), index, label: rec[0] });
    }
    Ok(())
}

/// Checked files (see `check_records`) to images in the common format.
pub(crate) fn decode(files: &[Vec<u8>], kind: DatasetKind, split: Split, color: ColorMode) -> ImageSet {
    let channels = color.channels();
    let plane = SIDE * SIDE;
    let n: usize = files.iter().map(|b| b.len() / RECORD).sum();
    let img_len = channels * plane;
    let mut pixels = vec![0.0f32; n * img_len];
    let mut labels = Vec::with_capacity(n);
    let lut = super::levels();
    let (wr, wg, wb) = (0.299f32 / 255.0, 0.587f32 / 255.0, 0.114f32 / 255.0);
    let records = files.iter().flat_map(|b| b.chunks_exact(RECORD));
    for (rec, dst) in records.zip(pixels.chunks_exact_mut(img_len)) {
        labels.push(rec[0]);
        let px = &rec[1..];
        match color {
            ColorMode::Rgb => {
                for (d, &s) in dst.iter_mut().zip(px) {
                    *d = lut[s as usize];
                }
            }
            ColorMode::Grey => {
                let (r, rest) = px.split_at(plane);
                let (g, b) = rest.split_at(plane);
                for (((d, &r), &g), &b) in dst.iter_mut().zip(r).zip(g).zip(b) {
                    *d = (wr * r as f32 + wg * g as f32 + wb * b as f32).min(1.0);
                }
            }
        }
    }
    ImageSet { kind, split, channels, pixels, labels }
}
