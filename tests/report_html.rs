//! `report.html` in a real browser: the quickstart's run report and the
//! smoke study's report (built from two shards and `--merge`) are opened in
//! headless Chromium (Debian's `chromium`; `.ci/run` installs it). Each must
//! load without a console message (errors, blocked loads and CSP violations
//! all land there), show every plot at a real size, sort its table, and
//! render a screenshot that is not blank. `slfsim report DIR` must rebuild
//! the same page from the folder's files.
//!
//! `SLFSIM_REPORT_SHOTS=docs/figures cargo test --release --test report_html`
//! also copies the screenshots there (the README's figures).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{root, slfsim, stderr};

/// The Chromium binary; fails (not skips) when it is missing.
fn chromium() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain(["/usr/bin"]) {
        let p = Path::new(dir).join("chromium");
        if p.is_file() {
            return p;
        }
    }
    panic!("this test needs Chromium: install it with `apt-get install -y chromium` (.ci/run does this)");
}

/// Runs headless Chromium on `page` with `args` and a fresh profile;
/// returns (stdout, stderr). Fails after two minutes.
fn browse(page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish {} within 120 s", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let read = |f: &tempfile::NamedTempFile| std::fs::read_to_string(f.path()).unwrap();
    (read(&out), read(&err))
}

/// The page's console messages in Chromium's log (any level: our page logs
/// nothing, so every message is a fault).
fn console(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// The DOM after the page's script ran; asserts a clean console.
fn dom(page: &Path) -> String {
    let (dom, log) = browse(page, &["--dump-dom"]);
    let msgs = console(&log);
    assert!(msgs.is_empty(), "{}: console messages:\n{}", page.display(), msgs.join("\n"));
    assert!(dom.contains("</html>"), "{}: no DOM dumped; log:\n{log}", page.display());
    dom
}

/// What the probe script measured in the browser.
#[derive(serde::Deserialize, Debug)]
struct Probe {
    /// Rendered (width, height) of every inline plot.
    svgs: Vec<(f64, f64)>,
    /// `column`'s sort values after one click, then after a second.
    asc: Vec<String>,
    desc: Vec<String>,
}

/// Opens a copy of `page` (beside it, without its CSP so that the probe may
/// run) that measures the plots and clicks the header of `column` twice.
fn probe(page: &Path, column: &str) -> Probe {
    let html = std::fs::read_to_string(page).unwrap();
    let csp_start = html.find("<meta http-equiv=\"Content-Security-Policy\"").expect("page has a CSP");
    let csp_end = csp_start + html[csp_start..].find(">\n").unwrap() + 2;
    let script = format!(
        r#"<script>
var out = {{ svgs: [], asc: [], desc: [] }};
document.querySelectorAll("figure svg").forEach(function (s) {{
  var r = s.getBoundingClientRect(); out.svgs.push([r.width, r.height]);
}});
var table = document.querySelector("table.sortable");
var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
var col = heads.findIndex(function (h) {{ return h.textContent === {column:?}; }});
var values = function () {{
  return Array.prototype.map.call(table.tBodies[0].rows, function (r) {{ return r.cells[col].getAttribute("data-v") || ""; }});
}};
heads[col].click(); out.asc = values();
heads[col].click(); out.desc = values();
var pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>
</body>"#
    );
    let probed = html[..csp_start].to_string() + &html[csp_end..].replace("</body>", &script);
    let copy = page.with_file_name(".probe.html");
    std::fs::write(&copy, probed).unwrap();
    let d = dom(&copy);
    std::fs::remove_file(&copy).unwrap();
    let start = d.find("<pre id=\"probe\">").expect("probe ran") + "<pre id=\"probe\">".len();
    let json = &d[start..start + d[start..].find("</pre>").unwrap()];
    let json = json.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("probe output {json}: {e}"))
}

/// Asserts `v` is sorted numerically (ascending or not), empty values last.
fn assert_sorted(v: &[String], ascending: bool) {
    let nums: Vec<f64> = v.iter().take_while(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    assert!(v[nums.len()..].iter().all(String::is_empty), "empty values not last: {v:?}");
    assert!(nums.len() >= 2, "too few values to see a sort: {v:?}");
    assert!(nums.windows(2).all(|w| if ascending { w[0] <= w[1] } else { w[0] >= w[1] }), "{v:?}");
}

/// A screenshot of `page` (1280x2400) into `png`, checked to show content:
/// many colours, a fair share of non-white pixels, and plot colours.
fn screenshot(page: &Path, png: &Path) {
    let (_, log) = browse(page, &[&format!("--screenshot={}", png.display()), "--window-size=1280,2400"]);
    let msgs = console(&log);
    assert!(msgs.is_empty(), "console messages:\n{}", msgs.join("\n"));
    let decoder = png::Decoder::new(std::fs::File::open(png).expect("screenshot written"));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1280, 2400));
    let ch = info.color_type.samples();
    let px: Vec<[u8; 3]> = buf[..info.buffer_size()].chunks(ch).map(|p| [p[0], p[1], p[2]]).collect();
    let colours: std::collections::HashSet<[u8; 3]> = px.iter().copied().collect();
    let non_white = px.iter().filter(|p| p.iter().any(|&c| c < 235)).count() as f64 / px.len() as f64;
    let near = |p: &[u8; 3], c: [i32; 3]| (0..3).all(|k| (p[k] as i32 - c[k]).abs() < 24);
    // Lines of the first two palette colours (blue, orange) or the
    // detection-phase red, as the plots draw them.
    let plot_px = px.iter().filter(|p| near(p, [255, 127, 14]) || near(p, [214, 39, 40])).count();
    assert!(colours.len() > 200, "{}: only {} colours", png.display(), colours.len());
    assert!(non_white > 0.03, "{}: {:.1}% non-white", png.display(), 100.0 * non_white);
    assert!(plot_px > 200, "{}: {plot_px} pixels in plot colours", png.display());
}

/// Keeps a screenshot as a README figure when $SLFSIM_REPORT_SHOTS is set.
fn keep(png: &Path, name: &str) {
    if let Some(dir) = std::env::var_os("SLFSIM_REPORT_SHOTS") {
        std::fs::copy(png, Path::new(&dir).join(name)).unwrap();
    }
}

fn ok(args: &[&str]) -> String {
    let o = slfsim(args);
    assert!(o.status.success(), "slfsim {args:?} failed: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `slfsim report DIR` rebuilds the page byte for byte from the folder.
fn assert_rebuilds(dir: &Path, kind: &str) {
    let page = dir.join("report.html");
    let written = std::fs::read(&page).unwrap();
    std::fs::remove_file(&page).unwrap();
    let out = ok(&["report", dir.to_str().unwrap()]);
    assert_eq!(out, format!("wrote {} ({kind} report)\n", page.display()));
    assert!(std::fs::read(&page).unwrap() == written, "{}: rebuilt page differs", page.display());
}

#[test]
fn run_and_study_reports_load_cleanly_in_chromium() {
    let started = Instant::now();
    let d = tempfile::tempdir().unwrap();
    let shots = d.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();

    // The detector is not blind: a page with a script error is caught.
    let bad = d.path().join("bad.html");
    std::fs::write(&bad, "<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>").unwrap();
    let (_, log) = browse(&bad, &["--dump-dom"]);
    assert!(console(&log).iter().any(|l| l.contains("undefinedFunction")), "console error not seen:\n{log}");

    // The quickstart (3 fine-tuning steps, embedded data) and the smoke
    // study as two shards, all three at once (the browser checks are quick;
    // these dominate the test's time).
    let run = d.path().join("run");
    let smoke = "scenarios/studies/smoke.ron";
    let (s0, s1, merged) = (d.path().join("s0"), d.path().join("s1"), d.path().join("merged"));
    std::thread::scope(|t| {
        t.spawn(|| ok(&["run", "scenarios/quickstart.ron", "--steps", "3", "--out", run.to_str().unwrap()]));
        for (shard, dir) in [("0/2", &s0), ("1/2", &s1)] {
            t.spawn(move || ok(&["--threads", "1", "study", smoke, "--shard", shard, "--out", dir.to_str().unwrap()]));
        }
    });
    eprintln!("runs finished after {:.1} s", started.elapsed().as_secs_f64());

    // Run report.
    let page = run.join("report.html");
    let dom_run = dom(&page);
    assert_eq!(dom_run.matches("<svg ").count(), 4, "run plots");
    let episodes = std::fs::read_to_string(run.join("pairs.csv")).unwrap().lines().count() - 1;
    assert_eq!(dom_run.matches("<tr>").count(), 1 + episodes, "episode rows");
    // The sorting script ran (under the page's CSP): headers are focusable.
    assert!(dom_run.contains("<th scope=\"col\" tabindex=\"0\">recovery_time_s</th>"));
    let p = probe(&page, "recovery_time_s");
    assert_eq!(p.svgs.len(), 4);
    assert!(p.svgs.iter().all(|&(w, h)| w >= 400.0 && h >= 200.0), "{:?}", p.svgs);
    assert_sorted(&p.asc, true);
    assert_sorted(&p.desc, false);
    screenshot(&page, &shots.join("report_run.png"));
    keep(&shots.join("report_run.png"), "report_run.png");
    assert_rebuilds(&run, "run");

    // Study report, of the merged shards.
    assert!(!s0.join("report.html").exists(), "a shard is not a finished study");
    ok(&["study", "--merge", s0.to_str().unwrap(), s1.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    let page = merged.join("report.html");
    let dom_study = dom(&page);
    let plots = std::fs::read_dir(&merged)
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("study_") && n.ends_with(".svg") && !n.contains("wall_time") && !n.contains("events_per_s")
        })
        .count();
    assert!(plots >= 8, "{plots} result plots");
    assert_eq!(dom_study.matches("<svg ").count(), plots, "study plots");
    let points = std::fs::read_to_string(merged.join("summary.csv")).unwrap().lines().count() - 1;
    assert_eq!(points, 6);
    assert_eq!(dom_study.matches("<tr>").count(), 1 + points, "point rows");
    let p = probe(&page, "recovery_mean_s");
    assert_eq!(p.svgs.len(), plots);
    assert!(p.svgs.iter().all(|&(w, h)| w >= 400.0 && h >= 200.0), "{:?}", p.svgs);
    assert_sorted(&p.asc, true);
    assert_sorted(&p.desc, false);
    screenshot(&page, &shots.join("report_study.png"));
    keep(&shots.join("report_study.png"), "report_study.png");
    assert_rebuilds(&merged, "study");

    // Neither kind: one clear error line.
    let o = slfsim(&["report", root().join("scenarios").to_str().unwrap()]);
    common::assert_clean_error(&o, &["is neither a run folder", "nor a study folder"]);
    eprintln!("browser test: {:.1} s", started.elapsed().as_secs_f64());
}
