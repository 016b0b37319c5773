//! The adaptive policy, `method: adaptive(target_accuracy: A)` or
//! `adaptive(target_gap_share: G)`: when a pair's service starts, RX picks,
//! among the candidates (`PolicyMethod::candidates`: SLF ℓ = 0..=L,
//! `latent_map` with Procrustes and `index_map` on 64 pilots), the one with
//! the smallest predicted recovery time whose predicted accuracy reaches A
//! (or whose predicted share of the matched-link gap reaches G); if none
//! does, the most accurate (ties: the faster, then the earlier candidate).
//!
//! The gap share of a candidate predicted to reach accuracy a is
//! (a − before) / (matched − before): `before` the pair's link as it stands,
//! `matched` TX's own link (its encoder θ, decoder φ and classifier on its
//! channel ε and data), both judged as the alignment is. A link without a
//! gap (matched <= before) has nothing to recover: every candidate meets G.
//!
//! Predicted time: the cost model's bytes at the rate a new flow would get
//! on the pair's route now (`Network::newcomer_rate`, plus the route's
//! latency), down then up, TX's FLOPs on TX's compute queue as it stands
//! (waiting for the jobs already queued there), and a pilot aligner's RX
//! FLOPs (encoding the pilots, fitting the map) on RX's queue after the
//! upload, as the run serves them. Split learning is not a candidate.
//!
//! Predicted accuracy, first that applies:
//! 1. `class`: the mean realised accuracy of this candidate on this link
//!    class (TX's profile, ε and data; RX's profile) in this run;
//! 2. `kind`: its mean on links of the same kind (how TX differs from RX:
//!    `data` set, else `channel` ε, else `seed`, i.e. another checkpoint)
//!    between the same data sets (TX's, RX's): Fashion-MNIST and CIFAR-10
//!    TX meeting an MNIST RX are two kinds, as far apart as 0.80 and 0.31;
//! 3. `file`: the calibration file's value for that kind and data sets;
//! 4. `prior`: 1.0, optimistic, so that every candidate is tried, cheapest
//!    first, until the run has measured it.
//!
//! The means are updated when an alignment is installed, in simulated-time
//! order (the loop's), so the choices are the same for any `--threads`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::lab::LinkClass;
use super::world::ProfileInfo;
use crate::data::DatasetKind;
use crate::scenario::AdaptiveTarget;

/// How a TX differs from the RX it meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Another checkpoint (seed) on the same data and channel.
    Seed,
    /// TX sends over another channel ε than RX's profile was trained for.
    Channel,
    /// TX holds another data set than RX's profile.
    Data,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Seed, Kind::Channel, Kind::Data];

    /// The kind of link from a TX holding data set `tx.0` and sending over
    /// ε = `tx.1` to an RX trained on `rx.0` for ε = `rx.1`.
    pub fn between(tx: (DatasetKind, f64), rx: (DatasetKind, f64)) -> Kind {
        if tx.0 != rx.0 {
            Kind::Data
        } else if tx.1 != rx.1 {
            Kind::Channel
        } else {
            Kind::Seed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Seed => "seed",
            Kind::Channel => "channel",
            Kind::Data => "data",
        }
    }
}

/// Where a predicted accuracy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Class,
    Kind,
    File,
    Prior,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Class => "class",
            Source::Kind => "kind",
            Source::File => "file",
            Source::Prior => "prior",
        })
    }
}

/// The prior before any measurement: optimistic (see the module doc).
pub const PRIOR_ACCURACY: f64 = 1.0;

#[derive(Debug, Clone, Copy, Default)]
struct Mean {
    sum: f64,
    n: u64,
}

impl Mean {
    fn get(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// A calibration key beyond the link class: the kind, TX's data set and
/// RX's data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KindKey {
    pub kind: Kind,
    pub tx_dataset: DatasetKind,
    pub rx_dataset: DatasetKind,
}

impl KindKey {
    /// The key of a link from a TX holding data set `tx.0` and sending over
    /// ε = `tx.1` to an RX trained on `rx.0` for ε = `rx.1`.
    pub fn between(tx: (DatasetKind, f64), rx: (DatasetKind, f64)) -> KindKey {
        KindKey { kind: Kind::between(tx, rx), tx_dataset: tx.0, rx_dataset: rx.0 }
    }

    /// The key of link `class`.
    pub fn of(class: LinkClass, profiles: &[ProfileInfo]) -> KindKey {
        let (tx, rx) = class;
        let rx = &profiles[rx];
        KindKey::between((profiles[tx.data_profile].dataset, tx.epsilon()), (rx.dataset, rx.epsilon))
    }
}

/// Predicted accuracy per candidate (by method label): online means and
/// the calibration file's values.
#[derive(Debug, Clone, Default)]
pub struct Calibration {
    /// From a calibration file: (kind and data sets, method label) -> accuracy.
    pub file: BTreeMap<(KindKey, String), f64>,
    by_class: BTreeMap<(LinkClass, String), Mean>,
    by_kind: BTreeMap<(KindKey, String), Mean>,
}

impl Calibration {
    pub fn new(file: BTreeMap<(KindKey, String), f64>) -> Calibration {
        Calibration { file, ..Calibration::default() }
    }

    pub fn predict(&self, class: LinkClass, kind: KindKey, method: &str) -> (f64, Source) {
        let m = method.to_string();
        if let Some(a) = self.by_class.get(&(class, m.clone())).and_then(Mean::get) {
            return (a, Source::Class);
        }
        let k = (kind, m);
        if let Some(a) = self.by_kind.get(&k).and_then(Mean::get) {
            return (a, Source::Kind);
        }
        match self.file.get(&k) {
            Some(&a) => (a, Source::File),
            None => (PRIOR_ACCURACY, Source::Prior),
        }
    }

    /// An alignment by `method` of a link `class` was installed with `accuracy`.
    pub fn observe(&mut self, class: LinkClass, kind: KindKey, method: &str, accuracy: f64) {
        let by_class = self.by_class.entry((class, method.to_string())).or_default();
        let by_kind = self.by_kind.entry((kind, method.to_string())).or_default();
        for m in [by_class, by_kind] {
            m.sum += accuracy;
            m.n += 1;
        }
    }
}

/// One candidate as predicted at a decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub method: String,
    pub accuracy: f64,
    pub source: Source,
    /// The share of the matched-link gap that accuracy recovers (None: no gap).
    pub gap_share: Option<f64>,
    pub time_s: f64,
}

impl Prediction {
    /// Whether it reaches `target`.
    pub fn meets(&self, target: AdaptiveTarget) -> bool {
        match target {
            AdaptiveTarget::Accuracy(a) => self.accuracy >= a,
            AdaptiveTarget::GapShare(g) => self.gap_share.is_none_or(|s| s >= g),
        }
    }
}

/// The candidate to run: the fastest predicted to reach `target`, else the
/// most accurate (ties: faster, then earlier in the list). `preds` is not empty.
pub fn choose(preds: &[Prediction], target: AdaptiveTarget) -> usize {
    let meets = (0..preds.len()).filter(|&i| preds[i].meets(target));
    let fastest = meets.min_by(|&i, &j| preds[i].time_s.total_cmp(&preds[j].time_s).then(i.cmp(&j)));
    fastest.unwrap_or_else(|| {
        (0..preds.len())
            .min_by(|&i, &j| {
                let (a, b) = (&preds[i], &preds[j]);
                b.accuracy.total_cmp(&a.accuracy).then(a.time_s.total_cmp(&b.time_s)).then(i.cmp(&j))
            })
            .expect("at least one candidate")
    })
}

/// A calibration file's values: (kind and data sets, method label) -> accuracy.
pub type FileCalibration = BTreeMap<(KindKey, String), f64>;

/// A calibration file's header.
const HEADER: [&str; 5] = ["kind", "tx_dataset", "rx_dataset", "method", "accuracy"];
/// The first version's header (still read): RX's data set only, so that a
/// `data` row stands for every TX data set other than RX's.
const HEADER_V1: [&str; 4] = ["kind", "dataset", "method", "accuracy"];

/// A calibration file's text, as [`parse_calibration`] reads it: the
/// header, the `comment` lines (each prefixed `# `), then one row per
/// (kind, TX's data set, RX's data set, method) in key order. Accuracies are
/// written in full (shortest round-trip form), so parsing gives back the
/// same values.
pub fn calibration_text(values: &FileCalibration, comment: &[String]) -> String {
    let mut text = HEADER.join(",") + "\n";
    for c in comment {
        text += &format!("# {c}\n");
    }
    for ((k, method), accuracy) in values {
        text += &format!("{},{},{},{method},{accuracy}\n", k.kind.as_str(), k.tx_dataset, k.rx_dataset);
    }
    text
}

/// Parses a calibration file: CSV with the header
/// `kind,tx_dataset,rx_dataset,method,accuracy` (blank lines and `#`
/// comments skipped), `kind` one of seed, channel, data (data when and only
/// when the two data sets differ), the data sets among mnist,
/// fashion_mnist, cifar10, `method` one of `labels` (the candidates' labels,
/// e.g. `slf-l2`, `index-map-p64`) and `accuracy` in [0, 1]; one row per key.
/// The first version's `kind,dataset,method,accuracy` (RX's data set) is
/// read too. Errors name the file and line.
pub fn parse_calibration(
    text: &str,
    file: &std::path::Path,
    labels: &[String],
) -> Result<FileCalibration, super::physical::churn::TraceError> {
    use super::physical::churn::{rows, TraceError};
    let err = |line: usize, msg: String| TraceError { file: file.display().to_string(), line, msg };
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let v1 = first.split(',').map(str::trim).eq(HEADER_V1);
    let dataset = |line: usize, field: &str, s: &str| {
        DatasetKind::ALL.into_iter().find(|d| d.to_string() == s).ok_or_else(|| {
            let names: Vec<String> = DatasetKind::ALL.iter().map(|d| d.to_string()).collect();
            err(line, format!("{field}: {s:?} is not one of {}", names.join(", ")))
        })
    };
    let mut out = FileCalibration::new();
    for (line, f) in rows(text, file, if v1 { &HEADER_V1 } else { &HEADER })? {
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == f[0])
            .ok_or_else(|| err(line, format!("kind: {:?} is not seed, channel or data", f[0])))?;
        let (txs, rx, f) = if v1 {
            let rx = dataset(line, "dataset", f[1])?;
            let txs: Vec<DatasetKind> = match kind {
                Kind::Data => DatasetKind::ALL.into_iter().filter(|&d| d != rx).collect(),
                Kind::Seed | Kind::Channel => vec![rx],
            };
            (txs, rx, &f[2..])
        } else {
            let (tx, rx) = (dataset(line, "tx_dataset", f[1])?, dataset(line, "rx_dataset", f[2])?);
            if (kind == Kind::Data) != (tx != rx) {
                return Err(err(
                    line,
                    format!("kind: {} between {tx} and {rx} (data when and only when they differ)", f[0]),
                ));
            }
            (vec![tx], rx, &f[3..])
        };
        if !labels.iter().any(|l| l == f[0]) {
            return Err(err(line, format!("method: {:?} is not a candidate ({})", f[0], labels.join(", "))));
        }
        let accuracy = match f[1].parse::<f64>() {
            Ok(a) if a.is_finite() && (0.0..=1.0).contains(&a) => a,
            _ => return Err(err(line, format!("accuracy: {:?} is not a number in [0, 1]", f[1]))),
        };
        for tx_dataset in txs {
            let key = KindKey { kind, tx_dataset, rx_dataset: rx };
            if out.insert((key, f[0].to_string()), accuracy).is_some() {
                return Err(err(line, format!("a second row for {}, {tx_dataset}, {rx}, {}", kind.as_str(), f[0])));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(accuracy: f64, time_s: f64) -> Prediction {
        Prediction { method: String::new(), accuracy, source: Source::Prior, gap_share: None, time_s }
    }

    fn key(kind: Kind, tx_dataset: DatasetKind, rx_dataset: DatasetKind) -> KindKey {
        KindKey { kind, tx_dataset, rx_dataset }
    }

    #[test]
    fn a_written_calibration_parses_back_to_the_same_values() {
        let mut values = FileCalibration::new();
        let (m, f, c) = (DatasetKind::Mnist, DatasetKind::FashionMnist, DatasetKind::Cifar10);
        values.insert((key(Kind::Data, f, m), "slf-l2".to_string()), 0.1 + 0.2);
        values.insert((key(Kind::Data, c, m), "slf-l2".to_string()), 0.7);
        values.insert((key(Kind::Seed, c, c), "index-map-p64".to_string()), 1.0 / 3.0);
        values.insert((key(Kind::Channel, f, f), "latent-map-procrustes-p64".to_string()), 0.0);
        let text = calibration_text(&values, &["measured by two-user".to_string()]);
        assert!(
            text.starts_with(
                "kind,tx_dataset,rx_dataset,method,accuracy\n# measured by two-user\nseed,cifar10,cifar10,index-map-p64,"
            ),
            "{text}"
        );
        let labels: Vec<String> = ["slf-l2", "index-map-p64", "latent-map-procrustes-p64"].map(String::from).to_vec();
        let back = parse_calibration(&text, std::path::Path::new("cal.csv"), &labels).unwrap();
        assert_eq!(back, values, "{text}");
    }

    #[test]
    fn kinds_by_data_set_first_then_channel() {
        let (m, f) = (DatasetKind::Mnist, DatasetKind::FashionMnist);
        assert_eq!(Kind::between((f, 0.1), (m, 0.0)), Kind::Data);
        assert_eq!(Kind::between((m, 0.1), (m, 0.0)), Kind::Channel);
        assert_eq!(Kind::between((m, 0.0), (m, 0.0)), Kind::Seed);
    }

    #[test]
    fn the_fastest_that_meets_the_target_else_the_most_accurate() {
        let preds = [p(0.95, 30.0), p(0.93, 12.0), p(0.80, 0.1), p(0.70, 0.05)];
        let a = AdaptiveTarget::Accuracy;
        assert_eq!(choose(&preds, a(0.9)), 1, "0.93 in 12 s beats 0.95 in 30 s");
        assert_eq!(choose(&preds, a(0.75)), 2);
        assert_eq!(choose(&preds, a(0.0)), 3);
        assert_eq!(choose(&preds, a(0.99)), 0, "none meets 0.99: the most accurate");
        // Ties: the faster, then the earlier.
        assert_eq!(choose(&[p(0.5, 3.0), p(0.5, 2.0), p(0.5, 2.0)], a(0.9)), 1);
        assert_eq!(choose(&[p(0.9, 2.0), p(0.9, 2.0)], a(0.9)), 0);
    }

    #[test]
    fn a_gap_share_target_reads_each_candidate_against_the_pairs_own_gap() {
        // Before 0.1, matched 0.4 (a CIFAR-10-like TX): 0.31 recovers 70% of
        // the gap, 0.26 53%; no accuracy target of 0.8 would ever be met.
        let share =
            |acc: f64, t: f64| Prediction { gap_share: crate::align::gap_recovered(0.1, acc, 0.4), ..p(acc, t) };
        let preds = [share(0.31, 30.0), share(0.28, 20.0), share(0.26, 1.0)];
        let g = AdaptiveTarget::GapShare;
        assert_eq!(choose(&preds, g(0.5)), 2, "53% in 1 s");
        assert_eq!(choose(&preds, g(0.6)), 1, "60% in 20 s");
        assert_eq!(choose(&preds, g(0.8)), 0, "none meets 80%: the most accurate");
        assert_eq!(choose(&preds, AdaptiveTarget::Accuracy(0.8)), 0);
        // No gap (matched <= before): nothing to recover, the fastest.
        assert_eq!(choose(&[p(0.31, 30.0), p(0.26, 1.0)], g(0.99)), 1);
    }

    #[test]
    fn predictions_fall_back_from_class_to_kind_to_file_to_prior() {
        use super::super::lab::TxState;
        let tx = |profile| TxState { profile, epsilon_bits: 0f64.to_bits(), data_profile: profile };
        let (c1, c2) = ((tx(1), 0), (tx(2), 0));
        let k = key(Kind::Seed, DatasetKind::Mnist, DatasetKind::Mnist);
        let mut file = BTreeMap::new();
        file.insert((k, "slf-l0".to_string()), 0.7);
        let mut cal = Calibration::new(file);
        assert_eq!(cal.predict(c1, k, "slf-l0"), (0.7, Source::File));
        assert_eq!(cal.predict(c1, k, "slf-l1"), (PRIOR_ACCURACY, Source::Prior));
        cal.observe(c1, k, "slf-l0", 0.9);
        cal.observe(c2, k, "slf-l0", 0.8);
        assert_eq!(cal.predict(c1, k, "slf-l0"), (0.9, Source::Class));
        let (a, s) = cal.predict((tx(3), 0), k, "slf-l0");
        assert!((a - 0.85).abs() < 1e-12 && s == Source::Kind, "{a} {s}");
        let fashion = key(Kind::Data, DatasetKind::FashionMnist, DatasetKind::Mnist);
        assert_eq!(cal.predict((tx(3), 0), fashion, "slf-l0").1, Source::Prior);
    }

    #[test]
    fn calibration_files_parse_and_bad_rows_name_file_and_line() {
        let f = std::path::Path::new("cal.csv");
        let labels = vec!["slf-l0".to_string(), "index-map-p64".to_string()];
        let (m, fa, ci) = (DatasetKind::Mnist, DatasetKind::FashionMnist, DatasetKind::Cifar10);
        let idx = "index-map-p64".to_string();
        let ok = "kind,tx_dataset,rx_dataset,method,accuracy\n# measured\nseed,mnist,mnist,slf-l0,0.94\n\ndata,fashion_mnist,mnist,index-map-p64,0.68\ndata,cifar10,mnist,index-map-p64,0.24\n";
        let c = parse_calibration(ok, f, &labels).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[&(key(Kind::Data, fa, m), idx.clone())], 0.68);
        assert_eq!(c[&(key(Kind::Data, ci, m), idx.clone())], 0.24);
        // The first version's rows: a `data` row stands for every other TX data set.
        let v1 = "kind,dataset,method,accuracy\n# measured\nseed,mnist,slf-l0,0.94\n\ndata,mnist,index-map-p64,0.68\n";
        let c = parse_calibration(v1, f, &labels).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[&(key(Kind::Seed, m, m), "slf-l0".to_string())], 0.94);
        assert_eq!((c[&(key(Kind::Data, fa, m), idx.clone())], c[&(key(Kind::Data, ci, m), idx)]), (0.68, 0.68));
        let h = "kind,tx_dataset,rx_dataset,method,accuracy\n";
        for (text, want) in [
            (format!("{h}data,mnist,mnist,slf-l0,0.9\n"), "cal.csv:2: kind: data between mnist and mnist"),
            (format!("{h}seed,cifar10,mnist,slf-l0,0.9\n"), "cal.csv:2: kind: seed between cifar10 and mnist"),
            (format!("{h}data,svhn,mnist,slf-l0,0.9\n"), "cal.csv:2: tx_dataset: \"svhn\""),
            (format!("{h}\ndata,cifar10,mnist,slf-l0,0.9\ndata,cifar10,mnist,slf-l0,0.8\n"), "cal.csv:4: a second row"),
        ] {
            let e = parse_calibration(&text, f, &labels).unwrap_err().to_string();
            assert!(e.starts_with(want), "{e:?} should start with {want:?}");
        }
        for (text, want) in [
            ("kind,method,accuracy\n", "cal.csv:1: the header must be"),
            ("kind,dataset,method,accuracy\nsed,mnist,slf-l0,0.9\n", "cal.csv:2: kind: \"sed\""),
            ("kind,dataset,method,accuracy\nseed,svhn,slf-l0,0.9\n", "cal.csv:2: dataset: \"svhn\""),
            (
                "kind,dataset,method,accuracy\nseed,mnist,slf-l9,0.9\n",
                "cal.csv:2: method: \"slf-l9\" is not a candidate",
            ),
            ("kind,dataset,method,accuracy\n\nseed,mnist,slf-l0,1.2\n", "cal.csv:3: accuracy: \"1.2\""),
            ("kind,dataset,method,accuracy\nseed,mnist,slf-l0,NaN\n", "cal.csv:2: accuracy"),
            ("kind,dataset,method,accuracy\nseed,mnist,slf-l0,0.9\nseed,mnist,slf-l0,0.8\n", "cal.csv:3: a second row"),
            ("kind,dataset,method,accuracy\nseed,mnist,slf-l0\n", "cal.csv:2: 3 fields"),
        ] {
            let e = parse_calibration(text, f, &labels).unwrap_err().to_string();
            assert!(e.starts_with(want), "{e:?} should start with {want:?}");
        }
    }
}
