//! What a scenario may ask for: bounds that keep every run finite in time
//! and memory, checked from the specification alone, before anything is
//! expanded or allocated.
//!
//! Two kinds of limit:
//! - **hard** limits, which no flag lifts: every time and duration must fit
//!   the nanosecond clock with room for sums (`MAX_TIME_S`), model sizes,
//!   batches and image counts must fit the data and the memory of one
//!   LibTorch step;
//! - **caps** on the size of a run (users, links, pairs, expected events,
//!   estimated memory, study runs, training steps), which `--allow-large`
//!   raises: then only the estimated memory is checked, against the
//!   machine's physical memory.
//!
//! Errors are (field path, message) naming the value and the limit.

use std::sync::Mutex;

use super::{Change, DetectionRule, RatePer, Scenario, TopologyShape};
use crate::align::cost::layer_costs;
use crate::align::Method;
use crate::data::Partition;

/// Every time and duration, given or derived (one transfer, one
/// fine-tuning), must be at most this many seconds (about 31.7 years): the
/// nanosecond clock holds 1.8e10 s, so sums of a few such values cannot
/// overflow it.
pub const MAX_TIME_S: f64 = 1e9;
/// The largest test split of the data sets slfsim reads (MNIST,
/// Fashion-MNIST and CIFAR-10 all have 10,000 test images).
pub const MAX_TEST_IMAGES: usize = 10_000;
/// The largest train split (MNIST and Fashion-MNIST: 60,000 images).
pub const MAX_TRAIN_IMAGES: usize = 60_000;
/// Images in one training or fine-tuning step (a step of the default model
/// at this batch holds about 1 GB of activations and gradients).
pub const MAX_BATCH: usize = 4096;
/// Largest channel count, latent dimension or hidden width of a model.
pub const MAX_WIDTH: i64 = 4096;
/// Largest codebook (K = 2^16, 16 bits per index).
pub const MAX_CODEBOOK: i64 = 1 << 16;
/// Parameters of one transceiver (200 MB of f32).
pub const MAX_PARAMS: f64 = 5e7;
/// FLOPs of one fine-tuning (the counters are u64).
pub const MAX_JOB_FLOPS: f64 = 1e18;
/// A monitor's window of confidences.
pub const MAX_WINDOW: usize = 1_000_000;

/// Caps on the size of a run; `--allow-large` lifts them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub users: f64,
    pub links: f64,
    pub pairs: f64,
    /// Pair checks of a generated topology (complete, random geometric, Erdős–Rényi: n(n-1)/2).
    pub topology_checks: f64,
    pub events: f64,
    pub memory_bytes: f64,
    /// Runs of one study.
    pub study_runs: f64,
    /// Training and fine-tuning steps of one job.
    pub steps: f64,
}

impl Limits {
    /// The default caps: far above the shipped scenarios (100,000-user
    /// populations included), far below what would exhaust a machine.
    pub const DEFAULT: Limits = Limits {
        users: 1e6,
        links: 1e7,
        pairs: 1e7,
        topology_checks: 5e9,
        events: 5e7,
        memory_bytes: 8.0 * GIB,
        study_runs: 1e5,
        steps: 1e6,
    };

    /// `--allow-large`: no caps but the machine's physical memory.
    pub fn large() -> Limits {
        Limits {
            users: f64::INFINITY,
            links: f64::INFINITY,
            pairs: f64::INFINITY,
            topology_checks: f64::INFINITY,
            events: f64::INFINITY,
            memory_bytes: physical_memory(),
            study_runs: f64::INFINITY,
            steps: f64::INFINITY,
        }
    }

    /// The limits in force in this process: the default caps unless the
    /// command line said `--allow-large`. Process-wide, because it is one
    /// decision of the user that every layer (scenario loading, network
    /// expansion, study plans) must honour.
    pub fn current() -> Limits {
        CURRENT.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(Limits::DEFAULT)
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

static CURRENT: Mutex<Option<Limits>> = Mutex::new(None);

/// Raises the caps for this process (`--allow-large`).
pub fn allow_large() {
    set(Limits::large());
}

/// Sets the limits of this process (the fuzz targets use small ones, so
/// that every input runs in milliseconds).
pub fn set(limits: Limits) {
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(limits);
}

/// MemTotal of /proc/meminfo, else 16 GiB.
fn physical_memory() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb * 1024.0)
        })
        .unwrap_or(16.0 * GIB)
}

/// Sizes of a run, estimated from the specification without expanding it.
/// Pairs, episodes, transfers and events are upper bounds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    pub users: f64,
    pub links: f64,
    pub pairs: f64,
    pub topology_checks: f64,
    /// Messages sent over the horizon (Poisson, expected).
    pub messages: f64,
    pub episodes: f64,
    /// Model transfers (a download and an upload per episode served; split
    /// learning adds its four hand-overs a step).
    pub transfers: f64,
    pub events: f64,
    pub memory_bytes: f64,
}

/// Bytes held per item while a run is in progress, measured roughly on the
/// shipped scenarios (names, routes, records, the event log).
const BYTES_PER_USER: f64 = 400.0;
const BYTES_PER_LINK: f64 = 200.0;
const BYTES_PER_PAIR: f64 = 800.0;
const BYTES_PER_EVENT: f64 = 250.0;

type Invalid = (String, String);

fn big(field: impl Into<String>, what: &str, value: f64, limit: f64, raise: bool) -> Invalid {
    let hint = if raise { "; --allow-large raises this cap" } else { "" };
    (field.into(), format!("{what} {} is above the limit of {}{hint}", show(value), show(limit)))
}

/// A number for messages: integers with separators, else 3 significant digits.
pub fn show(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        let s = format!("{}", v.abs() as u64);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 {
            out.insert(0, '-');
        }
        out
    } else {
        format!("{v:.3e}")
    }
}

/// A time or duration in seconds that must fit the clock.
pub fn time_ok(field: impl Into<String>, v: f64) -> Result<(), Invalid> {
    if v.is_nan() || v > MAX_TIME_S {
        return Err((
            field.into(),
            format!("{} s is above the limit of {} s (the nanosecond clock)", show(v), show(MAX_TIME_S)),
        ));
    }
    Ok(())
}

/// Hard limits on single fields (part of `Scenario::validate`).
pub fn check_fields(sc: &Scenario) -> Result<(), Invalid> {
    for (i, p) in sc.profiles.iter().enumerate() {
        let at = format!("profiles[{i}]");
        let m = &p.model;
        let widths = m.encoder_channels.iter().chain(&m.decoder_channels).chain(&m.classifier_channels);
        for (name, &w) in [("latent_dim", &m.latent_dim), ("classifier_hidden", &m.classifier_hidden)]
            .into_iter()
            .chain(widths.map(|w| ("channels", w)))
        {
            if w > MAX_WIDTH {
                return Err(big(format!("{at}.model.{name}"), "width", w as f64, MAX_WIDTH as f64, false));
            }
        }
        if m.codebook_size > MAX_CODEBOOK {
            return Err(big(
                format!("{at}.model.codebook_size"),
                "codebook size",
                m.codebook_size as f64,
                MAX_CODEBOOK as f64,
                false,
            ));
        }
        let params: f64 = layer_costs(m, p.image_channels()).iter().map(|l| l.params as f64).sum();
        if params > MAX_PARAMS {
            return Err(big(format!("{at}.model"), "parameter count", params, MAX_PARAMS, false));
        }
        match p.data.partition {
            Partition::Iid { size } | Partition::Dirichlet { size, .. } if size > MAX_TRAIN_IMAGES => {
                return Err((
                    format!("{at}.data.partition.size"),
                    format!(
                        "{} images is more than the largest train split holds ({})",
                        show(size as f64),
                        show(MAX_TRAIN_IMAGES as f64)
                    ),
                ));
            }
            _ => {}
        }
        let t = &p.train;
        batch_ok(&format!("{at}.train.batch_size"), t.batch_size)?;
        images_ok(&format!("{at}.train.eval_images"), t.eval_images)?;
        steps_ok(&format!("{at}.train.steps"), t.steps)?;
        steps_ok(&format!("{at}.train.classifier_steps"), t.classifier_steps)?;
    }
    let b = &sc.align.budget;
    batch_ok("align.budget.batch_size", b.batch_size)?;
    images_ok("align.budget.curve_images", b.curve_images)?;
    steps_ok("align.budget.steps", b.steps)?;
    images_ok("eval.test_images", sc.eval.test_images)?;
    // Pilots are test-split images too (disjoint from the judged ones).
    let big_l = sc.profiles.first().map_or(0, |p| p.model.decoder_layers());
    for m in sc.network.policy.method.candidates(big_l) {
        if let Method::LatentMap { pilots, .. } | Method::IndexMap { pilots } = m {
            images_ok("network.policy.method.pilots", pilots)?;
        }
    }
    for p in &sc.profiles {
        let per_sample: f64 =
            layer_costs(&p.model, p.image_channels()).iter().map(|l| 3.0 * l.forward_flops as f64).sum();
        let flops = per_sample * b.batch_size as f64 * b.steps as f64;
        if flops.is_nan() || flops > MAX_JOB_FLOPS {
            return Err(big("align.budget.steps", "FLOPs of one fine-tuning", flops, MAX_JOB_FLOPS, false));
        }
    }
    time_ok("align.cost.latency_s", sc.align.cost.latency_s)?;
    let net = &sc.network;
    time_ok("network.horizon_s", net.horizon_s)?;
    time_ok("network.sample_s", net.sample_s)?;
    for (i, d) in net.dynamics.iter().enumerate() {
        time_ok(format!("network.dynamics[{i}].at_s"), d.at_s)?;
    }
    match net.detection {
        DetectionRule::Oracle { delay_s } => time_ok("network.detection.delay_s", delay_s)?,
        DetectionRule::Monitor { window, .. } if window > MAX_WINDOW => {
            return Err(big("network.detection.window", "window", window as f64, MAX_WINDOW as f64, false));
        }
        _ => {}
    }
    let mut links = vec![("network.topology.link".to_string(), net.topology.link)];
    for (i, g) in net.users.iter().enumerate() {
        links.extend(g.link.map(|l| (format!("network.users[{i}].link"), l)));
    }
    match &net.topology.kind {
        TopologyShape::Star { shared: Some(l), .. } => links.push(("network.topology.kind.shared".into(), *l)),
        TopologyShape::Explicit { edges } => {
            for (i, e) in edges.iter().enumerate() {
                links.extend(e.link.map(|l| (format!("network.topology.kind.edges[{i}].link"), l)));
            }
        }
        _ => {}
    }
    for (at, l) in links {
        time_ok(format!("{at}.latency_s"), l.latency_s)?;
    }
    Ok(())
}

fn batch_ok(field: &str, b: usize) -> Result<(), Invalid> {
    if b > MAX_BATCH {
        return Err(big(field, "batch size", b as f64, MAX_BATCH as f64, false));
    }
    Ok(())
}

fn images_ok(field: &str, n: usize) -> Result<(), Invalid> {
    if n > MAX_TEST_IMAGES {
        return Err((
            field.into(),
            format!(
                "{} images is more than the largest test split holds ({})",
                show(n as f64),
                show(MAX_TEST_IMAGES as f64)
            ),
        ));
    }
    Ok(())
}

fn steps_ok(field: &str, n: usize) -> Result<(), Invalid> {
    let cap = Limits::current().steps;
    if n as f64 > cap {
        return Err(big(field, "step count", n as f64, cap, true));
    }
    Ok(())
}

/// Sizes of the scenario's network, from the specification alone.
pub fn estimate(sc: &Scenario) -> Estimate {
    let net = &sc.network;
    let users: f64 = net.users.iter().map(|g| g.count as f64).sum();
    // How many users a selector (user, group or "*") matches.
    let size = |sel: &str| -> f64 {
        if sel == "*" {
            return users;
        }
        if let Some(g) = net.users.iter().find(|g| g.name == sel) {
            return g.count as f64;
        }
        let member = net.users.iter().any(|g| {
            g.count > 1
                && sel
                    .strip_prefix(g.name.as_str())
                    .is_some_and(|i| i.parse::<u64>().is_ok_and(|i| (i as f64) < g.count as f64))
        });
        if member {
            1.0
        } else {
            0.0
        }
    };
    let all_pairs = users * (users - 1.0).max(0.0) / 2.0;
    let (links, checks) = match &net.topology.kind {
        TopologyShape::Star { shared, .. } => ((users - 1.0).max(0.0) + shared.map_or(0.0, |_| 1.0), users),
        TopologyShape::Complete => (all_pairs, all_pairs),
        TopologyShape::RandomGeometric { radius } => {
            (all_pairs * (std::f64::consts::PI * radius * radius).min(1.0), all_pairs)
        }
        TopologyShape::ErdosRenyi { p } => (all_pairs * p.clamp(0.0, 1.0), all_pairs),
        TopologyShape::Explicit { edges } => (edges.len() as f64, edges.len() as f64),
        // One radio link per user and station, a backhaul at most complete.
        TopologyShape::Cells { stations, .. } => {
            let k = size(stations);
            (users * k + k * k, users)
        }
    };
    let mut pairs = 0.0;
    let mut messages_per_s = 0.0;
    for t in &net.traffic {
        let (from, to) = (size(&t.from), size(&t.to));
        // A user does not send to itself: a selector inside the other adds no pair with itself.
        let same = if t.from == "*" || t.from == t.to {
            to
        } else if t.to == "*" {
            from
        } else {
            0.0
        };
        let mut n = (from * to - same).max(0.0);
        if t.neighbours_only {
            n = n.min(2.0 * links);
        }
        pairs += n;
        messages_per_s += match t.per {
            RatePer::Pair => t.rate_hz * n,
            RatePer::User => t.rate_hz * from,
        };
    }
    let pairs = pairs.min(2.0 * all_pairs);
    finish(sc, users, links, checks, pairs, messages_per_s)
}

/// The estimate from the population's sizes (upper bounds, or exact counts
/// once the network is expanded) and its total message rate.
pub fn finish(sc: &Scenario, users: f64, links: f64, checks: f64, pairs: f64, messages_per_s: f64) -> Estimate {
    let net = &sc.network;
    let size = |sel: &str| -> f64 {
        if sel == "*" {
            users
        } else {
            net.users.iter().find(|g| g.name == sel).map_or(1.0, |g| g.count as f64)
        }
    };
    let horizon = net.horizon_s.max(0.0);
    let messages = messages_per_s * horizon;
    let changes: f64 = net
        .dynamics
        .iter()
        .map(|d| match &d.change {
            Change::Join { user } | Change::Channel { user, .. } | Change::Data { user, .. } => size(user),
        })
        .sum();
    // Every pair may be misaligned at the start and again after every change;
    // a monitor may also declare aligned links (at most once per window).
    let false_alarms = match net.detection {
        DetectionRule::Monitor { window, .. } => messages / window.max(1) as f64,
        DetectionRule::Oracle { .. } => 0.0,
    };
    let episodes = pairs * (1.0 + net.dynamics.len() as f64) + false_alarms;
    // Split learning hands four tensors over a step, each a flow after a compute.
    let per_step = match net.policy.method.fixed() {
        Some(Method::SplitLearning) => 4.0 * sc.align.budget.steps as f64,
        _ => 0.0,
    };
    let transfers = (2.0 + per_step) * episodes;
    let samples = if net.sample_s > 0.0 { horizon / net.sample_s + 1.0 } else { 201.0 };
    // Sent and received per message; about a dozen per episode served
    // (detection, two transfers, fine-tuning, installation, network checks),
    // and three per split-learning hand-over (its start, a network check, a compute).
    let events = 2.0 * messages + (12.0 + 3.0 * per_step) * episodes + changes + users + samples;
    let memory_bytes = users * BYTES_PER_USER
        + links * BYTES_PER_LINK
        + pairs * BYTES_PER_PAIR
        + events * BYTES_PER_EVENT
        + samples * 64.0;
    Estimate { users, links, pairs, topology_checks: checks, messages, episodes, transfers, events, memory_bytes }
}

/// Refuses a network whose estimated size is above `limits`; returns the estimate.
pub fn check_size(sc: &Scenario, limits: &Limits) -> Result<Estimate, Invalid> {
    let e = estimate(sc);
    let raise = limits.events.is_finite();
    let caps = [
        ("network.users", "users", e.users, limits.users),
        ("network.topology", "links", e.links, limits.links),
        ("network.topology.kind", "pair checks to generate the topology", e.topology_checks, limits.topology_checks),
        ("network.traffic", "(TX, RX) pairs", e.pairs, limits.pairs),
        ("network.traffic", "expected events", e.events, limits.events),
    ];
    for (field, what, v, cap) in caps {
        if v.is_nan() || v > cap {
            return Err(big(field, what, v, cap, raise));
        }
    }
    if e.memory_bytes.is_nan() || e.memory_bytes > limits.memory_bytes {
        let what = if raise { "estimated memory (bytes)" } else { "estimated memory (bytes; the machine's memory)" };
        return Err(big("network", what, e.memory_bytes, limits.memory_bytes, raise));
    }
    Ok(e)
}

/// Clamps image counts to the test splits in `data_dir` (the embedded cuts
/// in `./data` hold 2,000 test images, the full sets 10,000):
/// `eval.test_images` and `align.budget.curve_images` to the smallest test
/// split of the scenario's data sets. Returns one note per value changed, for
/// the user. Data sets that cannot be read are left to the code that needs
/// them, which reports the error.
pub fn fit_to_data(sc: &mut Scenario, data_dir: &std::path::Path) -> Vec<String> {
    use crate::data::{load_cached, Split};
    let mut smallest: Option<(usize, String)> = None;
    for p in &sc.profiles {
        let Ok(set) = load_cached(data_dir, p.data.dataset, Split::Test, p.data.color) else { continue };
        if smallest.as_ref().is_none_or(|(m, _)| set.len() < *m) {
            smallest = Some((set.len(), p.data.dataset.to_string()));
        }
    }
    let mut notes = Vec::new();
    let Some((n, set)) = smallest else { return notes };
    let fields = [
        ("eval.test_images", &mut sc.eval.test_images),
        ("align.budget.curve_images", &mut sc.align.budget.curve_images),
    ];
    for (field, v) in fields {
        if *v > n {
            notes.push(format!(
                "{field} {} is more than the {n} test images of {set} in {}: using {n}",
                *v,
                data_dir.display()
            ));
            *v = n.max(1);
        }
    }
    notes
}
