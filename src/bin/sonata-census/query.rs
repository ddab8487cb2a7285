//! `sonata-census query`: neurodamus `SonataReader` answers as JSON on stdout, so they can be
//! diffed against neurodamus (`get_counts`, `get_conn_counts`, `get_synapse_parameters`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sonata_census::Result;
use sonata_census::census::CensusOptions;
use sonata_census::neurodamus::{Column, ReaderOptions, ReaderVariant, SonataReader};
use sonata_census::progress::Progress;

use crate::args::BackendArg;

const QUERY_HELP: &str = "\
Examples:
  sonata-census query counts edges.h5 -p All__All__chemical --targets 0,1,2
      {\"0\": 2, \"1\": 2, \"2\": 0}
  sonata-census query conn-counts edges.h5 --targets @targets.txt
      {\"0\": {\"1\": 2}, \"1\": {\"0\": 2}, \"2\": {}}
  sonata-census query synapses edges.h5 --gid 0 --calcium 1.2 --dt 0.025";

const COUNTS_HELP: &str = "\
Examples:
  sonata-census query counts edges.h5 -p All__All__chemical --targets 0,1,2
  # Many targets: one id per line; one census of the whole population answers them
  sonata-census query counts edges.h5 --targets @ids.txt --census --backend cpu
  # Answered from census tables made once (`count edges.h5 -o tables.h5`): only the targets'
  # rows of tables.h5 are read
  sonata-census query counts edges.h5 --targets @ids.txt --tables tables.h5";

const CONN_COUNTS_HELP: &str = "\
Examples:
  sonata-census query conn-counts edges.h5 -p All__All__chemical --targets 0,1,2
  sonata-census query conn-counts edges.h5 --targets @targets.txt --census
  sonata-census query conn-counts edges.h5 --targets @ids.txt --tables tables.h5";

const SYNAPSES_HELP: &str = "\
Examples:
  sonata-census query synapses edges.h5 --gid 0 --calcium 1.2 --dt 0.025
  sonata-census query synapses edges.h5 -p All__All__chemical --gid 7 \\
      --extra-fields u_syn --scale-vars u_syn
  sonata-census query synapses gap_junctions.h5 --gid 3 --reader gap-junction";

/// Arguments of `query`.
#[derive(Debug, Args)]
#[command(after_help = QUERY_HELP)]
pub struct QueryArgs {
    /// What to ask.
    #[command(subcommand)]
    pub what: QueryCommand,
}

/// The questions `query` answers.
#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// Synapses per target (`get_counts`): `{"target": count}`, targets found in the file first
    /// (ascending), then requested targets without edges with 0.
    #[command(after_help = COUNTS_HELP)]
    Counts(TargetsArgs),
    /// Synapses per (target, source) (`get_conn_counts`): `{"target": {"source": count}}` in
    /// request order, `{}` for targets without edges.
    #[command(after_help = CONN_COUNTS_HELP)]
    ConnCounts(TargetsArgs),
    /// The synapse parameter records of one gid (`get_synapse_parameters`): one JSON object
    /// whose keys are the record fields in record order, each a list of values.
    #[command(after_help = SYNAPSES_HELP)]
    Synapses(SynapsesArgs),
}

/// The file and population to read.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// SONATA edge file.
    pub file: PathBuf,
    /// Edge population (may be left out when the file has exactly one).
    #[arg(short, long)]
    pub population: Option<String>,
}

/// Arguments of `query counts` and `query conn-counts`.
#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// File and population.
    #[command(flatten)]
    pub file: FileArgs,
    /// Target node ids: comma-separated (`0,1,2`) or `@PATH` (one id per line).
    // Hyphen values reach parse_targets, which says "'-1' is negative" in one line.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub targets: String,
    /// Count the whole population once with the census engine and answer from it (for lists
    /// covering much of the population) instead of reading the targets' edges through the index.
    #[arg(long, conflicts_with = "tables")]
    pub census: bool,
    /// Answer from census tables that `sonata-census count FILE -o TABLES.h5` wrote, reading
    /// only the targets' rows (not the edge file's id columns); tables of another input are
    /// refused.
    #[arg(long, value_name = "TABLES.h5")]
    pub tables: Option<PathBuf>,
    /// Census engine with --census: auto picks a real GPU when there is one, else the CPU.
    // No `env`: SONATA_CENSUS_BACKEND would then count as given and require --census.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, requires = "census")]
    pub backend: BackendArg,
}

/// Arguments of `query synapses`.
#[derive(Debug, Args)]
pub struct SynapsesArgs {
    /// File and population.
    #[command(flatten)]
    pub file: FileArgs,
    /// The gid (target node id; source node id for `--reader neuroglial`).
    #[arg(long, allow_hyphen_values = true)]
    pub gid: String,
    /// The neurodamus reader class: sonata, gap-junction, neuromodulation, point-process,
    /// exp2syn, neuroglial.
    #[arg(long, default_value = "sonata")]
    pub reader: String,
    /// Extracellular calcium: scales U (and --scale-vars) when the file has u_hill_coefficient.
    #[arg(long)]
    pub calcium: Option<f64>,
    /// NEURON's dt, for the delay patch.
    #[arg(long, default_value_t = 0.025)]
    pub dt: f64,
    /// ModOverride NeededAttributes: extra f64 fields (mandatory attributes), comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub extra_fields: Vec<String>,
    /// ModOverride UHillScaleVariables: fields scaled like U, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub scale_vars: Vec<String>,
}

/// Runs `query`.
pub fn run(args: &QueryArgs) -> Result<()> {
    let text = match &args.what {
        QueryCommand::Counts(a) => {
            let targets = parse_targets(&a.targets)?;
            let mut reader = open_counting(a)?;
            let counts = reader.get_counts(&targets)?;
            let items: Vec<String> = counts
                .iter()
                .map(|(t, n)| format!("\"{t}\": {n}"))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        QueryCommand::ConnCounts(a) => {
            let targets = parse_targets(&a.targets)?;
            let mut reader = open_counting(a)?;
            let counts = reader.get_conn_counts(&targets)?;
            let items: Vec<String> = counts
                .iter()
                .map(|(t, per_source)| {
                    let inner: Vec<String> = per_source
                        .iter()
                        .map(|(s, n)| format!("\"{s}\": {n}"))
                        .collect();
                    format!("\"{t}\": {{{}}}", inner.join(", "))
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        QueryCommand::Synapses(a) => {
            let gid = sonata_census::ids::parse_id(&a.gid, "--gid")?;
            let options = ReaderOptions {
                variant: ReaderVariant::from_name(&a.reader)?,
                extracellular_calcium: a.calcium,
                dt: a.dt,
            };
            let mut reader = open(&a.file, options)?;
            reader.configure_override(&a.extra_fields, &a.scale_vars);
            let table = reader.get_synapse_parameters(gid)?;
            let items: Vec<String> = table
                .columns()
                .map(|(name, column)| format!("\"{name}\": [{}]", values(column).join(", ")))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    };
    crate::console::print_stdout(&format!("{text}\n"))
}

fn open(file: &FileArgs, options: ReaderOptions) -> Result<SonataReader> {
    SonataReader::open(&file.file, file.population.as_deref(), options)
}

/// The reader of `counts` / `conn-counts`, with the census counted first under `--census`, or
/// answering from `--tables`.
fn open_counting(args: &TargetsArgs) -> Result<SonataReader> {
    let mut reader = open(&args.file, ReaderOptions::default())?;
    if let Some(tables) = &args.tables {
        reader.use_census_tables(tables)?;
    }
    if args.census {
        let options = CensusOptions {
            backend: args.backend.into(),
            ..CensusOptions::default()
        };
        let options = crate::args::engine_options_from_env(options)?;
        let progress = Progress::stderr("counting", reader.population().size(), "edges");
        reader.count_with_census(&options, &progress)?;
        progress.finish();
    }
    Ok(reader)
}

/// JSON numbers of a column: integers as integers, floats in shortest round-trip form.
fn values(column: &Column) -> Vec<String> {
    fn float(v: f64) -> String {
        // JSON has no NaN or infinity; serde_json writes them as null.
        serde_json::to_string(&v).unwrap_or_else(|_| "null".to_string())
    }
    match column {
        Column::I32(a) => a.iter().map(i32::to_string).collect(),
        Column::I64(a) => a.iter().map(i64::to_string).collect(),
        Column::F64(a) => a.iter().map(|&v| float(v)).collect(),
    }
}

/// `LIST`: comma-separated ids, or `@PATH` with one id per line (blank lines skipped).
fn parse_targets(list: &str) -> Result<Vec<u64>> {
    sonata_census::ids::parse_id_list(list, "--targets")
}
