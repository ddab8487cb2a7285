//! Visual report of a census table file: per population, PNG and SVG histograms of synapses per
//! target, connections per target and synapses per connection (and per source, with efferent
//! tables), heatmaps of its pathway matrices, an `index.html` page with the summary numbers and
//! the plots, and `summary.json` with the same numbers.
//!
//! Layout of the report folder:
//! ```text
//! DIR/index.html                                  the page (self-contained, relative links)
//! DIR/summary.json                                the numbers (ReportSummary as JSON)
//! DIR/<population>/synapses_per_target.{png,svg}     not for an efferent-only census
//! DIR/<population>/connections_per_target.{png,svg}  not for an efferent-only census
//! DIR/<population>/synapses_per_source.{png,svg}     only with efferent tables
//! DIR/<population>/connections_per_source.{png,svg}  only with efferent tables
//! DIR/<population>/synapses_per_connection.{png,svg}
//! DIR/<population>/nsyns_per_target.{png,svg}      only for a bmtk census with `nsyns`
//! DIR/<population>/pathways_<attr>_synapses.{png,svg}                  per pathway attribute:
//! DIR/<population>/pathways_<attr>_connections.{png,svg}               heatmaps of the matrix
//! DIR/<population>/pathways_<attr>_probability.{png,svg}               (connections ÷ pairs)
//! DIR/<population>/pathways_<attr>_synapses_per_connection.{png,svg}
//! ```
//! With bmtk `nsyns` an edge row stands for several synapses: the census tables (and so the
//! histograms of the tables) count edge rows, and the page, `summary.json` and the `nsyns` plot
//! give the synapses (`target_nsyns_total`) beside them, each labelled with what it counts.
//! A census restricted to node sets names them (and the node-sets files, and the population's
//! edges beside those counted) on the page and in `summary.json`, which also records each
//! population's `direction` and the totals of each pathway attribute. The optional tables are
//! read only when the group records them ([`crate::census::stored`]), so files of earlier
//! versions give the report they gave.
//! `<population>` is the population name with every character outside `[A-Za-z0-9_.-]` replaced by
//! `_` (made unique when two names collide); `<attr>` is the pathway attribute, made safe the
//! same way (unique within its population). Heatmaps are at least the size asked, larger when
//! the matrix needs room for its labels ([`heatmap`]). Every file is first written into a
//! temporary folder inside `DIR` (`.sonata-census-report-XXXXXX.partial/`) and moved into place
//! when all are complete, `index.html` last; an existing report file is replaced only with
//! `force`, and never when it is not a regular file ([`crate::outputs`]'s rules). `DIR` is
//! created when missing, but not its parent. The staging folder (and `DIR` when created) is
//! registered with [`crate::interrupt`], so a signal leaves neither behind. The same tables give
//! byte-identical files.

pub mod binning;
pub mod heatmap;
pub mod html;
pub mod plot;
pub mod stats;
mod text;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Census;
use crate::census::derived::{Direction, PathwayMatrix};
use crate::census::reader::{CensusFile, ConnectionTable, nsyns_total};
use crate::census::stored;
use crate::error::{Error, Result};
use binning::{Bins, Spacing, bin_frequencies, bin_values};
use heatmap::{HeatmapSpec, Measure};
use html::group_digits;
use plot::PlotSpec;
use stats::{
    HeatmapFiles, PathwayPlots, PathwaySummary, PlotFiles, PopulationPlots, PopulationSummary,
};

/// Options of [`write_report`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Populations to report, in this order; empty: every census population of the file.
    pub populations: Vec<String>,
    /// Replace existing report files.
    pub force: bool,
    /// Width of each plot in pixels (PNG) and user units (SVG).
    pub width: u32,
    /// Height of each plot.
    pub height: u32,
}

/// Default plot size.
pub const DEFAULT_SIZE: (u32, u32) = (960, 600);
/// Smallest plot size that keeps the labels readable.
pub const MIN_SIZE: (u32, u32) = (480, 300);
/// Largest plot size (a PNG of 8192 × 8192 is 200 MiB of pixels before compression).
pub const MAX_SIZE: u32 = 8192;

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            populations: Vec::new(),
            force: false,
            width: DEFAULT_SIZE.0,
            height: DEFAULT_SIZE.1,
        }
    }
}

/// What a report contains: `summary.json` is this object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSummary {
    /// The census table file, as given.
    pub tables: String,
    /// Version of the tool that wrote the report.
    pub sonata_census_version: String,
    /// Each population reported, in order.
    pub populations: Vec<PopulationSummary>,
    /// Every file written, `index.html` last (not in the JSON).
    #[serde(skip)]
    pub files: Vec<PathBuf>,
}

/// The three plots of a population: file stem, and how to describe it.
const PLOTS: [&str; 3] = [
    "synapses_per_target",
    "connections_per_target",
    "synapses_per_connection",
];

/// The plot of synapses (sum of bmtk `nsyns`) per target, for censuses that have them.
const NSYNS_PLOT: &str = "nsyns_per_target";

/// The plots of the efferent tables, for censuses that have them.
const SOURCE_PLOTS: [&str; 2] = ["synapses_per_source", "connections_per_source"];

/// What a population's report holds, known before anything is drawn: which tables it has, and
/// its pathway matrices (read whole: `S × T` cells, small beside the per-target tables).
struct Plan {
    direction: Direction,
    nsyns: bool,
    pathways: Vec<PathwayMatrix>,
    /// The file name part of each pathway attribute (sanitised, unique in the population).
    pathway_stems: Vec<String>,
}

impl Plan {
    fn of(file: &CensusFile, tables_path: &Path, name: &str) -> Result<Plan> {
        let direction = file.direction(name)?;
        let pathways = stored::pathways(file, tables_path, name)?;
        let attributes: Vec<String> = pathways.iter().map(|m| m.attribute.clone()).collect();
        Ok(Plan {
            direction,
            nsyns: file.has_nsyns(name),
            pathway_stems: unique_names(&attributes, &[]),
            pathways,
        })
    }

    /// The stems of every plot file, in the order they are drawn.
    fn plot_stems(&self) -> Vec<String> {
        let mut stems: Vec<String> = Vec::new();
        if self.direction.afferent() {
            stems.extend(PLOTS[..2].iter().map(|s| s.to_string()));
        }
        if self.direction.efferent() {
            stems.extend(SOURCE_PLOTS.iter().map(|s| s.to_string()));
        }
        stems.push(PLOTS[2].to_string());
        if self.nsyns {
            stems.push(NSYNS_PLOT.to_string());
        }
        for attr in &self.pathway_stems {
            for m in Measure::ALL {
                stems.push(format!("pathways_{attr}_{}", m.stem()));
            }
        }
        stems
    }
}

/// The files of a pathway's heatmaps are made four at a time: one missing is a bug here, not
/// bad input, but reported as an error rather than a panic.
fn missing_heatmap(attribute: &str) -> Error {
    Error::InvalidArgument(format!(
        "internal error: a heatmap of pathway attribute '{attribute}' was not drawn"
    ))
}

/// Writes the report of `tables` into `out_dir` (created when missing; its parent must exist).
///
/// # Errors
/// [`Error::InvalidArgument`] for a plot size out of range; errors of the table file
/// ([`Error::InputFile`], [`Error::NotHdf5`], [`Error::InvalidData`] for a file that is not census
/// tables or whose tables disagree, [`Error::PopulationNotFound`]); [`Error::OutputExists`] when
/// a report file exists and `force` is off; [`Error::UnsuitableOutput`] when `out_dir` is not a
/// folder or a report file's path holds something other than a regular file; [`Error::Io`] for
/// the output folder or its missing parent; [`Error::Interrupted`].
pub fn write_report(
    tables: &Path,
    out_dir: &Path,
    options: &ReportOptions,
) -> Result<ReportSummary> {
    let (w, h) = (options.width, options.height);
    if w < MIN_SIZE.0 || h < MIN_SIZE.1 || w > MAX_SIZE || h > MAX_SIZE {
        return Err(Error::InvalidArgument(format!(
            "plot size {w}x{h} is out of range: {}x{} to {MAX_SIZE}x{MAX_SIZE}",
            MIN_SIZE.0, MIN_SIZE.1
        )));
    }
    crate::outputs::check_output_dir(out_dir)?;
    let file = CensusFile::open(tables)?;
    let all = file.populations().to_vec();
    // A shard's tables are a slice of the edges, and their connection counts are not the
    // population's: a report of them would look like a census and be wrong.
    for name in &all {
        // (A record that does not read is not this check's business: hand-made files have
        // none, and the tables are checked when read.)
        if file.provenance(name).is_ok_and(|p| {
            p.is_some_and(|p| p.kind == crate::census::provenance::TableKind::Partial)
        }) {
            return Err(Error::InvalidArgument(format!(
                "{}: population '{name}' is one shard of a sharded count (table_kind \
                 \"partial\"): merge the shards first (sonata-census merge)",
                tables.display()
            )));
        }
    }
    let names = if options.populations.is_empty() {
        all
    } else {
        let mut names: Vec<String> = Vec::new();
        for p in &options.populations {
            if !all.contains(p) {
                return Err(Error::PopulationNotFound {
                    at: crate::Location::file(tables),
                    name: p.clone(),
                    available: all,
                });
            }
            if !names.contains(p) {
                names.push(p.clone());
            }
        }
        names
    };
    let folders = folder_names(&names);
    // What each population has decides its files: read its tables' layout (and its pathway
    // matrices, small) first, so that every path is known before anything is written.
    let mut plans = Vec::with_capacity(names.len());
    for name in &names {
        plans.push(Plan::of(&file, tables, name)?);
    }
    let mut relative: Vec<PathBuf> = Vec::new();
    for (folder, plan) in folders.iter().zip(&plans) {
        for stem in plan.plot_stems() {
            for ext in ["png", "svg"] {
                relative.push(Path::new(folder).join(format!("{stem}.{ext}")));
            }
        }
    }
    relative.push("summary.json".into());
    relative.push("index.html".into());
    check_existing(out_dir, &folders, &relative, options.force)?;

    let created = crate::outputs::create_output_folder(out_dir)?;
    let registered = created.then(|| crate::interrupt::register_created_folder(out_dir));
    let result = build_and_install(
        tables, &file, out_dir, &names, &folders, plans, &relative, options,
    );
    if result.is_err() && created {
        // Only succeeds when empty: nothing of ours stays behind, nothing of anyone else goes.
        let _ = std::fs::remove_dir(out_dir);
    }
    drop(registered);
    result
}

#[allow(
    clippy::too_many_arguments,
    reason = "the pieces write_report has checked, passed on as they are"
)]
fn build_and_install(
    tables_path: &Path,
    file: &CensusFile,
    out_dir: &Path,
    names: &[String],
    folders: &[String],
    plans: Vec<Plan>,
    relative: &[PathBuf],
    options: &ReportOptions,
) -> Result<ReportSummary> {
    let staging = tempfile::Builder::new()
        .prefix(".sonata-census-report-")
        .suffix(".partial")
        .tempdir_in(out_dir)
        .map_err(|source| Error::Io {
            path: out_dir.to_path_buf(),
            source,
        })?;
    // Rendering has no long HDF5 call: the checks between plots stop it within the grace period,
    // and the forced clean-up removes the folder should it not.
    let _staging_registered = crate::interrupt::register(staging.path());
    let mut summary = ReportSummary {
        tables: tables_path.display().to_string(),
        sonata_census_version: crate::VERSION.to_string(),
        populations: Vec::new(),
        files: Vec::new(),
    };
    for ((name, folder), plan) in names.iter().zip(folders).zip(plans) {
        // One population at a time: only its per-target (and per-source) tables are in memory,
        // without the connection tables, which no number or plot needs.
        let tables = stored::read(file, tables_path, name, ConnectionTable::Skip)?;
        let t = &tables.census;
        let dir = staging.path().join(folder);
        create_dir(&dir)?;
        let afferent = tables.direction.afferent();
        let per_source = tables.efferent.is_some();
        let plots = PopulationPlots {
            synapses_per_target: afferent.then(|| plot_files(folder, PLOTS[0])),
            connections_per_target: afferent.then(|| plot_files(folder, PLOTS[1])),
            synapses_per_source: per_source.then(|| plot_files(folder, SOURCE_PLOTS[0])),
            connections_per_source: per_source.then(|| plot_files(folder, SOURCE_PLOTS[1])),
            synapses_per_connection: plot_files(folder, PLOTS[2]),
            nsyns_per_target: t
                .target_nsyns_total
                .is_some()
                .then(|| plot_files(folder, NSYNS_PLOT)),
        };
        let mut pathways = Vec::with_capacity(plan.pathways.len());
        for (m, stem) in plan.pathways.iter().zip(&plan.pathway_stems) {
            let mut files = Vec::with_capacity(Measure::ALL.len());
            for measure in Measure::ALL {
                crate::interrupt::check()?;
                let at = crate::Location::file(tables_path).population(name);
                let spec = HeatmapSpec::of(m, measure, name, &at)?;
                let file_stem = format!("pathways_{stem}_{}", measure.stem());
                let label = format!("{}/{file_stem}", out_dir.join(folder).display());
                let layout = heatmap::Layout::of(&spec, options.width, options.height);
                let png = heatmap::render_png(&spec, options.width, options.height, &label)?;
                write(&dir.join(format!("{file_stem}.png")), png.as_slice())?;
                crate::interrupt::check()?;
                let svg = heatmap::render_svg(&spec, options.width, options.height, &label)?;
                write(&dir.join(format!("{file_stem}.svg")), svg.as_bytes())?;
                files.push(HeatmapFiles {
                    png: format!("{folder}/{file_stem}.png"),
                    svg: format!("{folder}/{file_stem}.svg"),
                    width: layout.width,
                    height: layout.height,
                });
            }
            let mut files = files.into_iter();
            let mut next = || files.next().ok_or_else(|| missing_heatmap(&m.attribute));
            let plots = PathwayPlots {
                synapses: next()?,
                connections: next()?,
                probability: next()?,
                synapses_per_connection: next()?,
            };
            pathways.push(PathwaySummary::of(m, plots));
        }
        let pop = PopulationSummary::of(
            t,
            tables.direction,
            tables.restriction.as_ref(),
            tables.efferent.as_ref(),
            pathways,
            plots,
        );
        let nsyns = t
            .target_nsyns_total
            .as_deref()
            .map(|v| (NSYNS_PLOT, bin_values(v)));
        let per_target = afferent.then(|| {
            [
                (PLOTS[0], bin_values(&t.target_synapse_count)),
                (PLOTS[1], bin_values(&t.target_connection_count)),
            ]
        });
        let per_source = tables.efferent.as_ref().map(|e| {
            [
                (SOURCE_PLOTS[0], bin_values(&e.source_synapse_count)),
                (SOURCE_PLOTS[1], bin_values(&e.source_connection_count)),
            ]
        });
        for (stem, spec_bins) in per_target
            .into_iter()
            .flatten()
            .chain(per_source.into_iter().flatten())
            .chain([(PLOTS[2], bin_frequencies(&t.synapses_per_connection))])
            .chain(nsyns)
        {
            crate::interrupt::check()?;
            let spec = plot_spec(stem, t, &pop, &spec_bins);
            let label = format!("{}/{stem}", out_dir.join(folder).display());
            let png = plot::render_png(&spec, options.width, options.height, &label)?;
            write(&dir.join(format!("{stem}.png")), png.as_slice())?;
            crate::interrupt::check()?;
            let svg = plot::render_svg(&spec, options.width, options.height, &label)?;
            write(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        }
        summary.populations.push(pop);
    }
    let mut json = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::InvalidArgument(format!("cannot render JSON: {e}")))?;
    json.push('\n');
    write(&staging.path().join("summary.json"), json.as_bytes())?;
    let page = html::render(&summary, options.width, options.height);
    write(&staging.path().join("index.html"), page.as_bytes())?;

    // Everything is complete: move it into place, index.html last, unless interrupted (and a
    // signal's forced clean-up waits until every file is moved).
    crate::interrupt::commit(|| {
        check_existing(out_dir, folders, relative, options.force)?;
        for folder in folders {
            create_dir(&out_dir.join(folder))?;
        }
        for rel in relative {
            let to = out_dir.join(rel);
            std::fs::rename(staging.path().join(rel), &to).map_err(|source| Error::Io {
                path: to.clone(),
                source,
            })?;
            summary.files.push(to);
        }
        Ok(())
    })?;
    Ok(summary)
}

fn plot_files(folder: &str, stem: &str) -> PlotFiles {
    PlotFiles {
        png: format!("{folder}/{stem}.png"),
        svg: format!("{folder}/{stem}.svg"),
    }
}

/// The words of one plot.
fn plot_spec<'a>(stem: &str, t: &Census, pop: &PopulationSummary, bins: &'a Bins) -> PlotSpec<'a> {
    let log_x = bins.spacing == Spacing::Log;
    let log_y = bins.heights_span_decades();
    let unit_bins = bins.iter().all(|(lo, hi, _)| hi - lo == 1);
    let axis = |s: &str, log: bool| {
        if log {
            format!("{s} (log scale)")
        } else {
            s.to_string()
        }
    };
    let binning = if bins.is_empty() {
        String::new()
    } else if unit_bins {
        "one bar per value".to_string()
    } else if bins.per_value() {
        format!(
            "log-spaced bins, {} per decade; bar height = count ÷ bin width",
            binning::BINS_PER_DECADE
        )
    } else {
        format!("bins of {} values", bins.edges[1] - bins.edges[0])
    };
    let pct = |part: u64, whole: u64| {
        if whole == 0 {
            String::new()
        } else {
            format!(" ({:.1}%)", 100.0 * part as f64 / whole as f64)
        }
    };
    let name = short(&t.population, 48);
    // With bmtk nsyns a row is not a synapse: the tables count "edge rows", and say so.
    let row = if pop.has_nsyns() {
        "edge row"
    } else {
        "synapse"
    };
    let (what, x_desc, unit, notes, empty) = match stem {
        "synapses_per_target" => (
            format!("{row}s per target (in-degree)"),
            format!("{row}s per target"),
            "targets",
            vec![
                format!(
                    "{}, {}",
                    count(t.n_targets, "target"),
                    count(t.edge_count, row)
                ),
                format!(
                    "targets with no {row}s (in no bar): {}{}",
                    group_digits(bins.zeros),
                    pct(bins.zeros, t.n_targets)
                ),
            ],
            format!("no target has {}", with_article(row)),
        ),
        "connections_per_target" => (
            "connections per target".to_string(),
            "connections (distinct sources) per target".to_string(),
            "targets",
            vec![
                format!(
                    "{}, {}",
                    count(t.n_targets, "target"),
                    count(t.connection_count(), "connection")
                ),
                format!(
                    "targets with no connections (in no bar): {}{}",
                    group_digits(bins.zeros),
                    pct(bins.zeros, t.n_targets)
                ),
            ],
            "no target has a connection".to_string(),
        ),
        NSYNS_PLOT => (
            "synapses per target (sum of nsyns)".to_string(),
            "synapses per target (sum of bmtk nsyns)".to_string(),
            "targets",
            vec![
                format!(
                    "{}, {} in {}",
                    count(t.n_targets, "target"),
                    count(nsyns_total(t), "synapse"),
                    count(t.edge_count, "edge row")
                ),
                format!(
                    "targets with no synapses (in no bar): {}{}",
                    group_digits(bins.zeros),
                    pct(bins.zeros, t.n_targets)
                ),
            ],
            "no target has a synapse".to_string(),
        ),
        "synapses_per_source" | "connections_per_source" => {
            let (sources, connections) = pop
                .efferent
                .as_ref()
                .map_or((0, 0), |e| (e.sources, e.connections));
            let synapses = stem == "synapses_per_source";
            let (what, x_desc, total, empty) = if synapses {
                (
                    format!("{row}s per source (out-degree)"),
                    format!("{row}s per source"),
                    count(t.edge_count, row),
                    format!("no source has {}", with_article(row)),
                )
            } else {
                (
                    "connections per source".to_string(),
                    "connections (distinct targets) per source".to_string(),
                    count(connections, "connection"),
                    "no source has a connection".to_string(),
                )
            };
            let noun = if synapses {
                format!("{row}s")
            } else {
                "connections".to_string()
            };
            (
                what,
                x_desc,
                "sources",
                vec![
                    format!("{}, {total}", count(sources, "source")),
                    format!(
                        "sources with no {noun} (in no bar): {}{}",
                        group_digits(bins.zeros),
                        pct(bins.zeros, sources)
                    ),
                ],
                empty,
            )
        }
        _ => (
            format!("{row}s per connection"),
            format!("{row}s per connection"),
            "connections",
            vec![
                format!(
                    "{}, {}",
                    // Counted by target, or by source for an efferent-only census.
                    count(pop.connections, "connection"),
                    count(t.edge_count, row)
                ),
                match pop.synapses_per_connection.mean {
                    Some(m) => format!("mean {m:.2} {row}s per connection"),
                    None => String::new(),
                },
            ],
            "no connection".to_string(),
        ),
    };
    let mut notes: Vec<String> = notes.into_iter().filter(|s| !s.is_empty()).collect();
    if !binning.is_empty() {
        notes.push(binning);
    }
    let y_desc = if unit_bins {
        unit.to_string()
    } else if bins.per_value() {
        format!("{unit} per value")
    } else {
        format!("{unit} per bin")
    };
    PlotSpec {
        title: format!("{name}: {what}"),
        x_desc: axis(&x_desc, log_x),
        y_desc: axis(&y_desc, log_y),
        bins,
        notes,
        empty_message: empty,
    }
}

/// "1 target", "2,000 targets".
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", group_digits(n))
    }
}

/// "a synapse", "an edge row".
fn with_article(noun: &str) -> String {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {noun}")
    } else {
        format!("a {noun}")
    }
}

/// `s` cut to `max` characters with an ellipsis.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Folder names for populations: characters outside `[A-Za-z0-9_.-]` become `_`, a leading dot
/// becomes `_`, and collisions (case-insensitive, with each other and with the report's own
/// files) get `-2`, `-3`, ….
pub fn folder_names(populations: &[String]) -> Vec<String> {
    unique_names(populations, &["index.html", "summary.json"])
}

/// `names` sanitised as [`folder_names`] does, unique (case-insensitively) among themselves and
/// with `reserved`.
fn unique_names(names: &[String], reserved: &[&str]) -> Vec<String> {
    let mut taken: HashSet<String> = reserved.iter().map(|s| s.to_string()).collect();
    names
        .iter()
        .map(|p| {
            let mut base: String = p
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if base.is_empty() || base.starts_with('.') {
                base.insert(0, '_');
            }
            let mut name = base.clone();
            let mut k = 2;
            while taken.contains(&name.to_ascii_lowercase()) {
                name = format!("{base}-{k}");
                k += 1;
            }
            taken.insert(name.to_ascii_lowercase());
            name
        })
        .collect()
}

/// Checks the report's paths in `out_dir`: each population folder is a folder (or missing), each
/// file a regular file (or missing; replaced only with `force`).
fn check_existing(
    out_dir: &Path,
    folders: &[String],
    relative: &[PathBuf],
    force: bool,
) -> Result<()> {
    for folder in folders {
        let path = out_dir.join(folder);
        // A link to a folder is a folder here: the files are written inside it.
        if let Ok(meta) = std::fs::metadata(&path)
            && !meta.is_dir()
        {
            return Err(Error::UnsuitableOutput {
                path,
                reason: "is not a folder: the report puts this population's plots in a folder \
                         of that name; move it away"
                    .into(),
            });
        }
    }
    for rel in relative {
        let path = out_dir.join(rel);
        if crate::outputs::check_output_kind(&path)? && !force {
            return Err(Error::OutputExists { path });
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_safe_and_unique() {
        let names: Vec<String> = [
            "All__All__chemical",
            "a b",
            "a_b",
            "A_B",
            ".hidden",
            "summary.json",
            "x/y",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            folder_names(&names),
            vec![
                "All__All__chemical",
                "a_b",
                "a_b-2",
                "A_B-3",
                "_.hidden",
                "summary.json-2",
                "x_y",
                "_"
            ]
        );
    }

    #[test]
    fn long_names_are_shortened() {
        assert_eq!(short("abc", 5), "abc");
        assert_eq!(short("abcdefgh", 5), "abcd…");
    }
}
