//! The report's `index.html`: one self-contained page (inline CSS, no script) with each
//! population's summary numbers and its plots, referenced by relative paths.
//!
//! Every number cell carries its exact value in `data-key` / `data-value` attributes (integers
//! as integers, floats in shortest round-trip form) next to the rounded, grouped text people
//! read, so tools and tests can check the page against `summary.json`.

use std::fmt::Write;

use super::ReportSummary;
use super::stats::{Distribution, HeatmapFiles, PathwaySummary, PlotFiles, PopulationSummary};

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:2rem auto;max-width:1500px;padding:0 1.5rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2.5rem;border-bottom:1px solid #ccc;padding-bottom:.3rem}
.tables{display:flex;flex-wrap:wrap;gap:0 3rem;align-items:flex-start}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.25rem .8rem;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{font-weight:600}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1rem}
figure{margin:.5rem 0}img{width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9rem;color:#555}.meta{color:#555;font-size:.9rem}code{font-size:.95em}
.note{background:#f6f6f0;border-left:3px solid #c9b458;padding:.4rem .8rem;max-width:60rem}
h3{font-size:1.1rem;margin-top:1.5rem}";

/// Renders the page.
pub fn render(summary: &ReportSummary, width: u32, height: u32) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Census report: {}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n\
         <h1>Census report</h1>\n<p class=\"meta\">Tables: <code>{}</code> · \
         sonata-census {} · {}: {}</p>\n",
        esc(&summary.tables),
        esc(&summary.tables),
        esc(&summary.sonata_census_version),
        crate::words::plural(summary.populations.len() as u64, "population"),
        summary
            .populations
            .iter()
            .map(|p| format!(
                "<a href=\"#{0}\">{1}</a>",
                esc(&anchor(&p.population)),
                esc(&p.population)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for p in &summary.populations {
        population(&mut h, p, width, height);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn population(h: &mut String, p: &PopulationSummary, width: u32, height: u32) {
    let _ = write!(
        h,
        "\n<section id=\"{}\">\n<h2>{}</h2>\n<p class=\"meta\">{} → {} · edges {} · \
         <span data-key=\"direction\" data-value=\"{5}\">{5} tables</span></p>\n",
        esc(&anchor(&p.population)),
        esc(&p.population),
        esc(&p.source_node_population),
        esc(&p.target_node_population),
        esc(&p.order),
        esc(&p.direction),
    );
    if let Some(r) = &p.restriction {
        let set = |key: &str, side: &str, name: &Option<String>| match name {
            Some(n) => format!(
                "{side} node set <code data-key=\"{key}\" data-value=\"{0}\">{0}</code>",
                esc(n)
            ),
            None => format!("every {side} node"),
        };
        let files = if r.node_sets_files.is_empty() {
            String::new()
        } else {
            format!(
                " (node sets from <code>{}</code>)",
                esc(&r.node_sets_files.join("; "))
            )
        };
        let _ = writeln!(
            h,
            "<p class=\"note\">Restricted census: {} and {}{files}; it counts {} of the \
             population's <span data-key=\"population_edge_count\" \
             data-value=\"{}\">{}</span> edges.</p>",
            set("source_node_set", "source", &r.source_node_set),
            set("target_node_set", "target", &r.target_node_set),
            group_digits(r.edges_counted),
            r.population_edge_count,
            group_digits(r.population_edge_count),
        );
    }
    if p.targets.is_none() {
        h.push_str(
            "<p class=\"note\">Efferent-only census: per-source tables, no per-target ones.</p>\n",
        );
    }
    if p.has_nsyns() {
        let _ = writeln!(
            h,
            "<p class=\"note\" data-key=\"synapses_from\" data-value=\"nsyns\">bmtk <code>nsyns</code>: \
             each edge row stands for <code>nsyns</code> synapses, {} synapses in {} edge rows. \
             The census tables (connections, edge rows per target and per connection, and their \
             plots) count edge rows; “synapses (sum of nsyns)” and “synapses (nsyns) per \
             target” count synapses (<code>target_nsyns_total</code>).</p>",
            group_digits(p.synapses),
            group_digits(p.edges)
        );
    }
    h.push_str("<div class=\"tables\">\n<table>\n");
    // With bmtk nsyns an edge row stands for several synapses: the census tables count rows,
    // and every label says which of the two it counts.
    let nsyns = p.has_nsyns();
    let row = if nsyns { "edge row" } else { "synapse" };
    if nsyns {
        row_int(h, "edge rows", "edges", p.edges);
        row_int(h, "synapses (sum of nsyns)", "synapses", p.synapses);
    } else {
        row_int(h, "synapses (edges)", "edges", p.edges);
    }
    row_int(h, "connections", "connections", p.connections);
    if let (Some(targets), Some(with), Some(without)) = (
        p.targets,
        p.targets_with_synapses,
        p.targets_without_synapses,
    ) {
        row_int(h, "targets", "targets", targets);
        row_int(
            h,
            &format!("targets with ≥ 1 {row}"),
            "targets_with_synapses",
            with,
        );
        row_int(
            h,
            &format!("targets with no {row}s"),
            "targets_without_synapses",
            without,
        );
    }
    if let Some(e) = &p.efferent {
        row_int(h, "sources", "efferent.sources", e.sources);
        row_int(
            h,
            &format!("sources with ≥ 1 {row}"),
            "efferent.sources_with_synapses",
            e.sources_with_synapses,
        );
        row_int(
            h,
            &format!("sources with no {row}s"),
            "efferent.sources_without_synapses",
            e.sources_without_synapses,
        );
    }
    h.push_str("</table>\n<table>\n<tr><th></th><th>mean</th><th>median</th><th>min</th><th>max</th></tr>\n");
    if let Some(d) = &p.synapses_per_target {
        row_dist(h, &format!("{row}s per target"), "synapses_per_target", d);
    }
    if let Some(d) = &p.nsyns_per_target {
        row_dist(h, "synapses (nsyns) per target", "nsyns_per_target", d);
    }
    if let Some(d) = &p.connections_per_target {
        row_dist(h, "connections per target", "connections_per_target", d);
    }
    if let Some(e) = &p.efferent {
        row_dist(
            h,
            &format!("{row}s per source"),
            "efferent.synapses_per_source",
            &e.synapses_per_source,
        );
        row_dist(
            h,
            "connections per source",
            "efferent.connections_per_source",
            &e.connections_per_source,
        );
    }
    row_dist(
        h,
        &format!("{row}s per connection"),
        "synapses_per_connection",
        &p.synapses_per_connection,
    );
    h.push_str("</table>\n<table>\n");
    let _ = writeln!(
        h,
        "<tr><th>sorted by target</th><td data-key=\"sorted_by_target\" data-value=\"{0}\">{1}</td></tr>\n\
         <tr><th>sorted by (target, source)</th><td data-key=\"sorted_by_target_source\" data-value=\"{2}\">{3}</td></tr>\n\
         <tr><th>source node population</th><td data-key=\"source_node_population\" data-value=\"{4}\">{4}</td></tr>\n\
         <tr><th>target node population</th><td data-key=\"target_node_population\" data-value=\"{5}\">{5}</td></tr>",
        p.sorted_by_target,
        yes_no(p.sorted_by_target),
        p.sorted_by_target_source,
        yes_no(p.sorted_by_target_source),
        esc(&p.source_node_population),
        esc(&p.target_node_population),
    );
    h.push_str("</table>\n</div>\n<div class=\"plots\">\n");
    let row = if nsyns { "Edge row" } else { "Synapse" };
    let plots = [
        (
            format!("{row}s per target (in-degree)"),
            p.plots.synapses_per_target.as_ref(),
        ),
        (
            "Connections (distinct sources) per target".to_string(),
            p.plots.connections_per_target.as_ref(),
        ),
        (
            format!("{row}s per source (out-degree)"),
            p.plots.synapses_per_source.as_ref(),
        ),
        (
            "Connections (distinct targets) per source".to_string(),
            p.plots.connections_per_source.as_ref(),
        ),
        (
            format!("{row}s per connection"),
            Some(&p.plots.synapses_per_connection),
        ),
        (
            "Synapses (sum of nsyns) per target".to_string(),
            p.plots.nsyns_per_target.as_ref(),
        ),
    ];
    for (caption, files) in plots {
        if let Some(files) = files {
            figure(h, &caption, &p.population, files, width, height);
        }
    }
    h.push_str("</div>\n");
    for (k, pathway) in p.pathways.iter().enumerate() {
        pathway_section(h, p, k, pathway);
    }
    h.push_str("</section>\n");
}

/// The totals and heatmaps of one pathway attribute (the `k`-th of population `p`).
fn pathway_section(h: &mut String, p: &PopulationSummary, k: usize, m: &PathwaySummary) {
    let key = |field: &str| format!("pathways.{k}.{field}");
    let _ = writeln!(
        h,
        "<h3>Pathways by <code data-key=\"{}\" data-value=\"{1}\">{1}</code></h3>\n<table>",
        key("attribute"),
        esc(&m.attribute)
    );
    for (label, field, v) in [
        ("source values (rows)", "source_values", m.source_values),
        ("target values (columns)", "target_values", m.target_values),
        ("synapses", "synapses", m.synapses),
        ("connections", "connections", m.connections),
        ("possible connections", "pair_count", m.pair_count),
    ] {
        row_int(h, label, &key(field), v);
    }
    for (label, field, v, text) in [
        (
            "connection probability",
            "connection_probability",
            m.connection_probability,
            m.connection_probability
                .map_or_else(dash, |v| format!("{v:.4}")),
        ),
        (
            "synapses per connection",
            "synapses_per_connection",
            m.synapses_per_connection,
            m.synapses_per_connection
                .map_or_else(dash, |v| format!("{v:.2}")),
        ),
    ] {
        let data = v.map_or_else(|| "null".to_string(), |v| format!("{v}"));
        let _ = writeln!(
            h,
            "<tr><th>{label}</th><td class=\"n\" data-key=\"{}\" data-value=\"{data}\">{text}</td></tr>",
            key(field)
        );
    }
    h.push_str("</table>\n<div class=\"plots\">\n");
    let attr = &m.attribute;
    for (caption, files) in [
        (
            format!("Synapses by source and target {attr}"),
            &m.plots.synapses,
        ),
        (
            format!("Connections by source and target {attr}"),
            &m.plots.connections,
        ),
        (
            format!("Connection probability by source and target {attr}"),
            &m.plots.probability,
        ),
        (
            format!("Mean synapses per connection by source and target {attr}"),
            &m.plots.synapses_per_connection,
        ),
    ] {
        heatmap_figure(h, &caption, &p.population, files);
    }
    h.push_str("</div>\n");
}

fn heatmap_figure(h: &mut String, caption: &str, population: &str, f: &HeatmapFiles) {
    let plot = PlotFiles {
        png: f.png.clone(),
        svg: f.svg.clone(),
    };
    figure(h, caption, population, &plot, f.width, f.height);
}

fn figure(h: &mut String, caption: &str, population: &str, f: &PlotFiles, width: u32, height: u32) {
    let _ = write!(
        h,
        "<figure>\n<a href=\"{svg}\"><img src=\"{svg}\" width=\"{width}\" height=\"{height}\" alt=\"{pop}: {cap}\"></a>\n\
         <figcaption>{cap} · <a href=\"{png}\">PNG</a> · <a href=\"{svg}\">SVG</a></figcaption>\n</figure>\n",
        svg = esc(&url(&f.svg)),
        png = esc(&url(&f.png)),
        pop = esc(population),
        cap = esc(caption),
    );
}

fn row_int(h: &mut String, label: &str, key: &str, v: u64) {
    let _ = writeln!(
        h,
        "<tr><th>{label}</th><td class=\"n\" data-key=\"{key}\" data-value=\"{v}\">{}</td></tr>",
        group_digits(v)
    );
}

fn row_dist(h: &mut String, label: &str, key: &str, d: &Distribution) {
    let _ = write!(h, "<tr><th>{label}</th>");
    let cell = |h: &mut String, field: &str, data: Option<String>, text: String| {
        let data = data.unwrap_or_else(|| "null".to_string());
        let _ = write!(
            h,
            "<td class=\"n\" data-key=\"{key}.{field}\" data-value=\"{data}\">{text}</td>"
        );
    };
    let float = |v: Option<f64>| v.map(|v| format!("{v}"));
    let int = |v: Option<u64>| v.map(|v| v.to_string());
    cell(
        h,
        "mean",
        float(d.mean),
        d.mean.map_or_else(dash, |m| format!("{m:.2}")),
    );
    cell(
        h,
        "median",
        float(d.median),
        d.median.map_or_else(dash, fmt_median),
    );
    cell(h, "min", int(d.min), d.min.map_or_else(dash, group_digits));
    cell(h, "max", int(d.max), d.max.map_or_else(dash, group_digits));
    h.push_str("</tr>\n");
}

fn dash() -> String {
    "–".to_string()
}

/// A median is a whole number or a half.
fn fmt_median(m: f64) -> String {
    if m.fract() == 0.0 && m.abs() < 1e18 {
        group_digits(m as u64)
    } else {
        format!("{m:.1}")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `1234567` → `1,234,567`.
pub fn group_digits(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// HTML text and attribute escaping.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A relative path as a URL path: each byte outside the unreserved set percent-encoded, `/` kept.
fn url(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A fragment id for a population.
fn anchor(population: &str) -> String {
    format!("pop-{}", url(population).replace('%', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(10_000_000), "10,000,000");
        assert_eq!(group_digits(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(url("a b/c%.png"), "a%20b/c%25.png");
    }
}
