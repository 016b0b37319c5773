//! Checks of the network section's single fields and names, and of how its
//! physical sections fit together. Checks that need the expanded population
//! run in `sim::world`.

use super::physical::station_placement_ok;
use super::population::{Change, ComputeSpec, NetworkSpec, TopologyShape};
use super::LinkParams;
use crate::align::Method;

fn positive(field: String, v: f64) -> Result<(), (String, String)> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err((field, format!("{v} must be > 0")))
    }
}

fn link_ok(at: &str, l: &LinkParams) -> Result<(), (String, String)> {
    positive(format!("{at}.down_bps"), l.down_bps)?;
    positive(format!("{at}.up_bps"), l.up_bps)?;
    if !(l.latency_s >= 0.0 && l.latency_s.is_finite()) {
        return Err((format!("{at}.latency_s"), format!("{} must be >= 0", l.latency_s)));
    }
    Ok(())
}

impl NetworkSpec {
    /// Checks of single fields and names; `profile_exists` resolves profile
    /// names, `big_l` is the decoder depth L of the scenario's models.
    pub fn validate(&self, profile_exists: &dyn Fn(&str) -> bool, big_l: usize) -> Result<(), (String, String)> {
        let mut names = std::collections::HashSet::new();
        for (i, g) in self.users.iter().enumerate() {
            let at = format!("network.users[{i}]");
            if !super::valid_name(&g.name) || g.name == "*" {
                return Err((
                    format!("{at}.name"),
                    format!("{:?} must be non-empty letters, digits, '-', '_' or '.'", g.name),
                ));
            }
            if !names.insert(g.name.as_str()) {
                return Err((format!("{at}.name"), format!("duplicate group name {:?}", g.name)));
            }
            if !profile_exists(&g.profile) {
                return Err((format!("{at}.profile"), format!("no profile named {:?}", g.profile)));
            }
            if g.count == 0 {
                return Err((format!("{at}.count"), "must be >= 1".into()));
            }
            match g.compute {
                ComputeSpec::Fixed(v) => positive(format!("{at}.compute"), v)?,
                ComputeSpec::Uniform(lo, hi) => {
                    positive(format!("{at}.compute"), lo)?;
                    if !(hi >= lo && hi.is_finite()) {
                        return Err((format!("{at}.compute"), format!("uniform bounds ({lo}, {hi}) need hi >= lo")));
                    }
                }
                ComputeSpec::LogNormal { median, sigma } => {
                    positive(format!("{at}.compute.median"), median)?;
                    if !(sigma >= 0.0 && sigma.is_finite()) {
                        return Err((format!("{at}.compute.sigma"), format!("{sigma} must be >= 0")));
                    }
                }
            }
            if let Some(l) = &g.link {
                link_ok(&format!("{at}.link"), l)?;
            }
        }
        link_ok("network.topology.link", &self.topology.link)?;
        match &self.topology.kind {
            TopologyShape::RandomGeometric { radius } => positive("network.topology.kind.radius".into(), *radius)?,
            TopologyShape::ErdosRenyi { p } if !(0.0..=1.0).contains(p) => {
                return Err(("network.topology.kind.p".into(), format!("{p} is outside [0, 1]")));
            }
            TopologyShape::Star { shared: Some(l), .. } => link_ok("network.topology.kind.shared", l)?,
            TopologyShape::Explicit { edges } => {
                for (i, e) in edges.iter().enumerate() {
                    if let Some(l) = &e.link {
                        link_ok(&format!("network.topology.kind.edges[{i}].link"), l)?;
                    }
                }
            }
            TopologyShape::Cells { placement, backhaul, cell, hysteresis_db, time_to_trigger_s, .. } => {
                let at = "network.topology.kind";
                station_placement_ok(&format!("{at}.placement"), placement)?;
                link_ok(&format!("{at}.backhaul"), backhaul)?;
                if let Some(c) = cell {
                    link_ok(&format!("{at}.cell"), c)?;
                }
                for (f, v) in [("hysteresis_db", hysteresis_db), ("time_to_trigger_s", time_to_trigger_s)] {
                    if !(*v >= 0.0 && v.is_finite()) {
                        return Err((format!("{at}.{f}"), format!("{v} must be >= 0")));
                    }
                }
            }
            _ => {}
        }
        self.validate_physical()?;
        for (i, t) in self.traffic.iter().enumerate() {
            positive(format!("network.traffic[{i}].rate_hz"), t.rate_hz)?;
        }
        for (i, d) in self.dynamics.iter().enumerate() {
            let at = format!("network.dynamics[{i}]");
            if !(d.at_s >= 0.0 && d.at_s.is_finite()) {
                return Err((format!("{at}.at_s"), format!("{} must be >= 0", d.at_s)));
            }
            match &d.change {
                Change::Channel { epsilon, .. } if !(0.0..1.0).contains(epsilon) => {
                    return Err((format!("{at}.change.epsilon"), format!("{epsilon} is outside [0, 1)")));
                }
                Change::Data { profile, .. } if !profile_exists(profile) => {
                    return Err((format!("{at}.change.profile"), format!("no profile named {profile:?}")));
                }
                _ => {}
            }
        }
        self.detection.validate().map_err(|e| super::nested("network.detection", e))?;
        let pm = &self.policy.method;
        pm.validate(big_l).map_err(|e| super::nested("network.policy.method", e))?;
        if let Some(Method::None) = pm.fixed() {
            return Err((
                "network.policy.method".into(),
                "none cannot be simulated by `run` (use slf, encoder_only, split_learning, retrain, latent_map or \
                 index_map)"
                    .into(),
            ));
        }
        positive("network.horizon_s".into(), self.horizon_s)?;
        if !(self.sample_s >= 0.0 && self.sample_s.is_finite()) {
            return Err(("network.sample_s".into(), format!("{} must be >= 0", self.sample_s)));
        }
        Ok(())
    }
}

impl NetworkSpec {
    /// The physical sections: each field, and how they fit together.
    fn validate_physical(&self) -> Result<(), (String, String)> {
        let cells = matches!(self.topology.kind, TopologyShape::Cells { .. });
        match (&self.radio, cells) {
            (Some(r), true) => r.validate()?,
            (None, true) => {
                return Err(("network.radio".into(), "a cells topology needs a radio section".into()));
            }
            (Some(_), false) => {
                return Err(("network.radio".into(), "radio needs a cells topology (network.topology.kind)".into()));
            }
            (None, false) => {}
        }
        for (i, m) in self.mobility.iter().enumerate() {
            let at = format!("network.mobility[{i}]");
            if self.radio.is_none() {
                return Err((at, "mobility needs a radio section".into()));
            }
            m.validate(&at)?;
        }
        for (i, c) in self.churn.iter().enumerate() {
            c.validate(&format!("network.churn[{i}]"))?;
        }
        if self.radio.is_some() {
            if let Some(i) = self.dynamics.iter().position(|d| matches!(d.change, Change::Channel { .. })) {
                return Err((
                    format!("network.dynamics[{i}].change"),
                    "with a radio section a user's channel ε comes from its SNR; channel changes cannot be scripted"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}
