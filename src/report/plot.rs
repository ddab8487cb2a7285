//! Draws one histogram ([`Bins`]) as a bar chart, to PNG bytes and to an SVG string (plotters).
//!
//! Text is drawn with DejaVu Sans compiled into the binary (the `dejavu` crate, registered with
//! plotters' `ab_glyph` renderer), so no system font or fontconfig is needed at run time. The
//! SVG names the generic `sans-serif` family and lets the viewer choose the face.
//!
//! Each bin `[lo, hi)` of integers is drawn from `lo − ½` to `hi − ½`, so a bin of one value is a
//! bar centred on that value. Empty bins draw nothing (on a log count axis a zero has no place).

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
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
fn register_font() -> Result<()> {
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
    let Some((min_h, max_h)) = bins.height_range() else {
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
    let first = *bins.edges.first().unwrap_or(&1) as f64 - 0.5;
    let last = *bins.edges.last().unwrap_or(&2) as f64 - 0.5;
    let log_y = bins.heights_span_decades();
    // Head room above the tallest bar for the notes in the top right corner.
    let y_top = if log_y {
        max_h * 10f64.powf(0.25 * (1.0 + spec.notes.len() as f64))
    } else {
        max_h * (1.12 + 0.06 * spec.notes.len() as f64)
    };
    let y_bottom = if log_y { min_h / 2.0 } else { 0.0 };
    let x_linear = || {
        // At least 8 values wide, so one bar is not stretched over the whole chart with
        // fractional ticks; never much left of 0, where no count can be.
        let span = last - first;
        let want = span.max(8.0);
        let mut lo = first - (want - span) / 2.0 - 0.02 * want;
        let mut hi = last + (want - span) / 2.0 + 0.02 * want;
        if lo < -0.6 && first >= -0.5 {
            hi += -0.6 - lo;
            lo = -0.6;
        }
        lo..hi
    };
    let x_log = || (first / 1.15)..(last * 1.15);
    match (bins.spacing, log_y) {
        (Spacing::Linear, false) => chart(root, spec, x_linear(), y_bottom..y_top, s),
        (Spacing::Linear, true) => chart(root, spec, x_linear(), (y_bottom..y_top).log_scale(), s),
        (Spacing::Log, false) => chart(root, spec, x_log().log_scale(), y_bottom..y_top, s),
        (Spacing::Log, true) => chart(
            root,
            spec,
            x_log().log_scale(),
            (y_bottom..y_top).log_scale(),
            s,
        ),
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
    // Counts are whole: a chart of a few counts gets one label per count, not fractional ticks.
    let y_labels = match spec.bins.height_range() {
        Some((_, max)) if !per_value && max < 8.0 => max.ceil() as usize + 2,
        _ => 8,
    };
    let tick_font = (FAMILY, 15.0 * s);
    let desc_font = (FAMILY, 17.0 * s);
    chart
        .configure_mesh()
        .x_desc(&spec.x_desc)
        .y_desc(&spec.y_desc)
        .axis_desc_style(desc_font)
        .label_style(tick_font)
        .x_labels(10)
        .y_labels(y_labels)
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
    use super::*;

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
