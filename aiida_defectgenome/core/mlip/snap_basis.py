"""The SNAP basis: LAMMPS ``compute snap`` design rows for linear and quadratic SNAP models.

A model with basis :class:`SnapBasis` gives atom ``i`` of element ``s`` the energy
``beta[s, 0] + beta[s, 1:] . B_i`` where ``B_i`` holds the bispectrum components (and, when
``quadratic``, their pairwise products, LAMMPS ``quadraticflag 1``). Energies, forces and the virial are
linear in ``beta``, so one design row per target makes the fit a least-squares problem. Columns are
grouped per element: ``[count, B...]``, in the order of ``species``; this is also the order of a
``pair_style snap`` coefficient file, so fitted coefficients load into LAMMPS unchanged.

A basis may add ``extra`` radial channels: bispectrum components of the same atoms at other cutoffs (and
``twojmax``), whose columns follow the main ones without constants. One SNAP has a single radial scale per
neighbour shell, so its forces are limited by radial resolution; a short second channel (e.g. linear 2J=8 at
4 A beside quadratic 2J=6 at 5 A) cut the test force RMSE on the W basic set by 30 % (benchmarks/training.py).
LAMMPS runs such a model as ``pair_style hybrid/overlay snap snap``, one coefficient file per channel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from ase import Atoms

from ..lammps.library import lammps_rotation, load_atoms, open_lammps

__all__ = ('SnapBasis', 'SnapRows', 'bispectrum_count', 'check_snap_settings', 'component_count')


def component_count(twojmax: int, quadratic: bool) -> int:
    """Per-atom descriptor length: bispectrum components, plus their pairwise products when ``quadratic``."""
    linear = bispectrum_count(twojmax)
    return linear + (linear * (linear + 1) // 2 if quadratic else 0)


def check_snap_settings(twojmax, cutoff, rfac0, rmin0) -> None:
    """Raise ``ValueError`` unless the SNAP settings are ones LAMMPS accepts (``cutoff``, ``rmin0`` in A)."""
    if not isinstance(twojmax, int) or isinstance(twojmax, bool) or not 0 <= twojmax <= 16:
        raise ValueError(f'twojmax must be an integer from 0 to 16, got {twojmax!r}')
    if not cutoff > 0:
        raise ValueError(f'cutoff must be positive (A), got {cutoff!r}')
    if not 0 < rfac0 <= 1:
        raise ValueError(f'rfac0 must lie in (0, 1], got {rfac0!r}')
    if not 0 <= rmin0 < cutoff:
        raise ValueError(f'rmin0 must lie in [0, cutoff), got {rmin0!r}')


def bispectrum_count(twojmax: int) -> int:
    """Number of SNAP bispectrum components for ``twojmax`` (one element, no chemistry): 30 at 6, 55 at 8."""
    count = 0
    for j1 in range(twojmax + 1):
        for j2 in range(j1 + 1):
            for j in range(j1 - j2, min(twojmax, j1 + j2) + 1, 2):
                if j >= j1:
                    count += 1
    return count


_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def _rotated_voigt(rows: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Rotate ``(6, ncol)`` Voigt rows (xx yy zz yz xz xy) of symmetric tensors by ``rotation``."""
    full = np.empty((3, 3, rows.shape[1]))
    for k, (i, j) in enumerate(_VOIGT):
        full[i, j] = full[j, i] = rows[k]
    turned = np.einsum('ai,ijc,bj->abc', rotation, full, rotation)
    return np.array([turned[i, j] for i, j in _VOIGT])


@dataclasses.dataclass(frozen=True)
class SnapRows:
    """Design rows of one structure of ``n`` atoms: ``energy`` ``(ncol,)`` (total energy, eV per unit
    coefficient), ``forces`` ``(3 n, ncol)`` (atom-major x, y, z; eV/A), ``stress`` ``(6, ncol)`` (Voigt
    xx yy zz yz xz xy, eV/A^3, ASE sign: positive is tensile; zero rows when the cell is not 3D periodic)."""

    energy: np.ndarray
    forces: np.ndarray
    stress: np.ndarray


@dataclasses.dataclass(frozen=True)
class SnapBasis:
    """SNAP settings: ``species`` (element order of the model), ``twojmax``, ``cutoff`` (A, the same for
    every pair), ``rfac0``, ``rmin0`` (A), ``quadratic`` (add products of components), ``switchflag``, and
    ``extra`` radial channels (settings of further SNAP bases of the same species, as dicts or bases)."""

    species: tuple[str, ...]
    twojmax: int = 6
    cutoff: float = 5.0
    rfac0: float = 0.99363
    rmin0: float = 0.0
    quadratic: bool = False
    switchflag: int = 1
    extra: tuple = ()

    def __post_init__(self):
        if not self.species or len(set(self.species)) != len(self.species):
            raise ValueError(f'species must be distinct element symbols, got {self.species!r}')
        check_snap_settings(self.twojmax, self.cutoff, self.rfac0, self.rmin0)
        if self.switchflag not in (0, 1):
            raise ValueError(f'switchflag must be 0 or 1, got {self.switchflag!r}')
        object.__setattr__(self, 'extra', tuple(self._channel(settings) for settings in self.extra))

    def _channel(self, settings) -> SnapBasis:
        """An extra radial channel from its settings (dict or :class:`SnapBasis` of the same species)."""
        if isinstance(settings, SnapBasis):
            settings = {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)}
            if tuple(settings.pop('species')) != self.species:
                raise ValueError(f'an extra channel must have the species {self.species}')
        if not isinstance(settings, dict) or settings.get('extra'):
            raise ValueError(f'an extra channel is a dict of SNAP settings without channels of its own, got {settings!r}')
        return SnapBasis(species=self.species, **settings)

    @property
    def channels(self) -> tuple[SnapBasis, ...]:
        """The main channel (this basis without extras) and the extra ones."""
        return (dataclasses.replace(self, extra=()), *self.extra)

    @property
    def components(self) -> int:
        """Descriptor length per atom without the constant: bispectrum count, plus its pair products."""
        return component_count(self.twojmax, self.quadratic)

    @property
    def columns_per_element(self) -> int:
        """Coefficients per element: the constant and one per component."""
        return 1 + self.components

    @property
    def columns(self) -> int:
        """Coefficients of the model: the main channel's, then each extra channel's without constants."""
        return len(self.species) * (self.columns_per_element + sum(channel.components for channel in self.extra))

    def pair_style(self) -> tuple[str, str]:
        """``(pair_style, pair_coeff template)`` of a model in this basis, its files as :meth:`.SnapModel.write` orders them."""
        if not self.extra:
            return 'snap', '* * {files[0]} {files[1]} {elements}'
        lines = [f'* * snap {k + 1} {{files[{2 * k}]}} {{files[{2 * k + 1}]}} {{elements}}' for k in range(len(self.channels))]
        return 'hybrid/overlay' + ' snap' * len(self.channels), '; '.join(lines)

    def flags(self) -> str:
        """The keywords of ``compute snap`` that :meth:`param_file` gives ``pair_style snap``."""
        return f'rmin0 {self.rmin0:.17g} quadraticflag {int(self.quadratic)} switchflag {self.switchflag} bzeroflag 1'

    def param_file(self) -> str:
        """Text of the ``pair_style snap`` parameter file (``*.snapparam``)."""
        return (
            f'rcutfac {self.cutoff:.17g}\ntwojmax {self.twojmax}\nrfac0 {self.rfac0:.17g}\nrmin0 {self.rmin0:.17g}\n'
            f'quadraticflag {int(self.quadratic)}\nswitchflag {self.switchflag}\nbzeroflag 1\n'
        )

    def _type_arguments(self) -> str:
        count = len(self.species)
        return f'{self.cutoff:.17g} {self.rfac0:.17g} {self.twojmax} ' + ' '.join(['0.5'] * count + ['1.0'] * count)

    def rows(self, atoms: Atoms, lmp=None) -> SnapRows:
        """Return the design rows of ``atoms`` (elements among ``species``), through LAMMPS ``compute snap``:
        the main channel's columns, then each extra channel's without its constant columns."""
        lmp = lmp or open_lammps()
        rows = self._channel_rows(atoms, lmp)
        for channel in self.extra:
            more = channel._channel_rows(atoms, lmp)
            keep = np.delete(np.arange(channel.columns), np.arange(len(self.species)) * channel.columns_per_element)
            rows = SnapRows(
                np.concatenate([rows.energy, more.energy[keep]]),
                np.hstack([rows.forces, more.forces[:, keep]]),
                np.hstack([rows.stress, more.stress[:, keep]]),
            )
        return rows

    def _channel_rows(self, atoms: Atoms, lmp) -> SnapRows:
        load_atoms(lmp, atoms, list(self.species))
        lmp.commands_list(
            [
                f'pair_style zero {self.cutoff:.17g}',
                'pair_coeff * *',
                f'compute dg_snap all snap {self._type_arguments()} {self.flags()}',
                'run 0 post no',
            ]
        )
        raw = np.array(lmp.numpy.extract_compute('dg_snap', 0, 2), dtype=float)
        count = len(atoms)
        lmp.command('uncompute dg_snap')
        rotation = lammps_rotation(atoms)
        # the global array of compute snap is indexed by atom ID (not local order): input order here
        force_rows = np.einsum('nbc,ab->nac', raw[1 : 1 + 3 * count].reshape(count, 3, -1), rotation)
        virial = _rotated_voigt(raw[1 + 3 * count :], rotation)
        blocks = self._with_counts(raw[0], force_rows.reshape(3 * count, -1), virial, atoms)
        return SnapRows(*blocks)

    def _with_counts(self, energy, forces, virial, atoms: Atoms):
        """Drop the reference-potential column, insert each element's constant column, and turn the
        virial (eV) into stress rows."""
        per = self.components
        symbols = np.array(atoms.get_chemical_symbols())
        blocks_e, blocks_f, blocks_s = [], [], []
        volume = atoms.get_volume() if atoms.pbc.all() else None
        for t, element in enumerate(self.species):
            part = slice(t * per, (t + 1) * per)
            blocks_e.append(np.concatenate([[np.count_nonzero(symbols == element)], energy[part]]))
            blocks_f.append(np.hstack([np.zeros((len(forces), 1)), forces[:, part]]))
            stress = -virial[:, part] / volume if volume else np.zeros((6, per))
            blocks_s.append(np.hstack([np.zeros((6, 1)), stress]))
        return np.concatenate(blocks_e), np.hstack(blocks_f), np.hstack(blocks_s)

    def rows_many(self, structures: Sequence[Atoms]) -> list[SnapRows]:
        """Design rows of every structure, through one LAMMPS instance."""
        lmp = open_lammps()
        try:
            return [self.rows(atoms, lmp) for atoms in structures]
        finally:
            lmp.close()
