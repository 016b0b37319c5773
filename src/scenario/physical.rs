//! The physical world of a `network` section (all optional): radio from
//! positions (`radio`), how users are placed and move (`mobility`), who
//! leaves and comes back (`churn`), and compute speeds over time
//! (`compute_trace`). Cells themselves are a topology kind
//! (`TopologyShape::Cells`). Plain data with single-field checks; names and
//! trace files are resolved in `sim::physical_world`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

fn positive(field: &str, v: f64) -> Result<(), (String, String)> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err((field.to_string(), format!("{v} must be > 0")))
    }
}

fn non_negative(field: &str, v: f64) -> Result<(), (String, String)> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err((field.to_string(), format!("{v} must be >= 0")))
    }
}

fn finite(field: &str, v: f64) -> Result<(), (String, String)> {
    if v.is_finite() {
        Ok(())
    } else {
        Err((field.to_string(), format!("{v} must be finite")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaSpec {
    pub width_m: f64,
    pub height_m: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathLossSpec {
    /// PL(d) = pl0_db + 10·exponent·log10(d / d0_m).
    LogDistance { pl0_db: f64, d0_m: f64, exponent: f64 },
    /// 3GPP TR 38.901 UMi street canyon NLOS at carrier fc (GHz).
    UmiNlos { fc_ghz: f64 },
    /// 3GPP TR 38.901 UMa NLOS at carrier fc (GHz).
    UmaNlos { fc_ghz: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FadingSpec {
    #[default]
    None,
    /// Block Rayleigh fading with this coherence time (s).
    Rayleigh { coherence_s: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ModulationSpec {
    Bpsk,
    #[default]
    Qpsk,
    Qam16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateSpec {
    /// bandwidth × min(log2(1 + SNR), cap_bps_hz).
    Shannon { cap_bps_hz: f64 },
    /// (minimum SNR dB, spectral efficiency b/s/Hz) rows, rising.
    Mcs(Vec<(f64, f64)>),
}

/// `network.radio`: how positions become SNR, channel ε and link rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RadioSpec {
    pub area: AreaSpec,
    pub path_loss: PathLossSpec,
    /// σ of the log-normal shadowing, dB (0: none).
    pub shadowing_db: f64,
    /// Distance over which shadowing decorrelates to 1/e, m.
    pub decorrelation_m: f64,
    pub fading: FadingSpec,
    /// Uplink (user) and downlink (station) transmit powers, dBm.
    pub ue_power_dbm: f64,
    pub station_power_dbm: f64,
    /// Each user's radio bandwidth, Hz, and the receivers' noise figure, dB.
    pub bandwidth_hz: f64,
    pub noise_figure_db: f64,
    pub modulation: ModulationSpec,
    pub rate: RateSpec,
    /// One-way latency of a radio link, s.
    pub latency_s: f64,
    /// Positions, SNR, ε and rates are updated every `tick_s`.
    pub tick_s: f64,
    /// ε is kept at the nearest of these values (memoization per bin).
    pub bins: Vec<f64>,
    /// A link counts as misaligned by its channel when its accuracy at the
    /// current ε bin is more than this below its accuracy when aligned.
    pub drift_tolerance: f64,
}

impl Default for RadioSpec {
    fn default() -> Self {
        RadioSpec {
            area: AreaSpec { width_m: 1000.0, height_m: 1000.0 },
            path_loss: PathLossSpec::UmiNlos { fc_ghz: 3.5 },
            shadowing_db: 8.0,
            decorrelation_m: 13.0,
            fading: FadingSpec::None,
            ue_power_dbm: 23.0,
            station_power_dbm: 30.0,
            bandwidth_hz: 1e6,
            noise_figure_db: 7.0,
            modulation: ModulationSpec::Qpsk,
            rate: RateSpec::Shannon { cap_bps_hz: 6.0 },
            latency_s: 0.005,
            tick_s: 1.0,
            bins: vec![0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3],
            drift_tolerance: 0.05,
        }
    }
}

impl RadioSpec {
    pub fn validate(&self) -> Result<(), (String, String)> {
        let at = |f: &str| format!("network.radio.{f}");
        positive(&at("area.width_m"), self.area.width_m)?;
        positive(&at("area.height_m"), self.area.height_m)?;
        match self.path_loss {
            PathLossSpec::LogDistance { pl0_db, d0_m, exponent } => {
                finite(&at("path_loss.pl0_db"), pl0_db)?;
                positive(&at("path_loss.d0_m"), d0_m)?;
                positive(&at("path_loss.exponent"), exponent)?;
            }
            PathLossSpec::UmiNlos { fc_ghz } | PathLossSpec::UmaNlos { fc_ghz } => {
                positive(&at("path_loss.fc_ghz"), fc_ghz)?
            }
        }
        non_negative(&at("shadowing_db"), self.shadowing_db)?;
        non_negative(&at("decorrelation_m"), self.decorrelation_m)?;
        if let FadingSpec::Rayleigh { coherence_s } = self.fading {
            positive(&at("fading.coherence_s"), coherence_s)?;
        }
        finite(&at("ue_power_dbm"), self.ue_power_dbm)?;
        finite(&at("station_power_dbm"), self.station_power_dbm)?;
        positive(&at("bandwidth_hz"), self.bandwidth_hz)?;
        non_negative(&at("noise_figure_db"), self.noise_figure_db)?;
        match &self.rate {
            RateSpec::Shannon { cap_bps_hz } => positive(&at("rate.cap_bps_hz"), *cap_bps_hz)?,
            RateSpec::Mcs(t) => {
                if t.is_empty() {
                    return Err((at("rate"), "the MCS table is empty".into()));
                }
                for (i, &(th, e)) in t.iter().enumerate() {
                    finite(&at(&format!("rate[{i}].0")), th)?;
                    positive(&at(&format!("rate[{i}].1")), e)?;
                    if i > 0 && !(th > t[i - 1].0 && e > t[i - 1].1) {
                        return Err((at(&format!("rate[{i}]")), "thresholds and efficiencies must both rise".into()));
                    }
                }
            }
        }
        non_negative(&at("latency_s"), self.latency_s)?;
        positive(&at("tick_s"), self.tick_s)?;
        if self.bins.is_empty() {
            return Err((at("bins"), "at least one bin is needed".into()));
        }
        for (i, &b) in self.bins.iter().enumerate() {
            if !(0.0..1.0).contains(&b) {
                return Err((at(&format!("bins[{i}]")), format!("{b} is outside [0, 1)")));
            }
            if i > 0 && b <= self.bins[i - 1] {
                return Err((at(&format!("bins[{i}]")), "bins must rise strictly".into()));
            }
        }
        if !(0.0..=1.0).contains(&self.drift_tolerance) {
            return Err((at("drift_tolerance"), format!("{} is outside [0, 1]", self.drift_tolerance)));
        }
        Ok(())
    }
}

/// Where a cells topology puts its stations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StationPlacement {
    /// A regular grid over the area.
    #[default]
    Grid,
    /// One (x, y) per station, metres.
    Explicit(Vec<(f64, f64)>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementSpec {
    Uniform,
    /// `clusters` centres uniform in the area; users at N(0, sigma_m²) around one.
    Clustered {
        clusters: usize,
        sigma_m: f64,
    },
    /// The i-th member at the (i mod n)-th point.
    Explicit(Vec<(f64, f64)>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotionSpec {
    Static,
    /// Uniform destinations, speed uniform in `speed_mps`, pause uniform in `pause_s`.
    RandomWaypoint {
        speed_mps: (f64, f64),
        pause_s: (f64, f64),
    },
    /// (t_s, x, y) points in time order; straight lines between them.
    Path(Vec<(f64, f64, f64)>),
}

/// How the members of one group are placed and move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MobilitySpec {
    pub group: String,
    #[serde(default = "uniform")]
    pub placement: PlacementSpec,
    #[serde(default = "still")]
    pub motion: MotionSpec,
}

fn uniform() -> PlacementSpec {
    PlacementSpec::Uniform
}

fn still() -> MotionSpec {
    MotionSpec::Static
}

fn points_ok(field: &str, pts: &[(f64, f64)]) -> Result<(), (String, String)> {
    if pts.is_empty() {
        return Err((field.to_string(), "at least one point is needed".into()));
    }
    for (i, &(x, y)) in pts.iter().enumerate() {
        if !(x.is_finite() && y.is_finite()) {
            return Err((format!("{field}[{i}]"), format!("({x}, {y}) is not a point")));
        }
    }
    Ok(())
}

impl MobilitySpec {
    pub fn validate(&self, at: &str) -> Result<(), (String, String)> {
        match &self.placement {
            PlacementSpec::Uniform => {}
            PlacementSpec::Clustered { clusters, sigma_m } => {
                if *clusters == 0 {
                    return Err((format!("{at}.placement.clusters"), "must be >= 1".into()));
                }
                non_negative(&format!("{at}.placement.sigma_m"), *sigma_m)?;
            }
            PlacementSpec::Explicit(p) => points_ok(&format!("{at}.placement"), p)?,
        }
        match &self.motion {
            MotionSpec::Static => {}
            MotionSpec::RandomWaypoint { speed_mps: (lo, hi), pause_s: (plo, phi) } => {
                positive(&format!("{at}.motion.speed_mps"), *lo)?;
                if !(hi >= lo && hi.is_finite()) {
                    return Err((format!("{at}.motion.speed_mps"), format!("({lo}, {hi}) needs max >= min")));
                }
                non_negative(&format!("{at}.motion.pause_s"), *plo)?;
                if !(phi >= plo && phi.is_finite()) {
                    return Err((format!("{at}.motion.pause_s"), format!("({plo}, {phi}) needs max >= min")));
                }
            }
            MotionSpec::Path(pts) => {
                if pts.is_empty() {
                    return Err((format!("{at}.motion"), "a path needs at least one point".into()));
                }
                for (i, &(t, x, y)) in pts.iter().enumerate() {
                    non_negative(&format!("{at}.motion[{i}].t_s"), t)?;
                    if !(x.is_finite() && y.is_finite()) {
                        return Err((format!("{at}.motion[{i}]"), format!("({x}, {y}) is not a point")));
                    }
                    if i > 0 && t <= pts[i - 1].0 {
                        return Err((format!("{at}.motion[{i}].t_s"), "times must rise".into()));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Who leaves and comes back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnSpec {
    /// Every member of `group` alternates on (Exp, mean `mean_on_s`) and off
    /// (Exp, mean `mean_off_s`), starting on.
    OnOff { group: String, mean_on_s: f64, mean_off_s: f64 },
    /// Rows `t_s,user,event` (event: join or leave) of a CSV file, relative
    /// to the working directory.
    Trace { file: PathBuf },
}

impl ChurnSpec {
    pub fn validate(&self, at: &str) -> Result<(), (String, String)> {
        if let ChurnSpec::OnOff { mean_on_s, mean_off_s, .. } = self {
            positive(&format!("{at}.mean_on_s"), *mean_on_s)?;
            positive(&format!("{at}.mean_off_s"), *mean_off_s)?;
        }
        Ok(())
    }
}

pub(super) fn station_placement_ok(at: &str, p: &StationPlacement) -> Result<(), (String, String)> {
    match p {
        StationPlacement::Grid => Ok(()),
        StationPlacement::Explicit(pts) => points_ok(at, pts),
    }
}
