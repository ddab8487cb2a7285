//! The names of a census table file: every dataset and attribute that [`super::output`] writes
//! and [`super::reader`] reads, declared once (other tools depend on these exact names; the
//! README documents the layout).
//!
//! ```text
//! /<edge population>/                            attributes: source_node_population,
//!                                                target_node_population, edge_count (uint64),
//!                                                sorted_by_target (uint8),
//!                                                sonata_census_version; also
//!                                                sorted_by_target_source (uint8), n_targets (uint64);
//!                                                when the input is recorded (`count`): table_kind,
//!                                                input_file, input_size (uint64), input_fingerprint
//! /<edge population>/target_synapse_count        uint64 [n_targets]
//! /<edge population>/target_connection_count     uint64 [n_targets]
//! /<edge population>/connections/target_offsets  uint64 [n_targets + 1]
//! /<edge population>/connections/source_node_id  uint64 [n_connections]
//! /<edge population>/connections/synapse_count   uint32 [n_connections]
//! /<edge population>/synapses_per_connection     uint64 [k + 1]
//! /<edge population>/target_nsyns_total          uint64 [n_targets]  (bmtk `nsyns` files only)
//! ```
//! Restricted to node sets (`count --target-node-set/--source-node-set`), the group's
//! `table_kind` is `restricted`, `edge_count` counts the edges counted, and the attributes
//! `population_edge_count` (uint64, every edge of the population), `target_node_set`,
//! `source_node_set` (each when given) and `node_sets_file` (the names of the node-sets files the
//! sets came from, `; `-separated) record the restriction.
//!
//! Every group records `direction` (`afferent`, `efferent` or `both`; absent in files of
//! earlier versions: `afferent`). With `efferent` or `both`:
//! ```text
//! /<edge population>/efferent/                              attributes: n_sources (uint64),
//!                                                           n_sources_origin (text)
//! /<edge population>/efferent/source_synapse_count          uint64 [n_sources]
//! /<edge population>/efferent/source_connection_count       uint64 [n_sources]
//! /<edge population>/efferent/connections/source_offsets    uint64 [n_sources + 1]
//! /<edge population>/efferent/connections/target_node_id    uint64 [n_connections]
//! /<edge population>/efferent/connections/synapse_count     uint32 [n_connections]
//! ```
//! With `efferent` alone, the per-target tables and `connections/` are not written
//! (`synapses_per_connection` is: it does not depend on the direction).
//!
//! Pathway matrices (`count --pathways ATTR,...`), one group per node attribute:
//! ```text
//! /<edge population>/pathways/<ATTR>/source_values        text or int64 [S]
//! /<edge population>/pathways/<ATTR>/target_values        text or int64 [T]
//! /<edge population>/pathways/<ATTR>/source_node_count    uint64 [S]
//! /<edge population>/pathways/<ATTR>/target_node_count    uint64 [T]
//! /<edge population>/pathways/<ATTR>/synapses             uint64 [S, T]  (edge rows)
//! /<edge population>/pathways/<ATTR>/connections          uint64 [S, T]
//! /<edge population>/pathways/<ATTR>/pair_count           uint64 [S, T]  (possible connections)
//! ```
//! Dataset names are paths relative to the population's group; [`leaf`] gives the name inside
//! its own group, which is how the writer creates them.

/// Attribute: the source node population (or [`UNKNOWN_POPULATION`]).
pub const SOURCE_NODE_POPULATION: &str = "source_node_population";
/// Attribute: the target node population (or [`UNKNOWN_POPULATION`]).
pub const TARGET_NODE_POPULATION: &str = "target_node_population";
/// Attribute (uint64): edges of the population.
pub const EDGE_COUNT: &str = "edge_count";
/// Attribute (uint64): length of the per-target tables.
pub const N_TARGETS: &str = "n_targets";
/// Attribute (uint8): whether the counted edges were sorted by target.
pub const SORTED_BY_TARGET: &str = "sorted_by_target";
/// Attribute (uint8): whether the counted edges were sorted by (target, source).
pub const SORTED_BY_TARGET_SOURCE: &str = "sorted_by_target_source";
/// Attribute: the version of sonata-census that wrote the file.
pub const VERSION: &str = "sonata_census_version";

/// Attribute: what the tables count (`full`, `restricted`, `efferent`, `partial`:
/// [`super::provenance::TableKind`]).
pub const TABLE_KIND: &str = "table_kind";
/// Attribute: the name (last path component) of the edge file counted.
pub const INPUT_FILE: &str = "input_file";
/// Attribute (uint64): the size in bytes of the edge file counted.
pub const INPUT_SIZE: &str = "input_size";
/// Attribute: the fingerprint of the id columns counted ([`super::provenance::fingerprint`]).
pub const INPUT_FINGERPRINT: &str = "input_fingerprint";

/// Attribute (uint64), restricted tables: every edge of the population (`edge_count` counts
/// those counted).
pub const POPULATION_EDGE_COUNT: &str = "population_edge_count";
/// Attribute, restricted tables: the node set the targets were restricted to.
pub const TARGET_NODE_SET: &str = "target_node_set";
/// Attribute, restricted tables: the node set the sources were restricted to.
pub const SOURCE_NODE_SET: &str = "source_node_set";
/// Attribute, restricted tables: the names of the node-sets files the sets came from.
pub const NODE_SETS_FILE: &str = "node_sets_file";
/// Attribute of a partial table file's root (`count --shard`): the count it is a shard of, as
/// JSON ([`super::shard::ShardHeader`]); `merge` re-plans the count from it.
pub const SHARD_HEADER: &str = "shard_request";
/// Attribute (uint64), partial tables: this shard's index `i` (0-based).
pub const SHARD_INDEX: &str = "shard_index";
/// Attribute (uint64), partial tables: the number of shards `N`.
pub const SHARD_COUNT: &str = "shard_count";
/// Attribute (uint64), partial tables: the first edge row this shard counted.
pub const SHARD_FIRST_EDGE: &str = "shard_first_edge";
/// Attribute (uint64), partial tables: the edge row past the last this shard counted.
pub const SHARD_END_EDGE: &str = "shard_end_edge";
/// Attribute (uint64), partial tables: every edge of the population (`E`).
pub const SHARD_POPULATION_EDGES: &str = "shard_population_edge_count";
/// Attribute: which tables the group holds (`afferent`, `efferent`, `both`).
pub const DIRECTION: &str = "direction";

/// Group of the efferent tables.
pub const EFFERENT: &str = "efferent";
/// Attribute of [`EFFERENT`] (uint64): length of the per-source tables.
pub const N_SOURCES: &str = "n_sources";
/// Attribute of [`EFFERENT`]: where `n_sources` comes from, in words.
pub const N_SOURCES_ORIGIN: &str = "n_sources_origin";
/// Dataset: synapses (edges) per source.
pub const SOURCE_SYNAPSE_COUNT: &str = "efferent/source_synapse_count";
/// Dataset: connections (distinct targets) per source.
pub const SOURCE_CONNECTION_COUNT: &str = "efferent/source_connection_count";
/// Group of the efferent connection table (CSR by source).
pub const EFFERENT_CONNECTIONS: &str = "efferent/connections";
/// Dataset: CSR offsets of each source's connections, `n_sources + 1` entries.
pub const SOURCE_OFFSETS: &str = "efferent/connections/source_offsets";
/// Dataset: the target of each efferent connection, ascending within a source.
pub const TARGET_NODE_ID: &str = "efferent/connections/target_node_id";
/// Dataset (uint32): the synapses of each efferent connection.
pub const EFFERENT_SYNAPSE_COUNT: &str = "efferent/connections/synapse_count";

/// Group of the pathway matrices, one subgroup per node attribute.
pub const PATHWAYS: &str = "pathways";
/// Dataset of a pathway group: the source nodes' values (rows).
pub const PATHWAY_SOURCE_VALUES: &str = "source_values";
/// Dataset of a pathway group: the target nodes' values (columns).
pub const PATHWAY_TARGET_VALUES: &str = "target_values";
/// Dataset of a pathway group: source nodes per value.
pub const PATHWAY_SOURCE_NODE_COUNT: &str = "source_node_count";
/// Dataset of a pathway group: target nodes per value.
pub const PATHWAY_TARGET_NODE_COUNT: &str = "target_node_count";
/// Dataset of a pathway group: synapses (edge rows) per (source value, target value).
pub const PATHWAY_SYNAPSES: &str = "synapses";
/// Dataset of a pathway group: connections per (source value, target value).
pub const PATHWAY_CONNECTIONS: &str = "connections";
/// Dataset of a pathway group: possible connections per (source value, target value).
pub const PATHWAY_PAIR_COUNT: &str = "pair_count";

/// Dataset: synapses (edges) per target.
pub const TARGET_SYNAPSE_COUNT: &str = "target_synapse_count";
/// Dataset: connections (distinct sources) per target.
pub const TARGET_CONNECTION_COUNT: &str = "target_connection_count";
/// Group of the connection table (CSR by target).
pub const CONNECTIONS: &str = "connections";
/// Dataset: CSR offsets of each target's connections, `n_targets + 1` entries.
pub const TARGET_OFFSETS: &str = "connections/target_offsets";
/// Dataset: the source of each connection.
pub const SOURCE_NODE_ID: &str = "connections/source_node_id";
/// Dataset (uint32): the synapses of each connection.
pub const SYNAPSE_COUNT: &str = "connections/synapse_count";
/// Dataset: entry `k` counts the connections of exactly `k` synapses.
pub const SYNAPSES_PER_CONNECTION: &str = "synapses_per_connection";
/// Dataset, bmtk `nsyns` files only: the per-target sum of `nsyns`.
pub const TARGET_NSYNS_TOTAL: &str = "target_nsyns_total";

/// Value of the node population attributes when the edge file does not name the population.
pub const UNKNOWN_POPULATION: &str = "unknown";

/// The datasets whose presence (with an [`EDGE_COUNT`] attribute) makes a top-level group a
/// census population, in the order the "not a census table file" message lists them.
pub const REQUIRED: [&str; 3] = [
    TARGET_SYNAPSE_COUNT,
    TARGET_CONNECTION_COUNT,
    SYNAPSES_PER_CONNECTION,
];

/// The last component of a dataset path (`connections/target_offsets` → `target_offsets`): its
/// name inside its own group.
pub fn leaf(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}
