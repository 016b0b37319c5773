use std::fs;
use std::path::Path;

use super::*;

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// (width, height) from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24, "PNG too short");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "no PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn font_registers() {
    ensure_font().unwrap();
    ensure_font().unwrap();
}

#[test]
fn write_atomic_writes_exact_bytes_and_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("out.bin");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    write_atomic(&p, &bytes).unwrap();
    assert_eq!(fs::read(&p).unwrap(), bytes);
    assert_eq!(entries(dir.path()), vec!["out.bin"]);
}

#[test]
fn write_atomic_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.txt");
    write_atomic(&p, b"first, longer content").unwrap();
    write_atomic(&p, b"second").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"second");
    write_atomic(&p, b"").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"");
    assert_eq!(entries(dir.path()), vec!["f.txt"]);
}

#[test]
fn write_atomic_creates_parent_folders() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a/b/c.txt");
    write_atomic(&p, b"x").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"x");
    assert_eq!(entries(&dir.path().join("a/b")), vec!["c.txt"]);
}

#[test]
fn write_atomic_under_a_file_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    fs::write(&file, b"keep").unwrap();
    let err = write_atomic(&file.join("x.txt"), b"data").unwrap_err();
    assert!(matches!(err, ReportError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("x.txt"), "{err}");
    let err = write_atomic(&file.join("sub/x.txt"), b"data").unwrap_err();
    assert!(matches!(err, ReportError::Io { .. }), "{err:?}");
    assert_eq!(entries(dir.path()), vec!["plain"]);
    assert_eq!(fs::read(&file).unwrap(), b"keep");
    // Plots fail the same way.
    let values = vec![vec![1.0]];
    let labels = vec!["a".to_string()];
    let spec = Heatmap {
        title: "t",
        row_axis: "r",
        col_axis: "c",
        row_labels: &labels,
        col_labels: &labels,
        values: &values,
        range: (0.0, 1.0),
        reverse: false,
        fmt: &|v| format!("{v:.1}"),
    };
    assert!(heatmap(&file.join("hm"), &spec).is_err());
    assert_eq!(entries(dir.path()), vec!["plain"]);
}

#[test]
fn json_is_pretty_with_trailing_newline() {
    #[derive(serde::Serialize)]
    struct S {
        a: u32,
        b: Vec<f64>,
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    write_json_atomic(&p, &S { a: 1, b: vec![0.5] }).unwrap();
    let s = fs::read_to_string(&p).unwrap();
    assert!(s.ends_with("}\n"), "{s:?}");
    assert!(s.contains("\n  \"a\": 1"), "{s:?}");
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["b"][0], 0.5);
    // NaN is not JSON: serde_json writes null for it, no error.
    write_json_atomic(&p, &f64::NAN).unwrap();
    assert_eq!(fs::read_to_string(&p).unwrap(), "null\n");
}

#[test]
fn csv_is_written_and_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    let rows = vec![vec!["a,b".to_string(), "1".to_string()], vec!["say \"hi\"".to_string(), "2".to_string()]];
    write_csv_atomic(&p, &["name", "n"], &rows).unwrap();
    assert_eq!(fs::read_to_string(&p).unwrap(), "name,n\n\"a,b\",1\n\"say \"\"hi\"\"\",2\n");
    // A ragged row is an error and leaves the previous file alone.
    let bad = vec![vec!["only one".to_string()]];
    let err = write_csv_atomic(&p, &["name", "n"], &bad).unwrap_err();
    assert!(matches!(err, ReportError::Csv { .. }), "{err:?}");
    assert!(fs::read_to_string(&p).unwrap().starts_with("name,n\n"));
    assert_eq!(entries(dir.path()), vec!["t.csv"]);
}

#[test]
fn text_table_aligns_columns() {
    let rows = vec![
        vec!["mnist_eps0.1_s2".to_string(), "0.95".to_string(), "12".to_string()],
        vec!["cifar".to_string(), "0.5".to_string(), "-".to_string()],
        vec!["x".to_string(), "100.25".to_string(), "3".to_string()],
    ];
    let t = text_table(&["profile", "acc", "n"], &rows);
    let expected = "\
profile             acc   n
---------------  ------  --
mnist_eps0.1_s2    0.95  12
cifar               0.5   -
x                100.25   3
";
    assert_eq!(t, expected, "\n{t}");
    // All lines but trailing-space-trimmed ones have equal width.
    let lens: Vec<usize> = t.lines().map(|l| l.chars().count()).collect();
    assert!(lens.iter().all(|&l| l == lens[0]), "{lens:?}");
    // Short rows are padded, empty input gives an empty string.
    let t = text_table(&["a", "b"], &[vec!["x".to_string()]]);
    assert_eq!(t, "a  b\n-  -\nx\n");
    assert_eq!(text_table(&[], &[]), "");
}

fn sample_heatmap(dir: &Path) -> Vec<std::path::PathBuf> {
    let names: Vec<String> =
        ["mnist_eps0.0_s1", "mnist_eps0.1_s2", "mnist_eps0.2_s3", "fashion_eps0.1_s4", "cifar10_eps0.3_s5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let n = names.len();
    let values: Vec<Vec<f64>> = (0..n)
        .map(|r| {
            (0..n)
                .map(|c| {
                    if r == 1 && c == 3 {
                        f64::NAN
                    } else if r == c {
                        0.97 - 0.01 * r as f64
                    } else {
                        0.1 + 0.15 * ((r * 3 + c * 7) % 5) as f64
                    }
                })
                .collect()
        })
        .collect();
    let spec = Heatmap {
        title: "Accuracy after alignment (TX x RX)",
        row_axis: "TX profile",
        col_axis: "RX profile",
        row_labels: &names,
        col_labels: &names,
        values: &values,
        range: (0.0, 1.0),
        reverse: false,
        fmt: &|v| format!("{v:.2}"),
    };
    heatmap(&dir.join("acc"), &spec).unwrap()
}

#[test]
fn heatmap_writes_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let paths = sample_heatmap(dir.path());
    assert_eq!(paths, vec![dir.path().join("acc.svg"), dir.path().join("acc.png")]);
    assert_eq!(entries(dir.path()), vec!["acc.png", "acc.svg"]);

    let svg = fs::read_to_string(&paths[0]).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.contains("Accuracy after alignment (TX x RX)"));
    assert!(svg.contains("mnist_eps0.1_s2"));
    assert!(svg.contains("RX profile") && svg.contains("TX profile"));
    assert!(svg.contains("\n0.97\n"), "cell value text missing");

    let png = fs::read(&paths[1]).unwrap();
    assert_eq!(png_size(&png), (800, 700));
    assert!(png.len() > 5_000, "PNG only {} bytes", png.len());
}

#[test]
fn heatmap_handles_reverse_big_and_degenerate_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // 24x24 with very long labels and a zero-width range.
    let names: Vec<String> = (0..24).map(|i| format!("a_really_long_profile_name_{i}_with_suffix")).collect();
    let values = vec![vec![0.5; 24]; 24];
    let spec = Heatmap {
        title: "big",
        row_axis: "TX profile",
        col_axis: "RX profile",
        row_labels: &names,
        col_labels: &names,
        values: &values,
        range: (0.5, 0.5),
        reverse: true,
        fmt: &|v| format!("{v:.3}"),
    };
    let paths = heatmap(&dir.path().join("big"), &spec).unwrap();
    let (w, h) = png_size(&fs::read(&paths[1]).unwrap());
    assert!(w >= 800 && h >= 700);

    // Mismatched shapes are errors, not panics, and write nothing.
    let ragged = vec![vec![0.1, 0.2], vec![0.3]];
    let two: Vec<String> = vec!["a".into(), "b".into()];
    let bad = Heatmap { values: &ragged, row_labels: &two, col_labels: &two, ..spec };
    assert!(matches!(heatmap(&dir.path().join("bad"), &bad), Err(ReportError::Plot { .. })));
    let empty: Vec<Vec<f64>> = vec![];
    let none: Vec<String> = vec![];
    let bad = Heatmap { values: &empty, row_labels: &none, col_labels: &none, ..spec };
    assert!(heatmap(&dir.path().join("bad"), &bad).is_err());
    assert_eq!(entries(dir.path()), vec!["big.png", "big.svg"]);
}

fn sample_series() -> Vec<Series> {
    let xs = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];
    (0..3)
        .map(|k| {
            let points: Vec<(f64, f64)> =
                xs.iter().map(|&x: &f64| (x, 1.0 - (0.5 + 0.1 * k as f64) / (1.0 + x.ln()))).collect();
            let band = (k != 1).then(|| points.iter().map(|&(_, y)| (y - 0.04, y + 0.04)).collect());
            Series { name: format!("SLF, {} frozen layers", k * 2), points, band }
        })
        .collect()
}

#[test]
fn line_chart_writes_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let series = sample_series();
    for (stem, log) in [("lin", false), ("log", true)] {
        let paths =
            line_chart(&dir.path().join(stem), "Accuracy vs. rounds", "round", "accuracy", &series, log).unwrap();
        let svg = fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.contains("Accuracy vs. rounds") && svg.contains("SLF, 2 frozen layers"));
        let png = fs::read(&paths[1]).unwrap();
        assert_eq!(png_size(&png), (900, 600));
        assert!(png.len() > 5_000);
    }
    // Odd inputs: empty, NaN, single point, x <= 0 on a log axis.
    let odd = vec![
        Series { name: "empty".into(), points: vec![], band: None },
        Series { name: "one".into(), points: vec![(0.0, 1.0), (3.0, f64::NAN), (4.0, 2.0)], band: None },
    ];
    line_chart(&dir.path().join("odd"), "odd", "x", "y", &odd, true).unwrap();
    line_chart(&dir.path().join("none"), "none", "x", "y", &[], false).unwrap();
    let bad = vec![Series { name: "b".into(), points: vec![(1.0, 1.0)], band: Some(vec![]) }];
    assert!(line_chart(&dir.path().join("bad"), "bad", "x", "y", &bad, false).is_err());
    assert_eq!(
        entries(dir.path()),
        vec!["lin.png", "lin.svg", "log.png", "log.svg", "none.png", "none.svg", "odd.png", "odd.svg"]
    );
}

/// Where demos write their plots: $SLFSIM_REPORT_DEMO, else a fresh
/// folder under the system's temp folder (kept, so it can be looked at).
pub(crate) fn demo_dir() -> std::path::PathBuf {
    let dir = match std::env::var_os("SLFSIM_REPORT_DEMO") {
        Some(d) => std::path::PathBuf::from(d),
        None => tempfile::Builder::new().prefix("slfsim-report-demo-").tempdir().unwrap().keep(),
    };
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the sample plots for a visual check:
/// `SLFSIM_REPORT_DEMO=DIR cargo test --release --lib demo_plots -- --ignored`.
#[test]
#[ignore = "demo: writes sample plots to $SLFSIM_REPORT_DEMO (or a temp folder) to look at"]
fn demo_plots_for_eyeballing() {
    let dir = demo_dir();
    let mut written = sample_heatmap(&dir);
    written.extend(
        line_chart(&dir.join("line"), "Accuracy vs. rounds", "round", "accuracy", &sample_series(), true).unwrap(),
    );
    big_heatmap(&dir);
    for p in written {
        assert!(fs::metadata(&p).unwrap().len() > 1_000, "{} is nearly empty", p.display());
    }
    println!("demo plots in {}", dir.display());
}

/// A 12x12 map with long names, as `eval` draws for many profiles.
fn big_heatmap(dir: &Path) -> Vec<std::path::PathBuf> {
    let names: Vec<String> = (0..12).map(|i| format!("cifar10_eps0.{i}_s{i}_snr10dB")).collect();
    let values: Vec<Vec<f64>> = (0..12)
        .map(|r| (0..12).map(|c| if r == c { 0.05 } else { 0.3 + 0.04 * ((r + 2 * c) % 12) as f64 }).collect())
        .collect();
    let spec = Heatmap {
        title: "MSE after alignment (lower is better)",
        row_axis: "TX profile",
        col_axis: "RX profile",
        row_labels: &names,
        col_labels: &names,
        values: &values,
        range: (0.0, 0.8),
        reverse: true,
        fmt: &|v| format!("{v:.2}"),
    };
    heatmap(&dir.join("big"), &spec).unwrap()
}

#[test]
fn heatmap_turns_long_column_labels_and_keeps_values() {
    let dir = tempfile::tempdir().unwrap();
    let paths = big_heatmap(dir.path());
    let svg = fs::read_to_string(&paths[0]).unwrap();
    // Too wide to lie flat: the 12 column labels stand upright, as does the
    // row-axis name; every name is shown whole.
    assert_eq!(svg.matches("transform=\"rotate(270,").count(), 13);
    for i in 0..12 {
        assert_eq!(svg.matches(&format!("\ncifar10_eps0.{i}_s{i}_snr10dB\n")).count(), 2, "label {i}");
    }
    // Every cell still shows its value: 12 diagonal cells read 0.05.
    assert_eq!(svg.matches("\n0.05\n").count(), 12);
    assert_eq!(png_size(&fs::read(&paths[1]).unwrap()), (800, 700));
}
