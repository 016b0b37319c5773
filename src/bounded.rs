//! Reading input files whole, but only regular files and only up to a size:
//! a FIFO, a device (`/dev/zero`) or a huge file given as a scenario, a
//! checkpoint or a data file is refused at once instead of blocking or
//! filling memory.

use std::io::Read;
use std::path::Path;

/// Scenario and study files.
pub const MAX_TEXT: u64 = 16 << 20;
/// One data file, raw or decompressed (CIFAR-10's largest is 31 MB, MNIST's 47 MB).
pub const MAX_DATA: u64 = 256 << 20;
/// A checkpoint's weights or metadata (the default model's weights are 1.1 MB;
/// the largest model `scenario::limits` allows is 200 MB).
pub const MAX_CHECKPOINT: u64 = 512 << 20;

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

/// The bytes of the regular file `path`, refused if larger than `max`.
pub fn read(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(invalid("not a regular file".into()));
    }
    if meta.len() > max {
        return Err(invalid(format!("{} bytes is larger than the limit of {max} bytes", meta.len())));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    // `take`, in case the file grows while it is read.
    std::fs::File::open(path)?.take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(invalid(format!("larger than the limit of {max} bytes")));
    }
    Ok(out)
}

/// Like [`read`], as UTF-8 text.
pub fn read_text(path: &Path, max: u64) -> std::io::Result<String> {
    String::from_utf8(read(path, max)?).map_err(|e| invalid(format!("not UTF-8 text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_large_files_are_refused() {
        assert!(read(Path::new("/dev/zero"), 10).unwrap_err().to_string().contains("not a regular file"));
        assert!(read(Path::new("/"), 10).is_err());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, b"hello").unwrap();
        assert_eq!(read(&f, 5).unwrap(), b"hello");
        assert!(read(&f, 4).unwrap_err().to_string().contains("limit of 4 bytes"));
    }
}
