"""Select extrapolative environments from LAMMPS dumps where they lie, and write only the clusters.

This runs on the computer that holds the dumps (the ``SelectionCalculation`` of the sampling workflow
starts it there as ``python -m aiida_defectgenome.core.jobs.dump_selection``): every snapshot is read, its
descriptors computed and graded against the active set one snapshot at a time, and only the rows at or
above the threshold are kept, so memory follows the extrapolative atoms, not the dump size. MaxVol then
selects among all kept rows at once, centres of one snapshot closer than the merge distance become one
cluster, and each cluster is cut and written with where it came from.

With an MTP instead of an active set (``mtp`` in ``selection.json``), MLIP-3's ``mlp calculate_grade`` grades
the snapshots against the MTP's own active set (batches of :data:`MTP_BATCH_ATOMS` atoms), and the centres
are chosen by grade: MaxVol needs the descriptor rows, which ``mlp`` does not give, so an atom closer than
the merge distance to a kept centre, in any snapshot, counts as that environment seen again.

Inputs in the working directory: ``selection.json`` (``dumps``: paths; ``species``: element of each
LAMMPS type, type 1 first; ``every``: take every n-th snapshot; ``provenance``: a dict copied into every
cluster's info; ``mtp``, optional: ``mlp`` (path of the executable), ``potential`` (the ``.almtp``) and
``elements`` (its types in order); and the selection settings of
:func:`.screening.validate_selection_parameters`), and ``active_set.npz`` (:meth:`.active_set.ActiveSet.save`;
not with ``mtp``). Outputs: ``clusters.extxyz`` (per-atom ``core``
and, where the dump has them, ``energies`` (eV, in the source); info ``centre`` (index in the cluster),
``gamma``, ``source_file``, ``snapshot``, ``step``, ``source_atom`` (index in the snapshot),
``cut_radius`` and the provenance) and ``summary.json``
(snapshots, atoms, a gamma histogram, counts of preselected, selected, merged environments and clusters).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..doptimality.active_set import load_active_set
from ..doptimality.descriptors import descriptor_from_parameters
from ..doptimality.screening import (
    Centres,
    choose_centres,
    cut_around_centres,
    default_merge_distance,
    validate_selection_parameters,
)
from ..doptimality.selection import select_by_grade
from ..mlip.mtp_grading import MtpGrader
from ..structures.datasets import read_structures

__all__ = ('HISTOGRAM_EDGES', 'select_from_dumps')

#: Gamma histogram bin edges of the summary (the last bin is open).
HISTOGRAM_EDGES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0]
#: Atoms graded by one ``mlp calculate_grade`` (its files grow with them: about 100 bytes per atom).
MTP_BATCH_ATOMS = 200_000
_OWN_KEYS = ('dumps', 'species', 'every', 'provenance', 'mtp')
_ENERGY_COLUMN = 'c_dg_pe'  # per-atom energy (eV) in the dumps of lammps_input


def _frames(dumps: list, species: list, every: int):
    """Yield ``(path, index, frame)`` for every ``every``-th snapshot of each dump."""
    for path in map(Path, dumps):
        for index, frame in enumerate(read_structures(path, species)):
            if index % every == 0:
                yield path, index, frame


@dataclasses.dataclass
class _Graded:
    """What grading the snapshots gave: ``snapshots`` ``(path, index, frame or None, atoms)`` (the frame kept
    only where an atom reached the threshold), the chosen ``centres`` (``None``: none), the gamma histogram and
    maximum, the ``merge`` distance (A) and how many centres were dropped as ``repeats`` of a kept one."""

    merge: float
    snapshots: list = dataclasses.field(default_factory=list)
    centres: Centres | None = None
    histogram: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(len(HISTOGRAM_EDGES), dtype=np.int64))
    gamma_max: float = 0.0
    repeats: int = 0

    def add(self, path, index, frame, gamma: np.ndarray, threshold: float) -> np.ndarray:
        """Count the grades ``gamma`` of a snapshot; return the indices of its atoms at or above ``threshold``."""
        self.histogram += np.bincount(np.searchsorted(HISTOGRAM_EDGES, gamma, side='right') - 1, minlength=len(HISTOGRAM_EDGES))
        keep = np.flatnonzero(gamma >= threshold)
        if len(keep):
            self.gamma_max = max(self.gamma_max, float(gamma.max()))
        self.snapshots.append((path, index, frame if len(keep) else None, len(frame)))  # only frames that can give a cluster
        return keep


def _by_active_set(active_set, frames, settings: dict) -> _Graded:
    """Grade each snapshot against ``active_set`` and keep only the rows at or above the threshold; MaxVol
    then selects among all of them."""
    merge = settings['merge_distance']
    graded = _Graded(default_merge_distance(active_set, settings['radius']) if merge is None else merge)
    descriptor = descriptor_from_parameters(active_set.descriptor)
    kept_rows, kept_gamma, origins = [], [], []
    for path, index, frame in frames:
        rows, _ = descriptor.compute_many([frame])
        gamma = active_set.grade(rows)
        snapshot = len(graded.snapshots)
        keep = graded.add(path, index, frame, gamma, settings['threshold'])
        kept_rows.append(rows[keep])
        kept_gamma.append(gamma[keep])
        origins.append(np.column_stack([np.full(len(keep), snapshot), keep]))
    rows = np.vstack(kept_rows) if kept_rows else np.zeros((0, 1))
    if not len(rows):
        return graded
    origins = np.vstack(origins).astype(int)
    # each kept row is its own one-atom "structure": choose_centres maps selections back through origins
    centres = choose_centres(
        active_set, rows, np.ones(len(rows), dtype=int), settings['threshold'], settings['limit'], np.concatenate(kept_gamma)
    )
    centres.structure, centres.atom = origins[centres.structure, 0], origins[centres.structure, 1]
    graded.centres = centres
    return graded


def _by_mtp(grader: MtpGrader, frames, settings: dict, folder: Path) -> _Graded:
    """Grade the snapshots with ``mlp`` in batches of about :data:`MTP_BATCH_ATOMS` atoms; centres by grade
    (:func:`..doptimality.selection.select_by_grade`)."""
    merge, cutoff = settings['merge_distance'], grader.check()
    graded = _Graded(max(settings['radius'] - cutoff, 0.0) if merge is None else merge)
    kept, batch = [], []

    def grade_batch():
        for (path, index, frame), gamma in zip(batch, grader.grade([b[2] for b in batch], folder)):
            snapshot = len(graded.snapshots)
            if len(graded.add(path, index, frame, gamma, settings['threshold'])):
                kept.append((snapshot, frame, gamma))
        batch.clear()

    for item in frames:
        batch.append(item)
        if sum(len(b[2]) for b in batch) >= MTP_BATCH_ATOMS:
            grade_batch()
    if batch:
        grade_batch()
    if kept:
        owner, atom, gamma, preselected, graded.repeats = select_by_grade(
            [k[1] for k in kept], [k[2] for k in kept], settings['threshold'], graded.merge, settings['limit']
        )
        structure = np.array([kept[k][0] for k in owner], dtype=int)
        graded.centres = Centres(structure, atom, gamma, preselected, 0)
    return graded


def select_from_dumps(
    active_set,
    dumps: list,
    species: list,
    settings: dict,
    every: int = 1,
    provenance: dict | None = None,
    mtp: MtpGrader | None = None,
    folder: Path = Path('.'),
):
    """Return ``(clusters, summary)`` for the snapshots of ``dumps`` (see the module docstring); with ``mtp``,
    its grades replace ``active_set``'s (which may then be ``None``), and ``folder`` receives mlp's files."""
    settings = validate_selection_parameters(settings)
    start = time.perf_counter()
    frames = _frames(dumps, species, every)
    graded = _by_active_set(active_set, frames, settings) if mtp is None else _by_mtp(mtp, frames, settings, folder)
    snapshots, centres = graded.snapshots, graded.centres
    if not snapshots:
        raise ValueError(f'no snapshot in {", ".join(map(str, dumps))}')
    grading_s = time.perf_counter() - start
    atoms_seen = sum(snapshot[3] for snapshot in snapshots)
    clusters, counts = [], {'preselected': 0, 'selected': 0, 'duplicates': 0, 'merged': 0}
    if centres is not None:
        chosen = set(centres.structure.tolist())
        frames = {i: snapshot[2] for i, snapshot in enumerate(snapshots) if i in chosen}
        axes = tuple(settings['periodic_axes']) if settings['periodic_axes'] != 'auto' else 'auto'
        clusters, merged = cut_around_centres(frames, centres, settings['radius'], graded.merge, axes)
        counts = {
            'preselected': centres.preselected,
            'selected': len(centres.atom),
            'duplicates': centres.duplicates,
            'merged': merged + graded.repeats,
        }
    for cluster in clusters:
        path, index, frame, _ = snapshots[cluster.info.pop('source_structure')]
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
        'grader': 'active_set' if mtp is None else 'mtp',
        'snapshots': len(snapshots),
        'atoms': atoms_seen,
        'gamma_histogram': {'edges': HISTOGRAM_EDGES, 'counts': graded.histogram.tolist()},
        'gamma_max': graded.gamma_max,
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
    mtp = request.get('mtp')
    clusters, summary = select_from_dumps(
        load_active_set('active_set.npz') if mtp is None else None,
        request['dumps'],
        request['species'],
        settings,
        request.get('every', 1),
        request.get('provenance'),
        None if mtp is None else MtpGrader(mtp['mlp'], Path(mtp['potential']), mtp['elements']),
    )
    ase.io.write('clusters.extxyz', clusters, format='extxyz')  # an empty file when nothing was new
    Path('summary.json').write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
