//! Users leaving and coming back: an on/off process with exponential
//! durations, or timed rows of a CSV trace; and traces of compute speed.
//!
//! Trace files are CSV with a header; every bad row is reported as
//! `file:line: message` (line 1 is the header).

use std::path::Path;

use rand::Rng;
use rand_distr::{Distribution, Exp};

/// Present or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Join,
    Leave,
}

/// Alternating leave and join times in (0, horizon_s] for a user present at
/// `start_s`: on-periods ~ Exp(mean `mean_on_s`), off-periods ~ Exp(mean
/// `mean_off_s`) (a two-state continuous-time Markov chain).
pub fn on_off(
    start_s: f64,
    mean_on_s: f64,
    mean_off_s: f64,
    horizon_s: f64,
    rng: &mut impl Rng,
) -> Vec<(f64, Presence)> {
    let (on, off) = (Exp::new(1.0 / mean_on_s).ok(), Exp::new(1.0 / mean_off_s).ok());
    let (Some(on), Some(off)) = (on, off) else { return Vec::new() };
    let mut t = start_s;
    let mut out = Vec::new();
    loop {
        t += on.sample(rng);
        if t > horizon_s {
            return out;
        }
        out.push((t, Presence::Leave));
        t += off.sample(rng);
        if t > horizon_s {
            return out;
        }
        out.push((t, Presence::Join));
    }
}

/// A bad trace: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {msg}")]
pub struct TraceError {
    pub file: String,
    pub line: usize,
    pub msg: String,
}

/// A row of a presence trace (`t_s,user,event`).
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceRow {
    pub t_s: f64,
    pub user: String,
    pub event: Presence,
    /// Line in the file (for errors found later, e.g. an unknown user).
    pub line: usize,
}

/// A row of a compute trace (`t_s,user,flops_per_s`).
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeRow {
    pub t_s: f64,
    pub user: String,
    pub flops_per_s: f64,
    pub line: usize,
}

/// The rows of a CSV text with exactly `header`, as (line, fields).
pub(crate) fn rows<'a>(text: &'a str, file: &Path, header: &[&str]) -> Result<Vec<(usize, Vec<&'a str>)>, TraceError> {
    let err = |line: usize, msg: String| TraceError { file: file.display().to_string(), line, msg };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let first = lines.find(|(_, l)| !l.is_empty()).ok_or_else(|| err(1, "empty trace".into()))?;
    let got: Vec<&str> = first.1.split(',').map(str::trim).collect();
    if got != header {
        return Err(err(first.0, format!("the header must be `{}`, found `{}`", header.join(","), first.1)));
    }
    let mut out = Vec::new();
    for (n, l) in lines {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.len() != header.len() {
            return Err(err(n, format!("{} fields, expected {} ({})", f.len(), header.len(), header.join(","))));
        }
        out.push((n, f));
    }
    Ok(out)
}

fn time(file: &Path, line: usize, s: &str) -> Result<f64, TraceError> {
    match s.parse::<f64>() {
        Ok(t) if t >= 0.0 && t.is_finite() => Ok(t),
        _ => Err(TraceError { file: file.display().to_string(), line, msg: format!("t_s: {s:?} is not a time >= 0") }),
    }
}

/// Parses a presence trace: `t_s,user,event` with event `join` or `leave`.
/// Rows come back sorted by time (stable: equal times keep file order).
pub fn parse_presence(text: &str, file: &Path) -> Result<Vec<PresenceRow>, TraceError> {
    let mut out = Vec::new();
    for (line, f) in rows(text, file, &["t_s", "user", "event"])? {
        let event = match f[2] {
            "join" => Presence::Join,
            "leave" => Presence::Leave,
            e => {
                return Err(TraceError {
                    file: file.display().to_string(),
                    line,
                    msg: format!("event: {e:?} is neither join nor leave"),
                })
            }
        };
        if f[1].is_empty() {
            return Err(TraceError { file: file.display().to_string(), line, msg: "user: empty".into() });
        }
        out.push(PresenceRow { t_s: time(file, line, f[0])?, user: f[1].to_string(), event, line });
    }
    out.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    Ok(out)
}

/// Parses a compute trace: `t_s,user,flops_per_s` with a rate > 0.
pub fn parse_compute(text: &str, file: &Path) -> Result<Vec<ComputeRow>, TraceError> {
    let mut out = Vec::new();
    for (line, f) in rows(text, file, &["t_s", "user", "flops_per_s"])? {
        let flops_per_s = match f[2].parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => v,
            _ => {
                return Err(TraceError {
                    file: file.display().to_string(),
                    line,
                    msg: format!("flops_per_s: {:?} is not a rate > 0", f[2]),
                })
            }
        };
        out.push(ComputeRow { t_s: time(file, line, f[0])?, user: f[1].to_string(), flops_per_s, line });
    }
    out.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn on_off_alternates_with_the_right_duty_cycle() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let ev = on_off(0.0, 30.0, 10.0, 1e6, &mut rng);
        assert!(ev.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 != w[1].1));
        assert_eq!(ev[0].1, Presence::Leave);
        // Time off over time: 10 / (30 + 10).
        let mut off = 0.0;
        for w in ev.chunks(2) {
            if let [(l, Presence::Leave), (j, Presence::Join)] = w {
                off += j - l;
            }
        }
        assert!((off / 1e6 - 0.25).abs() < 0.01, "{}", off / 1e6);
        assert!(on_off(0.0, 1e9, 1.0, 100.0, &mut rng).is_empty());
    }

    #[test]
    fn traces_parse_and_bad_rows_name_file_and_line() {
        let f = Path::new("churn.csv");
        let ok = parse_presence("t_s,user,event\n5,u1,leave\n\n2.5,u0,join\n", f).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!((ok[0].t_s, ok[0].user.as_str(), ok[0].event, ok[0].line), (2.5, "u0", Presence::Join, 4));
        let bad = |t: &str| parse_presence(t, f).unwrap_err().to_string();
        assert_eq!(bad("t,user,event\n"), "churn.csv:1: the header must be `t_s,user,event`, found `t,user,event`");
        assert_eq!(
            bad("t_s,user,event\n1,u,join\n2,u,sleep\n"),
            "churn.csv:3: event: \"sleep\" is neither join nor leave"
        );
        assert_eq!(bad("t_s,user,event\n-1,u,join\n"), "churn.csv:2: t_s: \"-1\" is not a time >= 0");
        assert_eq!(bad("t_s,user,event\n1,u\n"), "churn.csv:2: 2 fields, expected 3 (t_s,user,event)");
        assert_eq!(bad(""), "churn.csv:1: empty trace");
        let c = parse_compute("t_s,user,flops_per_s\n10,u0,2e10\n", Path::new("c.csv")).unwrap();
        assert_eq!(c[0].flops_per_s, 2e10);
        let e = parse_compute("t_s,user,flops_per_s\n10,u0,0\n", Path::new("c.csv")).unwrap_err();
        assert_eq!(e.to_string(), "c.csv:2: flops_per_s: \"0\" is not a rate > 0");
    }
}
