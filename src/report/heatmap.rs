//! Heatmaps of pathway matrices ([`PathwayMatrix`]): one per [`Measure`] (synapses,
//! connections, connection probability, synapses per connection), to PNG bytes and to an SVG
//! string, with the plotters backends and embedded font of [`super::plot`].
//!
//! Rows are the source values and columns the target values, in the stored order (the
//! attribute's enumeration order). Colours follow a log scale (viridis) from the smallest to the
//! largest positive value, shown by a colour bar; a zero is drawn in a grey of its own ("none"),
//! and a cell whose measure is undefined (a probability without a possible pair, synapses per
//! connection without a connection) is left blank. The layout is computed here from the label
//! widths (measured with the embedded font, so the same for both backends): the image grows
//! beyond the size asked when the matrix needs it (up to [`super::MAX_SIZE`]), column labels are
//! rotated, long labels are cut with an ellipsis, and when cells are too small for every label
//! only every k-th one is written. Nothing depends on time or hashing: the same matrix gives the
//! same bytes.

use ab_glyph::{Font, PxScale};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::html::group_digits;
use super::plot::{format_tick, log_ticks, register_font};
use super::text::CrispText;
use crate::census::derived::PathwayMatrix;
use crate::error::{Error, Location, Result};

/// The font family every text of the heatmaps uses (as [`super::plot`]'s).
const FAMILY: &str = "sans-serif";

/// Labels longer than this many characters are cut with an ellipsis.
pub const MAX_LABEL_CHARS: usize = 24;

/// Most cells drawn (400 × 400): beyond, a cell would be under a pixel in the largest image and
/// the SVG tens of megabytes, so the heatmap states the size instead (the numbers stay in the
/// census file and `summary.json`).
pub const MAX_CELLS: usize = 160_000;

/// The grey of a zero ("none"): outside viridis, so it cannot be read as a small value.
const NONE_COLOUR: RGBColor = RGBColor(214, 214, 214);

/// What a heatmap shows of a pathway matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Synapses (edge rows) per cell.
    Synapses,
    /// Connections per cell.
    Connections,
    /// Connections ÷ possible connections (`pair_count`); blank where `pair_count` is 0.
    Probability,
    /// Synapses ÷ connections; blank where there is no connection.
    SynapsesPerConnection,
}

impl Measure {
    /// Every measure, in the order of the report.
    pub const ALL: [Measure; 4] = [
        Measure::Synapses,
        Measure::Connections,
        Measure::Probability,
        Measure::SynapsesPerConnection,
    ];

    /// The file name part: `pathways_<attr>_<stem>.{png,svg}`.
    pub fn stem(self) -> &'static str {
        match self {
            Measure::Synapses => "synapses",
            Measure::Connections => "connections",
            Measure::Probability => "probability",
            Measure::SynapsesPerConnection => "synapses_per_connection",
        }
    }

    /// In words (titles and captions).
    pub fn describe(self) -> &'static str {
        match self {
            Measure::Synapses => "synapses",
            Measure::Connections => "connections",
            Measure::Probability => "connection probability",
            Measure::SynapsesPerConnection => "mean synapses per connection",
        }
    }

    /// Whether the values are counts (whole-number colour bar ticks).
    fn whole(self) -> bool {
        matches!(self, Measure::Synapses | Measure::Connections)
    }
}

/// What to draw: the cells and their words.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapSpec {
    /// Caption above the matrix.
    pub title: String,
    /// Line below the caption (sizes, totals, what blank means).
    pub subtitle: String,
    /// Title of the rows (`source <attr>`).
    pub row_title: String,
    /// Title of the columns (`target <attr>`).
    pub col_title: String,
    /// Row labels (already cut to [`MAX_LABEL_CHARS`]).
    pub row_labels: Vec<String>,
    /// Column labels (as the row labels).
    pub col_labels: Vec<String>,
    /// `rows × cols` values, row-major; `None`: undefined (blank).
    pub values: Vec<Option<f64>>,
    /// Title of the colour bar.
    pub scale_title: String,
    /// What the values are.
    pub measure: Measure,
    /// What a blank cell means, for the legend; empty when no cell is blank.
    pub blank_means: String,
}

impl HeatmapSpec {
    /// The heatmap of `measure` of `m` (of population `population`, read from `at`).
    ///
    /// # Errors
    /// [`Error::InvalidData`] when the matrix's shapes disagree (a matrix not `S × T`).
    pub fn of(
        m: &PathwayMatrix,
        measure: Measure,
        population: &str,
        at: &Location,
    ) -> Result<Self> {
        let (rows, cols) = (m.source_values.len(), m.target_values.len());
        let cells = rows.checked_mul(cols);
        for (name, len) in [
            ("synapses", m.synapses.len()),
            ("connections", m.connections.len()),
            ("pair_count", m.pair_count.len()),
        ] {
            if Some(len) != cells {
                return Err(Error::invalid(
                    at.dataset(&format!("pathways/{}/{name}", m.attribute)),
                    format!(
                        "{len} cells, but there are {rows} source values and {cols} target values"
                    ),
                ));
            }
        }
        let values: Vec<Option<f64>> = (0..rows * cols)
            .map(|k| {
                let (syn, conn, pairs) = (m.synapses[k], m.connections[k], m.pair_count[k]);
                match measure {
                    Measure::Synapses => Some(syn as f64),
                    Measure::Connections => Some(conn as f64),
                    Measure::Probability => (pairs > 0).then(|| conn as f64 / pairs as f64),
                    Measure::SynapsesPerConnection => (conn > 0).then(|| syn as f64 / conn as f64),
                }
            })
            .collect();
        let sum = |v: &[u64]| -> u128 { v.iter().map(|&x| u128::from(x)).sum() };
        let (syn, conn, pairs) = (sum(&m.synapses), sum(&m.connections), sum(&m.pair_count));
        let big = |v: u128| u64::try_from(v).map_or_else(|_| v.to_string(), group_digits);
        let total = match measure {
            Measure::Synapses => format!("{} synapses", big(syn)),
            Measure::Connections => format!("{} connections", big(conn)),
            Measure::Probability => {
                if pairs == 0 {
                    "no possible pair".to_string()
                } else {
                    format!(
                        "overall {} ({} connections of {} possible)",
                        fmt_value(conn as f64 / pairs as f64, measure),
                        big(conn),
                        big(pairs)
                    )
                }
            }
            Measure::SynapsesPerConnection => {
                if conn == 0 {
                    "no connection".to_string()
                } else {
                    format!("overall mean {:.2}", syn as f64 / conn as f64)
                }
            }
        };
        let blank_means = if values.iter().any(Option::is_none) {
            match measure {
                Measure::Probability => "no possible pair",
                Measure::SynapsesPerConnection => "no connection",
                _ => "",
            }
        } else {
            ""
        };
        let attr = short(&m.attribute, 40);
        Ok(HeatmapSpec {
            title: format!(
                "{}: {} by {attr}",
                short(population, 40),
                measure.describe()
            ),
            subtitle: format!(
                "{} source × {} target values · {total}",
                group_digits(rows as u64),
                group_digits(cols as u64)
            ),
            row_title: format!("source {attr}"),
            col_title: format!("target {attr}"),
            row_labels: (0..rows)
                .map(|i| short(&m.source_values.label(i), MAX_LABEL_CHARS))
                .collect(),
            col_labels: (0..cols)
                .map(|j| short(&m.target_values.label(j), MAX_LABEL_CHARS))
                .collect(),
            values,
            scale_title: format!("{} (log scale)", measure.describe()),
            measure,
            blank_means: blank_means.to_string(),
        })
    }

    /// Whether the matrix is drawn: it has cells, and at most [`MAX_CELLS`].
    fn drawable(&self) -> bool {
        let cells = self.row_labels.len().saturating_mul(self.col_labels.len());
        cells > 0 && cells <= MAX_CELLS
    }

    /// `(smallest, largest)` positive value, or `None` when there is none.
    fn positive_range(&self) -> Option<(f64, f64)> {
        let mut range: Option<(f64, f64)> = None;
        for v in self.values.iter().flatten().copied() {
            if v > 0.0 && v.is_finite() {
                range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
            }
        }
        range
    }
}

/// `s` cut to `max` characters with an ellipsis.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A cell's value as text: counts with k/M/G, a probability with three significant digits, a
/// mean with one decimal.
fn fmt_value(v: f64, measure: Measure) -> String {
    match measure {
        Measure::Synapses | Measure::Connections => format_tick(v),
        Measure::Probability => {
            if v == 0.0 || v >= 0.1 {
                format!("{v:.2}")
            } else if v >= 1e-4 {
                let decimals = (-v.log10()).ceil() as usize + 2;
                format!("{v:.decimals$}")
            } else {
                format!("{v:.1e}")
            }
        }
        Measure::SynapsesPerConnection => {
            if v >= 1e4 {
                format_tick(v)
            } else {
                format!("{v:.1}")
            }
        }
    }
}

/// Width in pixels of `text` at font size `size`, as the backends lay it out.
fn text_width(text: &str, size: f64) -> f64 {
    let Some(font) = super::text::font() else {
        // Without the font nothing is drawn anyway (register_font fails first): an estimate.
        return 0.6 * size * text.chars().count() as f64;
    };
    let scaled = font.as_scaled(PxScale::from(size as f32));
    f64::from(super::text::advance_width(&scaled, text))
}

/// Height of a line of text at font size `size` (plotters' box: `size / 1.24`).
fn text_height(size: f64) -> f64 {
    size / 1.24
}

/// Where everything goes: computed once from the spec and the size asked, the same for PNG and
/// SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    scale: f64,
    label_font: f64,
    /// Left edge and top edge of the matrix.
    x0: f64,
    y0: f64,
    /// Side of a cell.
    cell: f64,
    /// Every `stride`-th label is written (1: all).
    stride: usize,
    /// Width of the widest row label, and of the widest column label (drawn upright: its
    /// height).
    row_w: f64,
    col_h: f64,
    /// Left edge of the colour bar column.
    bar_x: f64,
}

/// Font sizes scale with the image as the histograms' do.
fn scale(height: u32) -> f64 {
    (f64::from(height) / 600.0).clamp(0.6, 3.0)
}

impl Layout {
    /// The layout of `spec` in an image of at least `width × height` (larger when the matrix
    /// needs room for its labels, at most [`super::MAX_SIZE`] a side).
    pub fn of(spec: &HeatmapSpec, width: u32, height: u32) -> Layout {
        let s = scale(height);
        // A matrix not drawn is a message in an image of the size asked.
        let (rows, cols) = if spec.drawable() {
            (spec.row_labels.len(), spec.col_labels.len())
        } else {
            (0, 0)
        };
        let n = rows.max(cols).max(1) as f64;
        // A first cell size: large for a few values, at least 14 px (a readable label) for many.
        let cell0 = (560.0 * s / n).clamp(14.0, 90.0 * s);
        let label_font = (14.0 * s).min(cell0 * 0.9).max(9.0);
        let widest = |labels: &[String]| {
            labels
                .iter()
                .take(if spec.drawable() { usize::MAX } else { 0 })
                .map(|l| text_width(l, label_font))
                .fold(0.0f64, f64::max)
        };
        let (row_w, col_h) = (widest(&spec.row_labels), widest(&spec.col_labels));
        let (title_font, desc_font, tick_font) = (22.0 * s, 16.0 * s, 13.0 * s);
        let margin = 14.0 * s;
        let top = margin + text_height(title_font) * 1.5 + text_height(tick_font) * 1.6 + 10.0 * s;
        let left = margin + text_height(desc_font) + 12.0 * s + row_w + 6.0 * s;
        let bottom = 6.0 * s + col_h + 12.0 * s + text_height(desc_font) + margin;
        let tick_w = ["0.001", "100k", "1e-5"]
            .iter()
            .map(|t| text_width(t, tick_font))
            .fold(0.0f64, f64::max);
        let legend_w = 22.0 * s
            + 6.0 * s
            + ["none (0)", "blank: no possible pair"]
                .iter()
                .map(|t| text_width(t, tick_font))
                .fold(0.0f64, f64::max);
        let bar_col =
            (22.0 * s + 6.0 * s + tick_w + 10.0 * s + text_height(desc_font)).max(legend_w);
        let right = 24.0 * s + bar_col + margin;
        let max = f64::from(super::MAX_SIZE);
        let w = (left + cols as f64 * cell0 + right)
            .max(f64::from(width))
            .min(max);
        let h = (top + rows as f64 * cell0 + bottom)
            .max(f64::from(height))
            .min(max);
        // The room left decides the final cell size (square cells, at most 120 px at scale 1).
        let cell = ((w - left - right) / cols.max(1) as f64)
            .min((h - top - bottom) / rows.max(1) as f64)
            .min(120.0 * s)
            .max(1.0);
        // Floored (whole pixels), past the rounding of the sums above (13.9999… is 14).
        let cell = (cell + 1e-6).floor();
        let stride = ((text_height(label_font) * 1.1) / cell).ceil().max(1.0) as usize;
        let x0 = (left + ((w - left - right) - cols as f64 * cell).max(0.0) / 2.0).floor();
        Layout {
            width: w as u32,
            height: h as u32,
            scale: s,
            label_font,
            x0,
            y0: top.floor(),
            cell,
            stride,
            row_w,
            col_h,
            bar_x: x0 + cols as f64 * cell + 24.0 * s,
        }
    }

    /// Pixel edge `k` (0..=n) of the cells along an axis starting at `origin`.
    fn edge(&self, origin: f64, k: usize) -> i32 {
        (origin + k as f64 * self.cell).round() as i32
    }
}

/// Renders `spec` as an RGB PNG; its size is [`Layout::of`]'s.
///
/// # Errors
/// Drawing or encoding failures (as [`Error::Io`] naming `name`).
pub fn render_png(spec: &HeatmapSpec, width: u32, height: u32, name: &str) -> Result<Vec<u8>> {
    register_font()?;
    let layout = Layout::of(spec, width, height);
    let (w, h) = (layout.width, layout.height);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = CrispText(BitMapBackend::with_buffer(&mut rgb, (w, h))).into_drawing_area();
        draw(&root, spec, &layout).map_err(|e| draw_error(name, &e))?;
        root.present().map_err(|e| draw_error(name, &e))?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().map_err(|e| draw_error(name, &e))?;
    writer
        .write_image_data(&rgb)
        .map_err(|e| draw_error(name, &e))?;
    writer.finish().map_err(|e| draw_error(name, &e))?;
    Ok(out)
}

/// Renders `spec` as an SVG document; its size is [`Layout::of`]'s.
///
/// # Errors
/// Drawing failures (as [`Error::Io`] naming `name`).
pub fn render_svg(spec: &HeatmapSpec, width: u32, height: u32, name: &str) -> Result<String> {
    register_font()?;
    let layout = Layout::of(spec, width, height);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (layout.width, layout.height)).into_drawing_area();
        draw(&root, spec, &layout).map_err(|e| draw_error(name, &e))?;
        root.present().map_err(|e| draw_error(name, &e))?;
    }
    Ok(svg)
}

fn draw_error(name: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Io {
        path: name.into(),
        source: std::io::Error::other(format!("cannot draw the heatmap: {e}")),
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Viridis, sampled at nine points (interpolated linearly between them): perceptually uniform
/// and readable in grey, and none of its colours is the grey of a zero.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// The colour at `t` in `[0, 1]`.
fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + f * (f64::from(q) - f64::from(p))).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The log colour scale: `[lo, hi]` (widened by a decade below when they are equal).
#[derive(Debug, Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
}

impl Scale {
    fn of(spec: &HeatmapSpec) -> Option<Scale> {
        let (lo, hi) = spec.positive_range()?;
        let lo = if hi > lo { lo } else { hi / 10.0 };
        Some(Scale { lo, hi })
    }

    /// Position of `v` (> 0) on the scale, 0 to 1.
    fn t(self, v: f64) -> f64 {
        (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &HeatmapSpec,
    l: &Layout,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let s = l.scale;
    let dark = BLACK.mix(0.85);
    let grey = BLACK.mix(0.65);
    let margin = 14.0 * s;
    let font = |size: f64| TextStyle::from((FAMILY, size).into_font());
    let title_font = 22.0 * s;
    root.draw(&Text::new(
        spec.title.clone(),
        ((l.width / 2) as i32, margin as i32),
        font(title_font)
            .pos(Pos::new(HPos::Center, VPos::Top))
            .color(&dark),
    ))?;
    root.draw(&Text::new(
        // Cells too small for every label: say that only some are written.
        if l.stride > 1 {
            format!("{} · every {}th label shown", spec.subtitle, l.stride)
        } else {
            spec.subtitle.clone()
        },
        (
            (l.width / 2) as i32,
            (margin + text_height(title_font) * 1.5) as i32,
        ),
        font(13.0 * s)
            .pos(Pos::new(HPos::Center, VPos::Top))
            .color(&grey),
    ))?;
    let (rows, cols) = (spec.row_labels.len(), spec.col_labels.len());
    if !spec.drawable() {
        let message = if rows == 0 || cols == 0 {
            "no values: the matrix is empty".to_string()
        } else {
            format!(
                "{} × {} values: too many cells to draw (at most {})",
                group_digits(rows as u64),
                group_digits(cols as u64),
                group_digits(MAX_CELLS as u64)
            )
        };
        root.draw(&Text::new(
            message,
            ((l.width / 2) as i32, (l.height / 2) as i32),
            font(20.0 * s)
                .pos(Pos::new(HPos::Center, VPos::Center))
                .color(&grey),
        ))?;
        return Ok(());
    }
    let scale = Scale::of(spec);
    // Cells: a 1-pixel white gap between them when they are large enough to spare it.
    let gap = i32::from(l.cell >= 8.0);
    for i in 0..rows {
        let (ya, yb) = (l.edge(l.y0, i), l.edge(l.y0, i + 1));
        for j in 0..cols {
            let (xa, xb) = (l.edge(l.x0, j), l.edge(l.x0, j + 1));
            let Some(&Some(v)) = spec.values.get(i * cols + j) else {
                continue; // undefined: blank
            };
            let colour = match scale {
                Some(sc) if v > 0.0 => viridis(sc.t(v)),
                _ => NONE_COLOUR,
            };
            root.draw(&Rectangle::new(
                [(xa, ya), (xb - 1 - gap, yb - 1 - gap)],
                colour.filled(),
            ))?;
        }
    }
    // A frame around the matrix, so that blank cells at its edge still read as cells.
    let (x_end, y_end) = (l.edge(l.x0, cols), l.edge(l.y0, rows));
    root.draw(&Rectangle::new(
        [(l.x0 as i32 - 1, l.y0 as i32 - 1), (x_end, y_end)],
        BLACK.mix(0.3).stroke_width(1),
    ))?;
    cell_values(root, spec, l, scale)?;

    // Labels: rows right-aligned left of the matrix, columns rotated to read upwards.
    let label = font(l.label_font).color(&dark);
    let half = l.cell / 2.0;
    for (i, text) in spec.row_labels.iter().enumerate() {
        if i % l.stride == 0 {
            root.draw(&Text::new(
                text.clone(),
                (
                    (l.x0 - 6.0 * s) as i32,
                    (l.y0 + i as f64 * l.cell + half) as i32,
                ),
                label.pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
    }
    for (j, text) in spec.col_labels.iter().enumerate() {
        if j % l.stride == 0 {
            root.draw(&Text::new(
                text.clone(),
                (
                    (l.x0 + j as f64 * l.cell + half) as i32,
                    y_end + (6.0 * s) as i32,
                ),
                label
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
    }
    let desc_font = 16.0 * s;
    root.draw(&Text::new(
        spec.row_title.clone(),
        (
            (l.x0 - 18.0 * s - l.row_w - text_height(desc_font) / 2.0).max(margin) as i32,
            (l.y0 + rows as f64 * half) as i32,
        ),
        font(desc_font)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Center))
            .color(&dark),
    ))?;
    root.draw(&Text::new(
        spec.col_title.clone(),
        (
            (l.x0 + cols as f64 * half) as i32,
            y_end + (18.0 * s + l.col_h) as i32,
        ),
        font(desc_font)
            .pos(Pos::new(HPos::Center, VPos::Top))
            .color(&dark),
    ))?;
    colour_bar(root, spec, l, scale)
}

/// The value written in each cell, when cells are large enough for it.
fn cell_values<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &HeatmapSpec,
    l: &Layout,
    scale: Option<Scale>,
) -> DrawResult<DB> {
    let s = l.scale;
    let size = (12.0 * s).min(l.cell * 0.3);
    if l.cell < 34.0 * s || size < 9.0 {
        return Ok(());
    }
    let measure = spec.measure;
    let cols = spec.col_labels.len();
    for (k, v) in spec.values.iter().enumerate() {
        let Some(v) = *v else { continue };
        let text = fmt_value(v, measure);
        if text_width(&text, size) > l.cell * 0.9 {
            continue;
        }
        // Dark text on the light end of viridis and on the grey of zero, white on the dark end.
        let light = match scale {
            Some(sc) if v > 0.0 => sc.t(v) > 0.55,
            _ => true,
        };
        let colour = if light {
            BLACK.mix(0.85)
        } else {
            WHITE.mix(1.0)
        };
        let (i, j) = (k / cols, k % cols);
        root.draw(&Text::new(
            text,
            (
                (l.x0 + (j as f64 + 0.5) * l.cell) as i32,
                (l.y0 + (i as f64 + 0.5) * l.cell) as i32,
            ),
            TextStyle::from((FAMILY, size).into_font())
                .pos(Pos::new(HPos::Center, VPos::Center))
                .color(&colour),
        ))?;
    }
    Ok(())
}

/// The colour bar (log scale, ticks at powers of ten) and the legend of zero and blank cells.
fn colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &HeatmapSpec,
    l: &Layout,
    scale: Option<Scale>,
) -> DrawResult<DB> {
    let s = l.scale;
    let dark = BLACK.mix(0.85);
    let tick_font = 13.0 * s;
    let tick_style = TextStyle::from((FAMILY, tick_font).into_font()).color(&dark);
    let rows = spec.row_labels.len();
    let bar_w = (22.0 * s) as i32;
    let x = l.bar_x as i32;
    let top = l.y0 as i32;
    // At least 120 px at scale 1 even for a one-row matrix, so that the ticks fit.
    let len = (rows as f64 * l.cell)
        .max(160.0 * s)
        .min(f64::from(l.height) - l.y0 - 60.0 * s);
    let len = len.max(20.0) as i32;
    let mut legend_y = top;
    if let Some(sc) = scale {
        // One band per pixel row, the top being the largest value.
        for p in 0..len {
            let t = 1.0 - f64::from(p) / f64::from((len - 1).max(1));
            root.draw(&Rectangle::new(
                [(x, top + p), (x + bar_w, top + p + 1)],
                viridis(t).filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(x, top), (x + bar_w, top + len - 1)],
            BLACK.mix(0.3).stroke_width(1),
        ))?;
        let mut ticks = log_ticks(sc.lo, sc.hi, spec.measure.whole(), 0.0, 6.0);
        if ticks.len() < 2 {
            // Too narrow a range for powers of ten: label its ends.
            ticks = vec![sc.lo, sc.hi];
            if spec.measure.whole() && sc.lo.fract() != 0.0 {
                ticks.remove(0);
            }
        }
        for v in ticks {
            let y = top + ((1.0 - sc.t(v)) * f64::from(len - 1)).round() as i32;
            root.draw(&PathElement::new(
                vec![(x + bar_w, y), (x + bar_w + (4.0 * s) as i32, y)],
                dark,
            ))?;
            root.draw(&Text::new(
                format_tick(v),
                (x + bar_w + (6.0 * s) as i32, y),
                tick_style.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let tick_w = ["0.001", "100k", "1e-5"]
            .iter()
            .map(|t| text_width(t, tick_font))
            .fold(0.0f64, f64::max);
        root.draw(&Text::new(
            spec.scale_title.clone(),
            (
                x + bar_w + (10.0 * s + tick_w + text_height(16.0 * s) / 2.0) as i32,
                top + len / 2,
            ),
            TextStyle::from((FAMILY, 16.0 * s).into_font())
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Center))
                .color(&dark),
        ))?;
        legend_y = top + len + (16.0 * s) as i32;
    }
    let swatch = (16.0 * s) as i32;
    let step = swatch + (8.0 * s) as i32;
    let mut entries: Vec<(Option<RGBColor>, String)> = Vec::new();
    if spec.values.contains(&Some(0.0)) || scale.is_none() {
        entries.push((Some(NONE_COLOUR), "none (0)".to_string()));
    }
    if !spec.blank_means.is_empty() {
        entries.push((None, format!("blank: {}", spec.blank_means)));
    }
    for (k, (colour, text)) in entries.into_iter().enumerate() {
        let y = legend_y + step * k as i32;
        let corners = [(x, y), (x + swatch, y + swatch)];
        if let Some(c) = colour {
            root.draw(&Rectangle::new(corners, c.filled()))?;
        }
        root.draw(&Rectangle::new(corners, BLACK.mix(0.3).stroke_width(1)))?;
        root.draw(&Text::new(
            text,
            (x + swatch + (6.0 * s) as i32, y + swatch / 2),
            tick_style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::census::derived::PathwayValues;

    fn matrix(
        rows: usize,
        cols: usize,
        f: impl Fn(usize, usize) -> (u64, u64, u64),
    ) -> PathwayMatrix {
        let cells: Vec<(u64, u64, u64)> = (0..rows * cols).map(|k| f(k / cols, k % cols)).collect();
        PathwayMatrix {
            attribute: "mtype".into(),
            source_values: PathwayValues::Strings((0..rows).map(|i| format!("S{i}")).collect()),
            target_values: PathwayValues::Integers((0..cols as i64).map(|j| 10 * j).collect()),
            source_node_count: vec![5; rows],
            target_node_count: vec![5; cols],
            synapses: cells.iter().map(|c| c.0).collect(),
            connections: cells.iter().map(|c| c.1).collect(),
            pair_count: cells.iter().map(|c| c.2).collect(),
        }
    }

    fn at() -> Location {
        Location::file("memory.h5").population("pop")
    }

    /// Whether a `<text>` element of `svg` reads `text` (plotters puts it on a line of its own).
    fn svg_has_text(svg: &str, text: &str) -> bool {
        svg.contains(&format!(">\n{text}\n</text>")) || svg.contains(&format!(">{text}</text>"))
    }

    /// Renders every measure of `m` twice in both formats: the bytes are equal, the PNG is an
    /// image of the layout's size, the SVG names the labels given; returns the SVGs.
    fn render_all(m: &PathwayMatrix, labels: &[&str]) -> Vec<String> {
        let mut svgs = Vec::new();
        for measure in Measure::ALL {
            let spec = HeatmapSpec::of(m, measure, "pop", &at()).unwrap();
            let layout = Layout::of(&spec, 960, 600);
            assert!(layout.width >= 960 && layout.height >= 600, "{layout:?}");
            assert!(
                layout.width <= super::super::MAX_SIZE && layout.height <= super::super::MAX_SIZE
            );
            let png = render_png(&spec, 960, 600, "t").unwrap();
            assert_eq!(
                png,
                render_png(&spec, 960, 600, "t").unwrap(),
                "{measure:?}"
            );
            assert!(png.starts_with(b"\x89PNG"));
            let decoder = png::Decoder::new(std::io::Cursor::new(&png));
            let reader = decoder.read_info().unwrap();
            assert_eq!(
                (reader.info().width, reader.info().height),
                (layout.width, layout.height)
            );
            let svg = render_svg(&spec, 960, 600, "t").unwrap();
            if let Ok(d) = std::env::var("HEATMAP_DUMP") {
                let f = format!(
                    "{d}/{}_{}x{}",
                    measure.stem(),
                    spec.row_labels.len(),
                    spec.col_labels.len()
                );
                std::fs::write(format!("{f}.svg"), &svg).unwrap();
                std::fs::write(format!("{f}.png"), &png).unwrap();
            }
            assert_eq!(
                svg,
                render_svg(&spec, 960, 600, "t").unwrap(),
                "{measure:?}"
            );
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            for l in labels {
                assert!(svg_has_text(&svg, l), "{measure:?}: no label {l}");
            }
            assert!(svg_has_text(&svg, &format!("source {}", m.attribute)));
            assert!(svg_has_text(&svg, &format!("target {}", m.attribute)));
            svgs.push(svg);
        }
        svgs
    }

    #[test]
    fn one_by_one() {
        let m = matrix(1, 1, |_, _| (12, 3, 20));
        let svgs = render_all(&m, &["S0", "0"]);
        // The cell's value is written in it (a large cell).
        assert!(svg_has_text(&svgs[0], "12"), "{}", svgs[0]);
        assert!(svg_has_text(&svgs[2], "0.15"));
        assert!(svg_has_text(&svgs[3], "4.0"));
    }

    #[test]
    fn three_by_two_with_blanks_and_zeros() {
        let m = matrix(3, 2, |i, j| match (i, j) {
            (0, 0) => (0, 0, 0),
            (1, 1) => (0, 0, 25),
            _ => (7 * (i as u64 + 1) + j as u64, 2 + j as u64, 25),
        });
        let svgs = render_all(&m, &["S0", "S1", "S2", "0", "10"]);
        assert!(svgs[0].contains("none (0)"));
        assert!(svgs[2].contains("blank: no possible pair"));
        assert!(svgs[3].contains("blank: no connection"));
        let spec = HeatmapSpec::of(&m, Measure::Probability, "pop", &at()).unwrap();
        assert_eq!(spec.values[0], None);
        assert_eq!(spec.values[3], Some(0.0));
        assert_eq!(spec.values[1], Some(3.0 / 25.0));
    }

    #[test]
    fn sixty_values_with_long_labels_are_all_written_and_cut() {
        let mut m = matrix(60, 60, |i, j| ((i * j) as u64, ((i + j) % 7) as u64, 25));
        let long = |k: usize| format!("L{k}_a_very_long_morphological_type_name_indeed");
        m.source_values = PathwayValues::Strings((0..60).map(long).collect());
        m.target_values = PathwayValues::Strings((0..60).map(long).collect());
        let cut: Vec<String> = (0..60).map(|k| short(&long(k), MAX_LABEL_CHARS)).collect();
        assert!(cut[0].ends_with('…') && cut[0].chars().count() == MAX_LABEL_CHARS);
        let labels: Vec<&str> = cut.iter().map(String::as_str).collect();
        render_all(&m, &labels);
        let spec = HeatmapSpec::of(&m, Measure::Synapses, "pop", &at()).unwrap();
        let l = Layout::of(&spec, 960, 600);
        assert_eq!(l.stride, 1, "every label is written: {l:?}");
        assert!(l.label_font >= 9.0 && l.cell >= 14.0, "{l:?}");
    }

    #[test]
    fn an_all_zero_matrix_is_all_none() {
        let m = matrix(4, 3, |_, _| (0, 0, 9));
        let svgs = render_all(&m, &["S3", "20"]);
        assert!(svgs[0].contains("none (0)"));
        assert!(
            !svgs[0].contains("(log scale)"),
            "no colour bar without a positive value"
        );
    }

    #[test]
    fn huge_counts_draw() {
        let m = matrix(2, 2, |i, j| {
            if i == j {
                (u64::MAX, u64::MAX / 2, u64::MAX)
            } else {
                (1, 1, u64::MAX)
            }
        });
        render_all(&m, &["S1", "10"]);
    }

    #[test]
    fn empty_and_bad_shapes() {
        let m = matrix(0, 3, |_, _| (0, 0, 0));
        let spec = HeatmapSpec::of(&m, Measure::Synapses, "pop", &at()).unwrap();
        assert!(
            render_svg(&spec, 960, 600, "t")
                .unwrap()
                .contains("the matrix is empty")
        );
        render_png(&spec, 960, 600, "t").unwrap();
        // Too many cells: a message, in an image of the size asked.
        let m = matrix(1, MAX_CELLS + 1, |_, _| (1, 1, 1));
        let spec = HeatmapSpec::of(&m, Measure::Synapses, "pop", &at()).unwrap();
        let l = Layout::of(&spec, 960, 600);
        assert_eq!((l.width, l.height), (960, 600));
        assert!(
            render_svg(&spec, 960, 600, "t")
                .unwrap()
                .contains("too many cells to draw")
        );
        let mut m = matrix(2, 2, |_, _| (1, 1, 1));
        m.pair_count.pop();
        let e = HeatmapSpec::of(&m, Measure::Probability, "pop", &at()).unwrap_err();
        assert!(matches!(e, Error::InvalidData { .. }), "{e}");
    }

    #[test]
    fn values_are_short() {
        assert_eq!(fmt_value(0.15, Measure::Probability), "0.15");
        assert_eq!(fmt_value(0.0123, Measure::Probability), "0.0123");
        assert_eq!(fmt_value(2.5e-6, Measure::Probability), "2.5e-6");
        assert_eq!(fmt_value(1_500_000.0, Measure::Synapses), "1.5M");
        assert_eq!(fmt_value(4.0, Measure::SynapsesPerConnection), "4.0");
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
    }
}
