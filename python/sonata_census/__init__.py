"""sonata_census: the census of SONATA circuits, in Python.

For every edge population of a SONATA edge file, exactly: per target node the number of synapses
and of distinct source nodes (connections), every (target, source) connection with its synapse
count, and the histogram of synapses per connection, as numpy arrays::

    import sonata_census
    census = sonata_census.count("edges.h5")           # {population: Census}
    for name, c in census.items():
        print(name, c.edges, c.connections, c.target_synapse_count[:10])

``count(..., output="census.h5")`` also writes the tables file ``sonata-census count`` writes;
``count(..., output="census.h5", shard=(i, n))`` counts shard ``i`` of ``n`` into a partial
file, and ``merge`` merges the partial files into that same tables file; ``read_tables`` reads
one back; ``info`` describes an edge file (``sonata-census info --json``).
With a circuit config, ``count(config, direction="both", pathways=["mtype", "layer"],
target_node_set="Layer5")`` also gives per-source tables (``Census.efferent``) and pathway
matrices (``Census.pathways["mtype"]``), restricted to node sets. ``NodeSets`` evaluates SONATA node sets, as libsonata's class of that name (its ``materialize``
returns the node ids as a numpy array).
The native part is the Rust library ``sonata-census`` (with HDF5 2.2 linked in, independent of
h5py's or libsonata's HDF5).
"""

from . import _native
from ._census import Census, Efferent, Pathway, count, info, merge, read_tables
from ._native import NodeSets

__version__ = _native.__version__
#: The HDF5 release the module reads and writes with.
HDF5_VERSION = _native.HDF5_VERSION

__all__ = [
    "Census",
    "Efferent",
    "Pathway",
    "NodeSets",
    "count",
    "merge",
    "read_tables",
    "info",
    "HDF5_VERSION",
    "__version__",
]
