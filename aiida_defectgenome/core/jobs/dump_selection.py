"""Select extrapolative environments from LAMMPS dumps where they lie, and write only the clusters.

This runs on the computer that holds the dumps (the ``SelectionCalculation`` of the sampling workflow
starts it there as ``python -m aiida_defectgenome.core.jobs.dump_selection``): every snapshot is read, its
descriptors computed and graded against the active set one snapshot at a time, and only the rows at or
above the threshold are kept, so memory follows the extrapolative atoms, not the dump size. MaxVol then
selects among all kept rows at once, centres of one snapshot closer than the merge distance become one
cluster, and each cluster is cut and written with where it came from.

Inputs in the working directory: ``selection.json`` (``dumps``: paths; ``species``: element of each
LAMMPS type, type 1 first; ``every``: take every n-th snapshot; ``provenance``: a dict copied into every
cluster's info; and the selection settings of :func:`.screening.validate_selection_parameters`), and
``active_set.npz`` (:meth:`.active_set.ActiveSet.save`). Outputs: ``clusters.extxyz`` (per-atom ``core``
and, where the dump has them, ``energies`` (eV, in the source); info ``centre`` (index in the cluster),
``gamma``, ``source_file``, ``snapshot``, ``step``, ``source_atom`` (index in the snapshot),
``cut_radius`` and the provenance) and ``summary.json``
(snapshots, atoms, a gamma histogram, counts of preselected, selected, merged environments and clusters).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from ..doptimality.active_set import load_active_set
from ..doptimality.descriptors import descriptor_from_parameters
from ..doptimality.screening import choose_centres, cut_around_centres, default_merge_distance, validate_selection_parameters
from ..structures.datasets import read_structures

__all__ = ('HISTOGRAM_EDGES', 'select_from_dumps')

#: Gamma histogram bin edges of the summary (the last bin is open).
HISTOGRAM_EDGES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0]
_OWN_KEYS = ('dumps', 'species', 'every', 'provenance')
_ENERGY_COLUMN = 'c_dg_pe'  # per-atom energy (eV) in the dumps of lammps_input


def select_from_dumps(active_set, dumps: list, species: list, settings: dict, every: int = 1, provenance: dict | None = None):
    """Return ``(clusters, summary)`` for the snapshots of ``dumps`` (see the module docstring)."""
    settings = validate_selection_parameters(settings)
    descriptor = descriptor_from_parameters(active_set.descriptor)
    kept_rows, kept_gamma, origins, snapshots = [], [], [], []
    histogram = np.zeros(len(HISTOGRAM_EDGES), dtype=np.int64)
    atoms_seen, start = 0, time.perf_counter()
    for path in map(Path, dumps):
        for index, frame in enumerate(read_structures(path, species)):
            if index % every:
                continue
            rows, _ = descriptor.compute_many([frame])
            gamma = active_set.grade(rows)
            histogram += np.bincount(np.searchsorted(HISTOGRAM_EDGES, gamma, side='right') - 1, minlength=len(HISTOGRAM_EDGES))
            keep = np.flatnonzero(gamma >= settings['threshold'])
            kept_rows.append(rows[keep])
            kept_gamma.append(gamma[keep])
            origins.append(np.column_stack([np.full(len(keep), len(snapshots)), keep]))
            snapshots.append((path, index, frame if len(keep) else None))  # only frames that can give a cluster
            atoms_seen += len(frame)
    if not snapshots:
        raise ValueError(f'no snapshot in {", ".join(map(str, dumps))}')
    grading_s = time.perf_counter() - start
    rows = np.vstack(kept_rows) if kept_rows else np.zeros((0, 1))
    origins = np.vstack(origins).astype(int)
    clusters, counts = [], {'preselected': 0, 'selected': 0, 'duplicates': 0, 'merged': 0}
    if len(rows):
        # each kept row is its own one-atom "structure": choose_centres maps selections back through origins
        centres = choose_centres(
            active_set, rows, np.ones(len(rows), dtype=int), settings['threshold'], settings['limit'], np.concatenate(kept_gamma)
        )
        rows_chosen = centres.structure
        centres.structure, centres.atom = origins[rows_chosen, 0], origins[rows_chosen, 1]
        merge = (
            settings['merge_distance']
            if settings['merge_distance'] is not None
            else default_merge_distance(active_set, settings['radius'])
        )
        frames = {i: snapshot[2] for i, snapshot in enumerate(snapshots) if i in set(centres.structure.tolist())}
        clusters, merged = cut_around_centres(
            frames,
            centres,
            settings['radius'],
            merge,
            tuple(settings['periodic_axes']) if settings['periodic_axes'] != 'auto' else 'auto',
        )
        counts = {
            'preselected': centres.preselected,
            'selected': len(centres.atom),
            'duplicates': centres.duplicates,
            'merged': merged,
        }
    for cluster in clusters:
        path, index, frame = snapshots[cluster.info.pop('source_structure')]
        cluster.arrays['core'] = np.ones(len(cluster), dtype=bool)
        if _ENERGY_COLUMN in frame.arrays:  # the source energies, for PCC-GCMC's gap to the ideal embedding
            cluster.arrays['energies'] = frame.arrays[_ENERGY_COLUMN][cluster.arrays['source_index']]
        cluster.info.update(
            centre=int(cluster.info['centre_index']),
            source_file=path.name,
            snapshot=index,
            step=int(frame.info.get('timestep', index)),
            source_atom=int(cluster.info['source_centre']),
            **(provenance or {}),
        )
    summary = {
        'snapshots': len(snapshots),
        'atoms': atoms_seen,
        'gamma_histogram': {'edges': HISTOGRAM_EDGES, 'counts': histogram.tolist()},
        'gamma_max': float(max((g.max() for g in kept_gamma if len(g)), default=0.0)),
        **counts,
        'clusters': len(clusters),
        'environments_per_s': atoms_seen / grading_s if grading_s > 0 else None,
        'wall_s': time.perf_counter() - start,
    }
    return clusters, summary


def main() -> int:
    """Read ``selection.json`` and ``active_set.npz`` here; write ``clusters.extxyz`` and ``summary.json``."""
    import ase.io

    request = json.loads(Path('selection.json').read_text())
    settings = {key: value for key, value in request.items() if key not in _OWN_KEYS}
    clusters, summary = select_from_dumps(
        load_active_set('active_set.npz'),
        request['dumps'],
        request['species'],
        settings,
        request.get('every', 1),
        request.get('provenance'),
    )
    ase.io.write('clusters.extxyz', clusters, format='extxyz')  # an empty file when nothing was new
    Path('summary.json').write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
