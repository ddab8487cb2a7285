"""``neurodamus.io.cell_readers`` of neurodamus 4.2.9 on the Rust port: how cells are spread over
ranks (``split_round_robin``, ``dry_run_distribution``), the me-type grouping of the dry run
(``retrieve_unique_metypes``, neurodamus's ``_retrieve_unique_metypes``) and ``load_sonata``.
This module owns the Python signatures and result types; the reading and the distribution are
the library's (``sonata_census._native``).

Where neurodamus returns its own NEURON-bound classes, these return plain equivalents with the
same fields: ``METypeManager`` (a dict gid -> ``METypeItem``) and ``METypeItem`` (neurodamus's
slots, with ``position`` and ``rotation`` instead of ``local_to_global_matrix``, which needs
scipy and NEURON's coordinate-mapping options). Node populations are named by file (a node file
or a ``circuit_config.json``) and population name instead of an open libsonata population.
"""

import json
import os
from collections import defaultdict

import numpy as np

from .. import _native

__all__ = [
    "EMPTY_GIDVEC",
    "METypeItem",
    "METypeManager",
    "split_round_robin",
    "dry_run_distribution",
    "retrieve_unique_metypes",
    "load_sonata",
]

#: What neurodamus returns for no gids.
EMPTY_GIDVEC = np.empty(0, dtype="uint32")

#: Cells per me-type whose info the dry run loads (neurodamus's ``CELL_NODE_INFO_LIMIT``).
CELL_NODE_INFO_LIMIT = 100


def _u64(gids):
    """Ids as a contiguous uint64 array (``ValueError`` for negative ids, ``TypeError`` for
    non-integers)."""
    array = np.asarray(gids)
    if array.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"node ids must be integers, not {array.dtype}")
    if array.dtype.kind == "i" and array.min() < 0:
        raise ValueError(f"node ids must not be negative: {int(array.min())}")
    return np.ascontiguousarray(array.astype(np.uint64, copy=False).ravel())


def _round_robin_dtype(all_gids, stride, stride_offset):
    """The dtype of neurodamus's ``np.sort(all_gids[stride_offset::stride])``: the slice's, so
    an empty slice of a list is float64."""
    chosen = all_gids[int(stride_offset) :: int(stride)] if stride > 1 else all_gids
    return np.asarray(chosen).dtype


def split_round_robin(all_gids, stride=1, stride_offset=0, total_cells=None):
    """The gids of rank ``stride_offset`` of ``stride``: ``all_gids[stride_offset::stride]``
    sorted (all of them, sorted, for ``stride <= 1``), in the dtype numpy gives
    ``all_gids``; without gids ``arange(stride_offset, total_cells, stride)`` as ``uint32``
    (``ValueError`` without ``total_cells``, where neurodamus asserts)."""
    if all_gids is not None:
        out = _native.split_round_robin(_u64(all_gids), int(stride), int(stride_offset), None)
        return out.astype(_round_robin_dtype(all_gids, stride, stride_offset))
    out = _native.split_round_robin(
        None, int(stride), int(stride_offset), None if total_cells is None else int(total_cells)
    )
    return out.astype(np.uint32)


def dry_run_distribution(gid_metype_bundle, stride=1, stride_offset=0):
    """Whole me-type bundles round robin: bundles ``stride_offset, stride_offset + stride,
    ...`` concatenated in bundle order (every bundle for stride 1), in the dtype numpy's
    ``concatenate`` gives them; ``EMPTY_GIDVEC`` when there are none."""
    if not gid_metype_bundle:
        return EMPTY_GIDVEC
    bundles = [np.asarray(b) for b in gid_metype_bundle]
    out = _native.dry_run_distribution([_u64(b) for b in bundles], int(stride), int(stride_offset))
    # The library answers; the dtype is the one numpy's concatenate gives the chosen bundles.
    chosen = bundles if stride == 1 else bundles[int(stride_offset) :: int(stride)]
    return out.astype(np.result_type(*chosen)) if chosen else EMPTY_GIDVEC


def retrieve_unique_metypes(node_file, node_population, all_gids, skip_metypes=()):
    """neurodamus's ``_retrieve_unique_metypes`` on ``node_population`` of ``node_file``:
    ``({"mtype-etype": uint32 gids in input order}, {"mtype-etype": count})``, me-types in
    first-seen order; skipped me-types are left out of the first and counted in the second (a
    ``defaultdict(int)``, as neurodamus)."""
    groups, counts = _native.retrieve_unique_metypes(
        os.fspath(node_file), node_population, _u64(all_gids), list(skip_metypes)
    )
    count_per_metype = defaultdict(int)
    for metype, n in counts:
        count_per_metype[metype] = int(n)
    return {m: g.astype(np.uint32) for m, g in groups}, count_per_metype


class METypeItem:
    """What neurodamus's ``metype.METypeItem`` holds for one cell, as plain values:
    ``morph_name``, ``etype`` (None without one), ``emodel_tpl`` (``model_template`` without
    ``hoc:``), ``mtype``, ``threshold_current``, ``holding_current``, ``exc_mini_frequency``,
    ``inh_mini_frequency`` (floats, 0.0 when absent), ``add_params`` (None), ``extra_attrs``
    (the dynamic properties) and, instead of ``local_to_global_matrix``, ``position`` (x, y,
    z) and ``rotation`` (quaternion x, y, z, w) as float64 arrays or None (the dry run reads
    neither; ``rotation`` is None without orientation columns)."""

    __slots__ = (
        "add_params",
        "emodel_tpl",
        "etype",
        "exc_mini_frequency",
        "extra_attrs",
        "holding_current",
        "inh_mini_frequency",
        "morph_name",
        "mtype",
        "position",
        "rotation",
        "threshold_current",
    )

    def __init__(self, info):
        self.morph_name = info["morphology"]
        self.etype = info["etype"]
        self.emodel_tpl = info["emodel"]
        self.mtype = info["mtype"]
        self.threshold_current = float(info["threshold_current"])
        self.holding_current = float(info["holding_current"])
        self.exc_mini_frequency = float(info["exc_mini_frequency"] or 0.0)
        self.inh_mini_frequency = float(info["inh_mini_frequency"] or 0.0)
        self.add_params = None
        self.extra_attrs = dict(info["extra"])
        self.position = None if info["position"] is None else np.array(info["position"])
        self.rotation = None if info["rotation"] is None else np.array(info["rotation"])

    def __repr__(self):
        return f"METypeItem({self.morph_name!r}, mtype={self.mtype!r}, etype={self.etype!r})"


class METypeManager(dict):
    """neurodamus's ``metype.METypeManager``: a dict gid (int) -> ``METypeItem``, in the order
    neurodamus inserts them."""


def load_sonata(
    circuit_conf,
    all_gids,
    stride=1,
    stride_offset=0,
    *,
    node_population,
    load_dynamic_props=(),
    has_extra_data=False,
    dry_run_stats=None,
    load_mode=None,
    dry_run=False,
):
    """neurodamus's ``load_sonata``: ``(gidvec, METypeManager, total_cells)``.

    ``circuit_conf`` is a node file, a ``circuit_config.json``, or an object with
    ``CellLibraryFile`` (neurodamus's circuit config). ``dry_run=True`` stands for neurodamus's
    ``SimConfig.dry_run``; it, or ``load_mode="load_nodes_metype"``, takes the dry-run path:
    the me-types of ``all_gids`` (added to ``dry_run_stats.metype_counts`` and
    ``dry_run_stats.pop_metype_gids[node_population]`` when given), ``gidvec`` their
    ``dry_run_distribution`` and cell info for the first 100 cells of every me-type. Otherwise
    ``gidvec`` is ``split_round_robin(all_gids, stride, stride_offset, total_cells)`` with the
    cells' info. ``load_dynamic_props`` are attribute names or ``@dynamics:NAME``; a missing one
    raises ``ValueError`` with neurodamus's message, and so do properties with repeated gids
    (neurodamus fails on them too). ``has_extra_data`` (hoc templates' needed
    attributes) needs NEURON: ``ValueError``."""
    if has_extra_data:
        raise ValueError(
            "has_extra_data: the attributes hoc emodel templates declare need NEURON (not done)"
        )
    path = getattr(circuit_conf, "CellLibraryFile", circuit_conf)
    dry = bool(dry_run) or load_mode == "load_nodes_metype"
    gids = None if all_gids is None else _u64(all_gids)
    gidvec, cells, total_cells, metypes = _native.load_sonata(
        os.fspath(path),
        node_population,
        gids,
        int(stride),
        int(stride_offset),
        list(load_dynamic_props),
        dry,
    )
    if load_dynamic_props and not dry and len(np.unique(gidvec)) != len(gidvec):
        # neurodamus zips the properties of every gid (repeats included) with its dict of
        # distinct gids, strictly, and fails the same way.
        raise ValueError(
            "load_dynamic_props with repeated gids: neurodamus's load_sonata fails on them "
            "(zip() argument 2 is longer than argument 1)"
        )
    meinfos = METypeManager()
    # extra_attrs in the order neurodamus sets them (the library's map is sorted by name).
    names = list(dict.fromkeys(p.removeprefix("@dynamics:") for p in load_dynamic_props))
    for gid, info in json.loads(cells):
        item = METypeItem(info)
        item.extra_attrs = {n: item.extra_attrs[n] for n in names if n in item.extra_attrs}
        meinfos[int(gid)] = item
    if dry:
        groups, counts = metypes
        gidvec = gidvec.astype(np.uint32)
        if dry_run_stats is not None:
            count_per_metype = defaultdict(int)
            for metype, n in counts:
                count_per_metype[metype] = int(n)
            dry_run_stats.metype_counts += count_per_metype
            dry_run_stats.pop_metype_gids[node_population] = {
                m: g.astype(np.uint32) for m, g in groups
            }
    elif all_gids is None:
        gidvec = gidvec.astype(np.uint32)
    else:
        gidvec = gidvec.astype(_round_robin_dtype(all_gids, stride, stride_offset))
    return gidvec, meinfos, int(total_cells)
