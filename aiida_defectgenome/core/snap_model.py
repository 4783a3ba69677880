"""A fitted SNAP model: its basis and coefficients, the ``pair_style snap`` files, and predictions."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
from ase import Atoms

from .potentials import PotentialSpec
from .snap_basis import SnapBasis, SnapRows

__all__ = ('SnapModel', 'read_snap_files')


@dataclasses.dataclass
class SnapModel:
    """``coefficients`` ``(basis.columns,)``: per element (``basis.species`` order) the constant (eV) and
    one coefficient per component, as in a LAMMPS ``.snapcoeff`` file."""

    basis: SnapBasis
    coefficients: np.ndarray

    def __post_init__(self):
        self.coefficients = np.asarray(self.coefficients, dtype=float)
        if self.coefficients.shape != (self.basis.columns,):
            raise ValueError(f'a {self.basis} needs {self.basis.columns} coefficients, got {self.coefficients.shape}')

    def predict_rows(self, rows: SnapRows) -> tuple[float, np.ndarray, np.ndarray]:
        """Return energy (eV), forces ``(n, 3)`` (eV/A) and Voigt stress ``(6,)`` (eV/A^3) from design rows."""
        return (
            float(rows.energy @ self.coefficients),
            (rows.forces @ self.coefficients).reshape(-1, 3),
            rows.stress @ self.coefficients,
        )

    def predict(self, atoms: Atoms, lmp=None) -> tuple[float, np.ndarray, np.ndarray]:
        """Return energy, forces and stress of ``atoms`` (see :meth:`predict_rows`)."""
        return self.predict_rows(self.basis.rows(atoms, lmp))

    def coefficient_file(self) -> str:
        """Text of the ``.snapcoeff`` file (radius 0.5 and weight 1 per element: the cutoff is ``rcutfac``)."""
        per = self.basis.columns_per_element
        lines = ['# SNAP coefficients fitted by aiida-defectgenome', f'{len(self.basis.species)} {per}']
        for t, element in enumerate(self.basis.species):
            lines.append(f'{element} 0.5 1.0')
            lines.extend(f'{value:.17g}' for value in self.coefficients[t * per : (t + 1) * per])
        return '\n'.join(lines) + '\n'

    def write(self, directory, name: str) -> tuple[Path, Path]:
        """Write ``name.snapcoeff`` and ``name.snapparam`` into ``directory``; return their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        coeff, param = directory / f'{name}.snapcoeff', directory / f'{name}.snapparam'
        coeff.write_text(self.coefficient_file())
        param.write_text(self.basis.param_file())
        return coeff, param

    def potential_spec(self, directory, name: str, citation: str = '') -> PotentialSpec:
        """Write the files (:meth:`write`) and return the LAMMPS potential that runs them."""
        files = self.write(directory, name)
        return PotentialSpec(name=name, files=files, species=self.basis.species, pair_style='snap', citation=citation)


def _param_values(text: str) -> dict:
    values = {}
    for line in text.splitlines():
        words = line.split('#')[0].split()
        if len(words) == 2:
            values[words[0]] = words[1]
    return values


def read_snap_files(coeff_path, param_path) -> SnapModel:
    """Read a model written by :meth:`SnapModel.write` (or any single-radius, weight-1 SNAP file pair).

    :raises ValueError: if the files do not describe such a model.
    """
    param = _param_values(Path(param_path).read_text())
    if param.get('bzeroflag', '1') != '1' or param.get('chemflag', '0') != '0':
        raise ValueError(f'{param_path}: only bzeroflag 1 without chemflag is supported')
    lines = [line.split('#')[0].split() for line in Path(coeff_path).read_text().splitlines()]
    lines = [words for words in lines if words]
    count, per = (int(word) for word in lines[0])
    species, values, cursor = [], [], 1
    for _ in range(count):
        element, radius, weight = lines[cursor]
        if not re.fullmatch(r'[A-Z][a-z]?', element) or float(radius) != 0.5 or float(weight) != 1.0:
            raise ValueError(f'{coeff_path}: element line {" ".join(lines[cursor])!r} is not "<element> 0.5 1.0"')
        species.append(element)
        values.extend(float(words[0]) for words in lines[cursor + 1 : cursor + 1 + per])
        cursor += 1 + per
    basis = SnapBasis(
        species=tuple(species),
        twojmax=int(param['twojmax']),
        cutoff=float(param['rcutfac']),
        rfac0=float(param.get('rfac0', 0.99363)),
        rmin0=float(param.get('rmin0', 0.0)),
        quadratic=param.get('quadraticflag', '0') == '1',
        switchflag=int(param.get('switchflag', 1)),
    )
    return SnapModel(basis, np.array(values))
