"""The census in Python: ``count`` (whole, or one shard of it), ``merge`` (the shards' partial
files into one table file), ``read_tables``, ``info`` and the ``Census`` they return.

The work is done by the native module (``sonata_census._native``, the Rust library), with the
GIL released; this module checks the arguments (so that a wrong type is a ``TypeError`` naming the
keyword, not a conversion error) and wraps the results.
"""

import json
import os
import tempfile
import warnings

from . import _native

__all__ = ["Census", "Efferent", "Pathway", "count", "merge", "read_tables", "info"]

#: ``count``'s ``direction`` values.
DIRECTIONS = ("afferent", "efferent", "both")

#: The tables of a census, named as the datasets of a table file (``connections/`` omitted).
TABLES = (
    "target_synapse_count",
    "target_connection_count",
    "target_offsets",
    "source_node_id",
    "synapse_count",
    "synapses_per_connection",
    "target_nsyns_total",
)


class Census:
    """The census of one edge population.

    Tables (numpy arrays, named as the datasets of the table file ``count(output=...)`` writes;
    ``n_targets`` is the number of targets):

    - ``target_synapse_count`` (uint64, n_targets): synapses (edges) per target;
    - ``target_connection_count`` (uint64, n_targets): connections (distinct sources) per target;
    - ``target_offsets`` (uint64, n_targets + 1): the connections of target ``t`` are rows
      ``target_offsets[t]:target_offsets[t + 1]`` of the two following arrays;
    - ``source_node_id`` (uint64): the source of each connection, ascending within a target;
    - ``synapse_count`` (uint32): the synapses of each connection;
    - ``synapses_per_connection`` (uint64): entry ``k`` counts the connections of ``k`` synapses;
    - ``target_nsyns_total`` (uint64, n_targets, or None): for bmtk files with an ``nsyns``
      column, the per-target sum of ``nsyns``.

    And: ``population``, ``source_population`` / ``target_population`` (None when the file does
    not name them), ``edges``, ``connections``, ``n_targets``, ``order``
    (``"sorted_by_target_source"``, ``"sorted_by_target"`` or ``"unsorted"``: how the edge file
    is ordered), ``backend`` (``"cpu"``, ``"gpu: ADAPTER"``, or None for tables read from a
    file, which do not record the engine).

    A census restricted to node sets (``count(config, target_node_set=...)``) has
    ``table_kind`` ``"restricted"`` (else ``"full"``), ``target_node_set`` /
    ``source_node_set`` (None when not given), ``population_edges`` (every edge of the
    population; None when not restricted) beside ``edges`` (the edges counted).

    ``direction`` says which tables it has: ``"afferent"`` (per target, the tables above),
    ``"efferent"`` (per source only: ``efferent`` is set, and ``n_targets`` and the per-target
    tables are None) or ``"both"``. ``efferent``: an :class:`Efferent`, or None. ``pathways``:
    ``{attribute: Pathway}`` (empty without ``pathways=``). ``synapses_per_connection`` does not
    depend on the direction.
    """

    __slots__ = (
        "population",
        "source_population",
        "target_population",
        "edges",
        "connections",
        "n_targets",
        "order",
        "backend",
        "table_kind",
        "target_node_set",
        "source_node_set",
        "population_edges",
        "direction",
        "efferent",
        "pathways",
    ) + TABLES

    def __init__(self, fields):
        for name in self.__slots__:
            setattr(self, name, fields[name])
        if self.efferent is not None:
            self.efferent = Efferent(self.efferent)
        self.pathways = {a: Pathway(a, p) for a, p in self.pathways.items()}

    def connections_of(self, target):
        """The connections of ``target`` as two arrays: their sources and their synapses."""
        if self.n_targets is None:
            raise ValueError(f"{self.population}: an efferent-only census has no per-target tables")
        if not 0 <= target < self.n_targets:
            raise IndexError(f"target {target} is not in [0, {self.n_targets})")
        a, b = int(self.target_offsets[target]), int(self.target_offsets[target + 1])
        return self.source_node_id[a:b], self.synapse_count[a:b]

    def __repr__(self):
        backend = f", backend={self.backend!r}" if self.backend is not None else ""
        sets = [
            f"{side} node set {name!r}"
            for side, name in (("target", self.target_node_set), ("source", self.source_node_set))
            if name is not None
        ]
        restricted = f" of {self.population_edges} ({', '.join(sets)})" if sets else ""
        sides = []
        if self.n_targets is not None:
            sides.append(_plural(self.n_targets, "target"))
        if self.efferent is not None:
            sides.append(_plural(self.efferent.n_sources, "source"))
        pathways = f", pathways {sorted(self.pathways)}" if self.pathways else ""
        return (
            f"<Census {self.population!r}: {_plural(self.edges, 'edge')}{restricted}, "
            f"{_plural(self.connections, 'connection')}, {', '.join(sides)}, {self.order}"
            f"{pathways}"
            f"{backend}>"
        )


def _plural(n, word):
    """``n word`` or ``n words``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Efferent:
    """The efferent (per-source) tables of a census, named as the datasets of
    ``/<population>/efferent/`` (``n_sources`` sources: the source node population's size from
    a circuit config, else the source index's length, else the largest source id + 1, as
    ``n_sources_origin`` says):

    - ``source_synapse_count`` (uint64, n_sources): synapses (edges) per source;
    - ``source_connection_count`` (uint64, n_sources): connections (distinct targets) per source;
    - ``source_offsets`` (uint64, n_sources + 1): the connections of source ``s`` are rows
      ``source_offsets[s]:source_offsets[s + 1]`` of the two following arrays;
    - ``target_node_id`` (uint64): the target of each connection, ascending within a source;
    - ``synapse_count`` (uint32): the synapses of each connection.
    """

    __slots__ = (
        "n_sources",
        "n_sources_origin",
        "source_synapse_count",
        "source_connection_count",
        "source_offsets",
        "target_node_id",
        "synapse_count",
    )

    def __init__(self, fields):
        for name in self.__slots__:
            setattr(self, name, fields[name])

    def connections_of(self, source):
        """The connections of ``source`` as two arrays: their targets and their synapses."""
        if not 0 <= source < self.n_sources:
            raise IndexError(f"source {source} is not in [0, {self.n_sources})")
        a, b = int(self.source_offsets[source]), int(self.source_offsets[source + 1])
        return self.target_node_id[a:b], self.synapse_count[a:b]

    def __repr__(self):
        return f"<Efferent: {_plural(self.n_sources, 'source')} ({self.n_sources_origin})>"


class Pathway:
    """The pathway matrices of one node attribute (``S`` source values, ``T`` target values),
    as the datasets of ``/<population>/pathways/<attribute>/``:

    - ``source_values``, ``target_values``: the values some counted node has, in the
      attribute's order (an ``@library`` attribute's enumeration order, else ascending): a list
      of str for string and ``@library`` attributes, an int64 array for integer ones;
    - ``source_node_count`` (uint64, S), ``target_node_count`` (uint64, T): the nodes (of the
      node sets, when restricted) with each value;
    - ``synapses``, ``connections`` (uint64, S x T): synapses (edge rows; bmtk ``nsyns`` is not
      included) and connections (distinct (source, target) pairs) from source nodes of value
      ``source_values[i]`` to target nodes of value ``target_values[j]``;
    - ``pair_count`` (uint64, S x T): the possible connections, ``n_i * n_j`` less, for a node
      population onto itself, the nodes with both values (a node does not connect to itself).
    """

    __slots__ = (
        "attribute",
        "source_values",
        "target_values",
        "source_node_count",
        "target_node_count",
        "synapses",
        "connections",
        "pair_count",
    )

    def __init__(self, attribute, fields):
        self.attribute = attribute
        for name in self.__slots__[1:]:
            setattr(self, name, fields[name])

    @property
    def connection_probability(self):
        """``connections / pair_count`` (float64, S x T; NaN where no pair is possible)."""
        import numpy as np

        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.pair_count > 0, self.connections / self.pair_count, np.nan)

    @property
    def synapses_per_connection(self):
        """Mean synapses per connection, ``synapses / connections`` (NaN where none)."""
        import numpy as np

        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.connections > 0, self.synapses / self.connections, np.nan)

    def __repr__(self):
        s, t = self.synapses.shape
        return f"<Pathway {self.attribute!r}: {s} source x {t} target values>"


def _path(value, keyword):
    """``value`` as a filesystem path (str or os.PathLike), else a TypeError naming ``keyword``."""
    try:
        return os.fspath(value)
    except TypeError:
        raise TypeError(
            f"{keyword} must be a path (str or os.PathLike), not {type(value).__name__}"
        ) from None


def _count_arg(value, keyword, minimum):
    """``value`` as a whole number of at least ``minimum`` (None passes), else a TypeError or
    ValueError naming ``keyword``."""
    if value is None:
        return None
    # bool is an int in Python; True as a node count is a mistake.
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{keyword} must be an int, not {type(value).__name__}")
    value = value.__index__()
    if value < minimum:
        raise ValueError(f"{keyword} must be at least {minimum}, not {value}")
    if value >= 1 << 64:
        raise ValueError(f"{keyword} must be less than 2**64, not {value}")
    return value


def _names(populations):
    """``populations`` as a list of names (None passes: every population); one name may be
    given as a str."""
    if populations is None:
        return None
    if isinstance(populations, str):
        return [populations]
    names = list(populations)
    if not names:
        raise ValueError("populations is empty (None counts every population)")
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"populations must hold str names, not {type(n).__name__}")
    return names


def _quiet_mesa():
    """Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set" on stderr when
    they probe for a GPU in a session without one (cron, ssh, CI): point it at the temporary
    folder first, as the tool does. A value the process has is left alone."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.gettempdir()


def _by_population(dicts):
    result = {}
    for d in dicts:
        for note in d.pop("notes", ()):
            # What the tool prints on stderr besides its backend line: a GPU that failed and was
            # replaced by the CPU engine, notices of the GPU engine.
            warnings.warn(note, RuntimeWarning, stacklevel=3)
        result[d["population"]] = Census(d)
    return result


def count(
    path,
    populations=None,
    *,
    nodes_count=None,
    backend="auto",
    memory_budget_mib=None,
    spill_dir=None,
    output=None,
    force=False,
    target_node_set=None,
    source_node_set=None,
    node_sets=None,
    direction="afferent",
    pathways=None,
    shard=None,
):
    """The census of the edge populations of the SONATA edge file ``path``.

    ``path`` may be a circuit config (or a simulation config, whose ``network`` is followed),
    as the tool's ``count CONFIG``: a name ending in ``.json``, or a file starting with ``{``.
    Then every edge population of its ``networks.edges`` (or ``populations``) is counted, each
    with the size of its target node population as its number of targets; ``nodes_count`` is
    refused (``ValueError``).

    ``populations``: a name or a list of names (default: every population of the file).
    ``nodes_count``: the number of targets (length of the per-target tables); default: the
    target index's length, else the largest target id + 1. ``backend``: ``"auto"``, ``"cpu"``
    or ``"gpu"``, as the tool's ``--backend``. ``memory_budget_mib``: memory for grouping
    unsorted edges by target (default 1024), beyond which partitions spill to ``spill_dir``
    (default: the system's temporary folder). ``output``: also write the tables to this HDF5
    file, exactly as ``sonata-census count -o OUTPUT`` does (written under a temporary name and
    renamed when complete; an existing file is replaced only with ``force=True``).

    ``target_node_set`` / ``source_node_set`` (a circuit config only, as the tool's
    ``--target-node-set`` / ``--source-node-set``): count only the edges whose target (source)
    is in that node set, evaluated on each edge population's target (source) node population
    (a population lacking an attribute the set uses is an error). The sets come from the
    circuit's ``node_sets_file`` with ``node_sets`` (a file) laid over it. The tables keep their
    length (targets outside the set have none); ``Census.edges`` counts the edges counted.

    ``direction`` (as the tool's ``--direction``): ``"afferent"`` (per-target tables, the
    default), ``"efferent"`` (per-source tables only, ``Census.efferent``) or ``"both"``.
    ``pathways`` (a circuit config only, as ``--pathways``): node attribute names (a str or a
    list of str: ``"mtype"``, ``["mtype", "layer"]``) whose pathway matrices are computed from
    the same pass, ``Census.pathways[attribute]`` (a :class:`Pathway`), restricted to the node
    sets when given.

    ``shard=(i, n)`` (as the tool's ``count --shard i/N``; ``output`` is then required): count
    only shard ``i`` of ``n`` (two ints, 0-based), the edge rows ``[i*E//n, (i+1)*E//n)`` of
    each population of ``E`` edges, and write them as a *partial* table file for
    :func:`merge`: ``output`` with
    ``{rank}`` replaced by ``i``, else ``OUTPUT.shard-i-of-n.h5`` (``census.h5`` gives
    ``census.shard-2-of-4.h5``), byte for byte the file the tool writes. The other keywords are
    recorded in it (``direction``, ``pathways`` and the node sets are applied by ``merge``, which
    computes every table that is not additive across shards). Returns the path of the partial
    file (a ``str``), not a census. Each shard may run in its own process or on its own machine.

    Returns ``{population: Census}`` in the order counted. Reads and counting run with the GIL
    released; Ctrl-C stops the count between chunks (``KeyboardInterrupt``) and leaves no file
    behind. Errors: ``FileNotFoundError`` / ``OSError`` (files), ``KeyError`` (an unknown
    population), ``ValueError`` (invalid data or arguments), ``FileExistsError`` (``output``
    exists), ``RuntimeError`` (the GPU cannot run), each with the library's one-line message.
    """
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, not {type(backend).__name__}")
    shard = _shard(shard)
    if shard is not None and output is None:
        raise ValueError("shard needs output= (the partial file is written there)")
    if backend.lower() != "cpu":
        _quiet_mesa()
    args = (
        _path(path, "path"),
        _names(populations),
        _count_arg(nodes_count, "nodes_count", 0),
        backend,
        _count_arg(memory_budget_mib, "memory_budget_mib", 1),
        None if spill_dir is None else _path(spill_dir, "spill_dir"),
        None if output is None else _path(output, "output"),
        bool(force),
        _set_name(target_node_set, "target_node_set"),
        _set_name(source_node_set, "source_node_set"),
        None if node_sets is None else _path(node_sets, "node_sets"),
        _direction(direction),
        _attributes(pathways),
    )
    if shard is None:
        return _by_population(_native.count(*args))
    written, notes = _native.count_shard(*args, shard)
    for note in notes:
        # As count's: the lines the tool prints on stderr besides its backend line.
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    return written


def _shard(value):
    """``value`` as a shard ``(i, n)`` of two ints with ``0 <= i < n`` (None passes), else a
    TypeError or ValueError naming ``shard``."""
    if value is None:
        return None
    # A str is a sequence too: "0/4" (the tool's spelling) is refused with the right one.
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"shard must be a tuple (i, n), not {type(value).__name__}")
    if len(value) != 2:
        raise ValueError(f"shard must be a pair (i, n), not {len(value)} values: {tuple(value)!r}")
    for v in value:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"shard must hold two ints (i, n), not {type(v).__name__}")
    i, n = (v.__index__() for v in value)
    if not 1 <= n < 1 << 64:
        raise ValueError(f"shard (i, n): n must be at least 1 and less than 2**64, not {n}")
    if not 0 <= i < n:
        raise ValueError(f"shard (i, n): i must be in [0, n) (shards are 0-based), not {i} of {n}")
    return i, n


def _direction(value):
    """``value`` as a direction name, else a TypeError or ValueError."""
    if not isinstance(value, str):
        raise TypeError(f"direction must be a str, not {type(value).__name__}")
    if value not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {value!r}")
    return value


def _attributes(value):
    """``value`` (a str or a list of str) as a list of node attribute names (None passes)."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise ValueError("pathways is empty (None computes no pathway matrix)")
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"pathways must hold str attribute names, not {type(n).__name__}")
    return names


def _set_name(value, keyword):
    """``value`` as a node set name (None passes), else a TypeError naming ``keyword``."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{keyword} must be a str (a node set name), not {type(value).__name__}")


def merge(parts, output, *, force=False, spill_dir=None):
    """Merges the partial table files of a sharded count (``count(..., shard=(i, n))`` or the
    tool's ``count --shard i/N``, mixed freely) into ``output``, as ``sonata-census merge PARTS
    -o OUTPUT`` does: byte for byte the file ``count(..., output=OUTPUT)`` writes in one process.

    ``parts``: a list of paths (str or os.PathLike, in any order; an element holding ``*``,
    ``?`` or ``[`` that names no file is expanded as a glob pattern), or one path or glob
    pattern (``"census.shard-*-of-4.h5"``). The files must be every shard of one count, once;
    the input they counted is read again (it must still be where they read it) to compute the
    tables that are not additive across shards: connections per target, the histogram,
    efferent tables and pathway matrices. ``force``: replace an existing ``output``.
    ``spill_dir``: folder for the merged connection table's spill files (default: the system's
    temporary folder).

    Returns the merged census as ``{population: Census}`` in the order merged, read back from
    ``output`` as :func:`read_tables` reads it (``backend`` is None, and ``Census.pathways`` is
    in the file's order of attributes, not necessarily the order ``pathways=`` gave). Runs with
    the GIL released. Errors: as :func:`count`'s; a set of files that is not one count's shards
    (a shard missing or given twice, shards of different inputs or requests, a file that is not
    a partial file) is a ``ValueError`` naming the files. Nothing is left at ``output`` on
    error.
    """
    if isinstance(parts, (str, bytes)) or hasattr(parts, "__fspath__"):
        parts = [parts]
    try:
        parts = list(parts)
    except TypeError:
        raise TypeError(
            f"parts must be a path, a glob pattern or a list of paths, not {type(parts).__name__}"
        ) from None
    parts = [_path(p, "parts") for p in parts]
    if not parts:
        raise ValueError("parts is empty (give the partial files, or a glob pattern)")
    return _by_population(
        _native.merge(
            parts,
            _path(output, "output"),
            bool(force),
            None if spill_dir is None else _path(spill_dir, "spill_dir"),
        )
    )


def read_tables(path, populations=None):
    """The census tables of the table file ``path`` (written by ``count(output=...)`` or
    ``sonata-census count``), as ``{population: Census}`` with ``backend`` None. The tables are
    checked against each other (lengths, offsets, sums) as they are read.
    ``populations``: a name or a list of names (default: every census population of the file).
    """
    return _by_population(_native.read_tables(_path(path, "path"), _names(populations)))


def info(path, *, scan=True):
    """What ``sonata-census info PATH --json`` prints, as a dict: populations, node populations,
    edge counts, indices, edge order, attribute groups and columns. With ``scan=False``
    (``--no-scan``) only metadata is read. A population that cannot be described is listed in
    ``broken_populations`` with its error; a file whose every population is broken raises that
    error.
    """
    return json.loads(_native.info(_path(path, "path"), bool(scan)))
