//! The crate's one plot style (issue 14): a colour-blind-safe palette, a marker and a dash per series so
//! that every series stays identifiable in greyscale, axis ticks (labelled decades and unlabelled minor
//! ticks on log axes, 1-2-5 steps on linear ones) and small multiples. Pure functions; `report::render_svg`
//! draws with them.

use crate::evidence::Series;

/// Okabe & Ito (2008) "Color Universal Design": eight colours told apart under the common colour-vision
/// deficiencies. Ordered so that the first series get the strongest contrasts on white; yellow last.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0x00, 0x72, 0xB2), // blue
    (0xD5, 0x5E, 0x00), // vermillion
    (0x00, 0x9E, 0x73), // bluish green
    (0xCC, 0x79, 0xA7), // reddish purple
    (0xE6, 0x9F, 0x00), // orange
    (0x56, 0xB4, 0xE9), // sky blue
    (0x00, 0x00, 0x00), // black
    (0xF0, 0xE4, 0x42), // yellow
];

/// Marker outline colour of a palette entry: the palette colour, except yellow, whose markers get a darker
/// edge so they remain visible on white.
pub fn edge_colour(colour: usize) -> (u8, u8, u8) {
    if colour == 7 {
        (0x9A, 0x8C, 0x00)
    } else {
        PALETTE[colour]
    }
}

/// Marker shapes, in the order series receive them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Star,
    Plus,
    Cross,
}

pub const MARKERS: [Marker; 8] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Star,
    Marker::Plus,
    Marker::Cross,
];

/// Line patterns, as on/off lengths in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
    DashDot,
    LongDash,
    DashDotDot,
    /// No line at all (a scatter plot).
    None,
}

pub const DASHES: [Dash; 6] = [
    Dash::Solid,
    Dash::Dashed,
    Dash::Dotted,
    Dash::DashDot,
    Dash::LongDash,
    Dash::DashDotDot,
];

impl Dash {
    /// On/off lengths in pixels (empty: solid).
    pub fn pattern(self) -> &'static [f64] {
        match self {
            Dash::Solid | Dash::None => &[],
            Dash::Dashed => &[8.0, 5.0],
            Dash::Dotted => &[2.0, 4.0],
            Dash::DashDot => &[9.0, 4.0, 2.0, 4.0],
            Dash::LongDash => &[16.0, 6.0],
            Dash::DashDotDot => &[9.0, 3.0, 2.0, 3.0, 2.0, 3.0],
        }
    }
}

/// How one series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesStyle {
    /// Index into [`PALETTE`].
    pub colour: usize,
    pub marker: Marker,
    /// Filled markers for measured series, hollow for reference (theory, printed) series.
    pub filled: bool,
    pub dash: Dash,
    /// The style slot (position in the colour/marker sequence); a paired reference shares its partner's.
    pub slot: usize,
}

impl SeriesStyle {
    /// What identifies the series without colour: marker shape, fill and line pattern.
    pub fn greyscale_key(&self) -> (Marker, bool, Dash) {
        (self.marker, self.filled, self.dash)
    }
}

/// A reference series: theory, printed values, slopes (`Series::reference` draws it dashed).
pub fn is_reference(s: &Series) -> bool {
    s.dashed
}

/// `"name (what)"` → `"name"`; `None` without a trailing parenthesised group.
fn base_before_paren(name: &str) -> Option<&str> {
    let name = name.trim_end();
    if !name.ends_with(')') {
        return None;
    }
    let open = name.rfind(" (")?;
    Some(&name[..open])
}

/// The measured series a reference series restates, found by name: the reference is called
/// `"<measured name> <word>"` with one qualifying word (e.g. "ddpm printed" for "ddpm"; not "a + b" for
/// "a", which is another quantity), or both are `"<base> (<what>)"` with the
/// same base (e.g. "θ = 0 (quadrature)" and "θ = 0 (reference table)"). The longest match wins; `None` when
/// nothing matches. Such a pair shares colour and marker (hollow and dashed for the reference).
pub fn partner(series: &[Series], i: usize) -> Option<usize> {
    let r = &series[i];
    if !is_reference(r) {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    for (j, m) in series.iter().enumerate() {
        if j == i || is_reference(m) || m.name.is_empty() {
            continue;
        }
        let by_prefix = r
            .name
            .strip_prefix(m.name.as_str())
            .and_then(|rest| rest.strip_prefix(' '))
            .is_some_and(|word| {
                !word.is_empty()
                    && !word.contains(' ')
                    && word
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '(')
            });
        let by_base = matches!(
            (base_before_paren(&r.name), base_before_paren(&m.name)),
            (Some(a), Some(b)) if a == b && !a.is_empty()
        );
        if (by_prefix || by_base) && best.is_none_or(|(len, _)| m.name.len() > len) {
            best = Some((m.name.len(), j));
        }
    }
    best.map(|(_, j)| j)
}

/// Every series' partner: by name ([`partner`]), or — when the figure strictly alternates measured and
/// reference series (M R M R …, at least two pairs, e.g. each order's measured error followed by its slope
/// line) and no name pairs them otherwise — each reference with the measured series just before it.
pub fn partners(series: &[Series]) -> Vec<Option<usize>> {
    let by_name: Vec<Option<usize>> = (0..series.len()).map(|i| partner(series, i)).collect();
    let n = series.len();
    let alternating = n >= 4
        && n.is_multiple_of(2)
        && series
            .iter()
            .enumerate()
            .all(|(i, s)| is_reference(s) == (i % 2 == 1))
        && by_name.iter().all(Option::is_none);
    if alternating {
        (0..n).map(|i| (i % 2 == 1).then(|| i - 1)).collect()
    } else {
        by_name
    }
}

/// One style per series, deterministic and unique in greyscale: slot `s` (series in order, a reference
/// paired by [`partner`] sharing its partner's slot) gets colour `s mod 8` and marker `(s + ⌊s/8⌋) mod 8`;
/// measured series are filled and solid (further dash patterns from slot 8 on), reference series hollow and
/// dashed, scatter series have no line. Any remaining clash of (marker, fill, dash) moves the later series to
/// the next dash pattern (then the next marker), so no two series of a figure look alike without colour.
pub fn assign_styles(series: &[Series]) -> Vec<SeriesStyle> {
    let n = series.len();
    let mut slot = vec![usize::MAX; n];
    let mut next = 0;
    let partners = partners(series);
    for i in 0..n {
        if partners[i].is_none() {
            slot[i] = next;
            next += 1;
        }
    }
    let mut out: Vec<SeriesStyle> = Vec::with_capacity(n);
    for (i, s) in series.iter().enumerate() {
        let own = partners[i].map_or(slot[i], |j| slot[j]);
        let block = own / 8;
        let reference = is_reference(s);
        let dash = if !s.joined {
            Dash::None
        } else if reference {
            // Paired: plain dashes; unpaired: the next reference pattern.
            let k = if partners[i].is_some() {
                0
            } else {
                (0..i)
                    .filter(|&j| is_reference(&series[j]) && partners[j].is_none())
                    .count()
            };
            [
                Dash::Dashed,
                Dash::DashDot,
                Dash::LongDash,
                Dash::DashDotDot,
            ][k % 4]
        } else {
            [Dash::Solid, Dash::LongDash, Dash::DashDot, Dash::Dotted][block % 4]
        };
        let mut st = SeriesStyle {
            colour: own % 8,
            marker: MARKERS[(own + block) % 8],
            filled: !reference,
            dash,
            slot: own,
        };
        // Resolve clashes deterministically.
        let taken = |st: &SeriesStyle, out: &[SeriesStyle]| {
            out.iter().any(|o| o.greyscale_key() == st.greyscale_key())
        };
        if taken(&st, &out) {
            let dashes: Vec<Dash> = if st.dash == Dash::None {
                vec![Dash::None]
            } else {
                DASHES.to_vec()
            };
            let start_m = MARKERS.iter().position(|&m| m == st.marker).unwrap_or(0);
            let start_d = dashes.iter().position(|&d| d == st.dash).unwrap_or(0);
            'search: for dm in 0..MARKERS.len() {
                for dd in 0..dashes.len() {
                    let cand = SeriesStyle {
                        marker: MARKERS[(start_m + dm) % MARKERS.len()],
                        dash: dashes[(start_d + dd) % dashes.len()],
                        ..st
                    };
                    if !taken(&cand, &out) {
                        st = cand;
                        break 'search;
                    }
                }
            }
        }
        out.push(st);
    }
    out
}

/// Most measured series one panel holds before the figure becomes small multiples.
pub const MAX_SERIES_ONE_PANEL: usize = 8;
/// Most measured series per panel of small multiples.
pub const MAX_SERIES_PER_PANEL: usize = 6;

/// Which series each panel draws: one panel with everything, or — with more than
/// [`MAX_SERIES_ONE_PANEL`] measured series — small multiples of at most [`MAX_SERIES_PER_PANEL`] measured
/// series each (in order, balanced), every reference series repeated in every panel except a paired one,
/// which goes with its partner.
pub fn panels(series: &[Series]) -> Vec<Vec<usize>> {
    let measured: Vec<usize> = (0..series.len())
        .filter(|&i| !is_reference(&series[i]))
        .collect();
    if measured.len() <= MAX_SERIES_ONE_PANEL {
        return vec![(0..series.len()).collect()];
    }
    let count = measured.len().div_ceil(MAX_SERIES_PER_PANEL);
    let per = measured.len().div_ceil(count);
    let partners = partners(series);
    measured
        .chunks(per)
        .map(|chunk| {
            (0..series.len())
                .filter(|&i| {
                    chunk.contains(&i)
                        || (is_reference(&series[i])
                            && partners[i].is_none_or(|j| chunk.contains(&j)))
                })
                .collect()
        })
        .collect()
}

/// Ticks of one axis: labelled (`major`, with their labels) and unlabelled (`minor`).
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub major: Vec<f64>,
    pub labels: Vec<String>,
    pub minor: Vec<f64>,
}

const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

/// `10ᵏ` with Unicode superscripts (no font support needed beyond the usual).
pub fn pow10_label(k: i32) -> String {
    let mut s = String::from("10");
    if k < 0 {
        s.push('⁻');
    }
    for c in k.unsigned_abs().to_string().chars() {
        s.push(SUPERSCRIPT[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

/// A plain number with at most `decimals` decimals, trailing zeros dropped, a true minus sign.
fn plain(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    let s = if s == "-0" { "0".to_string() } else { s };
    s.replacen('-', "−", 1)
}

/// `m·10ᵏ` for a log-axis tick `v` whose mantissa `m` is an integer 1…9.
fn mantissa_label(v: f64, plain_ok: bool) -> String {
    let k = v.log10().floor() as i32;
    let m = (v / 10f64.powi(k)).round();
    if plain_ok {
        plain(v, (-k).max(0) as usize)
    } else if m == 1.0 {
        pow10_label(k)
    } else {
        format!("{m}×{}", pow10_label(k))
    }
}

/// Log-axis ticks on `[lo, hi]` (both > 0): decades labelled, 2…9 × 10ᵏ as unlabelled minor ticks. With
/// fewer than three decades inside the range, 1-2-5 × 10ᵏ are labelled instead (all mantissas 1…9 if that
/// still gives fewer than two); with more than ten decades, every second (third, …) decade is labelled.
/// Labels are plain numbers while every label lies in 0.001…10000, else `10ᵏ`.
pub fn log_ticks(lo: f64, hi: f64) -> Ticks {
    let inside = |v: f64| v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12);
    let k0 = lo.log10().floor() as i32;
    let k1 = hi.log10().ceil() as i32;
    let decades: Vec<i32> = (k0..=k1).filter(|&k| inside(10f64.powi(k))).collect();
    let all: Vec<(f64, i32)> = (k0..=k1)
        .flat_map(|k| (1..=9).map(move |m| (m as f64 * 10f64.powi(k), m)))
        .filter(|&(v, _)| inside(v))
        .collect();
    let (major, minor): (Vec<f64>, Vec<f64>) = if decades.len() >= 3 {
        let every = decades.len().div_ceil(10).max(1) as i32;
        let labelled = |k: i32| k.rem_euclid(every) == 0;
        let major = decades
            .iter()
            .filter(|&&k| labelled(k))
            .map(|&k| 10f64.powi(k))
            .collect();
        let minor = if decades.len() <= 8 {
            all.iter()
                .filter(|&&(_, m)| m != 1)
                .map(|&(v, _)| v)
                .chain(
                    decades
                        .iter()
                        .filter(|&&k| !labelled(k))
                        .map(|&k| 10f64.powi(k)),
                )
                .collect()
        } else {
            decades
                .iter()
                .filter(|&&k| !labelled(k))
                .map(|&k| 10f64.powi(k))
                .collect()
        };
        (major, minor)
    } else {
        let one_two_five: Vec<f64> = all
            .iter()
            .filter(|&&(_, m)| matches!(m, 1 | 2 | 5))
            .map(|&(v, _)| v)
            .collect();
        if one_two_five.len() >= 2 {
            let minor = all
                .iter()
                .filter(|&&(_, m)| !matches!(m, 1 | 2 | 5))
                .map(|&(v, _)| v)
                .collect();
            (one_two_five, minor)
        } else if all.len() >= 2 {
            (all.iter().map(|&(v, _)| v).collect(), Vec::new())
        } else {
            // Less than a factor of two: fall back to linear ticks on the range.
            let lin = linear_ticks(lo, hi, 4);
            return lin;
        }
    };
    let mut minor = minor;
    minor.sort_by(f64::total_cmp);
    let plain_ok = major
        .iter()
        .all(|&v| (1e-3 * 0.999..=1e4 * 1.001).contains(&v));
    let labels = major.iter().map(|&v| mantissa_label(v, plain_ok)).collect();
    Ticks {
        major,
        labels,
        minor,
    }
}

/// Linear-axis ticks: 1-2-5 × 10ᵏ steps with at most `max_ticks` labelled ticks, no minor ticks.
pub fn linear_ticks(lo: f64, hi: f64, max_ticks: usize) -> Ticks {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let max_ticks = max_ticks.max(2) as f64;
    let raw = span / max_ticks;
    let k = raw.log10().floor();
    let base = 10f64.powf(k);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * base)
        .find(|&s| span / s <= max_ticks)
        .unwrap_or(10.0 * base);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let major: Vec<f64> = (first..=last).map(|i| i as f64 * step).collect();
    let decimals = (-(step.log10().floor()) as i64).max(0) as usize;
    let big = major.iter().any(|v| v.abs() >= 1e5) || (decimals > 4);
    let labels = major
        .iter()
        .map(|&v| {
            if v == 0.0 {
                "0".to_string()
            } else if big {
                let e = v.abs().log10().floor() as i32;
                let m = v / 10f64.powi(e);
                format!("{}×{}", plain(m, 2), pow10_label(e))
            } else {
                plain(v, decimals)
            }
        })
        .collect();
    Ticks {
        major,
        labels,
        minor: Vec::new(),
    }
}

/// Break `text` into lines of at most `width` characters, at spaces where possible.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(4);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        // A word longer than a line is cut.
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Cut a polyline (pixel coordinates) into the "on" pieces of a dash pattern, the pattern running on
/// across vertices. An empty pattern returns the whole polyline.
pub fn dash_polyline(pts: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if pattern.is_empty() || pts.len() < 2 {
        return vec![pts.to_vec()];
    }
    let mut pieces = Vec::new();
    let mut idx = 0; // position in the pattern
    let mut left = pattern[0]; // length left in the current pattern element
    let mut cur: Vec<(f64, f64)> = vec![pts[0]];
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut done = 0.0;
        while len - done > left {
            done += left;
            let f = done / len;
            let p = (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1));
            if idx % 2 == 0 {
                cur.push(p);
                pieces.push(std::mem::take(&mut cur));
            } else {
                cur = vec![p];
            }
            idx = (idx + 1) % pattern.len();
            left = pattern[idx];
        }
        left -= len - done;
        if idx % 2 == 0 {
            cur.push(b);
        }
    }
    if idx % 2 == 0 && cur.len() >= 2 {
        pieces.push(cur);
    }
    pieces
}

/// Positions (pixel) at fractions `(j + phase)/count` of the arc length of a polyline: where a dense curve
/// gets its identifying markers.
pub fn along(pts: &[(f64, f64)], count: usize, phase: f64) -> Vec<(f64, f64)> {
    if pts.len() < 2 || count == 0 {
        return pts.to_vec();
    }
    let seg: Vec<f64> = pts
        .windows(2)
        .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
        .collect();
    let total: f64 = seg.iter().sum();
    if total <= 0.0 {
        return vec![pts[0]];
    }
    let mut out = Vec::with_capacity(count);
    let (mut i, mut acc) = (0, 0.0);
    for j in 0..count {
        let target = (j as f64 + phase) / count as f64 * total;
        while i + 1 < seg.len() && acc + seg[i] < target {
            acc += seg[i];
            i += 1;
        }
        let f = if seg[i] > 0.0 {
            ((target - acc) / seg[i]).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (a, b) = (pts[i], pts[i + 1]);
        out.push((a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_of_five_to_thousand() {
        let t = log_ticks(5.0, 1000.0);
        assert_eq!(t.major, vec![10.0, 100.0, 1000.0]);
        assert_eq!(t.labels, vec!["10", "100", "1000"]);
        assert!(t.minor.contains(&5.0) && t.minor.contains(&50.0) && t.minor.contains(&900.0));
        assert!(!t.minor.contains(&100.0));
    }

    #[test]
    fn small_log_ranges_label_one_two_five() {
        let t = log_ticks(0.15, 0.9);
        assert_eq!(t.major, vec![0.2, 0.5]);
        let t = log_ticks(3.0, 40.0);
        assert_eq!(t.major, vec![5.0, 10.0, 20.0]);
        let t = log_ticks(45.0, 1100.0);
        assert_eq!(t.labels, vec!["50", "100", "200", "500", "1000"]);
    }

    #[test]
    fn wide_log_ranges_use_powers() {
        let t = log_ticks(3e-8, 20.0);
        assert_eq!(t.labels.first().unwrap(), "10⁻⁷");
        assert_eq!(t.labels.last().unwrap(), "10¹");
        assert_eq!(t.major.len(), 9);
    }

    #[test]
    fn linear_steps() {
        let t = linear_ticks(-0.05, 1.05, 8);
        assert_eq!(t.labels, vec!["0", "0.2", "0.4", "0.6", "0.8", "1"]);
    }

    #[test]
    fn dashes_cover_the_pattern() {
        let p = dash_polyline(&[(0.0, 0.0), (10.0, 0.0), (10.0, 16.0)], &[8.0, 5.0]);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], vec![(0.0, 0.0), (8.0, 0.0)]);
        assert_eq!(p[1], vec![(10.0, 3.0), (10.0, 11.0)]);
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn printed_pairs_share_colour() {
        let s = vec![
            Series::line("ddpm", vec![(1.0, 1.0)]),
            Series::line("ddim", vec![(1.0, 1.0)]),
            Series::reference("ddpm printed", vec![(1.0, 1.0)]),
            Series::line("θ = 0 (quadrature)", vec![(1.0, 1.0)]),
            Series::reference("θ = 0 (reference table)", vec![(1.0, 1.0)]),
            Series::reference("slope −1", vec![(1.0, 1.0)]),
            Series::reference("ddim + correction", vec![(1.0, 1.0)]),
        ];
        let st = assign_styles(&s);
        assert_eq!(st[2].colour, st[0].colour);
        assert_eq!(st[2].marker, st[0].marker);
        assert!(!st[2].filled && st[0].filled);
        assert_eq!(st[4].colour, st[3].colour);
        assert_ne!(st[5].colour, st[0].colour);
        assert_eq!(partner(&s, 5), None);
        assert_eq!(partner(&s, 6), None);
    }

    #[test]
    fn alternating_measured_and_slopes_pair() {
        let p = vec![(1.0, 1.0)];
        let s = vec![
            Series::line("dpm-solver-1", p.clone()),
            Series::reference("slope −1", p.clone()),
            Series::line("dpm-solver-2", p.clone()),
            Series::reference("slope −2", p.clone()),
        ];
        let st = assign_styles(&s);
        assert_eq!((st[1].colour, st[3].colour), (st[0].colour, st[2].colour));
        assert_ne!(st[0].colour, st[2].colour);
    }
}
