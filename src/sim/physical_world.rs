//! A scenario's physical world resolved for the loop: stations and their
//! positions, the links of a cells topology (backhaul, air interfaces, one
//! radio link per user and station), the radio parameters as models of
//! `physical`, each user's placement and motion, and the churn and compute
//! events. Built by `world::build` before anything runs, so bad names and
//! bad trace rows are reported first.

use std::path::Path;

use super::core::{edge, secs_to_ns, EdgeParams, LinkId, LinkSpec, NetError, Network, Route, SimTime};
use super::physical::bins::Bins;
use super::physical::churn::{on_off, parse_compute, parse_presence, Presence};
use super::physical::mobility::{cluster_centres, place, Area, Motion, Placement, Point};
use super::physical::radio::{noise_dbm, Modulation, PathLoss, RateModel};
use super::world::World;
use crate::scenario::{
    ChurnSpec, FadingSpec, LinkParams, ModulationSpec, MotionSpec, PathLossSpec, PlacementSpec, RateSpec, Scenario,
    StationPlacement, TopologyShape,
};
use crate::seed::stream;
use crate::transceiver::ChannelKind;

type Invalid = (String, String);

/// The radio models and their parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RadioParams {
    pub path_loss: PathLoss,
    pub shadowing_db: f64,
    pub decorrelation_m: f64,
    /// Block Rayleigh fading's coherence time, if fading is on.
    pub coherence_s: Option<f64>,
    pub ue_power_dbm: f64,
    pub station_power_dbm: f64,
    pub bandwidth_hz: f64,
    pub noise_dbm: f64,
    pub modulation: Modulation,
    pub rate: RateModel,
    pub tick: SimTime,
    pub tick_s: f64,
    pub bins: Bins,
    pub drift_tolerance: f64,
}

/// How a bit error probability becomes a profile's channel ε.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpsMap {
    Bsc,
    Index { bits: u32 },
}

impl EpsMap {
    pub fn epsilon(self, p: f64) -> f64 {
        use super::physical::radio::{epsilon_bsc, epsilon_index};
        match self {
            EpsMap::Bsc => epsilon_bsc(p),
            EpsMap::Index { bits } => epsilon_index(p, bits),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhysicalWorld {
    pub radio: RadioParams,
    pub area: Area,
    /// The user index of station k.
    pub stations: Vec<usize>,
    pub station_pos: Vec<Point>,
    /// Per user: its station index, if it is a station.
    pub station_of: Vec<Option<usize>>,
    /// Distinct motions; `user_motion[u]` indexes it.
    pub motions: Vec<Motion>,
    pub user_motion: Vec<usize>,
    /// Per user: where it starts (a station: where it stands).
    pub start: Vec<Point>,
    /// Per user and station: the radio link's spec index (a = station side,
    /// so link 2i is the downlink); empty for stations.
    pub radio_link: Vec<Vec<usize>>,
    /// Per station: the shared air interface's spec index (a = station).
    pub cell_link: Vec<Option<usize>>,
    pub hysteresis_db: f64,
    pub time_to_trigger_s: f64,
    /// Idle aligned decoders a station keeps.
    pub cache: usize,
    /// Per profile.
    pub eps_map: Vec<EpsMap>,
}

/// Users leaving and coming back, and compute speeds over time (any topology).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Churn {
    /// (time, user, event), sorted by time then user.
    pub presence: Vec<(SimTime, usize, Presence)>,
    /// (time, user, FLOP/s), sorted by time then user.
    pub compute: Vec<(SimTime, usize, f64)>,
}

impl PhysicalWorld {
    /// The station -> user (download) and user -> station routes: over the
    /// user's radio link to it, and the station's air interface if it has one.
    pub fn routes(&self, net: &Network, ue: usize, station: usize) -> Result<(Route, Route), NetError> {
        let k = self.station_of[station].ok_or(NetError::UnknownLink(LinkId(usize::MAX)))?;
        let r = self.radio_link[ue][k];
        let mut down = vec![LinkId(2 * r)];
        let mut up = vec![LinkId(2 * r + 1)];
        if let Some(c) = self.cell_link[k] {
            down.insert(0, LinkId(2 * c));
            up.push(LinkId(2 * c + 1));
        }
        let latency = |links: &[LinkId]| -> Result<SimTime, NetError> {
            links.iter().map(|&l| net.link(l).map(|x| x.latency_ns).ok_or(NetError::UnknownLink(l))).sum()
        };
        Ok((Route { latency_ns: latency(&down)?, links: down }, Route { latency_ns: latency(&up)?, links: up }))
    }
}

fn radio_params(sc: &Scenario) -> RadioParams {
    let r = sc.network.radio.clone().unwrap_or_default();
    RadioParams {
        path_loss: match r.path_loss {
            PathLossSpec::LogDistance { pl0_db, d0_m, exponent } => PathLoss::LogDistance { pl0_db, d0_m, exponent },
            PathLossSpec::UmiNlos { fc_ghz } => PathLoss::UmiNlos { fc_ghz },
            PathLossSpec::UmaNlos { fc_ghz } => PathLoss::UmaNlos { fc_ghz },
        },
        shadowing_db: r.shadowing_db,
        decorrelation_m: r.decorrelation_m,
        coherence_s: match r.fading {
            FadingSpec::None => None,
            FadingSpec::Rayleigh { coherence_s } => Some(coherence_s),
        },
        ue_power_dbm: r.ue_power_dbm,
        station_power_dbm: r.station_power_dbm,
        bandwidth_hz: r.bandwidth_hz,
        noise_dbm: noise_dbm(r.bandwidth_hz, r.noise_figure_db),
        modulation: match r.modulation {
            ModulationSpec::Bpsk => Modulation::Bpsk,
            ModulationSpec::Qpsk => Modulation::Qpsk,
            ModulationSpec::Qam16 => Modulation::Qam16,
        },
        rate: match r.rate {
            RateSpec::Shannon { cap_bps_hz } => RateModel::Shannon { cap_bps_hz },
            RateSpec::Mcs(t) => RateModel::Mcs(t),
        },
        tick: secs_to_ns(r.tick_s).max(1),
        tick_s: r.tick_s,
        bins: Bins::new(&r.bins).expect("bins were validated with the scenario"),
        drift_tolerance: r.drift_tolerance,
    }
}

fn params(l: &LinkParams) -> EdgeParams {
    EdgeParams { down_bps: l.down_bps, up_bps: l.up_bps, latency_s: l.latency_s }
}

fn point((x, y): (f64, f64)) -> Point {
    Point { x, y }
}

/// Lays out a cells topology: stations, their backhaul to a core node, air
/// interfaces and radio links; places every user. Called by `world::build`
/// after the users are expanded, instead of a topology generator.
pub fn build_cells(sc: &Scenario, world: &mut World) -> Result<(), Invalid> {
    let TopologyShape::Cells { stations, placement, backhaul, cell, hysteresis_db, time_to_trigger_s, cache } =
        &sc.network.topology.kind
    else {
        return Ok(());
    };
    let at = "network.topology.kind";
    let n = world.users.len();
    let st: Vec<usize> = (0..n).filter(|&u| world.users[u].group == *stations).collect();
    if st.is_empty() {
        return Err((format!("{at}.stations"), format!("no group named {stations:?}")));
    }
    if st.len() == n {
        return Err((format!("{at}.stations"), "every user is a station: nobody to serve".into()));
    }
    let radio = radio_params(sc);
    let r = sc.network.radio.clone().unwrap_or_default();
    let area = Area { width_m: r.area.width_m, height_m: r.area.height_m };
    let station_pos: Vec<Point> = match placement {
        StationPlacement::Grid => area.grid(st.len()),
        StationPlacement::Explicit(p) if p.len() != st.len() => {
            return Err((
                format!("{at}.placement"),
                format!("{} points for {} stations of group {stations:?}", p.len(), st.len()),
            ));
        }
        StationPlacement::Explicit(p) => p.iter().copied().map(point).collect(),
    };
    let mut station_of = vec![None; n];
    for (k, &u) in st.iter().enumerate() {
        station_of[u] = Some(k);
    }

    // Placement and motion per group.
    let mut motions = vec![Motion::Static];
    let mut user_motion = vec![0; n];
    let mut start = vec![Point { x: 0.0, y: 0.0 }; n];
    let mut placement_of = vec![Placement::Uniform; n];
    for (i, m) in sc.network.mobility.iter().enumerate() {
        let f = format!("network.mobility[{i}].group");
        if m.group == *stations {
            return Err((f, format!("{stations:?} are the stations; they stand where the topology puts them")));
        }
        let members: Vec<usize> = (0..n).filter(|&u| world.users[u].group == m.group).collect();
        if members.is_empty() {
            return Err((f, format!("no group named {:?}", m.group)));
        }
        motions.push(match &m.motion {
            MotionSpec::Static => Motion::Static,
            MotionSpec::RandomWaypoint { speed_mps, pause_s } => {
                Motion::RandomWaypoint { speed_mps: *speed_mps, pause_s: *pause_s }
            }
            MotionSpec::Path(p) => Motion::Path(p.iter().map(|&(t, x, y)| (t, Point { x, y })).collect()),
        });
        let pl = match &m.placement {
            PlacementSpec::Uniform => Placement::Uniform,
            PlacementSpec::Clustered { clusters, sigma_m } => {
                Placement::Clustered { clusters: *clusters, sigma_m: *sigma_m }
            }
            PlacementSpec::Explicit(p) => Placement::Explicit(p.iter().copied().map(point).collect()),
        };
        for u in members {
            user_motion[u] = motions.len() - 1;
            placement_of[u] = pl.clone();
        }
    }
    let mut centres = std::collections::BTreeMap::new();
    let mut index_in_group = std::collections::BTreeMap::<&str, usize>::new();
    for u in 0..n {
        if let Some(k) = station_of[u] {
            start[u] = station_pos[k];
            continue;
        }
        let g = world.users[u].group.as_str();
        let i = index_in_group.entry(g).or_insert(0);
        let c = centres.entry(g.to_string()).or_insert_with(|| match placement_of[u] {
            Placement::Clustered { clusters, .. } => {
                cluster_centres(clusters, &area, &mut stream(sc.seed, "clusters", &[g]))
            }
            _ => Vec::new(),
        });
        start[u] = place(&placement_of[u], &area, *i, c, &mut stream(sc.seed, "position", &[&world.users[u].name]));
        *i += 1;
    }

    // Nodes: users, then one air-interface hub per station (if `cell`), then the core.
    let k_st = st.len();
    let hub = |k: usize| n + k;
    let core = if cell.is_some() { n + k_st } else { n };
    let mut links: Vec<LinkSpec> = Vec::new();
    for &u in &st {
        links.push(edge(core, u, &params(backhaul)));
    }
    let mut cell_link = vec![None; k_st];
    if let Some(c) = cell {
        for (k, &u) in st.iter().enumerate() {
            cell_link[k] = Some(links.len());
            links.push(edge(u, hub(k), &params(c)));
        }
    }
    // Placeholder rates: the loop sets every radio link's rates from its SNR at t = 0.
    let placeholder = EdgeParams { down_bps: 1e6, up_bps: 1e6, latency_s: r.latency_s };
    let mut radio_link = vec![Vec::new(); n];
    for u in 0..n {
        if station_of[u].is_some() {
            continue;
        }
        for (k, &s) in st.iter().enumerate() {
            radio_link[u].push(links.len());
            let near = if cell.is_some() { hub(k) } else { s };
            links.push(edge(near, u, &placeholder));
        }
    }
    world.nodes = core + 1;
    world.links = links;
    let eps_map = sc
        .profiles
        .iter()
        .map(|p| match p.channel.kind {
            ChannelKind::Bsc => EpsMap::Bsc,
            ChannelKind::Index => EpsMap::Index { bits: p.model.bits_per_index() },
        })
        .collect();
    world.physical = Some(PhysicalWorld {
        radio,
        area,
        stations: st,
        station_pos,
        station_of,
        motions,
        user_motion,
        start,
        radio_link,
        cell_link,
        hysteresis_db: *hysteresis_db,
        time_to_trigger_s: *time_to_trigger_s,
        cache: *cache,
        eps_map,
    });
    Ok(())
}

/// Pairs of a cells topology run from a user to a station.
pub fn check_pairs(world: &World) -> Result<(), Invalid> {
    let Some(ph) = &world.physical else { return Ok(()) };
    for p in &world.pairs {
        if ph.station_of[p.tx].is_some() || ph.station_of[p.rx].is_none() {
            return Err((
                "network.traffic".into(),
                format!(
                    "in a cells topology users send to stations: {} -> {} is not a user sending to a station",
                    world.users[p.tx].name, world.users[p.rx].name
                ),
            ));
        }
    }
    Ok(())
}

fn read(file: &Path, field: &str) -> Result<String, Invalid> {
    std::fs::read_to_string(file).map_err(|e| (field.to_string(), format!("cannot read {}: {e}", file.display())))
}

/// Churn and compute traces, once users' join times are known. Works for
/// every topology; a station never churns.
pub fn resolve_churn(sc: &Scenario, world: &mut World) -> Result<(), Invalid> {
    let net = &sc.network;
    if net.churn.is_empty() && net.compute_trace.is_none() {
        return Ok(());
    }
    let is_station = |w: &World, u: usize| w.physical.as_ref().is_some_and(|p| p.station_of[u].is_some());
    let find = |w: &World, name: &str| w.users.iter().position(|u| u.name == name);
    let mut presence = Vec::new();
    for (i, c) in net.churn.iter().enumerate() {
        let at = format!("network.churn[{i}]");
        match c {
            ChurnSpec::OnOff { group, mean_on_s, mean_off_s } => {
                let members: Vec<usize> = (0..world.users.len()).filter(|&u| world.users[u].group == *group).collect();
                if members.is_empty() {
                    return Err((format!("{at}.group"), format!("no group named {group:?}")));
                }
                for u in members {
                    if is_station(world, u) {
                        return Err((format!("{at}.group"), format!("{group:?} are stations; stations do not churn")));
                    }
                    let name = world.users[u].name.clone();
                    let from = super::core::ns_to_secs(world.users[u].join);
                    let mut rng = stream(sc.seed, "churn", &[&name]);
                    for (t, e) in on_off(from, *mean_on_s, *mean_off_s, net.horizon_s, &mut rng) {
                        presence.push((secs_to_ns(t), u, e));
                    }
                }
            }
            ChurnSpec::Trace { file } => {
                let rows = parse_presence(&read(file, &at)?, file).map_err(|e| (at.clone(), e.to_string()))?;
                let mut first = vec![true; world.users.len()];
                for r in rows {
                    let Some(u) = find(world, &r.user) else {
                        return Err((at, format!("{}:{}: no user named {:?}", file.display(), r.line, r.user)));
                    };
                    if is_station(world, u) {
                        return Err((at, format!("{}:{}: {} is a station", file.display(), r.line, r.user)));
                    }
                    // A user whose trace starts with a join is absent until then.
                    if std::mem::replace(&mut first[u], false) && r.event == Presence::Join && world.users[u].join == 0
                    {
                        world.users[u].join = secs_to_ns(r.t_s);
                        continue;
                    }
                    presence.push((secs_to_ns(r.t_s), u, r.event));
                }
            }
        }
    }
    presence.sort_by_key(|&(t, u, _)| (t, u));
    let mut compute = Vec::new();
    if let Some(file) = &net.compute_trace {
        let at = "network.compute_trace";
        for r in parse_compute(&read(file, at)?, file).map_err(|e| (at.to_string(), e.to_string()))? {
            let Some(u) = find(world, &r.user) else {
                return Err((at.into(), format!("{}:{}: no user named {:?}", file.display(), r.line, r.user)));
            };
            compute.push((secs_to_ns(r.t_s), u, r.flops_per_s));
        }
        compute.sort_by_key(|&(t, u, _)| (t, u));
    }
    world.churn = Churn { presence, compute };
    Ok(())
}
