"""MLIP-3 configuration files (``.cfg``), the training-set format of ``mlp train``.

One block per configuration: ``Size``, ``Supercell`` (rows are the cell vectors, A; left out for a
cluster without periodicity), ``AtomData`` (id from 1, type = index of the element in ``species``,
Cartesian positions in A, forces in eV/A), ``Energy`` (eV), ``PlusStress`` (the virial, eV: minus the
ASE stress times the volume, order xx yy zz yz xz xy) and ``Feature`` lines (here the configuration's
UUID). MLIP-3 reads a stress of the other sign only under the name ``Stress``, which it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .datasets import Labels

__all__ = ('cfg_block', 'write_cfg')

_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def cfg_block(atoms, labels: Labels, species: Sequence[str], features: dict | None = None) -> str:
    """Return one ``BEGIN_CFG ... END_CFG`` block of ``atoms`` (ASE) with its ``labels``.

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
    lines.append(' AtomData:  id type cartes_x cartes_y cartes_z fx fy fz')
    for index, (symbol, position, force) in enumerate(zip(symbols, atoms.positions, labels.forces), start=1):
        lines.append(
            f'    {index} {species.index(symbol)} {position[0]:.10f} {position[1]:.10f} {position[2]:.10f} '
            f'{force[0]:.10f} {force[1]:.10f} {force[2]:.10f}'
        )
    lines += [' Energy', f'    {labels.energy:.10f}']
    if labels.stress is not None and atoms.pbc.all():
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
