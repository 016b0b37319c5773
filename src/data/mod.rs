//! Data sets in a common format.
//!
//! MNIST, Fashion-MNIST (IDX, raw or gzip) and CIFAR-10 (binary version, raw or gzip) are read
//! from a data root (`--data-dir`, else `SLFSIM_DATA`, else `./data`) and converted to
//! C x 32 x 32 `f32` images in [0, 1]: the 28x28 sets are zero-padded by 2 pixels on each side,
//! grey is replicated to 3 planes in [`ColorMode::Rgb`], and CIFAR-10 is reduced to luma
//! (Y = 0.299 R + 0.587 G + 0.114 B) in [`ColorMode::Grey`].
//!
//! [`select`] cuts a user's local data (all, IID, or Dirichlet non-IID) out of a split.

pub(crate) mod cifar;
mod error;
pub(crate) mod idx;
mod partition;
pub(crate) mod read;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

pub use error::DataError;
pub use partition::{select, Partition};

/// Side of every image in the common format.
pub const SIDE: usize = 32;

/// Environment variable naming the data root.
pub const DATA_ENV: &str = "SLFSIM_DATA";

/// The data sets the simulator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetKind {
    Mnist,
    FashionMnist,
    Cifar10,
}

impl DatasetKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DatasetKind; 3] = [DatasetKind::Mnist, DatasetKind::FashionMnist, DatasetKind::Cifar10];

    /// Folder names under the data root that may hold this data set, tried in order.
    pub fn dir_names(&self) -> &[&str] {
        match self {
            DatasetKind::Mnist => &["mnist"],
            DatasetKind::FashionMnist => &["fashion-mnist", "fashion_mnist"],
            DatasetKind::Cifar10 => &["cifar-10-jpeg75", "cifar-10-batches-bin", "cifar10"],
        }
    }

    /// Number of classes (10 for all three).
    pub const fn num_classes(&self) -> usize {
        10
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion_mnist",
            DatasetKind::Cifar10 => "cifar10",
        })
    }
}

impl FromStr for DatasetKind {
    type Err = String;
    /// Accepts the Display names and the folder names (`fashion-mnist`, `cifar-10`, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "mnist" => Ok(DatasetKind::Mnist),
            "fashion_mnist" | "fashionmnist" | "fashion" => Ok(DatasetKind::FashionMnist),
            "cifar10" | "cifar_10" | "cifar" => Ok(DatasetKind::Cifar10),
            _ => Err(format!("unknown data set {s:?} (expected mnist, fashion_mnist or cifar10)")),
        }
    }
}

/// Which split of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Test,
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
        })
    }
}

/// Number of planes of the common format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ColorMode {
    #[default]
    Grey,
    Rgb,
}

impl ColorMode {
    /// 1 for grey, 3 for RGB.
    pub fn channels(&self) -> usize {
        match self {
            ColorMode::Grey => 1,
            ColorMode::Rgb => 3,
        }
    }
}

impl fmt::Display for ColorMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColorMode::Grey => "grey",
            ColorMode::Rgb => "rgb",
        })
    }
}

/// The value the loaders store for 8-bit level `v`: v / 255 in f32. One
/// definition, so that images kept as bytes decode to the same floats.
pub fn level(v: u8) -> f32 {
    v as f32 / 255.0
}

/// All 256 levels, by byte.
pub fn levels() -> [f32; 256] {
    std::array::from_fn(|v| level(v as u8))
}

/// Images in the common format: C x 32 x 32 values, row-major, image after
/// image, with their labels. Two kinds of value: f32 in [0, 1]
/// ([`ImageSet`], what the models consume) and bytes ([`ByteSet`], what an
/// 8-bit source holds, a quarter of the memory; [`level`] of each byte is
/// exactly [`load`]'s float).
#[derive(Debug, Clone)]
pub struct Images<T> {
    pub kind: DatasetKind,
    pub split: Split,
    pub channels: usize,
    pub pixels: Vec<T>,
    pub labels: Vec<u8>,
}

/// Images as f32 in [0, 1].
pub type ImageSet = Images<f32>;
/// Images as bytes, one per value.
pub type ByteSet = Images<u8>;

impl<T: Copy> Images<T> {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image: channels * 32 * 32.
    pub fn image_len(&self) -> usize {
        self.channels * SIDE * SIDE
    }

    /// The `i`-th image (panics if out of range).
    pub fn image(&self, i: usize) -> &[T] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// A copy holding the images at `idx`, in that order (panics on an index out of range).
    pub fn subset(&self, idx: &[usize]) -> Images<T> {
        let n = self.image_len();
        let mut pixels = Vec::with_capacity(idx.len() * n);
        let mut labels = Vec::with_capacity(idx.len());
        for &i in idx {
            pixels.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Images { kind: self.kind, split: self.split, channels: self.channels, pixels, labels }
    }

    /// A copy of the first min(n, len) images.
    pub fn take(&self, n: usize) -> Images<T> {
        let n = n.min(self.len());
        Images {
            kind: self.kind,
            split: self.split,
            channels: self.channels,
            pixels: self.pixels[..n * self.image_len()].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }
}

/// [`load`] as bytes where every value is an 8-bit level: MNIST,
/// Fashion-MNIST and colour CIFAR-10. `None` for grey CIFAR-10, whose values
/// mix three channels. Same files, same checks and errors as [`load`].
pub fn load_bytes(dir: &Path, kind: DatasetKind, split: Split, color: ColorMode) -> Result<Option<ByteSet>, DataError> {
    let folder = dataset_dir(dir, kind)?;
    match (kind, color) {
        (DatasetKind::Mnist | DatasetKind::FashionMnist, _) => {
            Ok(Some(idx::load_idx(&folder, kind, split, color, |b| b)?))
        }
        (DatasetKind::Cifar10, ColorMode::Rgb) => Ok(Some(cifar::load_cifar_bytes(&folder, kind, split)?)),
        (DatasetKind::Cifar10, ColorMode::Grey) => Ok(None),
    }
}

/// The folder of `kind` under the data root `dir` (first of [`DatasetKind::dir_names`] that exists).
pub fn dataset_dir(dir: &Path, kind: DatasetKind) -> Result<PathBuf, DataError> {
    if !dir.is_dir() {
        return Err(DataError::MissingDir { path: dir.to_path_buf(), source_desc: "data root".into() });
    }
    let names = kind.dir_names();
    names.iter().map(|n| dir.join(n)).find(|p| p.is_dir()).ok_or_else(|| DataError::MissingDir {
        path: dir.join(names[0]),
        source_desc: format!("folder of data set {kind}; tried {} under {}", names.join(", "), dir.display()),
    })
}

/// Reads one split of a data set from `dir` (the data root, containing e.g. `mnist/`).
/// Each file is found raw or with `.gz` appended (raw preferred if both exist).
pub fn load(dir: &Path, kind: DatasetKind, split: Split, color: ColorMode) -> Result<ImageSet, DataError> {
    let folder = dataset_dir(dir, kind)?;
    match kind {
        DatasetKind::Mnist | DatasetKind::FashionMnist => {
            let levels = levels();
            idx::load_idx(&folder, kind, split, color, |b| levels[b as usize])
        }
        DatasetKind::Cifar10 => cifar::load_cifar(&folder, kind, split, color),
    }
}

type CacheKey = (PathBuf, DatasetKind, Split, ColorMode);

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<ImageSet>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<ImageSet>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Same as [`load`], but memoised for the process lifetime, because many transceivers share a
/// data set. The cache lock is held while loading, so a set is read at most once; errors are
/// not cached.
pub fn load_cached(dir: &Path, kind: DatasetKind, split: Split, color: ColorMode) -> Result<Arc<ImageSet>, DataError> {
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let key = (root, kind, split, color);
    let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(set) = map.get(&key) {
        return Ok(Arc::clone(set));
    }
    let set = Arc::new(load(dir, kind, split, color)?);
    map.insert(key, Arc::clone(&set));
    Ok(set)
}

/// Where data lives: `cli` (from `--data-dir`) if given, else env `SLFSIM_DATA` (if set and
/// non-empty), else `./data`. Errors if the chosen folder does not exist, naming it and where
/// the choice came from.
pub fn resolve_data_dir(cli: Option<&Path>) -> Result<PathBuf, DataError> {
    let env = std::env::var_os(DATA_ENV).filter(|v| !v.is_empty());
    resolve_from(cli, env.as_deref().map(Path::new))
}

fn resolve_from(cli: Option<&Path>, env: Option<&Path>) -> Result<PathBuf, DataError> {
    resolve_with_default(cli, env, Path::new("data"))
}

/// `resolve_from` with the fallback folder as a parameter (tests use a missing one).
fn resolve_with_default(cli: Option<&Path>, env: Option<&Path>, default: &Path) -> Result<PathBuf, DataError> {
    let (path, source_desc) = match (cli, env) {
        (Some(p), _) => (p.to_path_buf(), "chosen by the --data-dir flag".to_string()),
        (None, Some(p)) => (p.to_path_buf(), format!("chosen by the {DATA_ENV} environment variable")),
        (None, None) => (
            default.to_path_buf(),
            format!("the default ./data; set {DATA_ENV} or pass --data-dir to use another folder"),
        ),
    };
    if path.is_dir() {
        Ok(path)
    } else {
        Err(DataError::MissingDir { path, source_desc })
    }
}
