use std::fs;
use std::path::Path;

use super::page::{Page, SORT_JS};
use super::*;
use crate::report::{line_chart, recovery_cdf, Series};
use crate::study::sweep::{Plan, RunSpec};

const EVIL: &str = "<script>alert('x')</script> & \"co\"";

/// summary.json as `slfsim run` writes it (fields the page reads, plus
/// some it ignores), named `name`.
fn summary_json(name: &str) -> String {
    serde_json::json!({
        "scenario": name, "seed": 3, "fidelity": "exact", "method": "slf-l2",
        "detection": "oracle(delay_s=1)", "horizon_s": 120.0,
        "users": [{"name": "bs"}, {"name": "u1"}, {"name": "u2"}],
        "pairs": [{"pair": 0}, {"pair": 1}],
        "episodes": [],
        "aggregate": {
            "pairs": 2, "episodes": 2, "recovered": 1, "unrecovered": 1, "false_alarm_episodes": 0,
            "recovery_mean_s": 3.521008121, "recovery_median_s": 3.5, "recovery_p95_s": null,
            "recovery_max_s": 3.7, "makespan_s": 3.7, "total_bytes": 2218764, "total_flops": 44392513536u64,
            "time_avg_accuracy": 0.39576, "accuracy_before_mean": 0.0993, "accuracy_after_mean": 0.4047,
            "mse_before_mean": 0.19, "mse_after_mean": null, "phases": [], "fine_tunings": 1,
            "evaluations": 2, "events": 1619,
            "detection": {"true_detections": 2, "false_alarms": 0, "missed": 0}
        }
    })
    .to_string()
}

fn run_folder(dir: &Path, name: &str) {
    fs::write(dir.join("summary.json"), summary_json(name)).unwrap();
    fs::write(
        dir.join("pairs.csv"),
        "pair,tx,cause,recovery_time_s\n0,<b>u1</b>,initial,3.521008121\n1,u2,initial,\n2,u3,change,10.25\n",
    )
    .unwrap();
    // Real plots (their titles carry the name, escaped by the SVG writer).
    for stem in ["recovery_cdf", "timeline", "network"] {
        recovery_cdf(&dir.join(stem), &format!("{name}: plot"), &[("a".into(), vec![1.0, 2.0])]).unwrap();
    }
    fs::write(dir.join("events.jsonl"), "").unwrap();
    // A tampered plot is not inlined.
    fs::write(dir.join("phases.svg"), "<svg width=\"9\" onload=\"alert(1)\"></svg>").unwrap();
}

#[test]
fn run_page_escapes_names_and_inlines_plots() {
    let dir = tempfile::tempdir().unwrap();
    run_folder(dir.path(), EVIL);
    let (kind, path) = write_report(dir.path()).unwrap();
    assert_eq!((kind, path.clone()), (FolderKind::Run, dir.path().join("report.html")));
    let html = fs::read_to_string(&path).unwrap();
    // The name is text everywhere; the only script is the sorting one.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;: simulation run"));
    assert!(html.contains("<td>&lt;b&gt;u1&lt;/b&gt;</td>"));
    assert!(!html.contains("onload"));
    // Three plots inline, the tampered one replaced by a note.
    assert_eq!(html.matches("<svg ").count(), 3);
    assert!(html.contains("phases.svg is not a plot written by slfsim"));
    // Scenario facts and headline numbers from summary.json.
    for s in ["<dt>users</dt><dd>3</dd>", "<dt>pairs</dt><dd>2</dd>", "<dd>oracle(delay_s=1)</dd>", "<dd>120 s</dd>"] {
        assert!(html.contains(s), "{s}");
    }
    assert!(html.contains(">3.521 s<") && html.contains("p95 –"));
    assert!(html.contains(">0.0993 → 0.4047<"));
    // Table: 3 rows, numbers sortable by their raw value, empty cells kept.
    assert_eq!(html.matches("<tr>").count(), 4);
    assert!(html.contains("<td class=\"num\" data-v=\"3.521008121\">3.521</td>"));
    assert!(html.contains("<td></td>"));
    // Links to the raw files; nothing loaded from anywhere (the only
    // address is the SVG namespace, a name, not a request).
    assert!(html.contains("<a href=\"events.jsonl\">") && html.contains("<a href=\"pairs.csv\">"));
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for bad in ["http:", "https:", "src=", "url(", "@import"] {
        assert!(!without_ns.contains(bad), "{bad}");
    }
    // The script is allowed by its hash, nothing else is.
    let hash = format!("'sha256-{}'", page_hash());
    assert!(html.contains(&format!("script-src {hash}")), "{hash}");
    assert!(html.contains("default-src 'none'"));
    // Same files, same page.
    write_report(dir.path()).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), html);
    // After `slfsim run --events none` there is no events.jsonl to link.
    fs::remove_file(dir.path().join("events.jsonl")).unwrap();
    let (_, p) = write_report(dir.path()).unwrap();
    let no_events = fs::read_to_string(&p).unwrap();
    assert!(!no_events.contains("events.jsonl") && no_events.contains("<a href=\"pairs.csv\">"));
}

fn page_hash() -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(SORT_JS.as_bytes());
    // The hash in the page must be base64 of the script's SHA-256.
    let html = Page::new("t", "s", &[]).finish();
    let start = html.find("'sha256-").unwrap() + 8;
    let b64 = &html[start..start + 44];
    assert_eq!(b64.len(), 44);
    let decoded = decode_b64(b64);
    assert_eq!(decoded, d.to_vec());
    b64.to_string()
}

fn decode_b64(s: &str) -> Vec<u8> {
    const A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bits: Vec<u32> = s.trim_end_matches('=').chars().map(|c| A.find(c).unwrap() as u32).collect();
    let mut out = vec![];
    for ch in bits.chunks(4) {
        let n = ch.iter().enumerate().fold(0u32, |n, (i, &b)| n | b << (18 - 6 * i));
        out.extend([(n >> 16) as u8, (n >> 8) as u8, n as u8].iter().take(ch.len() - 1));
    }
    out
}

#[test]
fn folders_that_are_neither_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_report(dir.path()).unwrap_err().to_string();
    assert!(err.contains("is neither a run folder") && err.contains("study folder"), "{err}");
    fs::write(dir.path().join("summary.json"), summary_json("x")).unwrap();
    // A study's run folder (summary.json alone) is not a run folder.
    assert_eq!(folder_kind(dir.path()), None);
    let err = write_report(&dir.path().join("nope")).unwrap_err().to_string();
    assert!(err.ends_with("nope: no such folder"), "{err}");
    // Broken files name themselves.
    fs::write(dir.path().join("pairs.csv"), "a,b\n1,2\n").unwrap();
    fs::write(dir.path().join("summary.json"), "{").unwrap();
    let err = write_report(dir.path()).unwrap_err().to_string();
    assert!(err.starts_with("cannot read ") && err.contains("summary.json"), "{err}");
    assert!(!dir.path().join("report.html").exists());
}

fn spec(point: usize, replication: usize, values: &[&str]) -> RunSpec {
    RunSpec {
        id: format!("p{point:03}_r{replication}"),
        point,
        replication,
        seed: 11 + point as u64,
        values: values.iter().map(|v| v.to_string()).collect(),
        scenario_sha256: "0".repeat(64),
    }
}

#[test]
fn study_page_shows_points_ranges_and_result_plots_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plan = Plan {
        name: "s<1>".into(),
        labels: vec!["tx".into(), "freeze".into()],
        x_axis: 0,
        runs: vec![spec(0, 0, &["1", "0"]), spec(0, 1, &["1", "0"]), spec(1, 0, &["4", "0"]), spec(1, 1, &["4", "0"])],
        scenarios: vec![],
    };
    crate::report::write_plan(d, &plan).unwrap();
    // Not finished yet: a clear error.
    let err = write_report(d).unwrap_err().to_string();
    assert!(err.contains("the study is not finished"), "{err}");
    fs::write(
        d.join("summary.csv"),
        "point,tx,freeze,runs,users_mean,users_sd,users_ci95_lo,users_ci95_hi,recovery_mean_s_mean,recovery_mean_s_sd,recovery_mean_s_ci95_lo,recovery_mean_s_ci95_hi\n\
         0,1,0,2,2,0,2,2,4.25,0.1,3.25,5.25\n\
         1,4,0,2,5,0,5,5,9.5,1,,\n",
    )
    .unwrap();
    fs::create_dir_all(d.join("runs/p000_r0")).unwrap();
    fs::write(d.join("runs/p000_r0/summary.json"), summary_json("star_base")).unwrap();
    let s = [Series { name: "x".into(), points: vec![(1.0, 2.0), (4.0, 3.0)], band: None }];
    for stem in ["study_recovery_mean_s", "study_wall_time", "study_accuracy_after_mean_vs_freeze"] {
        line_chart(&d.join(stem), stem, "users", "y", &s, false).unwrap();
    }
    let (kind, path) = write_report(d).unwrap();
    assert_eq!(kind, FolderKind::Study);
    let html = fs::read_to_string(path).unwrap();
    assert!(html.contains("<h1>s&lt;1&gt;: study</h1>"));
    assert!(html.contains("4 runs: 2 points × 2 replications"));
    assert!(html.contains("tx ∈ {1, 4} (sets the users); freeze ∈ {0}"));
    assert!(html.contains("<dt>users</dt><dd>2 to 5</dd>") && html.contains("<dd>star_base</dd>"));
    // Headline: lowest and highest point mean, with where.
    assert!(html.contains(">4.25 s – 9.5 s<") && html.contains("lowest at tx=1, freeze=0; highest at tx=4, freeze=0"));
    // Result plots inline in reading order; wall clock only linked.
    assert_eq!(html.matches("<svg ").count(), 2);
    let a = html.find("study_recovery_mean_s.svg\">").unwrap();
    let b = html.find("study_accuracy_after_mean_vs_freeze.svg\">").unwrap();
    assert!(a < b);
    assert!(html.contains("<a href=\"study_wall_time.svg\">"));
    // Points table: 2 rows, metric cells "mean ± CI half-width" sorted by mean.
    assert!(html.contains("<td class=\"num\" data-v=\"4.25\">4.25 ± 1</td>"));
    assert!(html.contains("<td class=\"num\" data-v=\"9.5\">9.5</td>"));
    assert!(html.contains("<a href=\"runs/\">"));
}
