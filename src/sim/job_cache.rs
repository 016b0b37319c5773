//! The job cache: finished link evaluations and fine-tunings kept on disk,
//! shared by the runs of a study and by the processes of its shards (Slurm
//! array tasks on a shared file system).
//!
//! An entry's name is a SHA-256 of everything that determines its bytes (the
//! lab builds that identity; this build's executable hash and the entry
//! format are added here), so equal names hold equal bytes. Entries are
//! written to a temporary file and renamed into place (`crate::atomic`): a
//! reader sees a whole entry or none, and two writers of one entry are
//! harmless. Each entry starts with a header (format, name, length, SHA-256
//! of the payload); one that fails it (truncated, edited, copied from
//! elsewhere) is computed again and replaced.
//!
//! While a job is computed its process holds an advisory lock (`flock`) on
//! `.locks/<name>`; another process (or run) that needs the same job waits
//! for it and then reads the entry, so concurrent shards pay each job once.
//! The kernel releases the lock of a killed process. Where the file system
//! has no locks, jobs run unlocked and may be computed twice, harmlessly.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

/// Bumped whenever the header or the identity of entries changes.
const FORMAT: u32 = 2;
const MAGIC: &str = "slfsim-job-cache";
/// An entry holds one job's numbers (a few hundred kB at the largest test splits).
const MAX_ENTRY: u64 = 256 << 20;
/// How often a job waiting for another process's lock looks again.
const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("job cache {path}: {msg}")]
    Unusable { path: PathBuf, msg: String },
}

/// A cache folder and what this process did with it.
#[derive(Debug)]
pub struct JobCache {
    dir: PathBuf,
    /// SHA-256 of this build's executable: another build never reads these entries.
    build: String,
    hits: AtomicUsize,
    waited: AtomicUsize,
    computed: AtomicUsize,
    replaced: AtomicUsize,
}

/// What a process did with the cache (printed by `slfsim study`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Jobs read from the cache instead of run (including `waited`).
    pub hits: usize,
    /// Of the hits, those that waited for another process or run computing them.
    pub waited: usize,
    /// Jobs run here and stored.
    pub computed: usize,
    /// Entries found corrupt or foreign, computed again and replaced.
    pub replaced: usize,
}

/// The hash of the running executable, computed once.
fn build_id() -> Result<String, String> {
    static ID: OnceLock<Result<String, String>> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| format!("cannot locate this executable: {e}"))?;
        let mut f = File::open(&exe).map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
        let mut h = Sha256::new();
        std::io::copy(&mut f, &mut h).map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
        Ok(hex::encode(h.finalize()))
    })
    .clone()
}

impl JobCache {
    /// Opens (creating it) the cache folder `dir`; refuses one that is a
    /// file or cannot be written, before any work starts.
    pub fn open(dir: &Path) -> Result<JobCache, CacheError> {
        let fail = |msg: String| CacheError::Unusable { path: dir.to_path_buf(), msg };
        if dir.exists() && !dir.is_dir() {
            return Err(fail("is not a folder".into()));
        }
        std::fs::create_dir_all(dir.join(".locks")).map_err(|e| fail(format!("cannot create it: {e}")))?;
        // A probe file, removed at once: the folder must take new entries.
        tempfile::Builder::new()
            .prefix(".slfsim-probe-")
            .tempfile_in(dir)
            .map_err(|e| fail(format!("cannot write there: {e}")))?;
        let build = build_id().map_err(fail)?;
        Ok(JobCache {
            dir: dir.to_path_buf(),
            build,
            hits: AtomicUsize::new(0),
            waited: AtomicUsize::new(0),
            computed: AtomicUsize::new(0),
            replaced: AtomicUsize::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::SeqCst),
            waited: self.waited.load(Ordering::SeqCst),
            computed: self.computed.load(Ordering::SeqCst),
            replaced: self.replaced.load(Ordering::SeqCst),
        }
    }

    /// The entry of a job of `kind` whose result is determined by `identity`.
    pub fn entry(&self, kind: &str, identity: &serde_json::Value) -> Entry {
        let id = serde_json::json!({ "format": FORMAT, "build": self.build, "job": identity });
        let name = format!("{kind}-{}", hex::encode(Sha256::digest(id.to_string().as_bytes())));
        Entry { path: self.dir.join(format!("{name}.json")), lock: self.dir.join(".locks").join(name.clone()), name }
    }

    /// The entry's value if it is there and whole (Err: there but damaged).
    fn read<T: DeserializeOwned>(&self, e: &Entry) -> Result<Option<T>, String> {
        let bytes = match crate::bounded::read(&e.path, MAX_ENTRY) {
            Ok(b) => b,
            Err(x) if x.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(x) => return Err(x.to_string()),
        };
        decode(&bytes, &e.name).map(Some)
    }

    /// The entry's value if it is already there and whole (no waiting, no work).
    pub fn lookup<T: DeserializeOwned>(&self, e: &Entry) -> Option<T> {
        let v = self.read(e).ok()??;
        self.hits.fetch_add(1, Ordering::SeqCst);
        Some(v)
    }

    /// The entry's value: read, or computed by `f` under the entry's lock
    /// and stored. While another holder computes it, waits (checking
    /// `cancelled`) and then reads its result.
    pub fn get_or_compute<T: Serialize + DeserializeOwned>(
        &self,
        e: &Entry,
        cancelled: impl Fn() -> bool,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        if let Some(v) = self.lookup(e) {
            return Ok(v);
        }
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(&e.lock).ok();
        let mut waited = false;
        if let Some(file) = &lock {
            loop {
                match file.try_lock() {
                    Ok(()) => break,
                    Err(TryLockError::WouldBlock) => {
                        if cancelled() {
                            return Err("cancelled".into());
                        }
                        waited = true;
                        std::thread::sleep(POLL);
                    }
                    // No locks here (some network file systems): run unlocked.
                    Err(TryLockError::Error(x)) => {
                        tracing::debug!(lock = %e.lock.display(), error = %x, "job cache lock unavailable");
                        break;
                    }
                }
            }
        }
        // Whoever held the lock may have stored it meanwhile.
        match self.read(e) {
            Ok(Some(v)) => {
                self.hits.fetch_add(1, Ordering::SeqCst);
                if waited {
                    self.waited.fetch_add(1, Ordering::SeqCst);
                }
                return Ok(v);
            }
            Ok(None) => {}
            Err(msg) => {
                tracing::warn!(entry = %e.path.display(), msg, "damaged job cache entry; computing it again");
                self.replaced.fetch_add(1, Ordering::SeqCst);
            }
        }
        let v = f()?;
        let bytes = encode(&v, &e.name)?;
        crate::atomic::write_atomic(&e.path, &bytes)
            .map_err(|x| format!("cannot write job cache entry {}: {x}", e.path.display()))?;
        self.computed.fetch_add(1, Ordering::SeqCst);
        drop(lock); // unlocks
        Ok(v)
    }
}

/// One job's place in the cache.
#[derive(Debug, Clone)]
pub struct Entry {
    name: String,
    path: PathBuf,
    lock: PathBuf,
}

impl Entry {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Header line `slfsim-job-cache <format> <name> <payload bytes> <payload sha256>`, then the JSON payload.
fn encode<T: Serialize>(v: &T, name: &str) -> Result<Vec<u8>, String> {
    let payload = serde_json::to_vec(v).map_err(|e| e.to_string())?;
    let sum = hex::encode(Sha256::digest(&payload));
    let mut out = format!("{MAGIC} {FORMAT} {name} {} {sum}\n", payload.len()).into_bytes();
    out.extend_from_slice(&payload);
    Ok(out)
}

fn decode<T: DeserializeOwned>(bytes: &[u8], name: &str) -> Result<T, String> {
    let nl = bytes.iter().position(|&b| b == b'\n').ok_or("no header")?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| "header is not text")?;
    let payload = &bytes[nl + 1..];
    let f: Vec<&str> = header.split(' ').collect();
    let [magic, format, entry, len, sum] = f[..] else { return Err(format!("bad header {header:?}")) };
    if magic != MAGIC || format != FORMAT.to_string() {
        return Err(format!("not a format {FORMAT} entry (header {header:?})"));
    }
    if entry != name {
        return Err(format!("holds entry {entry}, not {name}"));
    }
    if len != payload.len().to_string() {
        return Err(format!("{} payload bytes, header says {len}", payload.len()));
    }
    if sum != hex::encode(Sha256::digest(payload)) {
        return Err("payload does not match its SHA-256".into());
    }
    serde_json::from_slice(payload).map_err(|e| format!("payload: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_detected_and_replaced() {
        let d = tempfile::tempdir().unwrap();
        let c = JobCache::open(&d.path().join("c")).unwrap();
        let e = c.entry("eval", &serde_json::json!({"k": 1}));
        let v: Vec<f64> = c.get_or_compute(&e, || false, || Ok(vec![0.5, 1.0])).unwrap();
        let again: Vec<f64> = c.get_or_compute(&e, || false, || panic!("must be read, not computed")).unwrap();
        assert_eq!(v, again);
        assert_eq!(c.stats(), CacheStats { hits: 1, waited: 0, computed: 1, replaced: 0 });
        let good = std::fs::read(e.path()).unwrap();
        // Truncated, one payload byte changed, another entry's file, a pre-header (format 1) entry.
        let other = c.entry("eval", &serde_json::json!({"k": 2}));
        let _: Vec<f64> = c.get_or_compute(&other, || false, || Ok(vec![2.0])).unwrap();
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() = b'9';
        for bad in
            [good[..good.len() - 3].to_vec(), flipped, std::fs::read(other.path()).unwrap(), b"[0.5,1.0]".to_vec()]
        {
            std::fs::write(e.path(), &bad).unwrap();
            let before = c.stats();
            let v: Vec<f64> = c.get_or_compute(&e, || false, || Ok(vec![0.5, 1.0])).unwrap();
            assert_eq!(v, [0.5, 1.0]);
            assert_eq!((c.stats().replaced, c.stats().computed), (before.replaced + 1, before.computed + 1));
            assert_eq!(std::fs::read(e.path()).unwrap(), good, "the damaged entry is replaced by the same bytes");
        }
    }

    #[test]
    fn a_folder_that_is_a_file_or_below_one_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, "x").unwrap();
        assert!(JobCache::open(&f).unwrap_err().to_string().contains("is not a folder"));
        assert!(JobCache::open(&f.join("sub")).unwrap_err().to_string().contains("cannot create"));
    }

    #[test]
    fn a_second_holder_waits_for_the_first_and_reads_its_entry() {
        let d = tempfile::tempdir().unwrap();
        let c = JobCache::open(d.path()).unwrap();
        let e = c.entry("align", &serde_json::json!("k"));
        let runs = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let v: u64 = c
                        .get_or_compute(
                            &e,
                            || false,
                            || {
                                runs.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(Duration::from_millis(200));
                                Ok(7)
                            },
                        )
                        .unwrap();
                    assert_eq!(v, 7);
                });
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one computation for four holders");
        let s = c.stats();
        assert_eq!((s.computed, s.hits), (1, 3));
    }
}
