//! Study files: a base scenario, axes that vary any of its fields by path,
//! and replications. `plan` expands them into runs (point x replication),
//! each a complete, validated scenario, before anything runs.

use std::path::{Path, PathBuf};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scenario::{Scenario, ScenarioError};
use crate::seed::stream;

/// A study (RON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    pub name: String,
    /// The base scenario, relative to the study file.
    pub scenario: PathBuf,
    /// Replication r runs with scenario seed derived from (seed, r): the same
    /// seeds at every point (common random numbers across points).
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "one")]
    pub replications: usize,
    /// Fields set at every point before the axes (e.g. a smaller budget).
    #[serde(default)]
    pub set: Vec<Setting>,
    /// Points are the cartesian product of the axes, the first axis slowest.
    pub axes: Vec<Axis>,
    /// The label of the axis that sets the population size (plots put the
    /// number of users on x and draw one line per value of the other axes);
    /// default: the first axis.
    #[serde(default)]
    pub x_axis: Option<String>,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub path: String,
    pub value: ron::Value,
}

/// One varied field. `path` addresses the scenario as its JSON form:
/// `network.users[1].count`, `align.budget.steps`,
/// `network.policy.method.slf.freeze`, `profiles[0].channel.epsilon`. Values
/// are numbers, strings (unit variants such as "memoized") or maps in the
/// externally tagged form of enums (`{"monitor": {"window": 20, "threshold": 0.9}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub path: String,
    /// Column name in the tables (default: the path's last field).
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub values: Vec<ron::Value>,
    /// Integers start..=end by step (instead of `values`).
    #[serde(default)]
    pub range: Option<(i64, i64, i64)>,
    /// Further paths set to the same value at every point, e.g. the counts
    /// of several groups that grow together.
    #[serde(default)]
    pub also: Vec<String>,
    /// How tables and plots show the values, one name per value (default:
    /// the value itself; useful for maps such as whole methods).
    #[serde(default)]
    pub names: Vec<String>,
}

impl Axis {
    pub fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| {
            self.path.rsplit('.').next().unwrap_or(&self.path).split('[').next().unwrap_or_default().to_string()
        })
    }

    /// How many values the axis has, without expanding it.
    fn count(&self) -> f64 {
        match (&self.range, self.values.len()) {
            (Some((a, b, step)), 0) if *step > 0 && b >= a => ((*b as i128 - *a as i128) / *step as i128 + 1) as f64,
            (_, n) => n.max(1) as f64,
        }
    }

    /// Every path the axis sets.
    fn paths(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.path).chain(&self.also)
    }

    fn expand(&self) -> Result<Vec<Value>, String> {
        let v = self.expand_values()?;
        if !self.names.is_empty() && self.names.len() != v.len() {
            return Err(format!("names has {} entries for {} values", self.names.len(), v.len()));
        }
        if let Some(n) = self.names.iter().find(|n| n.is_empty() || n.contains([',', '\n', '\r', '"'])) {
            return Err(format!("names: {n:?} must be non-empty, without commas, quotes or line breaks"));
        }
        Ok(v)
    }

    fn expand_values(&self) -> Result<Vec<Value>, String> {
        match (&self.range, self.values.is_empty()) {
            (Some(_), false) => Err("give either values or range, not both".into()),
            (None, true) => Err("needs values or a range".into()),
            (Some((a, b, step)), true) => {
                if *step <= 0 || b < a {
                    return Err(format!("range ({a}, {b}, {step}) needs start <= end and step > 0"));
                }
                // Counted before it is expanded.
                let n = (*b as i128 - *a as i128) / *step as i128 + 1;
                let cap = crate::scenario::limits::Limits::current().study_runs;
                if n as f64 > cap {
                    return Err(format!(
                        "range ({a}, {b}, {step}) has {n} values, above the limit of {} runs of a study; --allow-large raises this cap",
                        crate::scenario::limits::show(cap)
                    ));
                }
                Ok((*a..=*b).step_by(*step as usize).map(Value::from).collect())
            }
            (None, false) => self.values.iter().map(to_json).collect(),
        }
    }
}

/// RON value -> JSON value (maps need string keys).
fn to_json(v: &ron::Value) -> Result<Value, String> {
    Ok(match v {
        ron::Value::Bool(b) => Value::Bool(*b),
        ron::Value::Char(c) => Value::String(c.to_string()),
        ron::Value::String(s) => Value::String(s.clone()),
        ron::Value::Number(n) => match *n {
            ron::Number::I8(x) => Value::from(x),
            ron::Number::I16(x) => Value::from(x),
            ron::Number::I32(x) => Value::from(x),
            ron::Number::I64(x) => Value::from(x),
            ron::Number::U8(x) => Value::from(x),
            ron::Number::U16(x) => Value::from(x),
            ron::Number::U32(x) => Value::from(x),
            ron::Number::U64(x) => Value::from(x),
            other => serde_json::Number::from_f64(other.into_f64()).map(Value::Number).ok_or("non-finite number")?,
        },
        ron::Value::Option(o) => match o {
            Some(x) => to_json(x)?,
            None => Value::Null,
        },
        ron::Value::Unit => Value::Null,
        ron::Value::Seq(s) => Value::Array(s.iter().map(to_json).collect::<Result<_, _>>()?),
        ron::Value::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.iter() {
                let ron::Value::String(k) = k else { return Err(format!("map keys must be strings, got {k:?}")) };
                out.insert(k.clone(), to_json(v)?);
            }
            Value::Object(out)
        }
        ron::Value::Bytes(_) => return Err("byte strings are not supported".into()),
    })
}

/// Sets `path` (dots and [i]) in `root` to `value`; the field must exist.
pub fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let mut cur = root;
    for part in path.split('.') {
        let (name, idx) = match part.split_once('[') {
            Some((n, rest)) => {
                (n, Some(rest.trim_end_matches(']').parse::<usize>().map_err(|_| format!("bad index in {part:?}"))?))
            }
            None => (part, None),
        };
        if !name.is_empty() {
            cur = cur.get_mut(name).ok_or_else(|| format!("no field {name:?} here"))?;
        }
        if let Some(i) = idx {
            let len = cur.as_array().map_or(0, |a| a.len());
            cur = cur.get_mut(i).ok_or_else(|| format!("index {i} out of range (length {len})"))?;
        }
    }
    *cur = value;
    Ok(())
}

/// One simulation of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Folder name, e.g. `p003_r1`.
    pub id: String,
    pub point: usize,
    pub replication: usize,
    pub seed: u64,
    /// Axis values of the point, as text, in axis order.
    pub values: Vec<String>,
    /// SHA-256 of the run's full scenario: an edited base or axis never
    /// mixes with finished runs of the old one.
    pub scenario_sha256: String,
}

/// The expanded study: what `study.json` records and shards must agree on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub labels: Vec<String>,
    pub x_axis: usize,
    pub runs: Vec<RunSpec>,
    #[serde(skip)]
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read study {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{col}: {msg}")]
    Syntax { path: PathBuf, line: usize, col: usize, msg: String },
    #[error("{path}: {field}: {msg}")]
    Invalid { path: PathBuf, field: String, msg: String },
    #[error("{path}: base scenario: {source}")]
    Base { path: PathBuf, source: ScenarioError },
    #[error("{path}: point {point} ({values}): {field}: {msg}")]
    Point { path: PathBuf, point: usize, values: String, field: String, msg: String },
}

/// Reads a study file and expands it; every point's scenario is validated
/// (fields and network) before this returns.
pub fn plan(path: &Path) -> Result<Plan, PlanError> {
    let text = crate::bounded::read_text(path, crate::bounded::MAX_TEXT)
        .map_err(|source| PlanError::Read { path: path.into(), source })?;
    plan_text(&text, path)
}

/// `plan` of study text; `path` labels errors and locates the base scenario.
pub fn plan_text(text: &str, path: &Path) -> Result<Plan, PlanError> {
    let st: Study = crate::scenario::ron_options().from_str(text).map_err(|e| PlanError::Syntax {
        path: path.into(),
        line: e.span.start.line,
        col: e.span.start.col,
        msg: e.code.to_string(),
    })?;
    let invalid = |field: String, msg: String| PlanError::Invalid { path: path.into(), field, msg };
    if !crate::scenario::valid_name(&st.name) {
        return Err(invalid(
            "name".into(),
            format!("{:?} must be non-empty letters, digits, '-', '_' or '.'", st.name),
        ));
    }
    if st.replications == 0 {
        return Err(invalid("replications".into(), "must be >= 1".into()));
    }
    // The number of runs, counted before anything is expanded.
    let limits = crate::scenario::limits::Limits::current();
    let runs = st.axes.iter().map(|a| a.count()).product::<f64>() * st.replications as f64;
    if runs > limits.study_runs {
        return Err(invalid(
            "axes".into(),
            format!(
                "{} runs (points x replications) is above the limit of {}{}",
                crate::scenario::limits::show(runs),
                crate::scenario::limits::show(limits.study_runs),
                if limits.study_runs.is_finite() { "; --allow-large raises this cap" } else { "" }
            ),
        ));
    }
    let base_path = path.parent().unwrap_or(Path::new(".")).join(&st.scenario);
    let base = crate::scenario::load(&base_path).map_err(|source| PlanError::Base { path: path.into(), source })?;
    let mut base_json = serde_json::to_value(&base).expect("scenarios serialise");
    for (i, s) in st.set.iter().enumerate() {
        let v = to_json(&s.value).map_err(|m| invalid(format!("set[{i}].value"), m))?;
        set_path(&mut base_json, &s.path, v)
            .map_err(|m| invalid(format!("set[{i}].path"), format!("{}: {m}", s.path)))?;
    }
    let mut values = Vec::new();
    for (i, a) in st.axes.iter().enumerate() {
        let v = a.expand().map_err(|m| invalid(format!("axes[{i}]"), m))?;
        // Check the paths once, on the base.
        for (k, p) in a.paths().enumerate() {
            let field = if k == 0 { format!("axes[{i}].path") } else { format!("axes[{i}].also[{}]", k - 1) };
            set_path(&mut base_json.clone(), p, v[0].clone()).map_err(|m| invalid(field, format!("{p}: {m}")))?;
        }
        values.push(v);
    }
    let labels: Vec<String> = st.axes.iter().map(Axis::label).collect();
    if st.axes.is_empty() {
        return Err(invalid("axes".into(), "at least one axis is needed".into()));
    }
    let x_axis = match &st.x_axis {
        None => 0,
        Some(l) => labels
            .iter()
            .position(|x| x == l)
            .ok_or_else(|| invalid("x_axis".into(), format!("no axis labelled {l:?} (labels: {labels:?})")))?,
    };
    let n_points: usize = values.iter().map(Vec::len).product();
    let seeds: Vec<u64> =
        (0..st.replications).map(|r| stream(st.seed, "replication", &[&r.to_string()]).next_u64()).collect();
    let mut plan = Plan { name: st.name.clone(), labels, x_axis, runs: Vec::new(), scenarios: Vec::new() };
    for point in 0..n_points {
        // Mixed radix, first axis slowest.
        let mut rest = point;
        let mut pick = vec![0; values.len()];
        for k in (0..values.len()).rev() {
            pick[k] = rest % values[k].len();
            rest /= values[k].len();
        }
        let mut json = base_json.clone();
        let mut shown = Vec::new();
        for (k, a) in st.axes.iter().enumerate() {
            let v = &values[k][pick[k]];
            shown.push(match (a.names.get(pick[k]), v) {
                (Some(n), _) => n.clone(),
                (None, Value::String(s)) => s.clone(),
                (None, other) => other.to_string(),
            });
            for p in a.paths() {
                set_path(&mut json, p, v.clone()).expect("checked on the base");
            }
        }
        let desc = plan.labels.iter().zip(&shown).map(|(l, v)| format!("{l}={v}")).collect::<Vec<_>>().join(", ");
        let point_err = |field: String, msg: String| PlanError::Point {
            path: path.into(),
            point,
            values: desc.clone(),
            field,
            msg,
        };
        let sc: Scenario = serde_json::from_value(json).map_err(|e| point_err("(value type)".into(), e.to_string()))?;
        sc.validate().map_err(|(f, m)| point_err(f, m))?;
        crate::sim::world::build(&sc).map_err(|(f, m)| point_err(f, m))?;
        for (r, &seed) in seeds.iter().enumerate() {
            let mut s = sc.clone();
            s.seed = seed;
            s.name = format!("{}_p{point:03}_r{r}", st.name);
            let sha = {
                use sha2::{Digest, Sha256};
                let h = Sha256::digest(serde_json::to_string(&s).expect("scenarios serialise").as_bytes());
                h.iter().map(|b| format!("{b:02x}")).collect::<String>()
            };
            plan.runs.push(RunSpec {
                id: format!("p{point:03}_r{r}"),
                point,
                replication: r,
                seed,
                values: shown.clone(),
                scenario_sha256: sha,
            });
            plan.scenarios.push(s);
        }
    }
    Ok(plan)
}

/// Runs of shard `i` of `n`: every n-th run from the i-th, a deterministic slice.
pub fn shard(runs: usize, i: usize, n: usize) -> Vec<usize> {
    (0..runs).filter(|r| r % n == i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_set_nested_fields_and_report_missing_ones() {
        let mut v = serde_json::json!({"a": {"b": [1, {"c": 2}]}});
        set_path(&mut v, "a.b[1].c", Value::from(5)).unwrap();
        assert_eq!(v["a"]["b"][1]["c"], 5);
        assert!(set_path(&mut v, "a.x", Value::from(1)).unwrap_err().contains("\"x\""));
        assert!(set_path(&mut v, "a.b[7]", Value::from(1)).unwrap_err().contains("out of range"));
    }

    #[test]
    fn ron_values_become_json() {
        let v: ron::Value = ron::from_str(r#"{"monitor": {"window": 20, "threshold": 0.5}}"#).unwrap();
        assert_eq!(to_json(&v).unwrap(), serde_json::json!({"monitor": {"window": 20, "threshold": 0.5}}));
        let n: ron::Value = ron::from_str("-3").unwrap();
        assert_eq!(to_json(&n).unwrap(), serde_json::json!(-3));
    }

    #[test]
    fn shipped_studies_expand_into_valid_runs() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/studies");
        let scaling = plan(&dir.join("scaling.ron")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scaling.runs.len(), 8 * 5 * 3);
        assert_eq!(scaling.labels, ["tx", "freeze"]);
        // First axis slowest; replications innermost; same seeds at every point.
        assert_eq!((scaling.runs[3].point, scaling.runs[3].replication), (1, 0));
        assert_eq!(scaling.runs[0].seed, scaling.runs[3].seed);
        assert_eq!(scaling.runs[3].values, ["2", "1"]);
        assert_eq!(scaling.scenarios[3].network.users[1].count, 2);
        assert_eq!(scaling.scenarios[3].network.policy.method.fixed().unwrap().freeze(4), Some(1));
        let last = scaling.scenarios.last().unwrap();
        assert_eq!(last.network.users[1].count, 256);
        let strategies = plan(&dir.join("strategies.ron")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(strategies.runs.len(), 6 * 8 * 3);
        let last = strategies.scenarios.last().unwrap();
        assert!(last.network.users[1..].iter().all(|g| g.count == 64));
        assert!(last.network.policy.method.fixed().is_none());
        assert!(strategies.scenarios.iter().any(|s| s.network.policy.calibration.is_some()));
        let smoke = plan(&dir.join("smoke.ron")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(smoke.runs.len(), 12);
        assert!(smoke.scenarios.iter().all(|s| s.align.budget.steps == 20 && s.eval.test_images == 300));
    }

    #[test]
    fn an_axis_sets_further_paths_and_shows_names() {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/studies/x.ron");
        let text = r#"Study(name: "t", scenario: "star_base.ron", axes: [
            (path: "align.budget.steps", also: ["eval.test_images"], label: "n", values: [200, 300]),
            (path: "network.policy.method", label: "method", names: ["slf-l0", "map"], values: [
                {"slf": {"freeze": 0, "side": "output"}},
                {"latent_map": {"pilots": 16, "map": "procrustes"}},
            ]),
        ])"#;
        let p = plan_text(text, &base).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.runs.len(), 4);
        assert_eq!(p.runs[3].values, ["300", "map"]);
        assert_eq!((p.scenarios[3].align.budget.steps, p.scenarios[3].eval.test_images), (300, 300));
        assert_eq!(p.scenarios[1].network.policy.method.fixed().unwrap().pilots(), Some(16));
        let bad = text.replace(r#"names: ["slf-l0", "map"]"#, r#"names: ["slf-l0"]"#);
        assert!(plan_text(&bad, &base).unwrap_err().to_string().contains("names has 1 entries for 2 values"));
        let bad = text.replace(r#"also: ["eval.test_images"]"#, r#"also: ["eval.nothing"]"#);
        assert!(plan_text(&bad, &base).unwrap_err().to_string().contains("axes[0].also[0]"));
    }

    #[test]
    fn shards_partition_the_runs() {
        let mut all: Vec<usize> = (0..3).flat_map(|i| shard(10, i, 3)).collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(shard(10, 1, 3), vec![1, 4, 7]);
    }
}
