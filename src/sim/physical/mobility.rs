//! Where users are and how they move, in metres on a rectangular area.
//!
//! - Placement: uniform in the area; clustered (a Thomas process with a
//!   fixed number of parents: each user picks a cluster centre uniformly and
//!   lands at a N(0, σ²) offset on each axis, clamped to the area); or
//!   explicit points.
//! - Motion: static; random waypoint (Johnson & Maltz 1996, as surveyed by
//!   Camp, Boleng & Davies 2002): pick a uniform destination and a uniform
//!   speed in [v_min, v_max], walk there in a straight line, pause for a
//!   uniform time, repeat. v_min > 0 avoids the model's speed decay towards
//!   zero (Yoon, Liu & Noble 2003). Users start moving at t = 0 from their
//!   placement (not from the stationary distribution). Or an explicit path:
//!   straight lines between timed points, held after the last.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub fn dist(self, o: Point) -> f64 {
        (self.x - o.x).hypot(self.y - o.y)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub width_m: f64,
    pub height_m: f64,
}

impl Area {
    pub fn uniform(&self, rng: &mut impl Rng) -> Point {
        Point { x: rng.random::<f64>() * self.width_m, y: rng.random::<f64>() * self.height_m }
    }

    pub fn clamp(&self, p: Point) -> Point {
        Point { x: p.x.clamp(0.0, self.width_m), y: p.y.clamp(0.0, self.height_m) }
    }

    /// `k` points on a regular grid: c = ⌈√k⌉ columns, ⌈k/c⌉ rows, each at the
    /// centre of its tile, the last row centred when it is short.
    pub fn grid(&self, k: usize) -> Vec<Point> {
        let cols = (k as f64).sqrt().ceil().max(1.0) as usize;
        let rows = k.div_ceil(cols);
        (0..k)
            .map(|i| {
                let (r, c) = (i / cols, i % cols);
                let in_row = if r + 1 == rows { k - r * cols } else { cols };
                Point {
                    x: (c as f64 + 0.5) * self.width_m / in_row as f64,
                    y: (r as f64 + 0.5) * self.height_m / rows as f64,
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    Uniform,
    Clustered {
        clusters: usize,
        sigma_m: f64,
    },
    /// The i-th user at `points[i % len]`.
    Explicit(Vec<Point>),
}

/// The parents of a clustered placement, uniform in the area.
pub fn cluster_centres(k: usize, area: &Area, rng: &mut impl Rng) -> Vec<Point> {
    (0..k).map(|_| area.uniform(rng)).collect()
}

/// The start of the `index`-th user of a group placed by `placement`
/// (`centres`: the group's cluster centres, if clustered).
pub fn place(placement: &Placement, area: &Area, index: usize, centres: &[Point], rng: &mut impl Rng) -> Point {
    match placement {
        Placement::Uniform => area.uniform(rng),
        Placement::Clustered { sigma_m, .. } => {
            let c = centres[rng.random_range(0..centres.len())];
            let (dx, dy): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
            area.clamp(Point { x: c.x + sigma_m * dx, y: c.y + sigma_m * dy })
        }
        Placement::Explicit(points) => points[index % points.len()],
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Motion {
    Static,
    RandomWaypoint {
        speed_mps: (f64, f64),
        pause_s: (f64, f64),
    },
    /// (t_s, point), in time order.
    Path(Vec<(f64, Point)>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Leg {
    Still,
    Pausing { until_s: f64 },
    Moving { target: Point, speed: f64 },
}

/// One user's position over time.
#[derive(Debug, Clone)]
pub struct Mover {
    pos: Point,
    t_s: f64,
    leg: Leg,
}

fn uniform_in(rng: &mut impl Rng, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo {
        rng.random_range(lo..=hi)
    } else {
        lo
    }
}

fn new_leg(area: &Area, speed: (f64, f64), rng: &mut impl Rng) -> Leg {
    let target = area.uniform(rng);
    Leg::Moving { target, speed: uniform_in(rng, speed) }
}

fn on_path(points: &[(f64, Point)], t: f64) -> Point {
    match points.iter().position(|&(ti, _)| ti > t) {
        None => points.last().map_or(Point { x: 0.0, y: 0.0 }, |p| p.1),
        Some(0) => points[0].1,
        Some(i) => {
            let ((t0, a), (t1, b)) = (points[i - 1], points[i]);
            let f = (t - t0) / (t1 - t0);
            Point { x: a.x + f * (b.x - a.x), y: a.y + f * (b.y - a.y) }
        }
    }
}

impl Mover {
    /// A user at `start` at t = 0 (a path starts at its own first point).
    pub fn new(motion: &Motion, area: &Area, start: Point, rng: &mut impl Rng) -> Mover {
        let (pos, leg) = match motion {
            Motion::Static => (start, Leg::Still),
            Motion::RandomWaypoint { speed_mps, .. } => (start, new_leg(area, *speed_mps, rng)),
            Motion::Path(points) => (on_path(points, 0.0), Leg::Still),
        };
        Mover { pos, t_s: 0.0, leg }
    }

    pub fn position(&self) -> Point {
        self.pos
    }

    /// Moves on to time `t_s` (non-decreasing); returns the metres walked.
    pub fn advance(&mut self, motion: &Motion, area: &Area, t_s: f64, rng: &mut impl Rng) -> f64 {
        let mut walked = 0.0;
        match motion {
            Motion::Static => {}
            Motion::Path(points) => {
                let p = on_path(points, t_s);
                walked = self.pos.dist(p);
                self.pos = p;
            }
            Motion::RandomWaypoint { speed_mps, pause_s } => {
                while self.t_s < t_s {
                    match self.leg {
                        Leg::Still => break,
                        Leg::Pausing { until_s } if until_s > t_s => break,
                        Leg::Pausing { until_s } => {
                            self.t_s = until_s;
                            self.leg = new_leg(area, *speed_mps, rng);
                        }
                        Leg::Moving { target, speed } => {
                            let left = self.pos.dist(target);
                            let arrive = self.t_s + left / speed;
                            if arrive <= t_s {
                                walked += left;
                                self.pos = target;
                                self.t_s = arrive;
                                self.leg = Leg::Pausing { until_s: arrive + uniform_in(rng, *pause_s) };
                            } else {
                                let step = speed * (t_s - self.t_s);
                                let f = step / left;
                                self.pos = Point {
                                    x: self.pos.x + f * (target.x - self.pos.x),
                                    y: self.pos.y + f * (target.y - self.pos.y),
                                };
                                walked += step;
                                self.t_s = t_s;
                            }
                        }
                    }
                }
            }
        }
        self.t_s = self.t_s.max(t_s);
        walked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const AREA: Area = Area { width_m: 1000.0, height_m: 500.0 };

    fn rng(s: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(s)
    }

    #[test]
    fn grids_tile_the_area() {
        assert_eq!(AREA.grid(1), vec![Point { x: 500.0, y: 250.0 }]);
        let g = AREA.grid(4);
        assert_eq!(g[0], Point { x: 250.0, y: 125.0 });
        assert_eq!(g[3], Point { x: 750.0, y: 375.0 });
        // 7 = 3 + 3 + 1: the last one centred on its row.
        let g = AREA.grid(7);
        assert_eq!(g.len(), 7);
        assert_eq!(g[6].x, 500.0);
    }

    #[test]
    fn placements_stay_in_the_area_and_clusters_cluster() {
        let mut r = rng(1);
        let centres = cluster_centres(3, &AREA, &mut r);
        let c = Placement::Clustered { clusters: 3, sigma_m: 20.0 };
        for i in 0..500 {
            let p = place(&c, &AREA, i, &centres, &mut r);
            assert!((0.0..=1000.0).contains(&p.x) && (0.0..=500.0).contains(&p.y));
            let nearest = centres.iter().map(|&q| p.dist(q)).fold(f64::INFINITY, f64::min);
            assert!(nearest < 20.0 * 6.0, "{p:?} is {nearest} m from every centre");
        }
        let e = Placement::Explicit(vec![Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }]);
        assert_eq!(place(&e, &AREA, 3, &[], &mut r), Point { x: 3.0, y: 4.0 });
    }

    #[test]
    fn random_waypoint_walks_at_its_speed_and_pauses() {
        let m = Motion::RandomWaypoint { speed_mps: (1.0, 1.0), pause_s: (0.0, 0.0) };
        let mut r = rng(2);
        let mut u = Mover::new(&m, &AREA, Point { x: 10.0, y: 10.0 }, &mut r);
        let mut walked = 0.0;
        let mut last = u.position();
        for k in 1..=1000 {
            let w = u.advance(&m, &AREA, k as f64, &mut r);
            assert!(w <= 1.0 + 1e-9 && u.position().dist(last) <= w + 1e-9);
            walked += w;
            last = u.position();
        }
        // No pauses: exactly 1 m/s.
        assert!((walked - 1000.0).abs() < 1e-6, "{walked}");
        // With long pauses the user covers far less, and stays put while paused.
        let p = Motion::RandomWaypoint { speed_mps: (10.0, 10.0), pause_s: (100.0, 100.0) };
        let mut u = Mover::new(&p, &AREA, Point { x: 0.0, y: 0.0 }, &mut r);
        let total: f64 = (1..=1000).map(|k| u.advance(&p, &AREA, k as f64, &mut r)).sum();
        assert!(total < 10.0 * 1000.0 * 0.5, "{total}");
        // Same seed, coarser ticks: the same place at the same time.
        let (mut a, mut b) = (rng(5), rng(5));
        let mut ua = Mover::new(&m, &AREA, Point { x: 0.0, y: 0.0 }, &mut a);
        let mut ub = Mover::new(&m, &AREA, Point { x: 0.0, y: 0.0 }, &mut b);
        for k in 1..=300 {
            ua.advance(&m, &AREA, k as f64, &mut a);
        }
        ub.advance(&m, &AREA, 300.0, &mut b);
        assert!(ua.position().dist(ub.position()) < 1e-6);
    }

    #[test]
    fn paths_interpolate_and_hold() {
        let pts = vec![(0.0, Point { x: 0.0, y: 0.0 }), (10.0, Point { x: 100.0, y: 0.0 })];
        let m = Motion::Path(pts);
        let mut r = rng(0);
        let mut u = Mover::new(&m, &AREA, Point { x: 5.0, y: 5.0 }, &mut r);
        assert_eq!(u.position(), Point { x: 0.0, y: 0.0 });
        assert_eq!(u.advance(&m, &AREA, 5.0, &mut r), 50.0);
        assert_eq!(u.position(), Point { x: 50.0, y: 0.0 });
        u.advance(&m, &AREA, 60.0, &mut r);
        assert_eq!(u.position(), Point { x: 100.0, y: 0.0 });
        let s = Motion::Static;
        let mut still = Mover::new(&s, &AREA, Point { x: 1.0, y: 1.0 }, &mut r);
        assert_eq!(still.advance(&s, &AREA, 100.0, &mut r), 0.0);
    }
}
