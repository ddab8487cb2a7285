"""Drop-in replacements for neurodamus 4.2.9's readers (``neurodamus.io.synapse_reader`` and the
reader subclasses of its ``gap_junction``, ``neuromodulation_manager``, ``allen_point`` and
``ngv`` modules), on the Rust port in ``sonata_census``.

Implemented (module ``synapse_reader``, re-exported here):

- ``SonataReader`` and its subclasses ``GapJunctionSynapseReader``,
  ``NeuroModulationSynapseReader``, ``PointProcessSynSynapseReader``, ``Exp2SynSynapseReader``,
  ``NeuroGlialSynapseReader``, with neurodamus's class attributes (``SYNAPSE_INDEX_NAMES``,
  ``LOOKUP_BY_TARGET_IDS``, ``Parameters``, ``EMPTY_DATA``, ``custom_parameters``,
  ``parameter_mapping``) and methods ``get_synapse_parameters`` (a ``numpy.recarray`` of
  ``Parameters.dtype(...)``, built by the library), ``get_property``, ``preload_data``,
  ``configure_override``, ``get_counts``, ``get_conn_counts``, ``has_property``; beyond
  neurodamus, the keyword ``census_tables=`` (counts answered from a census table file of the
  very edge file, reading only the asked gids' rows) and ``get_conn_counts_arrays`` (the
  answer as numpy arrays, without dicts);
- ``SynapseParameters`` and the variant layouts (``GapJunctionConnParameters``,
  ``ModulationConnParameters``, ``PointProcessConnParameters``, ``Exp2SynConnParameters``,
  ``NeuroGliaConnParameters``) with ``all_fields``, ``load_fields``, ``dtype``, ``fields`` and
  ``make_synapse_parameters_array``;
- module ``cell_readers`` (neurodamus's ``io.cell_readers``): ``split_round_robin``,
  ``dry_run_distribution``, ``retrieve_unique_metypes`` (``_retrieve_unique_metypes``, on a
  node file and population name) and ``load_sonata``, returning plain ``METypeManager`` /
  ``METypeItem`` equivalents of neurodamus's classes.

The results equal neurodamus's: the same dicts, key and value types (numpy ``uint64`` keys and
``int64`` counts for what the file holds, the caller's own objects and ``0`` for the rest),
record dtypes and values, order and caching, except where the README's "Deliberate differences"
tables say otherwise (among them: an id of 2**32 or more in ``get_conn_counts`` is answered,
``{}``; a file of several populations opened without one raises ``ValueError`` naming them, not
``AssertionError``; extra override fields are sorted by name, not in ``set`` order; a later
``configure_override`` drops the cached records; minimal mode keeps one synapse per target on
files not grouped by target). Without NEURON, ``dt`` is a reader keyword (default 0.025) and
``configure_override`` takes the helper's attribute lists as keywords.

Bad input raises ``ValueError`` / ``KeyError`` / ``FileNotFoundError`` / ``OSError`` with the
library's one-line message; a missing mandatory attribute ``MissingAttributeError`` (an
``AttributeError``, as neurodamus, and a ``ValueError``).
"""

from .synapse_reader import (
    Exp2SynConnParameters,
    Exp2SynSynapseReader,
    GapJunctionConnParameters,
    GapJunctionSynapseReader,
    MissingAttributeError,
    ModulationConnParameters,
    NeuroGliaConnParameters,
    NeuroGlialSynapseReader,
    NeuroModulationSynapseReader,
    PointProcessConnParameters,
    PointProcessSynSynapseReader,
    SonataReader,
    SynapseParameters,
)

__all__ = [
    "SonataReader",
    "GapJunctionSynapseReader",
    "NeuroModulationSynapseReader",
    "PointProcessSynSynapseReader",
    "Exp2SynSynapseReader",
    "NeuroGlialSynapseReader",
    "SynapseParameters",
    "GapJunctionConnParameters",
    "ModulationConnParameters",
    "PointProcessConnParameters",
    "Exp2SynConnParameters",
    "NeuroGliaConnParameters",
    "MissingAttributeError",
    "cell_readers",
]

from . import cell_readers  # noqa: E402 - the submodule, after the reader's names
