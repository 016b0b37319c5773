//! Errors of the data module: every message is one line and names the path involved.

use std::path::PathBuf;

/// Anything that can go wrong while locating, reading, decoding or partitioning a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A directory (the data root or a data set's folder) does not exist.
    #[error("data directory {} does not exist ({source_desc})", path.display())]
    MissingDir { path: PathBuf, source_desc: String },

    /// A data file is absent both raw and with `.gz` appended (`path` is the raw name tried).
    #[error("missing data file {} (also tried {}.gz)", path.display(), path.display())]
    MissingFile { path: PathBuf },

    /// The IDX magic number is not the one expected.
    #[error("bad magic number in {}: expected 0x{expected:08x}, found 0x{found:08x}", path.display())]
    BadMagic { path: PathBuf, expected: u32, found: u32 },

    /// The (decompressed) file is shorter than its header says, or not a whole number of records.
    #[error("truncated data file {}: expected {expected_bytes} bytes, found {found_bytes}", path.display())]
    Truncated { path: PathBuf, expected_bytes: usize, found_bytes: usize },

    /// A label is not below the number of classes.
    #[error("label out of range in {}: record {index} has label {label} (must be < 10)", path.display())]
    LabelOutOfRange { path: PathBuf, index: usize, label: u8 },

    /// Image and label files disagree on the number of items.
    #[error("count mismatch: {} holds {n_images} images but {} holds {n_labels} labels", images.display(), labels.display())]
    CountMismatch { images: PathBuf, labels: PathBuf, n_images: usize, n_labels: usize },

    /// IDX images of MNIST / Fashion-MNIST must be 28x28.
    #[error("bad image shape in {}: {rows}x{cols}, expected 28x28", path.display())]
    BadShape { path: PathBuf, rows: usize, cols: usize },

    /// An operating-system I/O error.
    #[error("I/O error reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file whose content cannot be decoded (corrupt gzip stream, trailing garbage, ...).
    #[error("corrupt data file {}: {msg}", path.display())]
    Corrupt { path: PathBuf, msg: String },

    /// A partition that cannot be cut from the given labels.
    #[error("bad partition: {msg}")]
    BadPartition { msg: String },
}
