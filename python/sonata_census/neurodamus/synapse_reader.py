"""``neurodamus.io.synapse_reader`` of neurodamus 4.2.9 (and the reader subclasses of its
``gap_junction``, ``neuromodulation_manager``, ``allen_point`` and ``ngv`` modules) on the Rust
port: this module owns the Python classes, their class attributes and the dicts and record
arrays they return; the reading itself is ``sonata_census._native.Reader``.

The ``SynapseParameters`` classes are neurodamus's, field for field (``_fields``, ``_optional``,
``_reserved``, inherited the same way), with its classmethods in numpy (``dt`` is a keyword:
there is no NEURON to read ``h.dt`` from). The readers' records are built by the library and
assembled here into a ``numpy.recarray`` of ``Parameters.dtype(extra_fields)``, one assignment
per field.
"""

import contextlib
import gc
import operator
import os

import numpy as np

from .. import _native

__all__ = [
    "SynapseParameters",
    "GapJunctionConnParameters",
    "ModulationConnParameters",
    "PointProcessConnParameters",
    "Exp2SynConnParameters",
    "NeuroGliaConnParameters",
    "SonataReader",
    "GapJunctionSynapseReader",
    "NeuroModulationSynapseReader",
    "PointProcessSynSynapseReader",
    "Exp2SynSynapseReader",
    "NeuroGlialSynapseReader",
    "MissingAttributeError",
]

#: neurodamus's default time step (NEURON's ``h.dt``), used by the delay patch.
DEFAULT_DT = 0.025

#: How the library's messages for an absent mandatory attribute begin.
_MISSING_ATTRIBUTE = ("Missing attribute ", "missing mandatory attribute ")


class MissingAttributeError(AttributeError, ValueError):
    """A mandatory attribute is absent from the edge file: neurodamus raises ``AttributeError``
    ("Missing attribute X in the SONATA edge file"); it is also a ``ValueError``, the type of
    every other bad-input error of this package."""


class SynapseParameters:
    """Synapse parameter names and dtypes for numpy recarrays (neurodamus 4.2.9's class)."""

    _fields = {
        "sgid": np.int64,
        "delay": np.float64,
        "isec": np.int32,
        "ipt": np.int32,
        "offset": np.float64,
        "weight": np.float64,
        "U": np.float64,
        "D": np.float64,
        "F": np.float64,
        "DTC": np.float64,
        "synType": np.int32,
        "nrrp": np.int32,
        "u_hill_coefficient": np.float64,
        "conductance_ratio": np.float64,
        "maskValue": np.float64,
        "location": np.float64,
    }

    _optional = {"u_hill_coefficient": 0.0, "conductance_ratio": -1.0}
    _reserved = {"maskValue": -1.0, "location": 0.5}

    @classmethod
    def all_fields(cls):
        """All field names (a set, as neurodamus)."""
        return set(cls._fields.keys())

    @classmethod
    def load_fields(cls):
        """All fields except the reserved ones (a set)."""
        return cls.all_fields() - set(cls._reserved.keys())

    @classmethod
    def dtype(cls, extra_fields=None):
        """The record dtype: ``_fields`` in order, then ``extra_fields`` as float64 in their
        iteration order."""
        fields = list(cls._fields.items())
        if extra_fields is not None:
            fields.extend((name, np.float64) for name in extra_fields)
        return np.dtype(fields)

    @classmethod
    def fields(cls, exclude=(), with_translation=None):
        """``[(field, attribute, is_optional)]`` with a translation dict, else
        ``[(field, is_optional)]``, over ``load_fields() - exclude`` in set order."""
        optional_keys = cls._optional.keys()
        fields = cls.load_fields() - exclude if exclude else cls.load_fields()
        if with_translation:
            return [(f, with_translation.get(f, f), f in optional_keys) for f in fields]
        return [(f, f in optional_keys) for f in fields]

    @staticmethod
    def _patch_delay_fp_inaccuracies(records, dt=DEFAULT_DT):
        """Rounds ``delay`` down to a multiple of ``dt`` after adding 1e-5 steps."""
        if len(records) == 0 or "delay" not in records.dtype.names:
            return
        records.delay = (records.delay / dt + 1e-5).astype("i4") * dt

    @staticmethod
    def _constrained_hill(K_half, y):  # noqa: N803 - neurodamus's name
        """The constrained Hill function ``(K^4 + 16) / 16 * y^4 / (K^4 + y^4)``."""
        K4 = K_half**4  # noqa: N806
        y4 = y**4
        return (K4 + 16) / 16 * y4 / (K4 + y4)

    @staticmethod
    def _patch_scale_U_param(syn_params, extra_cellular_calcium, extra_scale_vars):  # noqa: N802
        """Scales ``U`` and ``extra_scale_vars`` by the Hill factor of the calcium."""
        if (
            len(syn_params) == 0
            or extra_cellular_calcium is None
            or "u_hill_coefficient" not in syn_params.dtype.names
        ):
            return
        scale_factors = SynapseParameters._constrained_hill(
            syn_params.u_hill_coefficient, extra_cellular_calcium
        )
        syn_params.U *= scale_factors
        for var in extra_scale_vars:
            syn_params[var] *= scale_factors

    @classmethod
    def make_synapse_parameters_array(
        cls, data, extra_fields, extra_cellular_calcium, extra_scale_vars, dt=DEFAULT_DT
    ):
        """The recarray of ``data`` (``{field: array or scalar}``): reserved fields their
        constant, optional ones the data or their default, the rest from ``data``
        (``AttributeError`` when absent); then the delay patch and the calcium scaling. Empty
        ``data`` gives an empty array of the base dtype."""
        if not data:
            return np.recarray(0, dtype=cls.dtype(extra_fields=None))
        edge_count = len(next(iter(data.values())))
        arr = np.recarray(edge_count, dtype=cls.dtype(extra_fields=extra_fields))
        for name in arr.dtype.names:
            if name in cls._reserved:
                arr[name] = cls._reserved[name]
            elif name in cls._optional:
                arr[name] = data.get(name, cls._optional[name])
            elif name in data:
                arr[name] = data[name]
            else:
                raise MissingAttributeError(
                    f"Missing mandatory attribute {name} in the SONATA edge file"
                )
        cls._patch_delay_fp_inaccuracies(arr, dt)
        cls._patch_scale_U_param(arr, extra_cellular_calcium, extra_scale_vars)
        return arr


class GapJunctionConnParameters(SynapseParameters):
    """neurodamus's ``gap_junction.GapJunctionConnParameters`` (``_optional`` and ``_reserved``
    inherited)."""

    _fields = {
        "sgid": np.int64,
        "isec": np.int64,
        "offset": np.float64,
        "weight": np.float64,
        "efferent_junction_id": np.int64,
        "afferent_junction_id": np.int64,
        "ipt": np.float64,
        "location": np.float64,
    }


class ModulationConnParameters(SynapseParameters):
    """neurodamus's ``neuromodulation_manager.ModulationConnParameters``."""

    _fields = {
        "sgid": "int64",
        "delay": "float64",
        "isec": "int64",
        "offset": "float64",
        "neuromod_strength": "float64",
        "neuromod_dtc": "float64",
        "ipt": "float64",
        "location": "float64",
        "weight": "float64",
    }


class PointProcessConnParameters(SynapseParameters):
    """neurodamus's ``allen_point.PointProcessConnParameters``."""

    _fields = {
        "sgid": np.int64,
        "delay": np.float64,
        "isec": np.int32,
        "ipt": np.int32,
        "offset": np.float64,
        "weight": np.float64,
    }


class Exp2SynConnParameters(SynapseParameters):
    """neurodamus's ``allen_point.Exp2SynConnParameters`` (its own ``_optional``)."""

    _fields = {
        "sgid": np.int64,
        "delay": np.float64,
        "isec": np.int32,
        "ipt": np.int32,
        "offset": np.float64,
        "weight": np.float64,
        "synType": np.int32,
        "conductance_ratio": np.float64,
        "location": np.float64,
        "tau1": np.float64,
        "tau2": np.float64,
        "erev": np.float64,
    }
    _optional = {"conductance_ratio": -1.0, "synType": -1}


class NeuroGliaConnParameters(SynapseParameters):
    """neurodamus's ``ngv.NeuroGliaConnParameters`` (looked up by source: ``tgid`` first)."""

    _fields = {
        "tgid": np.int64,
        "synapse_id": np.int64,
        "astrocyte_section_id": np.int64,
        "astrocyte_segment_id": np.int64,
        "astrocyte_segment_offset": np.float64,
    }


#: Batches of at least this many gids build their dicts with Python's automatic garbage
#: collection paused (see ``_gc_paused``).
_GC_PAUSE_MIN_GIDS = 10_000


@contextlib.contextmanager
def _gc_paused():
    """Pauses automatic garbage collection while a large answer's dicts are made: every
    allocation of a dict counts towards a collection, and an all-gids answer (100,000 dicts)
    triggered a hundred, some of them full ones (10 % of the call). The dicts hold only numpy
    scalars, so no cycle is made meanwhile; the previous state is restored however the block
    ends, and ``gc.collect()`` still works."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _ids(tgids, negative_error):
    """``tgids`` as a uint64 array; negative or non-integer ids raise ``negative_error`` or
    ``TypeError`` (neurodamus: libsonata's ``TypeError`` in ``get_counts``, numpy's
    ``OverflowError`` from the uint32 cast in ``get_conn_counts``)."""
    array = np.asarray(tgids)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"node ids must be integers, not {array.dtype}")
    if array.dtype.kind == "i" and array.min() < 0:
        raise negative_error(f"node ids must not be negative: {int(array.min())}")
    return np.ascontiguousarray(array.astype(np.uint64, copy=False).ravel())


def _gid(gid):
    """One gid as a Python int >= 0 (``TypeError`` for a non-integer, ``ValueError`` for a
    negative one; libsonata refuses both too)."""
    value = operator.index(gid)
    if value < 0:
        raise ValueError(f"node ids must not be negative: {value}")
    return value


def _split_names(value):
    """A helper's attribute list: ``"a;b"`` (hoc's form) or an iterable of names."""
    if not value:
        return []
    if isinstance(value, str):
        return value.split(";")
    return list(value)


class SonataReader:
    """``neurodamus.io.synapse_reader.SonataReader`` of neurodamus 4.2.9: reads one edge
    population of a SONATA edge file.

    ``SonataReader(edge_file, population=None, *_, **kw)``: without a population the file must
    hold exactly one. Keywords as neurodamus: ``extracellular_calcium`` (None or a
    concentration), and ``dt`` (default 0.025, NEURON's ``h.dt``, which neurodamus reads from
    NEURON); others are ignored, as neurodamus ignores ``verbose``.

    ``census_tables="TABLES.h5"`` (not in neurodamus): answer ``get_counts`` and
    ``get_conn_counts`` from a census table file that ``sonata_census.count(edge_file,
    output=...)`` or ``sonata-census count`` wrote from this very file, reading only the rows of
    the gids asked about (never the edge file's id columns). Tables of another input, or of a
    kind that cannot answer every target, raise ``ValueError`` naming both files. The answers
    are the edge file's, exactly.
    """

    #: Computed properties that are always available.
    SYNAPSE_INDEX_NAMES = ("synapse_index",)
    #: Gids are targets (afferent edges).
    LOOKUP_BY_TARGET_IDS = True
    #: The record layout.
    Parameters = SynapseParameters
    #: The one shared empty dict returned for gids without edges (by identity, as neurodamus).
    EMPTY_DATA = {}
    #: Fields not read directly: the synapse position (``isec``, ``ipt``, ``offset``).
    custom_parameters = {"isec", "ipt", "offset"}
    #: Record field -> SONATA attribute.
    parameter_mapping = {
        "weight": "conductance",
        "U": "u_syn",
        "D": "depression_time",
        "F": "facilitation_time",
        "DTC": "decay_time",
        "synType": "syn_type_id",
        "nrrp": "n_rrp_vesicles",
        "conductance_ratio": "conductance_scale_factor",
    }
    #: What ``configure_override(name)`` sets for a ModOverride without keywords: ``{name:
    #: (NeededAttributes, UHillScaleVariables)}`` as the hoc helper ``<name>Helper`` declares
    #: them (``"a;b"`` strings). neurodamus loads the helper with NEURON; fill this (or pass the
    #: keywords) instead.
    override_helpers = {}
    #: The reader class in the library (``ReaderVariant::from_name``).
    _VARIANT = "sonata"

    def __init__(self, edge_file, population=None, *_, census_tables=None, **kw):
        self._ca_concentration = kw.get("extracellular_calcium")
        self._dt = float(kw.get("dt", DEFAULT_DT))
        self._native = self._open_native(edge_file, population)
        if census_tables is not None:
            # Refused (ValueError naming both files) unless a full census of this very input.
            self._native.use_census_tables(os.fspath(census_tables))
        self._init_caches()

    def _open_native(self, edge_file, population):
        """The library's reader on the population (the file is read from here on)."""
        return _native.Reader(
            os.fspath(edge_file),
            population or None,
            self._VARIANT,
            self._ca_concentration,
            self._dt,
        )

    def _init_caches(self):
        # gid -> recarray (neurodamus's _syn_params); gid -> {source: synapses} (_counts).
        self._syn_params = {}
        self._counts = {}
        self._dtypes = None

    @property
    def population(self):
        """The edge population's name."""
        return self._native.population

    def has_property(self, field_name):
        """Whether the population has the attribute ``field_name`` (or it is ``synapse_index``)."""
        return self._native.has_property(field_name)

    def configure_override(
        self, mod_override, *, needed_attributes=None, uhill_scale_variables=None
    ):
        """Adds the ModOverride's extra fields (``NeededAttributes``: float64 fields appended to
        the records, read from attributes of that name, mandatory) and scale variables
        (``UHillScaleVariables``: scaled like ``U`` by the calcium). Nothing when
        ``mod_override`` is falsy. The lists come from the keywords (``"a;b"`` or lists), else
        from ``override_helpers[mod_override]``; ``ValueError`` when neither names them (there
        is no NEURON to load ``<mod_override>Helper`` from). As in neurodamus, an empty list
        keeps the earlier setting. Unlike neurodamus (README), records built before are
        dropped, so that later ones include the new fields."""
        if not mod_override:
            return
        if needed_attributes is None and uhill_scale_variables is None:
            if mod_override not in self.override_helpers:
                raise ValueError(
                    f"ModOverride {mod_override}: its helper's NeededAttributes and "
                    "UHillScaleVariables are unknown without NEURON: pass needed_attributes= "
                    "and uhill_scale_variables=, or add it to override_helpers"
                )
            needed_attributes, uhill_scale_variables = self.override_helpers[mod_override]
        needed = _split_names(needed_attributes)
        scale = _split_names(uhill_scale_variables)
        # neurodamus keeps a set of the needed attributes: duplicates collapse.
        needed = sorted(set(needed))
        self._native.configure_override(needed, scale)
        if needed or scale:
            self._syn_params.clear()

    @property
    def _extra_fields(self):
        """The override's extra fields, as neurodamus's attribute (a set)."""
        return set(self._native.extra_fields())

    def get_synapse_parameters(self, gid):
        """The synapse parameter recarray of ``gid`` (``Parameters.dtype(extra fields)``, extra
        fields sorted by name; the base dtype when it has no edges), rows in edge-id order,
        the delay patch and, when the file has ``u_hill_coefficient`` and
        ``extracellular_calcium`` was given, the calcium scaling applied. Loaded on first use
        and cached (the same array on the next call)."""
        syn_params = self._syn_params.get(gid)
        if syn_params is None:
            try:
                columns = self._native.synapse_parameters(_gid(gid))
            except ValueError as e:
                # The library's two words for an absent attribute (while loading, and while
                # building the record): neurodamus raises AttributeError for both.
                if any(m in str(e) for m in _MISSING_ATTRIBUTE):
                    raise MissingAttributeError(str(e)) from None
                raise
            names = [name for name, _ in columns]
            base = list(self.Parameters._fields)
            dtype = self.Parameters.dtype(names[len(base) :] if names != base else None)
            syn_params = np.recarray(len(columns[0][1]) if columns else 0, dtype=dtype)
            for name, values in columns:
                syn_params[name] = values
            self._syn_params[gid] = syn_params
        return syn_params

    def get_property(self, gid, field_name):
        """A loaded property of a loaded gid (neurodamus's ``_data[gid][field_name]``): an array
        with libsonata's dtype (``uint64`` for ``sgid``/``tgid`` and ``synapse_index``, the
        attribute's stored type otherwise) or an int (-1 for an absent optional attribute,
        minimal mode's constants). ``KeyError`` when the gid was never loaded, has no edges,
        or the field was not loaded."""
        value = self._native.get_property(_gid(gid), field_name)
        if isinstance(value, np.ndarray):
            dtype = self._property_dtype(field_name)
            if dtype is not None and value.dtype != dtype:
                value = value.astype(dtype)
        return value

    def _property_dtype(self, field):
        """The dtype libsonata gives the values of ``field`` (None: keep the library's)."""
        if field in ("sgid", "tgid", *self.SYNAPSE_INDEX_NAMES):
            return np.dtype(np.uint64)
        if self._dtypes is None:
            self._dtypes = dict(self._native.attribute_dtypes())
        stored = self._dtypes.get(self._source_attribute(field))
        try:
            return np.dtype(stored) if stored else None
        except TypeError:  # enums, @library columns: no plain numpy type
            return None

    def _source_attribute(self, field):
        """The attribute ``field`` is read from: the position chain of ``_load_params_custom``
        for the custom fields, else the mapping."""
        if self.custom_parameters and field in ("isec", "ipt", "offset"):
            has = self.has_property
            if has("afferent_section_id"):
                if field == "isec":
                    return "afferent_section_id"
                for fraction in ("afferent_section_pos", "afferent_section_fraction"):
                    if has(fraction):
                        return fraction if field == "offset" else None
                return "afferent_segment_id" if field == "ipt" else "afferent_segment_offset"
            if field == "isec":
                return "morpho_section_id_post"
            if has("morpho_section_fraction_post"):
                return "morpho_section_fraction_post" if field == "offset" else None
            return "morpho_segment_id_post" if field == "ipt" else "morpho_offset_segment_post"
        return self.parameter_mapping.get(field, field)

    def preload_data(self, gids, minimal_mode=False):
        """Nothing unless ``minimal_mode`` and at least 1000 gids (neurodamus's rule); then the
        gids are loaded in chunks of 1000, one synapse (the lowest edge id) per gid with
        ``isec = 0``, ``ipt = -1``, ``offset = 0``. Off the GIL; Ctrl-C stops it between chunks
        with ``KeyboardInterrupt``."""
        chunk = 1000
        if not minimal_mode or len(gids) < chunk:
            return
        self._native.preload_data(_ids(gids, ValueError), True)

    def get_counts(self, tgids):
        """``{gid: synapses}``: the targets the file holds for ``tgids`` first (their edges'
        ``target_node_id`` values, ascending, as numpy ``uint64`` with ``int64`` counts), then
        every other requested gid, as given, with ``0``. Not cached."""
        # Built in Rust: dict(zip(targets, counts)), then setdefault(gid, 0) for each gid. A
        # list or tuple of plain ints is read there directly (None: anything else, converted and
        # checked here).
        if type(tgids) is list or type(tgids) is tuple:
            result = self._native.counts_dict_of_ints(tgids)
            if result is not None:
                return result
        return self._native.counts_dict(_ids(tgids, TypeError), tgids)

    def get_conn_counts(self, tgids):
        """``{gid: {source: synapses}}`` in the order of ``tgids`` (duplicates collapsed), sources
        ascending (numpy ``uint64`` keys, ``int64`` counts); ``EMPTY_DATA`` for gids without
        edges. Answers are cached per gid (gids without edges are looked up again each time)."""
        # (Not set(self._counts): the cache grows call after call.)
        missing = {tgid for tgid in tgids if tgid not in self._counts}
        if missing:
            ids = _ids(list(missing), OverflowError)
            ids.sort()
            # {target: dict(zip(sources, counts))} for the targets with edges, built in Rust.
            if len(ids) >= _GC_PAUSE_MIN_GIDS:
                with _gc_paused():
                    self._counts.update(self._native.conn_count_dicts(ids))
            else:
                self._counts.update(self._native.conn_count_dicts(ids))
        return {tgid: self._counts.get(tgid, self.EMPTY_DATA) for tgid in tgids}

    def get_conn_counts_arrays(self, tgids):
        """``get_conn_counts`` for bulk use, without dicts: ``(offsets, sources, synapses)``
        numpy arrays (``uint64``, ``uint64``, ``int64``) aligned with ``tgids`` (duplicates kept):
        the connections of ``tgids[i]`` are ``sources[offsets[i]:offsets[i + 1]]`` (ascending)
        with ``synapses[...]`` each; ids without edges have none. Not cached; not in neurodamus."""
        return self._native.conn_counts_arrays(_ids(tgids, OverflowError))


class GapJunctionSynapseReader(SonataReader):
    """neurodamus's ``gap_junction.GapJunctionSynapseReader``: only ``weight`` is mapped."""

    Parameters = GapJunctionConnParameters
    parameter_mapping = {"weight": "conductance"}
    _VARIANT = "gap-junction"


class NeuroModulationSynapseReader(SonataReader):
    """neurodamus's ``neuromodulation_manager.NeuroModulationSynapseReader``: ``weight`` is
    custom and always 1."""

    Parameters = ModulationConnParameters
    custom_parameters = {"isec", "ipt", "offset", "weight"}
    _VARIANT = "neuromodulation"


class PointProcessSynSynapseReader(SonataReader):
    """neurodamus's ``allen_point.PointProcessSynSynapseReader``."""

    Parameters = PointProcessConnParameters
    _VARIANT = "point-process"


class Exp2SynSynapseReader(SonataReader):
    """neurodamus's ``allen_point.Exp2SynSynapseReader``."""

    Parameters = Exp2SynConnParameters
    _VARIANT = "exp2syn"


class NeuroGlialSynapseReader(SonataReader):
    """neurodamus's ``ngv.NeuroGlialSynapseReader``: gids are sources (efferent edges, ``tgid``
    computed), no custom parameters."""

    LOOKUP_BY_TARGET_IDS = False
    Parameters = NeuroGliaConnParameters
    custom_parameters = set()
    _VARIANT = "neuroglial"
