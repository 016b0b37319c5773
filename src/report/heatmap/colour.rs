//! The heat map's colour scale.

use plotters::style::RGBColor;

/// ColorBrewer "YlGnBu": light yellow -> green -> dark blue.
const YLGNBU: [(u8, u8, u8); 9] = [
    (255, 255, 217),
    (237, 248, 177),
    (199, 233, 180),
    (127, 205, 187),
    (65, 182, 196),
    (29, 145, 192),
    (34, 94, 168),
    (37, 52, 148),
    (8, 29, 88),
];

/// Colour for `t` in [0, 1] on the sequential map.
pub(super) fn colormap(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let x = t * (YLGNBU.len() - 1) as f64;
    let i = (x.floor() as usize).min(YLGNBU.len() - 2);
    let f = x - i as f64;
    let (a, b) = (YLGNBU[i], YLGNBU[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether white text reads better than black on `c`.
pub(super) fn is_dark(c: RGBColor) -> bool {
    let lum = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    lum < 140.0
}
