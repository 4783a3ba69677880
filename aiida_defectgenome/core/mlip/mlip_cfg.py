"""MLIP-3 configuration files (``.cfg``), the training-set format of ``mlp train``.

One block per configuration: ``Size``, ``Supercell`` (rows are the cell vectors, A; left out for a
cluster without periodicity), ``AtomData`` (id from 1, type = index of the element in ``species``,
Cartesian positions in A, forces in eV/A), ``Energy`` (eV), ``PlusStress`` (the virial, eV: minus the
ASE stress times the volume, order xx yy zz yz xz xy) and ``Feature`` lines (here the configuration's
UUID). MLIP-3 reads a stress of the other sign only under the name ``Stress``, which it refuses.
:func:`read_cfg` reads what ``mlp`` writes back: extra ``AtomData`` columns (``nbh_grades``), configurations
without forces or energy (``cut_extrapolative_nbh``), and ``Feature`` lines whose key and value a tab
separates (``MV_grade``, ``EFS_by``, ``selected_eqn_inds``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..structures.datasets import Labels

__all__ = ('CfgConfiguration', 'CfgError', 'cfg_block', 'read_cfg', 'write_cfg')

_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def cfg_block(atoms, labels: Labels | None, species: Sequence[str], features: dict | None = None) -> str:
    """Return one ``BEGIN_CFG ... END_CFG`` block of ``atoms`` (ASE) with its ``labels`` (``None``: positions
    only, e.g. candidates to grade).

    :raises ValueError: if an element of ``atoms`` is not in ``species``.
    """
    symbols = atoms.get_chemical_symbols()
    unknown = sorted(set(symbols) - set(species))
    if unknown:
        raise ValueError(f'elements {", ".join(unknown)} are not among the species {list(species)}')
    lines = ['BEGIN_CFG', ' Size', f'    {len(atoms)}']
    if atoms.pbc.any():
        lines.append(' Supercell')
        lines += [f'    {row[0]:.10f} {row[1]:.10f} {row[2]:.10f}' for row in np.asarray(atoms.cell[:])]
    lines.append(' AtomData:  id type cartes_x cartes_y cartes_z' + (' fx fy fz' if labels is not None else ''))
    forces = labels.forces if labels is not None else [None] * len(atoms)
    for index, (symbol, position, force) in enumerate(zip(symbols, atoms.positions, forces), start=1):
        row = f'    {index} {species.index(symbol)} {position[0]:.10f} {position[1]:.10f} {position[2]:.10f}'
        lines.append(row + (f' {force[0]:.10f} {force[1]:.10f} {force[2]:.10f}' if force is not None else ''))
    if labels is not None:
        lines += [' Energy', f'    {labels.energy:.10f}']
    if labels is not None and labels.stress is not None and atoms.pbc.all():
        virial = -np.asarray(labels.stress) * atoms.get_volume()
        lines.append(' PlusStress:  xx yy zz yz xz xy')
        lines.append('    ' + ' '.join(f'{virial[i, j]:.10f}' for i, j in _VOIGT))
    lines += [f' Feature   {key} {value}' for key, value in (features or {}).items()]
    lines.append('END_CFG')
    return '\n'.join(lines) + '\n\n'


def write_cfg(configurations, path, species: Sequence[str], features: Sequence[dict] | None = None) -> None:
    """Write ``configurations`` (``(atoms, Labels)`` pairs) to the MLIP-3 file ``path``; ``species`` fixes
    the type numbers (MLIP-3 potentials number their elements the same way)."""
    features = features or [{}] * len(configurations)
    with open(path, 'w') as handle:
        for (atoms, labels), extra in zip(configurations, features):
            handle.write(cfg_block(atoms, labels, list(species), extra))


class CfgError(ValueError):
    """A ``.cfg`` text that is not a valid MLIP-3 configuration file; the message names the line."""


@dataclasses.dataclass
class CfgConfiguration:
    """One configuration of a ``.cfg`` file: ``types`` (n,) (element index), ``positions`` (n, 3) A,
    ``cell`` (3, 3) A or ``None`` (a cluster), ``forces`` (n, 3) eV/A, ``energy`` eV and ``plus_stress``
    (6,) eV (virial, xx yy zz yz xz xy), each ``None`` when the block has none; ``columns``: further
    ``AtomData`` columns by name (``nbh_grades`` (n,)); ``features``: ``Feature`` key -> value text."""

    types: np.ndarray
    positions: np.ndarray
    cell: np.ndarray | None = None
    forces: np.ndarray | None = None
    energy: float | None = None
    plus_stress: np.ndarray | None = None
    columns: dict = dataclasses.field(default_factory=dict)
    features: dict = dataclasses.field(default_factory=dict)


def read_cfg(text: str, source: str = 'cfg') -> list[CfgConfiguration]:
    """Return the configurations of the ``.cfg`` ``text`` (``source``: its name, for messages).

    :raises CfgError: for a block that is cut short or malformed, naming ``source`` and the line.
    """
    lines = text.splitlines()
    configurations, index = [], 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        if lines[index].strip() != 'BEGIN_CFG':
            raise CfgError(f'{source}, line {index + 1}: expected BEGIN_CFG, found {lines[index].strip()!r}')
        configuration, index = _read_block(lines, index + 1, source)
        configurations.append(configuration)
    return configurations


def _numbers(lines: list[str], start: int, count: int, width: int, source: str, what: str) -> np.ndarray:
    rows = lines[start : start + count]
    try:
        values = np.array([row.split() for row in rows], dtype=float)
    except ValueError as exc:
        raise CfgError(f'{source}, line {start + 1}: {what} is not {count} rows of {width} numbers ({exc})') from exc
    if values.shape != (count, width):
        raise CfgError(f'{source}, line {start + 1}: {what} is not {count} rows of {width} numbers')
    return values


def _read_block(lines: list[str], index: int, source: str) -> tuple[CfgConfiguration, int]:
    """Read one block from the line after ``BEGIN_CFG``; return it and the index after ``END_CFG``."""
    fields, size, features, columns = {}, None, {}, {}
    while index < len(lines):
        line = lines[index].strip()
        if line == 'END_CFG':
            break
        if line == 'Size':
            size = _numbers(lines, index + 1, 1, 1, source, 'Size')[0, 0]
            if size != int(size) or size < 1:
                raise CfgError(f'{source}, line {index + 2}: Size must be a positive integer')
            size, index = int(size), index + 2
        elif line == 'Supercell':
            rows = 0
            while rows < 3 and index + 1 + rows < len(lines) and len(lines[index + 1 + rows].split()) == 3:
                rows += 1
            fields['cell'] = _numbers(lines, index + 1, rows, 3, source, 'Supercell')
            index += 1 + rows
        elif line.startswith('AtomData:'):
            if size is None:
                raise CfgError(f'{source}, line {index + 1}: AtomData before Size')
            names = line.split()[1:]
            if names[:5] != ['id', 'type', 'cartes_x', 'cartes_y', 'cartes_z']:
                raise CfgError(f'{source}, line {index + 1}: AtomData must start with id type cartes_x cartes_y cartes_z')
            values = _numbers(lines, index + 1, size, len(names), source, f'AtomData (Size {size})')
            columns = dict(zip(names, values.T))
            index += 1 + size
        elif line == 'Energy':
            fields['energy'] = float(_numbers(lines, index + 1, 1, 1, source, 'Energy')[0, 0])
            index += 2
        elif line.startswith('PlusStress:'):
            fields['plus_stress'] = _numbers(lines, index + 1, 1, 6, source, 'PlusStress')[0]
            index += 2
        elif line.startswith('Feature'):
            parts = lines[index].strip().split(None, 2)
            if len(parts) < 2:
                raise CfgError(f'{source}, line {index + 1}: a Feature without a name')
            features[parts[1]] = parts[2].strip() if len(parts) == 3 else ''
            index += 1
        else:
            raise CfgError(f'{source}, line {index + 1}: unknown field {line!r}')
    else:
        raise CfgError(f'{source}: the last configuration ends without END_CFG')
    if not columns:
        raise CfgError(f'{source}, line {index + 1}: a configuration without AtomData')
    positions = np.stack([columns.pop(f'cartes_{axis}') for axis in 'xyz'], axis=1)
    forces = np.stack([columns.pop(f'f{axis}') for axis in 'xyz'], axis=1) if 'fx' in columns else None
    for key in ('fy', 'fz'):
        columns.pop(key, None)
    if columns.pop('id').tolist() != list(range(1, size + 1)):
        raise CfgError(f'{source}, line {index + 1}: atom ids must run from 1 to {size}')
    if 'cell' in fields and fields['cell'].shape != (3, 3):
        raise CfgError(f'{source}, line {index + 1}: a Supercell of {len(fields["cell"])} vectors (3 are read)')
    types = columns.pop('type').astype(int)
    configuration = CfgConfiguration(types, positions, forces=forces, columns=columns, features=features, **fields)
    return configuration, index + 1
