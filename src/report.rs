//! Evidence on disk: tidy CSVs, SVG plots, `summary.csv` and `REPORT.md`, all written atomically.

use crate::claims::Claim;
use crate::evidence::{Evidence, Figure, Series, Table, Value, Verdict};
use crate::plot_style;
use anyhow::{bail, Context, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A rectangle in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

/// Where a legend sits relative to its panel's plotting area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendPlace {
    Right,
    Below,
}

/// One panel: its plotting area, its legend's area, and the series it draws (indices into the figure's).
#[derive(Clone, Debug)]
pub struct PanelLayout {
    pub plot: Rect,
    pub legend: Rect,
    pub place: LegendPlace,
    pub series: Vec<usize>,
}

/// The page of a figure: size, wrapped title, panels.
#[derive(Clone, Debug)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    pub title: Vec<String>,
    pub panels: Vec<PanelLayout>,
    /// Small multiples draw the other panels' series in light grey behind each panel's own.
    pub context: bool,
}

// Font sizes as plotters takes them (the SVG font size is these / 1.24) and the estimated width of a
// character of sans-serif text in pixels per unit of that size (for wrapping; no font is measured).
const TITLE_FONT: f64 = 22.0;
const LABEL_FONT: f64 = 18.0;
const TICK_FONT: f64 = 16.0;
const LEGEND_FONT: f64 = 16.0;
const CHAR_W: f64 = 0.47;
const LEGEND_LINE: f64 = 16.0;
const LEGEND_GAP: f64 = 7.0;
const SAMPLE_W: f64 = 40.0;
const MARKER_R: f64 = 4.5;
/// Markers along a curve too dense to mark every point.
const MARKS_ALONG: usize = 5;
/// A joined series with at most this many points has a marker on each.
const MARK_EACH_MAX: usize = 40;
const GREY_CONTEXT: RGBColor = RGBColor(0xC8, 0xC8, 0xC8);

fn chars_fitting(px: f64, font: f64) -> usize {
    (px / (CHAR_W * font)).floor().max(8.0) as usize
}

/// A legend's entries (wrapped lines) and its height.
fn legend_lines(
    fig: &Figure,
    series: &[usize],
    width: f64,
    context: bool,
) -> (Vec<Vec<String>>, f64) {
    let chars = chars_fitting(width - SAMPLE_W - 12.0, LEGEND_FONT);
    let mut entries: Vec<Vec<String>> = series
        .iter()
        .map(|&i| plot_style::wrap(&fig.series[i].name, chars))
        .collect();
    if context {
        entries.push(plot_style::wrap("other panels' series", chars));
    }
    let h = entries
        .iter()
        .map(|e| e.len() as f64 * LEGEND_LINE + LEGEND_GAP)
        .sum::<f64>()
        + 8.0;
    (entries, h)
}

/// Lay out a figure: one panel with its legend on the right, or small multiples (see
/// [`plot_style::panels`]) in rows of up to three, each with its legend below.
pub fn layout(fig: &Figure) -> Layout {
    let groups = plot_style::panels(&fig.series);
    let multi = groups.len() > 1;
    let ncols = groups.len().clamp(1, 3);
    let nrows = groups.len().div_ceil(ncols);
    let (cell_w, legend_w) = if multi { (440.0, 0.0) } else { (1100.0, 280.0) };
    let width = (ncols as f64 * cell_w).max(900.0);
    let title = plot_style::wrap(&fig.title, chars_fitting(width - 40.0, TITLE_FONT));
    let title_h = 14.0 + title.len() as f64 * 26.0;
    let mut panels = Vec::new();
    let height;
    if multi {
        let plot_h = 320.0;
        let legend_h = groups
            .iter()
            .map(|g| legend_lines(fig, g, cell_w - 40.0, true).1)
            .fold(0.0, f64::max);
        let cell_h = 10.0 + plot_h + 62.0 + legend_h + 10.0;
        for (k, g) in groups.into_iter().enumerate() {
            let (cx, cy) = (
                (k % ncols) as f64 * cell_w,
                title_h + (k / ncols) as f64 * cell_h,
            );
            let plot = Rect {
                x0: cx + 90.0,
                y0: cy + 10.0,
                x1: cx + cell_w - 20.0,
                y1: cy + 10.0 + plot_h,
            };
            let legend = Rect {
                x0: cx + 30.0,
                y0: plot.y1 + 62.0,
                x1: cx + cell_w - 10.0,
                y1: plot.y1 + 62.0 + legend_h,
            };
            panels.push(PanelLayout {
                plot,
                legend,
                place: LegendPlace::Below,
                series: g,
            });
        }
        height = title_h + nrows as f64 * cell_h;
    } else {
        let g = groups.into_iter().next().unwrap_or_default();
        let (_, legend_h) = legend_lines(fig, &g, legend_w - 10.0, false);
        let plot_h = legend_h.max(470.0);
        let plot = Rect {
            x0: 95.0,
            y0: title_h + 10.0,
            x1: width - legend_w - 25.0,
            y1: title_h + 10.0 + plot_h,
        };
        let legend = Rect {
            x0: plot.x1 + 25.0,
            y0: plot.y0,
            x1: width - 10.0,
            y1: plot.y0 + legend_h,
        };
        height = plot.y1 + 62.0;
        panels.push(PanelLayout {
            plot,
            legend,
            place: LegendPlace::Right,
            series: g,
        });
    }
    Layout {
        width: width as u32,
        height: height.ceil() as u32,
        title,
        panels,
        context: multi,
    }
}

/// The drawable points of a series: finite, and positive on a log axis.
fn plottable(fig: &Figure, s: &Series) -> Vec<(f64, f64)> {
    s.points
        .iter()
        .copied()
        .filter(|(x, y)| {
            x.is_finite() && y.is_finite() && (!fig.log_x || *x > 0.0) && (!fig.log_y || *y > 0.0)
        })
        .collect()
}

/// Data range of one axis in axis coordinates (log10 on a log axis), padded by 4% on each side.
fn axis_range(v: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let v: Vec<f64> = v.map(|x| if log { x.log10() } else { x }).collect();
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi - lo <= 1e-12 * lo.abs().max(1.0) {
        let w = if log { 0.3 } else { 0.5 * hi.abs().max(1.0) };
        (lo - w, hi + w)
    } else {
        (lo, hi)
    };
    let pad = 0.04 * (hi - lo);
    (lo - pad, hi + pad)
}

/// Maps data to pixels inside one panel.
struct Axes {
    plot: Rect,
    x: (f64, f64),
    y: (f64, f64),
    log_x: bool,
    log_y: bool,
}

impl Axes {
    fn px(&self, x: f64) -> f64 {
        let t = if self.log_x { x.log10() } else { x };
        self.plot.x0 + (t - self.x.0) / (self.x.1 - self.x.0) * (self.plot.x1 - self.plot.x0)
    }
    fn py(&self, y: f64) -> f64 {
        let t = if self.log_y { y.log10() } else { y };
        self.plot.y1 - (t - self.y.0) / (self.y.1 - self.y.0) * (self.plot.y1 - self.plot.y0)
    }
    /// Pixel polyline of a series, dropping points that fall within a pixel of the previous one.
    fn path(&self, pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
        for (k, &(x, y)) in pts.iter().enumerate() {
            let p = (self.px(x), self.py(y));
            let same = out
                .last()
                .is_some_and(|q| (q.0 - p.0).abs() < 1.0 && (q.1 - p.1).abs() < 1.0);
            if !same || k + 1 == pts.len() {
                out.push(p);
            }
        }
        out
    }
    fn ticks(&self, horizontal: bool) -> plot_style::Ticks {
        let (log, (a, b), len) = if horizontal {
            (self.log_x, self.x, self.plot.x1 - self.plot.x0)
        } else {
            (self.log_y, self.y, self.plot.y1 - self.plot.y0)
        };
        if log {
            plot_style::log_ticks(10f64.powf(a), 10f64.powf(b))
        } else {
            let max = if horizontal { len / 75.0 } else { len / 45.0 };
            plot_style::linear_ticks(a, b, (max as usize).clamp(3, 10))
        }
    }
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

fn ip(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

/// A polyline in pixels.
type Pixels = Vec<(f64, f64)>;

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn text(root: &Area, s: &str, font: f64, at: (f64, f64), h: HPos, v: VPos) -> Result<()> {
    let style = TextStyle::from(("sans-serif", font).into_font())
        .color(&BLACK)
        .pos(Pos::new(h, v));
    root.draw_text(s, &style, ip(at))?;
    Ok(())
}

fn polyline(root: &Area, pts: &[(f64, f64)], colour: RGBColor, width: u32) -> Result<()> {
    if pts.len() >= 2 {
        let p: Vec<(i32, i32)> = pts.iter().map(|&q| ip(q)).collect();
        root.draw(&PathElement::new(p, colour.stroke_width(width)))?;
    }
    Ok(())
}

fn styled_line(root: &Area, pts: &[(f64, f64)], st: &plot_style::SeriesStyle) -> Result<()> {
    if st.dash == plot_style::Dash::None {
        return Ok(());
    }
    let colour = rgb(plot_style::PALETTE[st.colour]);
    for piece in plot_style::dash_polyline(pts, st.dash.pattern()) {
        polyline(root, &piece, colour, 2)?;
    }
    Ok(())
}

/// Vertices of a marker shape of radius `r` around `c` (empty for the circle, plus and cross).
fn marker_vertices(m: plot_style::Marker, c: (f64, f64), r: f64) -> Vec<(f64, f64)> {
    use plot_style::Marker::*;
    let poly = |v: &[(f64, f64)]| v.iter().map(|&(x, y)| (c.0 + x * r, c.1 + y * r)).collect();
    match m {
        Square => poly(&[(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)]),
        TriangleUp => poly(&[(0.0, -1.2), (1.05, 0.75), (-1.05, 0.75)]),
        TriangleDown => poly(&[(0.0, 1.2), (1.05, -0.75), (-1.05, -0.75)]),
        Diamond => poly(&[(0.0, -1.25), (0.95, 0.0), (0.0, 1.25), (-0.95, 0.0)]),
        Star => (0..10)
            .map(|k| {
                let a = std::f64::consts::PI * (k as f64 / 5.0 - 0.5);
                let rr = if k % 2 == 0 { 1.35 * r } else { 0.58 * r };
                (c.0 + rr * a.cos(), c.1 + rr * a.sin())
            })
            .collect(),
        Circle | Plus | Cross => Vec::new(),
    }
}

/// One marker: filled in the series colour (measured) or white with a coloured outline (reference).
fn marker(root: &Area, st: &plot_style::SeriesStyle, c: (f64, f64), r: f64) -> Result<()> {
    use plot_style::Marker::*;
    let colour = rgb(plot_style::PALETTE[st.colour]);
    let edge = rgb(plot_style::edge_colour(st.colour));
    let fill = if st.filled { colour } else { WHITE };
    let outline = if st.filled { 1 } else { 2 };
    match st.marker {
        Plus | Cross => {
            let a = 1.2 * r;
            let (d1, d2) = if st.marker == Plus {
                ((a, 0.0), (0.0, a))
            } else {
                ((0.75 * a, 0.75 * a), (0.75 * a, -0.75 * a))
            };
            for d in [d1, d2] {
                polyline(
                    root,
                    &[(c.0 - d.0, c.1 - d.1), (c.0 + d.0, c.1 + d.1)],
                    edge,
                    if st.filled { 3 } else { 1 },
                )?;
            }
        }
        Circle => {
            let rr = r.round() as u32;
            root.draw(&plotters::element::Circle::new(ip(c), rr, fill.filled()))?;
            root.draw(&plotters::element::Circle::new(
                ip(c),
                rr,
                edge.stroke_width(outline),
            ))?;
        }
        _ => {
            let v = marker_vertices(st.marker, c, r);
            let p: Vec<(i32, i32)> = v.iter().map(|&q| ip(q)).collect();
            root.draw(&Polygon::new(p, fill.filled()))?;
            let mut closed = v.clone();
            closed.push(v[0]);
            polyline(root, &closed, edge, outline)?;
        }
    }
    Ok(())
}

/// Where a series' markers go: on each point of a scatter or sparse measured series, else at a few places
/// along the curve (shifted per style slot so that overlapping curves do not hide each other's markers).
fn marker_places(s: &Series, path: &[(f64, f64)], n_points: usize, slot: usize) -> Vec<(f64, f64)> {
    if !s.joined || (s.markers && n_points <= MARK_EACH_MAX) {
        path.to_vec()
    } else {
        // Golden-ratio steps spread the phases of successive slots over (0, 1).
        let phase = (0.5 + 0.381_966 * slot as f64).fract().max(0.08);
        plot_style::along(path, MARKS_ALONG, phase)
    }
}

fn draw_panel(
    root: &Area,
    fig: &Figure,
    styles: &[plot_style::SeriesStyle],
    lay: &Layout,
    panel: &PanelLayout,
    axes: &Axes,
) -> Result<()> {
    let p = panel.plot;
    let grid = RGBColor(0xE4, 0xE4, 0xE4);
    let (xt, yt) = (axes.ticks(true), axes.ticks(false));
    // Light grid at the labelled ticks.
    for &v in &xt.major {
        let x = axes.px(v);
        polyline(root, &[(x, p.y0), (x, p.y1)], grid, 1)?;
    }
    for &v in &yt.major {
        let y = axes.py(v);
        polyline(root, &[(p.x0, y), (p.x1, y)], grid, 1)?;
    }
    // Small multiples: the other panels' measured series in light grey, behind.
    if lay.context {
        for (i, s) in fig.series.iter().enumerate() {
            if panel.series.contains(&i) || plot_style::is_reference(s) || !s.joined {
                continue;
            }
            polyline(root, &axes.path(&plottable(fig, s)), GREY_CONTEXT, 1)?;
        }
    }
    // Reference series under measured ones; all lines first, then the markers on top.
    let mut order: Vec<usize> = panel.series.clone();
    order.sort_by_key(|&i| !plot_style::is_reference(&fig.series[i]));
    let paths: Vec<(usize, Pixels, usize)> = order
        .iter()
        .map(|&i| {
            let pts = plottable(fig, &fig.series[i]);
            (i, axes.path(&pts), pts.len())
        })
        .collect();
    for (i, path, _) in &paths {
        styled_line(root, path, &styles[*i])?;
    }
    for (i, path, n) in &paths {
        let s = &fig.series[*i];
        let r = if !s.joined && *n > 150 {
            0.6 * MARKER_R
        } else {
            MARKER_R
        };
        for c in marker_places(s, path, *n, styles[*i].slot) {
            marker(root, &styles[*i], c, r)?;
        }
    }
    // Frame, outward ticks (labelled and minor), tick labels, axis labels.
    polyline(
        root,
        &[
            (p.x0, p.y0),
            (p.x1, p.y0),
            (p.x1, p.y1),
            (p.x0, p.y1),
            (p.x0, p.y0),
        ],
        BLACK,
        1,
    )?;
    for (&v, l) in xt.major.iter().zip(&xt.labels) {
        let x = axes.px(v);
        polyline(root, &[(x, p.y1), (x, p.y1 + 6.0)], BLACK, 1)?;
        text(root, l, TICK_FONT, (x, p.y1 + 9.0), HPos::Center, VPos::Top)?;
    }
    for &v in &xt.minor {
        let x = axes.px(v);
        polyline(root, &[(x, p.y1), (x, p.y1 + 3.0)], BLACK, 1)?;
    }
    for (&v, l) in yt.major.iter().zip(&yt.labels) {
        let y = axes.py(v);
        polyline(root, &[(p.x0 - 6.0, y), (p.x0, y)], BLACK, 1)?;
        text(
            root,
            l,
            TICK_FONT,
            (p.x0 - 9.0, y),
            HPos::Right,
            VPos::Center,
        )?;
    }
    for &v in &yt.minor {
        let y = axes.py(v);
        polyline(root, &[(p.x0 - 3.0, y), (p.x0, y)], BLACK, 1)?;
    }
    text(
        root,
        &fig.x_label,
        LABEL_FONT,
        (0.5 * (p.x0 + p.x1), p.y1 + 32.0),
        HPos::Center,
        VPos::Top,
    )?;
    let ylab = TextStyle::from(
        ("sans-serif", LABEL_FONT)
            .into_font()
            .transform(FontTransform::Rotate270),
    )
    .color(&BLACK)
    .pos(Pos::new(HPos::Center, VPos::Top));
    let ylines = plot_style::wrap(&fig.y_label, chars_fitting(p.y1 - p.y0, LABEL_FONT));
    for (k, l) in ylines.iter().enumerate() {
        let x = p.x0 - 86.0 + 17.0 * k as f64;
        root.draw_text(l, &ylab, ip((x, 0.5 * (p.y0 + p.y1))))?;
    }
    // Legend, outside the plotting area: a line sample with the series' dash and marker, then its name.
    let (entries, _) = legend_lines(
        fig,
        &panel.series,
        panel.legend.x1 - panel.legend.x0,
        lay.context,
    );
    let lx = panel.legend.x0;
    let mut y = panel.legend.y0 + 4.0;
    for (k, lines) in entries.iter().enumerate() {
        let yc = y + 0.5 * LEGEND_LINE;
        if let Some(&i) = panel.series.get(k) {
            let st = &styles[i];
            styled_line(root, &[(lx, yc), (lx + SAMPLE_W, yc)], st)?;
            marker(root, st, (lx + 0.5 * SAMPLE_W, yc), MARKER_R)?;
        } else {
            polyline(root, &[(lx, yc), (lx + SAMPLE_W, yc)], GREY_CONTEXT, 1)?;
        }
        for (j, l) in lines.iter().enumerate() {
            text(
                root,
                l,
                LEGEND_FONT,
                (lx + SAMPLE_W + 8.0, yc + j as f64 * LEGEND_LINE),
                HPos::Left,
                VPos::Center,
            )?;
        }
        y += lines.len() as f64 * LEGEND_LINE + LEGEND_GAP;
    }
    Ok(())
}

/// Render a figure to SVG text (plotters' SVG backend: no system library, byte-stable) in the crate's plot
/// style ([`plot_style`]): Okabe–Ito colours with a marker and a dash per series, legends outside the
/// plotting area, log axes labelled at decades, small multiples when one panel would hold too many series.
pub fn render_svg(fig: &Figure) -> Result<String> {
    let all: Vec<(f64, f64)> = fig.series.iter().flat_map(|s| plottable(fig, s)).collect();
    if all.is_empty() {
        bail!("figure {} has no finite points to plot", fig.name);
    }
    let x = axis_range(all.iter().map(|p| p.0), fig.log_x);
    let y = axis_range(all.iter().map(|p| p.1), fig.log_y);
    let styles = plot_style::assign_styles(&fig.series);
    let lay = layout(fig);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (lay.width, lay.height)).into_drawing_area();
        root.fill(&WHITE)?;
        for (k, l) in lay.title.iter().enumerate() {
            text(
                &root,
                l,
                TITLE_FONT,
                (0.5 * lay.width as f64, 12.0 + 26.0 * k as f64),
                HPos::Center,
                VPos::Top,
            )?;
        }
        for panel in &lay.panels {
            let axes = Axes {
                plot: panel.plot,
                x,
                y,
                log_x: fig.log_x,
                log_y: fig.log_y,
            };
            draw_panel(&root, fig, &styles, &lay, panel, &axes)?;
        }
        root.present()?;
    }
    Ok(buf)
}

/// Write `contents` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// One claim's outcome, ready to be written.
pub struct Outcome {
    pub claim: Claim,
    pub evidence: Evidence,
    pub seconds: f64,
}

/// The file stem of a claim's `index`-th table or figure: `<id>` for the first, then `<id>-<name>`
/// (`<id>-<index>` when unnamed), so no two outputs of a claim share a file.
pub fn file_stem(id: &str, name: &str, index: usize) -> String {
    match (index, name.is_empty()) {
        (0, _) => id.to_string(),
        (i, true) => format!("{id}-{i}"),
        (_, false) => format!("{id}-{name}"),
    }
}

/// Render every file of an outcome in memory (so nothing is written if anything fails).
pub fn render_outcome(o: &Outcome) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let dir = PathBuf::from(o.claim.family);
    let mut files = Vec::new();
    for (i, t) in o.evidence.tables.iter().enumerate() {
        files.push((
            dir.join(format!("{}.csv", file_stem(o.claim.id, &t.name, i))),
            t.to_csv()?.into_bytes(),
        ));
    }
    for (i, f) in o.evidence.figures.iter().enumerate() {
        let svg =
            render_svg(f).with_context(|| format!("plotting {} of {}", f.name, o.claim.id))?;
        files.push((
            dir.join(format!("{}.svg", file_stem(o.claim.id, &f.name, i))),
            svg.into_bytes(),
        ));
    }
    Ok(files)
}

/// A headline number, or an empty cell where there is none (a SKIPPED claim measures nothing).
fn number_or_blank(v: f64) -> Value {
    if v.is_nan() {
        Value::Text(String::new())
    } else {
        Value::Num(v)
    }
}

/// The summary table: one row per claim.
pub fn summary_table(outcomes: &[Outcome]) -> Table {
    let mut t = Table::new(
        "summary",
        &[
            "id",
            "family",
            "source",
            "verdict",
            "measured",
            "expected",
            "tolerance",
            "detail",
            "seconds",
        ],
    );
    for o in outcomes {
        let e = &o.evidence;
        t.push(vec![
            o.claim.id.into(),
            o.claim.family.into(),
            o.claim.source.into(),
            e.verdict.name().into(),
            number_or_blank(e.measured),
            number_or_blank(e.expected),
            number_or_blank(e.tolerance),
            e.detail.clone().into(),
            ((o.seconds * 1000.0).round() / 1000.0).into(),
        ]);
    }
    t
}

/// `REPORT.md`: the claims table with verdicts and links, and the command that reproduces it.
pub fn report_markdown(
    outcomes: &[Outcome],
    command: &str,
    files: &[(PathBuf, Vec<u8>)],
) -> String {
    let mut s = String::new();
    let count = |v: Verdict| outcomes.iter().filter(|o| o.evidence.verdict == v).count();
    let _ = writeln!(s, "# diffusion-claims — report\n");
    let _ = writeln!(s, "Reproduce with:\n\n```\n{command}\n```\n");
    let skipped = match count(Verdict::Skipped) {
        0 => String::new(),
        n => format!(", {n} SKIPPED (input absent; see detail)"),
    };
    let _ = writeln!(
        s,
        "{} claims: {} PASS, {} REFUTED-as-stated, {} FAIL{skipped}. `measured`/`expected`/`tolerance` are each claim's headline number; `detail` says what it is.\n",
        outcomes.len(),
        count(Verdict::Pass),
        count(Verdict::Refuted),
        count(Verdict::Fail),
    );
    let _ = writeln!(
        s,
        "| id | family | verdict | measured | expected | tolerance | detail | evidence |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        let e = &o.evidence;
        let links: Vec<String> = files
            .iter()
            .map(|(p, _)| p.to_string_lossy().replace('\\', "/"))
            .filter(|p| {
                let base = p.rsplit('/').next().unwrap_or(p);
                p.starts_with(&format!("{}/", o.claim.family))
                    && (base.starts_with(&format!("{}.", o.claim.id))
                        || base.starts_with(&format!("{}-", o.claim.id)))
            })
            .map(|p| format!("[{}]({p})", p.rsplit('/').next().unwrap_or(&p)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | **{}** | {:.6e} | {:.6e} | {:.3e} | {} | {} |",
            o.claim.id,
            o.claim.family,
            e.verdict.name(),
            e.measured,
            e.expected,
            e.tolerance,
            e.detail.replace('|', "\\|"),
            links.join(" ")
        );
    }
    let _ = writeln!(s, "\n## Statements\n");
    for o in outcomes {
        let _ = writeln!(
            s,
            "- **{}** ({}): {}",
            o.claim.id, o.claim.source, o.claim.statement
        );
    }
    s
}

/// Write every outcome, `summary.csv` and `REPORT.md` under `out`. Everything is rendered in memory
/// first; each file is then written atomically.
pub fn write_all(out: &Path, outcomes: &[Outcome], command: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for o in outcomes {
        files.extend(render_outcome(o)?);
    }
    let summary = summary_table(outcomes).to_csv()?;
    let report = report_markdown(outcomes, command, &files);
    let mut written = Vec::new();
    for (rel, bytes) in files.iter() {
        let p = out.join(rel);
        write_atomic(&p, bytes)?;
        written.push(p);
    }
    write_atomic(&out.join("summary.csv"), summary.as_bytes())?;
    write_atomic(&out.join("REPORT.md"), report.as_bytes())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Series;
    use std::collections::BTreeSet;

    fn many(n: usize) -> Figure {
        let mut fig = Figure::new("many", "seventeen samplers", "NFE", "W2").loglog();
        for i in 0..n {
            let pts = (0..6)
                .map(|k| {
                    let nfe = 5.0 * 2f64.powi(k);
                    (nfe, (1.0 + i as f64) * nfe.powf(-1.0 - (i % 3) as f64))
                })
                .collect();
            fig = fig.with(Series::line(format!("sampler-{i}"), pts));
        }
        fig
    }

    /// `x` attribute of the `<text>` element that writes `label`.
    fn text_x(svg: &str, label: &str) -> f64 {
        let end = svg
            .find(&format!(">\n{label}\n</text>"))
            .unwrap_or_else(|| panic!("{label} not in the SVG"));
        let open = svg[..end].rfind("<text").unwrap();
        let attrs = &svg[open..end];
        let x = attrs.find(" x=\"").unwrap() + 4;
        attrs[x..x + attrs[x..].find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn seventeen_series_stay_distinct_in_colour_and_in_greyscale() {
        let fig = many(17);
        let st = plot_style::assign_styles(&fig.series);
        let triples: BTreeSet<_> = st.iter().map(|s| (s.colour, s.marker, s.dash)).collect();
        assert_eq!(triples.len(), 17);
        let grey: BTreeSet<_> = st.iter().map(|s| (s.marker, s.dash)).collect();
        assert_eq!(grey.len(), 17, "(marker, dash) must identify each series");
        // Small multiples: ≤ 6 series a panel, every series in exactly one.
        let lay = layout(&fig);
        assert!(lay.panels.len() >= 3);
        assert!(lay.panels.iter().all(|p| p.series.len() <= 6));
        let mut seen: Vec<usize> = lay.panels.iter().flat_map(|p| p.series.clone()).collect();
        seen.sort();
        assert_eq!(seen, (0..17).collect::<Vec<_>>());
        // Every colour of the palette is used, and the SVG is deterministic.
        let svg = render_svg(&fig).unwrap();
        for &(r, g, b) in &plot_style::PALETTE {
            assert!(
                svg.contains(&format!("#{r:02X}{g:02X}{b:02X}")),
                "{r},{g},{b}"
            );
        }
        assert_eq!(svg, render_svg(&fig).unwrap());
    }

    #[test]
    fn log_axis_labels_only_decades() {
        let t = plot_style::log_ticks(5.0, 1000.0);
        assert_eq!(t.major, vec![10.0, 100.0, 1000.0]);
        assert!(t.minor.iter().all(|v| !t.major.contains(v)));
        assert_eq!(t.minor.len(), 5 + 8 + 8); // 5…9, 20…90, 200…900
    }

    #[test]
    fn legends_sit_outside_the_plotting_area() {
        let mut fig = many(4);
        fig = fig.with(Series::reference(
            "slope −1",
            vec![(5.0, 1.0), (160.0, 1.0 / 32.0)],
        ));
        let lay = layout(&fig);
        assert_eq!(lay.panels.len(), 1);
        let p = &lay.panels[0];
        assert!(p.legend.x0 > p.plot.x1);
        let svg = render_svg(&fig).unwrap();
        for name in ["sampler-0", "sampler-3", "slope −1"] {
            assert!(text_x(&svg, name) > p.plot.x1, "{name}");
        }
        // Small multiples: legends under their panels.
        let lay = layout(&many(12));
        for p in &lay.panels {
            assert!(p.legend.y0 > p.plot.y1);
        }
    }
}
