//! A self-contained HTML page: inline CSS, the inline sorting script, inline
//! SVG plots, and a Content-Security-Policy that forbids loading anything
//! (no network, no other script), so the page opens the same offline.
//! Every text that comes from a file is escaped.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::report::chart::fmt_tick;

const CSS: &str = include_str!("report.css");
/// The sorting script.
pub const SORT_JS: &str = include_str!("sort.js");

/// `s` with the five HTML special characters escaped (safe in text and in
/// quoted attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (for the CSP hash of the script).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A table cell: the text shown and, for numbers, the raw value to sort by.
pub struct Cell {
    pub text: String,
    pub sort: Option<String>,
}

impl Cell {
    /// A cell from a raw file value: numbers are shown shortened (at most 4
    /// significant digits for non-integers) and sorted by the raw value.
    pub fn raw(v: &str) -> Cell {
        let is_int = !v.is_empty() && v.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
        match v.parse::<f64>() {
            Ok(x) if !is_int && x.is_finite() => Cell { text: fmt_tick(x), sort: Some(v.to_string()) },
            Ok(_) => Cell { text: v.to_string(), sort: Some(v.to_string()) },
            Err(_) => Cell { text: v.to_string(), sort: None },
        }
    }
}

/// A page under construction: sections appended in order.
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    /// A page with `title` as heading, `subtitle` below it and a navigation
    /// bar to the sections named in `nav` (id, name).
    pub fn new(title: &str, subtitle: &str, nav: &[(&str, &str)]) -> Page {
        let mut body =
            format!("<header>\n<h1>{}</h1>\n<p class=\"sub\">{}</p>\n<nav>", escape(title), escape(subtitle));
        for (id, name) in nav {
            let _ = write!(body, "<a href=\"#{}\">{}</a>", escape(id), escape(name));
        }
        body.push_str("</nav>\n</header>\n");
        Page { title: title.to_string(), body }
    }

    /// Starts a section with heading `name` (closed by the next one).
    pub fn section(&mut self, id: &str, name: &str) {
        if self.body.contains("<section") {
            self.body.push_str("</section>\n");
        }
        let _ = writeln!(self.body, "<section id=\"{}\">\n<h2>{}</h2>", escape(id), escape(name));
    }

    /// A paragraph of muted text.
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", escape(text));
    }

    /// A two-column list of (name, value).
    pub fn facts(&mut self, rows: &[(&str, String)]) {
        self.body.push_str("<dl class=\"facts\">\n");
        for (k, v) in rows {
            let _ = writeln!(self.body, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
        }
        self.body.push_str("</dl>\n");
    }

    /// Headline numbers as cards of (label, value, note).
    pub fn cards(&mut self, cards: &[(&str, String, String)]) {
        self.body.push_str("<div class=\"cards\">\n");
        for (label, value, note) in cards {
            let _ = writeln!(
                self.body,
                "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"note\">{}</div></div>",
                escape(label),
                escape(value),
                escape(note)
            );
        }
        self.body.push_str("</div>\n");
    }

    /// Inlines the plot `dir/<stem>.svg` with `caption` and links to its
    /// files; a missing or unexpected SVG becomes a note instead.
    pub fn plot(&mut self, dir: &Path, stem: &str, caption: &str) {
        let svg_name = format!("{stem}.svg");
        let links = format!("<a href=\"{0}.svg\">{0}.svg</a> · <a href=\"{0}.png\">{0}.png</a>", escape(stem));
        match std::fs::read_to_string(dir.join(&svg_name)) {
            Ok(svg) if is_plain_svg(&svg) => {
                let _ = writeln!(
                    self.body,
                    "<figure>\n{}<figcaption>{} ({links})</figcaption>\n</figure>",
                    svg.trim_end_matches('\n').to_string() + "\n",
                    escape(caption)
                );
            }
            Ok(_) => self.note(&format!("{svg_name} is not a plot written by slfsim; not shown inline.")),
            Err(_) => self.note(&format!("{svg_name} is missing.")),
        }
    }

    /// A table whose columns sort on click; cells with a sort value are
    /// numbers (right-aligned).
    pub fn table(&mut self, headers: &[String], rows: &[Vec<Cell>]) {
        self.body.push_str("<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>");
        for h in headers {
            let _ = write!(self.body, "<th scope=\"col\">{}</th>", escape(h));
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for c in row {
                match &c.sort {
                    Some(v) => {
                        let _ =
                            write!(self.body, "<td class=\"num\" data-v=\"{}\">{}</td>", escape(v), escape(&c.text));
                    }
                    None => {
                        let _ = write!(self.body, "<td>{}</td>", escape(&c.text));
                    }
                }
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table></div>\n");
    }

    /// Relative links to files of the folder, each with a description.
    pub fn files(&mut self, files: &[(String, String)]) {
        self.body.push_str("<ul class=\"files\">\n");
        for (name, what) in files {
            let _ = writeln!(self.body, "<li><a href=\"{0}\">{0}</a>: {1}</li>", escape(name), escape(what));
        }
        self.body.push_str("</ul>\n");
    }

    /// The whole document.
    pub fn finish(mut self) -> String {
        if self.body.contains("<section") {
            self.body.push_str("</section>\n");
        }
        let script_hash = base64(&Sha256::digest(SORT_JS.as_bytes()));
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
             script-src 'sha256-{script_hash}'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n{}<script>{SORT_JS}</script>\n</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }
}

/// Whether `svg` looks like a plot written by this crate's plotters
/// backend: one `<svg>` element without scripts, event handlers, foreign
/// content or links. Anything else is not inlined.
fn is_plain_svg(svg: &str) -> bool {
    let lower = svg.to_ascii_lowercase();
    lower.starts_with("<svg ")
        && lower.trim_end().ends_with("</svg>")
        && !["<script", "<foreignobject", "<iframe", "<a ", "href", "javascript:", "<?", "<!"]
            .iter()
            .any(|bad| lower.contains(bad))
        && !lower.split(|c: char| c.is_whitespace()).any(|w| w.starts_with("on") && w.contains('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // SHA-256 of "abc" (FIPS 180-2 example) in base64.
        assert_eq!(base64(&Sha256::digest(b"abc")), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    }

    #[test]
    fn raw_cells_shorten_numbers_and_keep_the_raw_value_to_sort() {
        let c = Cell::raw("3.521008121");
        assert_eq!((c.text.as_str(), c.sort.as_deref()), ("3.521", Some("3.521008121")));
        let c = Cell::raw("871944");
        assert_eq!((c.text.as_str(), c.sort.as_deref()), ("871944", Some("871944")));
        let c = Cell::raw("initial");
        assert_eq!((c.text.as_str(), c.sort), ("initial", None));
        assert_eq!(Cell::raw("").sort, None);
    }

    #[test]
    fn only_plain_svgs_are_inlined() {
        assert!(is_plain_svg("<svg width=\"1\" height=\"1\">\n<text x=\"0\">a on b</text>\n</svg>\n"));
        for bad in [
            "<svg><script>alert(1)</script></svg>",
            "<svg onload=\"alert(1)\"></svg>",
            "<svg width=\"1\"><a href=\"http://x\">x</a></svg>",
            "<svg width=\"1\"><foreignObject></foreignObject></svg>",
            "<html><svg width=\"1\"></svg></html>",
            "<svg width=\"1\"><image href=\"http://example.com/x.png\"/></svg>",
        ] {
            assert!(!is_plain_svg(bad), "{bad}");
        }
    }
}
