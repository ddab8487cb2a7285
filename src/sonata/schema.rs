//! Names of SONATA datasets, groups and attributes, in one place.
//!
//! See `docs/SONATA_DEVELOPER_GUIDE.md` of AllenInstitute/sonata ("Representing edges") and the
//! BBP extension (BlueBrain/sonata-extension `sonata_tech.rst`). bmtk spells one index dataset
//! differently; both spellings are listed here.

/// Root group of edge populations.
pub const EDGES_GROUP: &str = "edges";
/// Root group of node populations.
pub const NODES_GROUP: &str = "nodes";
/// Per-edge source node id column, relative to the population group.
pub const SOURCE_NODE_ID: &str = "source_node_id";
/// Per-edge target node id column, relative to the population group.
pub const TARGET_NODE_ID: &str = "target_node_id";
/// Attribute on the id columns naming the node population.
pub const NODE_POPULATION_ATTR: &str = "node_population";
/// Per-edge attribute group id (absent in BBP files).
pub const EDGE_GROUP_ID: &str = "edge_group_id";
/// Per-edge row inside its attribute group (absent in BBP files).
pub const EDGE_GROUP_INDEX: &str = "edge_group_index";
/// Per-edge type id.
pub const EDGE_TYPE_ID: &str = "edge_type_id";
/// Index group.
pub const INDICES_GROUP: &str = "indices";
/// Index keyed by target node (afferent lookups).
pub const TARGET_TO_SOURCE: &str = "target_to_source";
/// Index keyed by source node (efferent lookups).
pub const SOURCE_TO_TARGET: &str = "source_to_target";
/// Per-node row ranges into `range_to_edge_id` (SONATA / libsonata spelling).
pub const NODE_ID_TO_RANGES: &str = "node_id_to_ranges";
/// Per-node row ranges, bmtk / Allen spelling.
pub const NODE_ID_TO_RANGE_BMTK: &str = "node_id_to_range";
/// Edge id ranges of the index.
pub const RANGE_TO_EDGE_ID: &str = "range_to_edge_id";
/// Enumeration tables of an attribute group.
pub const LIBRARY_GROUP: &str = "@library";
/// Per-edge dynamics parameter overrides of an attribute group.
pub const DYNAMICS_PARAMS_GROUP: &str = "dynamics_params";
/// bmtk: number of synapses one edge row stands for.
pub const NSYNS: &str = "nsyns";
