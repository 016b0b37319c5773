//! Plain-text tables with aligned columns.

/// Whether a cell reads as a number ("3", "-0.25", "1e-3", "NaN", "12.5%").
fn is_numeric(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_suffix('%').unwrap_or(s);
    !s.is_empty() && s.parse::<f64>().is_ok()
}

/// Placeholder cells that do not stop a column from counting as numeric.
fn is_placeholder(s: &str) -> bool {
    matches!(s.trim(), "" | "-" | "—" | "n/a" | "NA")
}

/// A plain-text table: header line, a separator line of dashes, then one line
/// per row. Columns are separated by two spaces; a column whose cells are all
/// numbers (placeholders like "-" aside) is right-aligned, header included;
/// other columns are left-aligned. Short rows are padded with empty cells.
/// Lines carry no trailing spaces; the result ends with a newline.
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let ncols = rows.iter().map(|r| r.len()).chain(std::iter::once(headers.len())).max().unwrap_or(0);
    if ncols == 0 {
        return String::new();
    }
    fn cell(r: &[String], c: usize) -> &str {
        r.get(c).map(String::as_str).unwrap_or("")
    }
    let width = |s: &str| s.chars().count();

    let mut widths = vec![0usize; ncols];
    let mut numeric = vec![true; ncols];
    for c in 0..ncols {
        widths[c] = width(headers.get(c).copied().unwrap_or(""));
        let mut any_number = false;
        for r in rows {
            let v = cell(r, c);
            widths[c] = widths[c].max(width(v));
            if is_numeric(v) {
                any_number = true;
            } else if !is_placeholder(v) {
                numeric[c] = false;
            }
        }
        numeric[c] &= any_number;
        widths[c] = widths[c].max(1);
    }

    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut out = String::new();
        for (c, v) in cells.enumerate() {
            if c > 0 {
                out.push_str("  ");
            }
            let pad = widths[c].saturating_sub(width(v));
            if numeric[c] {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(v);
            } else {
                out.push_str(v);
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
        out
    };

    let mut out = line(&mut (0..ncols).map(|c| headers.get(c).copied().unwrap_or("")));
    let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&mut sep.iter().map(String::as_str)));
    for r in rows {
        out.push_str(&line(&mut (0..ncols).map(|c| cell(r, c))));
    }
    out
}
