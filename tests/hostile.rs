//! Hostile input and a clean lifecycle (issue 10). Every refusal is one
//! `error:` line and status 1, within 5 s and 500 MB (the binary runs as a
//! child under RLIMIT_DATA, and its peak RSS is measured by `wait4`); runs
//! that end with jobs in flight exit 0; SIGINT and SIGTERM give 130 and 143
//! with no partial file, and a study resumes.

mod common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{root, write};

/// What a refusal may take.
const MAX_SECONDS: f64 = 5.0;
const MAX_BYTES: u64 = 500 << 20;

/// A finished child: its output, wall time and peak resident memory.
struct Run {
    out: Output,
    seconds: f64,
    peak_rss: u64,
}

/// Runs slfsim with `args` in the repository, under RLIMIT_DATA = 500 MB
/// (data, heap and anonymous mappings; RLIMIT_AS would also count the
/// ~1 GB of LibTorch's mapped libraries, which are shared and mostly never
/// touched). Peak RSS comes from `wait4` on this child alone.
// The child is reaped by `wait4` (for its rusage), which clippy does not see.
#[allow(clippy::zombie_processes)]
fn run_limited(args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slfsim"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("SLFSIM_DATA")
        .env_remove("LD_LIBRARY_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: MAX_BYTES, rlim_max: MAX_BYTES };
            if libc::setrlimit(libc::RLIMIT_DATA, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("slfsim starts");
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let (status, usage) = wait4(child.id() as i32);
    let seconds = t0.elapsed().as_secs_f64();
    let out = Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() };
    Run { out, seconds, peak_rss: usage.ru_maxrss as u64 * 1024 }
}

fn wait4(pid: i32) -> (std::process::ExitStatus, libc::rusage) {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    // SAFETY: valid pointers; the child is ours and not waited for elsewhere.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    (std::process::ExitStatus::from_raw(status), usage)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A refusal: status 1, exactly one line on stderr, an `error:` line naming
/// every needle, no panic, in under 5 s and 500 MB. Prints the measurements.
fn refused(case: &str, args: &[&str], needles: &[&str]) {
    let r = run_limited(args);
    let err = stderr(&r.out);
    println!("{case}: {:.2} s, {} MB peak RSS: {}", r.seconds, r.peak_rss >> 20, err.trim());
    assert_eq!(r.out.status.code(), Some(1), "{case}: status {:?}; stderr: {err}", r.out.status);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{case}: expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{case}: {err}");
    for n in needles {
        assert!(lines[0].contains(n), "{case}: error line lacks {n:?}: {err}");
    }
    assert!(r.seconds < MAX_SECONDS, "{case}: took {:.1} s", r.seconds);
    assert!(r.peak_rss < MAX_BYTES, "{case}: peak RSS {} MB", r.peak_rss >> 20);
}

/// The quickstart scenario with text replaced (each `from` must occur).
fn quickstart_with(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join("scenarios/quickstart.ron")).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} not in quickstart.ron");
        text = text.replacen(from, to, 1);
    }
    // Checkpoints are found from the repository root, where the binary runs.
    let p = dir.join(format!("{name}.ron"));
    write(&p, &text);
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A case: its name, replacements in the base scenario, and what the error names.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);

#[test]
fn absurd_sizes_are_refused_quickly_in_bounded_memory() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let users = r#"(name: "fashion", profile: "fashion_e0_s1", compute: fixed(25e9)),"#;
    let cases: Vec<Case> = vec![
        (
            "4e9 users",
            vec![(users, r#"(name: "fashion", profile: "fashion_e0_s1", count: 4000000000),"#)],
            vec!["network.users", "4,000,000,003", "1,000,000", "--allow-large"],
        ),
        (
            "horizon 1e300 s",
            vec![("horizon_s: 120.0", "horizon_s: 1e300")],
            vec!["network.horizon_s", "1,000,000,000 s"],
        ),
        ("horizon inf", vec![("horizon_s: 120.0", "horizon_s: inf")], vec!["network.horizon_s"]),
        (
            "test images far above the test split",
            vec![("test_images: 1000", "test_images: 1000000000")],
            vec!["eval.test_images", "10,000"],
        ),
        (
            "pilots far above the test split",
            vec![("method: slf(freeze: 2, side: output)", "method: index_map(pilots: 99999999999)")],
            vec!["network.policy.method.pilots", "10,000"],
        ),
        (
            "batch 1e9",
            vec![("batch_size: 64, learning_rate: 0.001", "batch_size: 1000000000, learning_rate: 0.001")],
            vec!["align.budget.batch_size", "4,096"],
        ),
        (
            "train batch 1e12",
            vec![("batch_size: 64, learning_rate: 0.002", "batch_size: 1000000000000, learning_rate: 0.002")],
            vec!["profiles[0].train.batch_size"],
        ),
        ("steps 1e12", vec![("steps: 150,", "steps: 1000000000000,")], vec!["align.budget.steps", "--allow-large"]),
        ("message rate 1e12 Hz", vec![("rate_hz: 2.0", "rate_hz: 1e12")], vec!["expected events", "--allow-large"]),
        ("sample every ns", vec![("horizon_s: 120.0", "horizon_s: 120.0, sample_s: 1e-9")], vec!["expected events"]),
        (
            "complete graph of 300,000 users",
            vec![
                (users, r#"(name: "fashion", profile: "fashion_e0_s1", count: 300000),"#),
                ("kind: star(center: \"bs\")", "kind: complete"),
            ],
            vec!["network.topology", "above the limit"],
        ),
        (
            "link of 1e-300 bit/s",
            vec![("link: (down_bps: 4e6, up_bps: 2e6", "link: (down_bps: 1e-300, up_bps: 2e6")],
            vec!["network.topology", "one transfer", "1,000,000,000 s"],
        ),
        (
            "compute of 1e-300 FLOP/s",
            vec![("compute: fixed(25e9)", "compute: fixed(1e-300)")],
            vec!["fashion", "one fine-tuning"],
        ),
        (
            "log-normal compute sigma 1e300",
            vec![("compute: fixed(25e9)", "compute: log_normal(median: 1e9, sigma: 1e300)")],
            vec!["fine-tuning"],
        ),
        (
            "change at 1e300 s",
            vec![("horizon_s: 120.0", "horizon_s: 120.0, dynamics: [(at_s: 1e300, change: join(user: \"seed\"))]")],
            vec!["network.dynamics[0].at_s"],
        ),
        ("detection delay 1e300 s", vec![("delay_s: 1.0", "delay_s: 1e300")], vec!["network.detection.delay_s"]),
        ("latency 1e300 s", vec![("latency_s: 0.02", "latency_s: 1e300")], vec!["network.topology.link.latency_s"]),
        (
            "monitor window 1e18",
            vec![("oracle(delay_s: 1.0)", "monitor(window: 1000000000000000000, threshold: 0.5)")],
            vec!["network.detection.window"],
        ),
        ("latent_dim 1e9", vec![("latent_dim: 16", "latent_dim: 1000000000")], vec!["profiles[0].model.latent_dim"]),
        (
            "codebook 2^40",
            vec![("codebook_size: 64", "codebook_size: 1099511627776")],
            vec!["profiles[0].model.codebook_size"],
        ),
        (
            "partition of 1e12 images",
            vec![("partition: all", "partition: iid(size: 1000000000000)")],
            vec!["profiles[0].data.partition.size", "60,000"],
        ),
    ];
    for (case, edits, needles) in cases {
        let f = quickstart_with(dir, "q", &edits);
        refused(&format!("check: {case}"), &["check", s(&f)], &needles);
    }
    // `run` refuses the same way, before loading anything.
    let f =
        quickstart_with(dir, "big", &[(users, r#"(name: "fashion", profile: "fashion_e0_s1", count: 4000000000),"#)]);
    refused("run: 4e9 users", &["run", s(&f), "--out", s(&dir.join("o"))], &["network.users"]);
    assert!(!dir.join("o").join("summary.json").exists());
    refused(
        "run --steps 1e12",
        &["run", "scenarios/quickstart.ron", "--steps", "1000000000000"],
        &["--steps", "align.budget.steps"],
    );
}

#[test]
fn adaptive_and_escalate_policy_inputs_are_refused_with_the_field_or_the_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let slf = "method: slf(freeze: 2, side: output)";
    let adaptive = |a: &str| format!("method: adaptive(target_accuracy: {a})");
    let cal = dir.join("cal.csv");
    write(&cal, "kind,dataset,method,accuracy\nseed,mnist,slf-l2,0.93\nchannel,mnist,slf-l7,0.9\n");
    let cal_at = format!("{}, calibration: {:?}", adaptive("0.9"), s(&cal));
    let with_fixed = format!("{slf}, calibration: {:?}", s(&cal));
    let missing = format!("{}, calibration: \"no/such.csv\"", adaptive("0.9"));
    let escalate = |a: &str| format!("method: escalate(target_accuracy: {a})");
    let cal_escalate = format!("{}, calibration: {:?}", escalate("0.9"), s(&cal));
    let gap = |g: &str| format!("method: adaptive(target_gap_share: {g})");
    let cal2 = dir.join("cal2.csv");
    write(
        &cal2,
        "kind,tx_dataset,rx_dataset,method,accuracy\nseed,mnist,mnist,slf-l2,0.93\ndata,mnist,mnist,slf-l0,0.9\n",
    );
    let cal2_at = format!("{}, calibration: {:?}", gap("0.85"), s(&cal2));
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("target 1.5", adaptive("1.5"), vec!["network.policy.method.adaptive.target_accuracy", "1.5", "[0, 1]"]),
        ("gap share 1.5", gap("1.5"), vec!["network.policy.method.adaptive.target_gap_share", "1.5", "[0, 1]"]),
        ("gap share NaN", gap("NaN"), vec!["target_gap_share", "NaN"]),
        ("gap share -inf", gap("-inf"), vec!["target_gap_share", "-inf"]),
        ("no target", "method: adaptive()".into(), vec!["exactly one of target_accuracy and target_gap_share"]),
        (
            "two targets",
            "method: adaptive(target_accuracy: 0.8, target_gap_share: 0.8)".into(),
            vec!["exactly one of target_accuracy and target_gap_share"],
        ),
        (
            "calibration kind vs data sets",
            cal2_at,
            vec!["network.policy.calibration", "cal2.csv:3", "data between mnist and mnist"],
        ),
        ("target -0.1", adaptive("-0.1"), vec!["target_accuracy", "-0.1"]),
        ("target NaN", adaptive("NaN"), vec!["target_accuracy", "NaN"]),
        ("target inf", adaptive("inf"), vec!["target_accuracy", "inf"]),
        ("misspelt strategy", "method: adaptiv(target_accuracy: 0.9)".into(), vec!["adaptiv", "adaptive"]),
        ("calibration line 3", cal_at, vec!["network.policy.calibration", "cal.csv:3", "slf-l7"]),
        ("calibration with a fixed method", with_fixed, vec!["network.policy.calibration", "adaptive"]),
        ("calibration missing", missing, vec!["network.policy.calibration", "no/such.csv"]),
        ("escalate 1.5", escalate("1.5"), vec!["network.policy.method.escalate.target_accuracy", "1.5", "[0, 1]"]),
        ("escalate -0.1", escalate("-0.1"), vec!["escalate.target_accuracy", "-0.1"]),
        ("escalate NaN", escalate("NaN"), vec!["escalate.target_accuracy", "NaN"]),
        ("escalate inf", escalate("inf"), vec!["escalate.target_accuracy", "inf"]),
        ("escalate without a target", "method: escalate()".into(), vec!["target_accuracy"]),
        ("misspelt escalate", "method: escalte(target_accuracy: 0.9)".into(), vec!["escalte", "escalate"]),
        ("calibration with escalate", cal_escalate, vec!["network.policy.calibration", "adaptive"]),
    ];
    for (case, method, needles) in cases {
        let f = quickstart_with(dir, "a", &[(slf, &method)]);
        refused(&format!("check: {case}"), &["check", s(&f)], &needles);
    }
    // `run --calibration` is read the same way, before anything is loaded.
    let f = quickstart_with(dir, "b", &[(slf, &adaptive("0.9"))]);
    refused(
        "run --calibration",
        &["run", s(&f), "--calibration", s(&cal), "--out", s(&dir.join("o"))],
        &["cal.csv:3", "slf-l7"],
    );
    refused("run --calibration /dev/zero", &["run", s(&f), "--calibration", "/dev/zero"], &["not a regular file"]);
    assert!(!dir.join("o").exists());
}

#[test]
fn the_flag_raises_the_caps_and_check_prints_the_expected_sizes() {
    let d = tempfile::tempdir().unwrap();
    let f = quickstart_with(d.path(), "busy", &[("rate_hz: 2.0", "rate_hz: 100000.0")]);
    // 3 pairs x 100,000 Hz x 120 s: 3.6e7 messages, each sent and received.
    refused("check: 7.2e7 events", &["check", s(&f)], &["expected events", "72,000,", "50,000,000", "--allow-large"]);
    let r = run_limited(&["check", "--allow-large", s(&f)]);
    let out = String::from_utf8_lossy(&r.out.stdout);
    println!("check --allow-large: {:.2} s, {} MB: {out}", r.seconds, r.peak_rss >> 20);
    assert_eq!(r.out.status.code(), Some(0), "{}", stderr(&r.out));
    assert!(out.contains("4 users") && out.contains("3 pairs") && out.contains("36,000,000 messages"), "{out}");
    assert!(out.contains("model transfers") && out.contains("events"), "{out}");
}

#[test]
fn hostile_files_and_arguments_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    refused("check /dev/zero", &["check", "/dev/zero"], &["/dev/zero", "not a regular file"]);
    let fifo = dir.join("fifo.ron");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    refused("check a FIFO", &["check", s(&fifo)], &["fifo.ron", "not a regular file"]);
    refused("check a folder", &["check", s(dir)], &["not a regular file"]);
    let huge = dir.join("huge.ron");
    std::fs::File::create(&huge).unwrap().set_len(17 << 20).unwrap();
    refused("check a 17 MB file", &["check", s(&huge)], &["huge.ron", "limit"]);
    refused("--threads 1e6", &["--threads", "1000000", "check", "scenarios/quickstart.ron"], &["--threads"]);
    refused("unknown flag", &["run", "--no-such-flag"], &["--no-such-flag"]);
    refused("study --jobs 0", &["study", "scenarios/studies/smoke.ron", "--jobs", "0"], &["--jobs"]);
    let study = |name: &str, axes: &str, reps: &str| {
        let p = root().join("scenarios/studies").join(format!(".hostile-{name}-{}.ron", std::process::id()));
        write(&p, &format!("Study(name: \"h\", scenario: \"star_base.ron\", replications: {reps}, axes: [{axes}])"));
        p
    };
    let a = study("range", "(path: \"network.users[1].count\", range: (1, 1000000000000000000, 1))", "1");
    let b = study("reps", "(path: \"network.users[1].count\", values: [1, 2])", "1000000000000");
    let ra = run_limited(&["check", s(&a)]);
    let rb = run_limited(&["check", s(&b)]);
    let _ = (std::fs::remove_file(&a), std::fs::remove_file(&b));
    for (case, r, needle) in [("study range of 1e18 values", ra, "range"), ("study of 2e12 runs", rb, "runs")] {
        let err = stderr(&r.out);
        println!("{case}: {:.2} s, {} MB: {}", r.seconds, r.peak_rss >> 20, err.trim());
        assert_eq!(r.out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains(needle) && err.contains("limit"), "{err}");
        assert!(r.seconds < MAX_SECONDS && r.peak_rss < MAX_BYTES);
    }
}

#[test]
fn outputs_touch_only_slfsim_files() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let file = dir.join("a_file");
    write(&file, "mine");
    refused(
        "--out names a file",
        &["eval", "scenarios/quickstart.ron", "--out", s(&file)],
        &["a_file", "not a folder"],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    refused("--out under a file", &["run", "scenarios/quickstart.ron", "--out", s(&file.join("sub"))], &["a_file"]);
    refused(
        "--out unwritable",
        &["run", "scenarios/quickstart.ron", "--out", "/proc/slfsim-out"],
        &["/proc/slfsim-out"],
    );
    let theirs = dir.join("theirs");
    write(&theirs.join("thesis.tex"), "x");
    write(&theirs.join("summary.json"), "their own");
    refused(
        "--out holds someone else's files",
        &["run", "scenarios/quickstart.ron", "--out", s(&theirs)],
        &["thesis.tex", "did not write"],
    );
    assert_eq!(std::fs::read_to_string(theirs.join("summary.json")).unwrap(), "their own");
    refused(
        "study --out holds someone else's files",
        &["study", "scenarios/studies/smoke.ron", "--out", s(&theirs)],
        &["did not write"],
    );
    // A job cache that is a file or cannot be created: refused before the study writes anything.
    let out = dir.join("study-out");
    refused(
        "study --cache names a file",
        &["study", "scenarios/studies/smoke.ron", "--out", s(&out), "--cache", s(&file)],
        &["job cache", "a_file", "is not a folder"],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    assert!(!out.exists(), "a refused study created {}", out.display());
    refused(
        "study --cache unwritable",
        &["study", "scenarios/studies/smoke.ron", "--out", s(&out), "--cache", "/proc/slfsim-cache"],
        &["job cache", "/proc/slfsim-cache", "cannot create"],
    );
    assert!(!out.exists(), "a refused study created {}", out.display());
    // A merge into one of its own inputs.
    let shard = dir.join("shard");
    write(&shard.join("study.json"), "{}");
    refused(
        "study --merge into an input",
        &["study", "--merge", s(&shard), "--out", s(&shard)],
        &["one of the folders to merge"],
    );
}

/// `slfsim run` of `scenario`; returns the status and the output folder's files.
fn run_to_end(scenario: &Path, out: &Path) -> (Run, Vec<String>) {
    let r = run_limited_unbounded(&["--threads", "2", "run", s(scenario), "--out", s(out)]);
    (r, files(out))
}

/// Like `run_limited`, without the memory limit (real runs load models).
#[allow(clippy::zombie_processes)] // reaped by `wait4`
fn run_limited_unbounded(args: &[&str]) -> Run {
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_slfsim"))
        .args(args)
        .current_dir(root())
        .env_remove("SLFSIM_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let mut err = Vec::new();
    let _ = se.read_to_end(&mut err);
    let (status, usage) = wait4(child.id() as i32);
    Run {
        out: Output { status, stdout: t.join().unwrap(), stderr: err },
        seconds: t0.elapsed().as_secs_f64(),
        peak_rss: usage.ru_maxrss as u64 * 1024,
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn runs_ending_with_jobs_in_flight_exit_cleanly() {
    let d = tempfile::tempdir().unwrap();
    // The horizon ends while 3,000-step fine-tunings are running.
    let few = ("test_images: 1000", "test_images: 200");
    let a = quickstart_with(
        d.path(),
        "short",
        &[few, ("horizon_s: 120.0", "horizon_s: 3.0"), ("steps: 150,", "steps: 3000,")],
    );
    // Links so slow that no download finishes.
    let b = quickstart_with(
        d.path(),
        "slow",
        &[
            few,
            ("link: (down_bps: 4e6, up_bps: 2e6", "link: (down_bps: 100.0, up_bps: 100.0"),
            ("horizon_s: 120.0", "horizon_s: 30.0"),
        ],
    );
    for (case, f) in [("horizon with jobs in flight", a), ("no download finishes", b)] {
        let out = d.path().join(format!("out-{case}").replace(' ', "_"));
        let (r, names) = run_to_end(&f, &out);
        println!("{case}: status {:?}, {:.1} s, {} MB", r.out.status, r.seconds, r.peak_rss >> 20);
        assert_eq!(r.out.status.code(), Some(0), "{case}: {:?} {}", r.out.status, stderr(&r.out));
        assert!(stderr(&r.out).trim().is_empty(), "{case}: {}", stderr(&r.out));
        for f in ["summary.json", "events.jsonl", "pairs.csv", "timeseries.csv"] {
            assert!(names.contains(&f.to_string()), "{case}: {f} missing in {names:?}");
        }
        assert!(!names.iter().any(|n| n.starts_with(".slfsim-tmp")), "{case}: {names:?}");
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["aggregate"]["recovered"], 0, "{case}");
    }
}

/// Starts slfsim, waits until `ready` holds (or `after`), sends `sig`;
/// returns the status, the seconds from signal to exit and stderr.
fn signalled(args: &[&str], sig: i32, ready: impl Fn() -> bool, after: Duration) -> (Option<i32>, f64, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slfsim"))
        .args(args)
        .current_dir(root())
        .env_remove("SLFSIM_DATA")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !ready() && t0.elapsed() < after {
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: the child is ours and still running (or a zombie).
    unsafe { libc::kill(child.id() as i32, sig) };
    let t1 = Instant::now();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), None, "died by signal {:?}: {err}", status.signal());
    (status.code(), t1.elapsed().as_secs_f64(), err)
}

#[test]
fn sigint_and_sigterm_end_a_run_with_130_and_143_and_no_partial_file() {
    let d = tempfile::tempdir().unwrap();
    let f = quickstart_with(
        d.path(),
        "long",
        &[
            ("test_images: 1000", "test_images: 200"),
            ("steps: 150,", "steps: 5000,"),
            ("fixed(200e9)", "fixed(200e12)"),
            ("fixed(50e9)", "fixed(50e12)"),
            ("fixed(50e9)", "fixed(50e12)"),
            ("fixed(25e9)", "fixed(25e12)"),
        ],
    );
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let out = d.path().join(format!("out{sig}"));
        // The signal comes while the loop waits for its 5,000-step fine-tunings: a minute or more of
        // work, on compute fast enough that they end well before the horizon (the run cannot end first).
        let (status, secs, err) =
            signalled(&["--threads", "2", "run", s(&f), "--out", s(&out)], sig, || false, Duration::from_secs(4));
        let names = files(&out);
        println!("signal {sig}: status {status:?} {secs:.2} s after the signal; {names:?}; {}", err.trim());
        assert_eq!(status, Some(code), "{err}");
        // The clean path (not the forced exit after the grace period) says so.
        assert!(err.contains("stopped by"), "{err}");
        assert!(!err.contains("panicked") && !err.contains("error:"), "{err}");
        assert!(names.is_empty(), "an interrupted run wrote {names:?}");
        assert!(secs < 20.0, "took {secs:.1} s to stop");
    }
}

#[test]
fn a_study_stopped_by_sigterm_resumes_to_the_end() {
    let d = tempfile::tempdir().unwrap();
    // 6 small runs of the shipped study base (its checkpoints are found from the repository root).
    std::fs::copy(root().join("scenarios/studies/star_base.ron"), d.path().join("star_base.ron")).unwrap();
    let study = d.path().join("small.ron");
    write(
        &study,
        r#"Study(name: "small", scenario: "star_base.ron", seed: 7, replications: 2,
            set: [(path: "align.budget.steps", value: 20), (path: "eval.test_images", value: 100),
                  (path: "align.budget.curve_images", value: 100), (path: "network.horizon_s", value: 300.0)],
            axes: [(path: "network.users[1].count", label: "tx", values: [1, 2, 3])])"#,
    );
    let out = d.path().join("study");
    let runs = out.join("runs");
    let finished = || {
        std::fs::read_dir(&runs)
            .map_or(0, |r| r.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
    };
    let args = ["--threads", "2", "study", s(&study), "--jobs", "2", "--out", s(&out)];
    let (status, secs, err) = signalled(&args, libc::SIGTERM, || finished() >= 1, Duration::from_secs(60));
    let done = finished();
    println!("study SIGTERM: status {status:?}, {secs:.2} s after the signal, {done} of 6 runs finished");
    assert_eq!(status, Some(143), "{err}");
    assert!(done < 6, "the signal came too late");
    assert!(!out.join("study.csv").exists(), "an interrupted study wrote its table");
    let leftovers: Vec<String> = files(&runs).into_iter().filter(|n| n.starts_with('.')).collect();
    assert!(leftovers.is_empty(), "unfinished run folders left: {leftovers:?}");
    // Every run folder present is complete.
    for n in files(&runs).iter().filter(|n| !n.starts_with('.')) {
        for f in ["summary.json", "run.json", "timing.json"] {
            assert!(runs.join(n).join(f).exists(), "{n}/{f} missing");
        }
    }
    let r = run_limited_unbounded(&args);
    println!("study resumed: {:.1} s; {}", r.seconds, stderr(&r.out).trim());
    assert_eq!(r.out.status.code(), Some(0), "{}", stderr(&r.out));
    assert_eq!(finished(), 6);
    assert_eq!(std::fs::read_to_string(out.join("study.csv")).unwrap().lines().count(), 7);
}
