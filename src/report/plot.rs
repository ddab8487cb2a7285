//! Draws one histogram ([`Bins`]) as a bar chart, to PNG bytes and to an SVG string (plotters).
//!
//! Text is drawn with DejaVu Sans compiled into the binary (the `dejavu` crate, registered with
//! plotters' `ab_glyph` renderer), so no system font or fontconfig is needed at run time. The
//! SVG names the generic `sans-serif` family and lets the viewer choose the face.
//!
//! Each bin `[lo, hi)` of integers is drawn from `lo − ½` to `hi − ½`, so a bin of one value is a
//! bar centred on that value. Empty bins draw nothing (on a log count axis a zero has no place).
//! Axis ranges and ticks are computed here ([`axes`]), not left to plotters: whole numbers on
//! count axes, a value axis that ends at the largest value, no label at the top edge.

use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{
    AsRangedCoord, KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter,
};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::binning::{Bins, Spacing};
use super::text::CrispText;
use crate::error::{Error, Result};

/// The font family every text of the plots uses.
const FAMILY: &str = "sans-serif";

/// What to draw: the histogram and its words.
#[derive(Debug, Clone)]
pub struct PlotSpec<'a> {
    /// Caption above the chart.
    pub title: String,
    /// Value axis description (with its unit).
    pub x_desc: String,
    /// Count axis description.
    pub y_desc: String,
    /// The histogram.
    pub bins: &'a Bins,
    /// Lines printed in the top right corner of the plotting area (totals, zeros, binning).
    pub notes: Vec<String>,
    /// Printed in the middle when there is no bar to draw.
    pub empty_message: String,
}

/// Registers the embedded font with plotters (once per process).
pub(super) fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "the embedded DejaVu Sans font cannot be loaded".into(),
        ))
    }
}

/// Renders `spec` as an RGB PNG of `width × height` pixels.
///
/// # Errors
/// Drawing or encoding failures (as [`Error::Io`] naming `name`).
pub fn render_png(spec: &PlotSpec, width: u32, height: u32, name: &str) -> Result<Vec<u8>> {
    register_font()?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root =
            CrispText(BitMapBackend::with_buffer(&mut rgb, (width, height))).into_drawing_area();
        draw(&root, spec).map_err(|e| draw_error(name, &e))?;
        root.present().map_err(|e| draw_error(name, &e))?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
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

/// Renders `spec` as an SVG document of `width × height`.
///
/// # Errors
/// Drawing failures (as [`Error::Io`] naming `name`).
pub fn render_svg(spec: &PlotSpec, width: u32, height: u32, name: &str) -> Result<String> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root, spec).map_err(|e| draw_error(name, &e))?;
        root.present().map_err(|e| draw_error(name, &e))?;
    }
    Ok(svg)
}

fn draw_error(name: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Io {
        path: name.into(),
        source: std::io::Error::other(format!("cannot draw the plot: {e}")),
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Font sizes scale with the image so that a larger image is not just smaller text.
fn scale(root_height: u32) -> f64 {
    (f64::from(root_height) / 600.0).clamp(0.6, 3.0)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &PlotSpec) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (_, h) = root.dim_in_pixel();
    let s = scale(h);
    let bins = spec.bins;
    let Some((x, y)) = axes(bins, spec.notes.len()) else {
        let titled = root.titled(&spec.title, (FAMILY, 24.0 * s))?;
        let (w, h) = titled.dim_in_pixel();
        let grey = BLACK.mix(0.7);
        let style = TextStyle::from((FAMILY, 20.0 * s).into_font())
            .pos(Pos::new(HPos::Center, VPos::Center))
            .color(&grey);
        let lines: Vec<&str> = std::iter::once(spec.empty_message.as_str())
            .chain(spec.notes.iter().map(String::as_str))
            .collect();
        let step = (26.0 * s) as i32;
        let top = h as i32 / 2 - step * (lines.len() as i32 - 1) / 2;
        for (i, line) in lines.iter().enumerate() {
            titled.draw(&Text::new(
                line.to_string(),
                (w as i32 / 2, top + step * i as i32),
                style.clone(),
            ))?;
        }
        return Ok(());
    };
    let x_range = x.lo..x.hi;
    let y_range = y.lo..y.hi;
    match (x.log, y.log) {
        (false, false) => chart(
            root,
            spec,
            ticked(x_range, x.ticks),
            ticked(y_range, y.ticks),
            s,
        ),
        (false, true) => chart(
            root,
            spec,
            ticked(x_range, x.ticks),
            ticked(y_range.log_scale(), y.ticks),
            s,
        ),
        (true, false) => chart(
            root,
            spec,
            ticked(x_range.log_scale(), x.ticks),
            ticked(y_range, y.ticks),
            s,
        ),
        (true, true) => chart(
            root,
            spec,
            ticked(x_range.log_scale(), x.ticks),
            ticked(y_range.log_scale(), y.ticks),
            s,
        ),
    }
}

/// A plotters coordinate whose ticks (labels and grid lines) are an [`Axis`]'s, no others.
/// (plotters' own `WithKeyPoints` drops the `f64` value formatter the mesh needs.)
struct Ticked<R> {
    inner: R,
    ticks: Vec<f64>,
}

fn ticked<A: AsRangedCoord<Value = f64>>(range: A, ticks: Vec<f64>) -> Ticked<A::CoordDescType> {
    Ticked {
        inner: range.into(),
        ticks,
    }
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type ValueType = f64;
    type FormatOption = NoDefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only bold lines: the light mesh is not drawn.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

impl<R> ValueFormatter<f64> for Ticked<R> {
    fn format(value: &f64) -> String {
        format_tick(*value)
    }
}

fn chart<DB, X, Y>(
    root: &DrawingArea<DB, Shift>,
    spec: &PlotSpec,
    x: X,
    y: Y,
    s: f64,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, (FAMILY, 24.0 * s))
        .margin((16.0 * s) as u32)
        .x_label_area_size((56.0 * s) as u32)
        .y_label_area_size((84.0 * s) as u32)
        .build_cartesian_2d(x, y)?;
    let per_value = spec.bins.per_value();
    let tick_font = (FAMILY, 15.0 * s);
    let desc_font = (FAMILY, 17.0 * s);
    chart
        .configure_mesh()
        .x_desc(&spec.x_desc)
        .y_desc(&spec.y_desc)
        .axis_desc_style(desc_font)
        .label_style(tick_font)
        .x_label_formatter(&|v| format_count_tick(*v))
        .y_label_formatter(&|v| {
            if per_value {
                format_tick(*v)
            } else {
                format_count_tick(*v)
            }
        })
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;
    let (y_bottom, _) = {
        let r = chart.y_range();
        (r.start, r.end)
    };
    let fill = RGBColor(49, 104, 176);
    let bars = spec
        .bins
        .iter()
        .zip(spec.bins.heights())
        .filter(|&((_, _, c), _)| c > 0)
        .map(|((lo, hi, _), h)| [(lo as f64 - 0.5, y_bottom), (hi as f64 - 0.5, h)])
        .collect::<Vec<_>>();
    chart.draw_series(
        bars.iter()
            .map(|&r| Rectangle::new(r, fill.mix(0.85).filled())),
    )?;
    // A thin outline keeps neighbouring bars apart when they are only a few pixels wide.
    chart.draw_series(
        bars.iter()
            .map(|&r| Rectangle::new(r, fill.stroke_width(1))),
    )?;

    let area = chart.plotting_area();
    let (xs, ys) = area.get_pixel_range();
    let dark = BLACK.mix(0.8);
    let style = TextStyle::from((FAMILY, 15.0 * s).into_font())
        .pos(Pos::new(HPos::Right, VPos::Top))
        .color(&dark);
    let step = (20.0 * s) as i32;
    for (i, line) in spec.notes.iter().enumerate() {
        root.draw(&Text::new(
            line.clone(),
            (
                xs.end - (10.0 * s) as i32,
                ys.start + (8.0 * s) as i32 + step * i as i32,
            ),
            style.clone(),
        ))?;
    }
    Ok(())
}

/// Most tick labels on the value axis and on the count axis (fewer when the values are few).
const MAX_X_TICKS: f64 = 10.0;
const MAX_Y_TICKS: f64 = 8.0;

/// No tick closer to the top of the count axis than this fraction of its length: a label there
/// would stick out of the plotting area (and sit under the notes). The value axis needs none:
/// its last tick is at most the centre of the last bar, and its label has the chart's margin.
const END_CLEARANCE: f64 = 0.04;

/// A linear value axis spans at least this many values (unless it reaches 0 first), so that a
/// single bar is not stretched over the whole chart.
const MIN_VALUES: f64 = 8.0;

/// One axis of a plot: its range, scale and the values that get a tick, a grid line and a
/// label (chosen here, not by plotters, so that they are whole numbers on count axes and none
/// sits at the very end of the axis).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Logarithmic scale.
    pub log: bool,
    /// Tick values, ascending, within `[lo, hi]`.
    pub ticks: Vec<f64>,
}

/// The value axis (x) and the count axis (y) of a plot of `bins` with `notes` lines of notes in
/// its top right corner; `None` when there is no bar to draw.
///
/// x: bar `[lo, hi)` is drawn from `lo − ½` to `hi − ½`; a linear axis ends just after the last
/// bar and, when its bars span fewer than `MIN_VALUES` values, is widened to the left only
/// (towards 0, never past it): the largest value is where the axis ends. A log axis has 15 %
/// room on both sides. y: from 0 (log: half the smallest bar) to above the tallest bar with
/// room for the notes. Ticks of a count axis are whole numbers.
pub fn axes(bins: &Bins, notes: usize) -> Option<(Axis, Axis)> {
    let (min_h, max_h) = bins.height_range()?;
    let first = *bins.edges.first()? as f64 - 0.5;
    let last = *bins.edges.last()? as f64 - 0.5;
    let x = if bins.spacing == Spacing::Log {
        let (lo, hi) = (first / 1.15, last * 1.15);
        Axis {
            lo,
            hi,
            log: true,
            ticks: log_ticks(lo, hi, true, 0.0, MAX_X_TICKS),
        }
    } else {
        let lo = first.min((last - MIN_VALUES).max(-0.5));
        // A little room past the bars; a quarter value at least, so that a chart of a few
        // values does not end flush with its last bar.
        let pad = (0.02 * (last - lo)).max(0.25);
        let (mut lo, mut hi) = (lo - pad, last + pad);
        if hi <= lo {
            // Values near 2^64, closer together than an f64 can tell apart.
            let spread = hi.abs() * 1e-9 + 1.0;
            (lo, hi) = (lo - spread, hi + spread);
        }
        Axis {
            lo,
            hi,
            log: false,
            ticks: linear_ticks(lo, hi, true, 0.0, MAX_X_TICKS),
        }
    };
    let notes = notes as f64;
    let counts = !bins.per_value();
    let y = if bins.heights_span_decades() {
        let (lo, hi) = (min_h / 2.0, max_h * 10f64.powf(0.25 * (1.0 + notes)));
        Axis {
            lo,
            hi,
            log: true,
            ticks: log_ticks(lo, hi, counts, END_CLEARANCE, MAX_Y_TICKS),
        }
    } else {
        let hi = max_h * (1.12 + 0.06 * notes);
        Axis {
            lo: 0.0,
            hi,
            log: false,
            ticks: linear_ticks(0.0, hi, counts, END_CLEARANCE, MAX_Y_TICKS),
        }
    };
    Some((x, y))
}

/// Multiples of a nice step (1, 2 or 5 × 10^k; at least 1 for whole numbers) in `[lo, hi]`,
/// at most about `max`, none within `clearance` (a fraction of the axis) of `hi`.
fn linear_ticks(lo: f64, hi: f64, whole: bool, clearance: f64, max: f64) -> Vec<f64> {
    let top = hi - clearance * (hi - lo);
    if top <= lo || !lo.is_finite() || !hi.is_finite() {
        return Vec::new();
    }
    let raw = (top - lo) / max;
    let mut step = nice_step(raw);
    if whole {
        step = step.max(1.0);
    }
    let (first, last) = ((lo / step).ceil(), (top / step).floor());
    if last < first {
        return Vec::new();
    }
    // k · step rather than a running sum: no drift (0.1 + 0.2), exact for whole steps.
    (first as i64..=last as i64)
        .map(|k| k as f64 * step)
        .filter(|v| !whole || v.fract() == 0.0)
        .collect()
}

/// The smallest of 1, 2, 5 × 10^k at least `raw` (> 0).
fn nice_step(raw: f64) -> f64 {
    let decade = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * decade)
}

/// Powers of ten in `[lo, hi]` (every other one, or fewer, when there are more than `max`), with 2 and 5
/// times each power added when there are fewer than three; whole numbers only if `whole`; none
/// within `clearance` of `hi` (a fraction of the axis, measured on the log scale).
pub(super) fn log_ticks(lo: f64, hi: f64, whole: bool, clearance: f64, max: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let (l, h) = (lo.log10(), hi.log10());
    let top = 10f64.powf(h - clearance * (h - l));
    let (first, last) = (l.ceil() as i32, top.log10().floor() as i32);
    let decades: Vec<i32> = (first..=last).collect();
    let mantissas: &[f64] = if decades.len() < 3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let every = (decades.len() as f64 / max).ceil().max(1.0) as usize;
    let mut ticks: Vec<f64> = (first - 1..=last)
        .flat_map(|d| {
            mantissas
                .iter()
                .filter(move |_| d < first || ((d - first) as usize).is_multiple_of(every))
                .map(move |m| m * 10f64.powi(d))
        })
        .filter(|&v| v >= lo && v <= top)
        .filter(|v| !whole || (*v >= 1.0 && v.fract() == 0.0))
        .collect();
    ticks.dedup();
    ticks
}

/// A tick label: integers as integers, large values with k/M/G, fractions with the decimals
/// they need (0.5, 0.01), tiny ones in exponent form.
pub fn format_tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e4 {
        for (div, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] {
            if a >= div {
                return format!("{}{suffix}", trim(v / div));
            }
        }
    }
    if a > 0.0 && a < 1e-4 {
        return format!("{v:.0e}");
    }
    if a > 0.0 && a < 1.0 {
        // Enough decimals for two significant digits, trailing zeros dropped.
        let decimals = (-a.log10()).ceil() as usize + 1;
        let s = format!("{v:.decimals$}");
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    trim(v)
}

/// A tick label on an axis of whole numbers: fractional ticks get no label.
pub fn format_count_tick(v: f64) -> String {
    if (v - v.round()).abs() > 1e-9 {
        String::new()
    } else {
        format_tick(v)
    }
}

/// Up to one decimal, without a trailing ".0".
fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::super::binning::{bin_frequencies, bin_values};
    use super::*;

    /// Checks what every axis must satisfy: ticks ascending inside the range, whole numbers where
    /// the values are counts, every bar inside the x range, the tallest bar below the y top, no
    /// y tick in the top [`END_CLEARANCE`] of the axis.
    fn check_axes(bins: &Bins, notes: usize) -> (Axis, Axis) {
        let (x, y) = axes(bins, notes).expect("bars");
        for (a, whole) in [(&x, true), (&y, !bins.per_value())] {
            assert!(a.lo < a.hi, "{a:?}");
            assert!(!a.ticks.is_empty(), "{a:?}");
            assert!(a.ticks.windows(2).all(|w| w[0] < w[1]), "{a:?}");
            assert!(a.ticks.iter().all(|&t| t >= a.lo && t <= a.hi), "{a:?}");
            if whole {
                assert!(a.ticks.iter().all(|t| t.fract() == 0.0), "{a:?}");
                assert!(
                    a.ticks.iter().all(|t| !format_count_tick(*t).is_empty()),
                    "{a:?}"
                );
            }
        }
        let top = if y.log {
            10f64.powf(y.hi.log10() - END_CLEARANCE * (y.hi.log10() - y.lo.log10()))
        } else {
            y.hi - END_CLEARANCE * (y.hi - y.lo)
        };
        assert!(y.ticks.iter().all(|&t| t <= top), "{y:?}");
        let (_, max_h) = bins.height_range().unwrap();
        assert!(max_h < y.hi);
        let (first, last) = (
            bins.edges[0] as f64 - 0.5,
            *bins.edges.last().unwrap() as f64 - 0.5,
        );
        assert!(x.lo <= first && last <= x.hi, "{x:?} {bins:?}");
        (x, y)
    }

    #[test]
    fn one_target_of_three_synapses_has_whole_ticks_and_ends_at_three() {
        // One target with 3 synapses: the value axis shows 0..3 and ends just after the bar
        // (it ran to 7), the count axis has 0 and 1 and no tick at 0.5.
        let (x, y) = check_axes(&bin_values(&[3]), 3);
        assert_eq!(x.ticks, vec![0.0, 1.0, 2.0, 3.0]);
        assert!(x.hi < 4.0 && x.lo > -1.0, "{x:?}");
        assert!(!x.log && !y.log);
        assert_eq!(y.ticks, vec![0.0, 1.0]);
        // Synapses per connection stored as a table with its maximum at 3.
        let (x, y) = check_axes(&bin_frequencies(&[0, 1, 0, 1]), 2);
        assert_eq!(x.ticks, vec![0.0, 1.0, 2.0, 3.0]);
        assert!(x.hi < 4.0, "{x:?}");
        assert_eq!(y.ticks, vec![0.0, 1.0]);
        let (x, _) = check_axes(&bin_values(&[1]), 2);
        assert_eq!(x.ticks, vec![0.0, 1.0]);
        assert!(x.hi < 2.0, "{x:?}");
    }

    #[test]
    fn a_narrow_range_far_from_zero_is_widened_to_the_left_only() {
        let (x, _) = check_axes(&bin_values(&[100, 100, 101]), 3);
        assert!(x.hi < 102.0 && x.lo < 94.0, "{x:?}");
        assert_eq!(*x.ticks.last().unwrap(), 101.0);
    }

    #[test]
    fn the_top_count_tick_keeps_clear_of_the_top() {
        // The lgn -> v1 sample: 28 targets of 30 synapses, 272 of 60. The axis runs to about
        // 354: a tick at 350 sat at the very top, its label cut by the frame.
        let mut values = vec![30u64; 28];
        values.extend(std::iter::repeat_n(60, 272));
        let (x, y) = check_axes(&bin_values(&values), 3);
        assert_eq!(y.ticks, vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0]);
        assert_eq!(x.ticks.first(), Some(&30.0));
        assert_eq!(x.ticks.last(), Some(&60.0));
        // A tallest bar of 3 and three notes: the axis ends at 3.9; ticks stop at 3.
        let (_, y) = check_axes(&bin_values(&[1, 2, 2, 2]), 3);
        assert_eq!(y.ticks, vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn log_axes_get_powers_of_ten_and_whole_counts() {
        let values: Vec<u64> = (0..4000).map(|i| 1 + i * i).collect();
        let b = bin_values(&values);
        let (x, _) = check_axes(&b, 3);
        assert!(x.log);
        assert_eq!(x.ticks, vec![1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7]);
        // Per-value heights (densities) may be fractional: their ticks are not forced whole.
        let b = Bins {
            edges: vec![1, 2, 4, 10, 100, 1000],
            counts: vec![1000, 10, 10, 9, 9],
            spacing: Spacing::Log,
            zeros: 0,
        };
        let (x, y) = check_axes(&b, 3);
        assert!(x.log && y.log);
        assert_eq!(x.ticks, vec![1.0, 10.0, 100.0, 1000.0]);
        assert!(y.ticks.contains(&0.1) && y.ticks.contains(&1000.0), "{y:?}");
        // A count axis spanning two decades: 1, 10, 100 (2 and 5 added: few powers).
        let b = Bins {
            edges: vec![1, 2, 3],
            counts: vec![1, 100],
            spacing: Spacing::Linear,
            zeros: 0,
        };
        let (_, y) = check_axes(&b, 2);
        assert!(y.log);
        assert_eq!(y.ticks.first(), Some(&1.0));
        assert!(y.ticks.contains(&100.0) && y.ticks.contains(&10.0), "{y:?}");
    }

    #[test]
    fn huge_values_give_finite_axes_and_draw() {
        for values in [
            vec![u64::MAX - 5, u64::MAX],
            vec![1, u64::MAX],
            vec![1u64 << 60],
        ] {
            let bins = bin_values(&values);
            let (x, y) = axes(&bins, 3).unwrap();
            for a in [&x, &y] {
                assert!(a.lo.is_finite() && a.hi.is_finite() && a.lo < a.hi, "{a:?}");
                assert!(a.ticks.iter().all(|&t| t >= a.lo && t <= a.hi), "{a:?}");
            }
            let spec = PlotSpec {
                title: "t".into(),
                x_desc: "x".into(),
                y_desc: "y".into(),
                bins: &bins,
                notes: vec!["n".into()],
                empty_message: String::new(),
            };
            render_svg(&spec, 480, 300, "huge").unwrap();
            render_png(&spec, 480, 300, "huge").unwrap();
        }
    }

    #[test]
    fn every_small_population_gets_sane_axes() {
        // Every multiset of up to 4 values in 0..=12 (and their frequency tables).
        let mut values = Vec::new();
        for a in 0..=12u64 {
            for b in a..=12 {
                for c in [0, 1, 3, 7, 12, 40, 150] {
                    values.clear();
                    values.extend([a, b, c]);
                    let bins = bin_values(&values);
                    if !bins.is_empty() {
                        let (x, _) = check_axes(&bins, 3);
                        // A linear axis ends at the last bar, plus a small margin.
                        let last = *bins.edges.last().unwrap() as f64 - 0.5;
                        let margin = (x.hi - last) / (x.hi - x.lo);
                        assert!(
                            x.log || x.hi - last <= 0.25 || margin < 0.021,
                            "{values:?}: {x:?}"
                        );
                    }
                    let mut freq = vec![0u64; c as usize + 1];
                    freq[c as usize] += a + 1;
                    freq[(b as usize).min(c as usize)] += 1;
                    let bins = bin_frequencies(&freq);
                    if !bins.is_empty() {
                        check_axes(&bins, 2);
                    }
                }
            }
        }
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(format_tick(0.0), "0");
        assert_eq!(format_tick(5.0), "5");
        assert_eq!(format_tick(2.5), "2.5");
        assert_eq!(format_tick(1000.0), "1000");
        assert_eq!(format_tick(20_000.0), "20k");
        assert_eq!(format_tick(1_500_000.0), "1.5M");
        assert_eq!(format_tick(3e9), "3G");
        assert_eq!(format_tick(0.5), "0.5");
        assert_eq!(format_tick(0.01), "0.01");
        assert_eq!(format_tick(0.001), "0.001");
        assert_eq!(format_tick(0.25), "0.25");
        assert_eq!(format_tick(0.00001), "1e-5");
        assert_eq!(format_count_tick(0.5), "");
        assert_eq!(format_count_tick(100.0), "100");
    }
}
