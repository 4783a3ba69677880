"""Genome datasets in the database: import a labelled file, list, summarise and export groups."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import ase.io
from aiida import orm
from aiida.manage import get_manager

from ..calculations.functions.import_configurations import import_configurations
from ..common.storage import retry_when_locked, take_write_lock
from ..core.mlip.mlip_cfg import write_cfg
from ..core.mlip.pace_files import write_pacemaker_dataset
from ..core.structures.datasets import DatasetError, fingerprint, labelled_atoms, read_configurations
from ..data.genome import GenomeGroup
from ..data.labels import labels_of

__all__ = ('ImportReport', 'export_genome', 'genome_summary', 'import_genome', 'list_genomes', 'load_genome')


@dataclasses.dataclass
class ImportReport:
    """What :func:`import_genome` did: ``created`` new configurations, ``reused`` ones already stored
    elsewhere (added to the group), ``present`` ones already in the group, and the calcfunction's pk."""

    group: str
    created: int
    reused: int
    present: int
    process_pk: int | None


def load_genome(label: str) -> GenomeGroup:
    """Return the genome group ``label``; raise :class:`DatasetError` listing the known ones if absent."""
    try:
        return GenomeGroup.collection.get(label=label)
    except Exception as exc:
        known = ', '.join(g.label for g in GenomeGroup.collection.all()) or 'none yet'
        raise DatasetError(f'no genome group `{label}` (known: {known})') from exc


def import_genome(path, group_label: str, engine: str = 'DFT') -> ImportReport:
    """Import every labelled configuration of ``path`` into the genome group ``group_label``.

    Configurations are identified by :func:`~aiida_defectgenome.core.structures.datasets.fingerprint`: a frame
    already in the group is skipped, one already stored in another group is added without a copy, and
    only new frames are stored, by one ``import_configurations`` calcfunction linked to the file node.
    The import is one database transaction: it lands whole or not at all.
    """
    path = Path(path)
    configurations = read_configurations(path)
    prints = [fingerprint(atoms, labels) for atoms, labels in configurations]
    if len(set(prints)) != len(prints):
        raise DatasetError(f'{path.name} holds the same configuration twice (identical species, positions, energy)')
    return retry_when_locked(lambda: _import(path, prints, group_label, engine), f'import of {path.name}')


def _import(path: Path, prints: list[str], group_label: str, engine: str) -> ImportReport:
    with get_manager().get_profile_storage().transaction():
        take_write_lock()  # before reading what is stored: a concurrent import must not store the same frames
        group, _ = GenomeGroup.collection.get_or_create(label=group_label)
        stored = _stored_by_fingerprint(prints)
        in_group = {n.uuid for n in group.nodes if isinstance(n, orm.StructureData)}
        present = [stored[p] for p in prints if p in stored and stored[p].uuid in in_group]
        reused = [stored[p] for p in prints if p in stored and stored[p].uuid not in in_group]
        new = [i for i, p in enumerate(prints) if p not in stored]
        if reused:
            group.add_nodes(reused)
        process_pk = None
        if new:
            source = orm.SinglefileData(path.absolute())
            outputs, node = import_configurations.run_get_node(source, orm.List(new), orm.Str(engine))
            group.add_nodes([node for label, node in sorted(outputs.items()) if label.startswith('structure_')])
            process_pk = node.pk
    return ImportReport(group_label, len(new), len(reused), len(present), process_pk)


def _stored_by_fingerprint(prints: list[str]) -> dict[str, orm.StructureData]:
    found = {}
    wanted = set(prints)
    query = orm.QueryBuilder().append(orm.StructureData, filters={'extras.dg_fingerprint': {'in': sorted(wanted)}}, project=['*'])
    for (node,) in query.iterall():
        found.setdefault(node.base.extras.get('dg_fingerprint'), node)
    return found


def list_genomes() -> list[tuple[str, int]]:
    """Return ``(label, number of configurations)`` for every genome group."""
    return [(g.label, g.count()) for g in GenomeGroup.collection.all()]


def _members(group: GenomeGroup) -> list[tuple[orm.StructureData, object, str | None]]:
    """Return ``(structure, labels or None, engine or None)`` for every configuration of ``group``."""
    structures = [n for n in group.nodes if isinstance(n, orm.StructureData)]
    return [(s, labels, engine) for s, (labels, engine) in zip(structures, labels_of(structures))]


def genome_summary(label: str) -> dict:
    """Return counts for genome group ``label``: configurations, atoms, elements, labels present, engines."""
    return _summary(label, _members(load_genome(label)))


def _summary(label: str, members: list) -> dict:
    present = Counter()
    engines = Counter()
    natoms = []
    elements = Counter()
    for structure, labels, engine in members:
        natoms.append(len(structure.sites))
        elements.update(site.kind_name for site in structure.sites)
        if labels is None:
            present['none'] += 1
            continue
        present.update(['energy', 'forces'] + (['stress'] if labels.stress is not None else []))
        engines[engine] += 1
    return {
        'label': label,
        'configurations': len(members),
        'atoms': sum(natoms),
        'atoms_min': min(natoms, default=0),
        'atoms_max': max(natoms, default=0),
        'elements': dict(elements),
        'labels': dict(present),
        'engines': dict(engines),
    }


def genome_stats(labels: list[str], reference: str | None = None) -> tuple[dict, dict]:
    """Return ``(stats, gamma)`` for genome groups ``labels``.

    ``stats[label]``: the :func:`genome_summary` plus ``energy_per_atom`` (eV: min, mean, max over labelled
    configurations) and, against the active set of group ``reference``, ``gamma`` (median, 99th
    percentile, max, and the fractions of atoms above 1 and 2). ``gamma[label]``: per-atom grades ``(n,)``.
    """
    import numpy as np

    from .d_optimality import active_set_for_group, grade_group, grades_of

    active_set = active_set_for_group(reference)[0] if reference else None
    stats, gammas = {}, {}
    for label in labels:
        members = _members(load_genome(label))
        entry = _summary(label, members)
        energies = [labels_row.energy / len(s.sites) for s, labels_row, _ in members if labels_row is not None]
        if energies:
            entry['energy_per_atom'] = {'min': min(energies), 'mean': float(np.mean(energies)), 'max': max(energies)}
        if active_set is not None and entry['configurations']:
            gamma = grades_of(grade_group(active_set, label)).gamma
            gammas[label] = gamma
            entry['gamma'] = {
                'reference': reference,
                'median': float(np.median(gamma)),
                'p99': float(np.percentile(gamma, 99)),
                'max': float(gamma.max()),
                'fraction_above_1': float((gamma > 1).mean()),
                'fraction_above_2': float((gamma > 2).mean()),
            }
        stats[label] = entry
    return stats, gammas


EXPORT_FORMATS = ('extxyz', 'pacemaker', 'mlip3')


def export_genome(label: str, output, format: str = 'extxyz') -> int:
    """Write genome group ``label`` to ``output``; return the number of configurations written.

    ``extxyz``: every frame carries energy (eV), forces (eV/A) and stress (eV/A^3) where known, readable
    through ``Atoms.get_potential_energy()`` and friends, and ``info['uuid']``. ``pacemaker``: the
    gzip-pickled DataFrame pacemaker trains on (``ase_atoms``, ``energy``, ``forces``, ``name`` = UUID,
    ``dg_group``); ``mlip3``: MLIP-3 ``.cfg`` (:mod:`..core.mlip.mlip_cfg`, types numbered in alphabetical
    order of the elements, feature ``uuid``). Both need every configuration labelled.

    :raises DatasetError: on an unknown format, or an unlabelled configuration for ``pacemaker``/``mlip3``.
    """
    if format not in EXPORT_FORMATS:
        raise DatasetError(f'unknown export format `{format}`; known: {", ".join(EXPORT_FORMATS)}')
    members = _members(load_genome(label))
    if format in ('pacemaker', 'mlip3'):
        unlabelled = [structure.uuid for structure, labels, _ in members if labels is None]
        if unlabelled:
            raise DatasetError(
                f'{len(unlabelled)} configurations of `{label}` have no labels (e.g. {unlabelled[0]}): label them first'
            )
        configurations = [(structure.get_ase(), labels) for structure, labels, _ in members]
        uuids = [s.uuid for s, _, _ in members]
        if format == 'pacemaker':
            write_pacemaker_dataset(configurations, output, [label] * len(members), uuids)
        else:
            species = sorted({symbol for atoms, _ in configurations for symbol in atoms.get_chemical_symbols()})
            write_cfg(configurations, output, species, [{'uuid': uuid} for uuid in uuids])
        return len(members)
    frames = []
    for structure, labels, _ in members:
        atoms = structure.get_ase()
        if labels is not None:
            atoms = labelled_atoms(atoms, labels)
        atoms.info['uuid'] = structure.uuid
        frames.append(atoms)
    ase.io.write(output, frames, format=format)
    return len(frames)
