"""Drop-in replacements for neurodamus 4.2.9's readers (``neurodamus.io.synapse_reader``), on the
Rust port in ``sonata_census``.

So far: ``SonataReader`` with ``get_counts``, ``get_conn_counts`` and ``has_property`` (the calls
of neurodamus's dry run). The results equal neurodamus's: the same dicts, key and value types
(numpy ``uint64`` keys and ``int64`` counts for what the file holds, the caller's own objects and
``0`` for the rest), order and caching, except where the README's "Deliberate differences"
table says otherwise (an id of 2**32 or more in ``get_conn_counts`` is answered, ``{}``, not an
``OverflowError``; a file of several populations opened without one raises ``ValueError``
naming them, not ``AssertionError``).
"""

import os

import numpy as np

from .. import _native

__all__ = ["SonataReader"]


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


class SonataReader:
    """``neurodamus.io.synapse_reader.SonataReader`` of neurodamus 4.2.9: reads one edge
    population of a SONATA edge file.

    ``SonataReader(edge_file, population=None, *_, **kw)``: without a population the file must
    hold exactly one. Keywords as neurodamus: ``extracellular_calcium`` (None or a
    concentration), and ``dt`` (default 0.025, NEURON's ``h.dt``, which neurodamus reads from
    NEURON); others are ignored, as neurodamus ignores ``verbose``.
    """

    #: Computed properties that are always available.
    SYNAPSE_INDEX_NAMES = ("synapse_index",)
    #: Gids are targets (afferent edges).
    LOOKUP_BY_TARGET_IDS = True
    #: The one shared empty dict returned for gids without edges (by identity, as neurodamus).
    EMPTY_DATA = {}
    #: The reader class in the library (``ReaderVariant::from_name``).
    _VARIANT = "sonata"

    def __init__(self, edge_file, population=None, *_, **kw):
        self._ca_concentration = kw.get("extracellular_calcium")
        self._native = _native.Reader(
            os.fspath(edge_file),
            population or None,
            self._VARIANT,
            self._ca_concentration,
            float(kw.get("dt", 0.025)),
        )
        self._counts = {}

    @property
    def population(self):
        """The edge population's name."""
        return self._native.population

    def has_property(self, field_name):
        """Whether the population has the attribute ``field_name`` (or it is ``synapse_index``)."""
        return self._native.has_property(field_name)

    def get_counts(self, tgids):
        """``{gid: synapses}``: the targets the file holds for ``tgids`` first (their edges'
        ``target_node_id`` values, ascending, as numpy ``uint64`` with ``int64`` counts), then
        every other requested gid, as given, with ``0``. Not cached."""
        targets, counts = self._native.counts(_ids(tgids, TypeError))
        result = dict(zip(targets, counts))
        for gid in tgids:
            result.setdefault(gid, 0)
        return result

    def get_conn_counts(self, tgids):
        """``{gid: {source: synapses}}`` in the order of ``tgids`` (duplicates collapsed), sources
        ascending (numpy ``uint64`` keys, ``int64`` counts); ``EMPTY_DATA`` for gids without
        edges. Answers are cached per gid (gids without edges are looked up again each time)."""
        missing = set(tgids) - set(self._counts)
        if missing:
            ids = _ids(list(missing), OverflowError)
            ids.sort()
            targets, offsets, sources, counts = self._native.conn_counts(ids)
            for i, target in enumerate(targets):
                a, b = offsets[i], offsets[i + 1]
                self._counts[target] = dict(zip(sources[a:b], counts[a:b]))
        return {tgid: self._counts.get(tgid, self.EMPTY_DATA) for tgid in tgids}
