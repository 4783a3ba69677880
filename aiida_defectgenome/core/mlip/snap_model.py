"""A fitted SNAP model: its basis and coefficients, the ``pair_style snap`` files, and predictions."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
from ase import Atoms

from ..lammps.potentials import PotentialSpec
from .snap_basis import SnapBasis, SnapRows

__all__ = ('SnapModel', 'read_snap_files', 'read_snap_model', 'read_snap_paths', 'snap_file_pairs')


@dataclasses.dataclass
class SnapModel:
    """``coefficients`` ``(basis.columns,)``: per element (``basis.species`` order) the constant (eV) and
    one coefficient per component, as in a LAMMPS ``.snapcoeff`` file; then those of each extra channel
    (no constants)."""

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

    def channel_coefficients(self) -> list[np.ndarray]:
        """Coefficients of each channel (:attr:`.SnapBasis.channels`) in its own file layout: per element the
        constant (zero in the extra channels, whose energy offsets the main one carries) and the components."""
        species = len(self.basis.species)
        main = species * self.basis.columns_per_element
        parts, cursor = [self.coefficients[:main]], main
        for channel in self.basis.extra:
            block = self.coefficients[cursor : cursor + species * channel.components].reshape(species, -1)
            parts.append(np.hstack([np.zeros((species, 1)), block]).ravel())
            cursor += species * channel.components
        return parts

    def coefficient_files(self) -> list[str]:
        """Text of the ``.snapcoeff`` file of each channel (radius 0.5 and weight 1 per element: the cutoff is ``rcutfac``)."""
        texts = []
        for channel, coefficients in zip(self.basis.channels, self.channel_coefficients()):
            per = channel.columns_per_element
            lines = ['# SNAP coefficients fitted by aiida-defectgenome', f'{len(channel.species)} {per}']
            for t, element in enumerate(channel.species):
                lines.append(f'{element} 0.5 1.0')
                lines.extend(f'{value:.17g}' for value in coefficients[t * per : (t + 1) * per])
            texts.append('\n'.join(lines) + '\n')
        return texts

    def write(self, directory, name: str) -> tuple[Path, ...]:
        """Write ``name.snapcoeff`` and ``name.snapparam`` into ``directory`` (extra channel ``K``, from 2:
        ``name.channelK.snapcoeff``, ``name.channelK.snapparam``); return the paths, coefficient file first per channel."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for k, (channel, text) in enumerate(zip(self.basis.channels, self.coefficient_files()), start=1):
            stem = name if k == 1 else f'{name}.channel{k}'
            coeff, param = directory / f'{stem}.snapcoeff', directory / f'{stem}.snapparam'
            coeff.write_text(text)
            param.write_text(channel.param_file())
            paths += [coeff, param]
        return tuple(paths)

    def potential_spec(self, directory, name: str, citation: str = '') -> PotentialSpec:
        """Write the files (:meth:`write`) and return the LAMMPS potential that runs them."""
        files = self.write(directory, name)
        style, coeff = self.basis.pair_style()
        species = self.basis.species
        return PotentialSpec(name=name, files=files, species=species, pair_style=style, pair_coeff=coeff, citation=citation)


def _param_values(text: str) -> dict:
    values = {}
    for line in text.splitlines():
        words = line.split('#')[0].split()
        if len(words) == 2:
            values[words[0]] = words[1]
    return values


_CHANNEL = re.compile(r'(?P<name>.+)\.channel(?P<number>[0-9]+)$')


def _model_and_channel(stem: str) -> tuple[str, int]:
    """``('model', 2)`` for ``model.channel2``, ``('model', 1)`` for ``model``."""
    match = _CHANNEL.fullmatch(stem)
    return (match['name'], int(match['number'])) if match else (stem, 1)


def snap_file_pairs(paths) -> list[tuple[Path, Path]]:
    """Order the files :meth:`SnapModel.write` wrote for one model: ``[(coeff, param)]`` of the main channel
    (``name.snap*``), then of channels 2, 3, ... (``name.channelK.snap*``); other files are ignored.

    :raises ValueError: if a channel lacks one of its two files, or the files are of several models or none.
    """
    stems = {}
    for path in map(Path, paths):
        if path.suffix in ('.snapcoeff', '.snapparam'):
            stems.setdefault(path.stem, {})[path.suffix] = path
    names = {_model_and_channel(stem)[0] for stem in stems}
    if len(names) != 1:
        raise ValueError(f'expected the SNAP files of one model, got those of {sorted(names) or "none"}')
    pairs = []
    for stem in sorted(stems, key=lambda stem: _model_and_channel(stem)[1]):
        if len(stems[stem]) != 2:
            raise ValueError(f'SNAP channel `{stem}` lacks its .snapcoeff or .snapparam file')
        pairs.append((stems[stem]['.snapcoeff'], stems[stem]['.snapparam']))
    return pairs


def read_snap_paths(paths) -> SnapModel:
    """Read the model whose files (all its channels, in any order) are among ``paths`` (:func:`snap_file_pairs`)."""
    (coeff, param), *extra = snap_file_pairs(paths)
    return read_snap_files(coeff, param, extra)


def read_snap_model(directory, name: str) -> SnapModel:
    """Read the model :meth:`SnapModel.write` wrote as ``name`` into ``directory`` (all its channels)."""
    return read_snap_paths(path for path in Path(directory).iterdir() if _model_and_channel(path.stem)[0] == name)


def read_snap_files(coeff_path, param_path, extra=()) -> SnapModel:
    """Read a model written by :meth:`SnapModel.write` (or any single-radius, weight-1 SNAP file pair);
    ``extra``: the ``(coeff, param)`` paths of its further channels, in order.

    :raises ValueError: if the files do not describe such a model.
    """
    channels = [_read_channel(coeff, param) for coeff, param in [(coeff_path, param_path), *extra]]
    (main, coefficients), others = channels[0], channels[1:]
    basis = dataclasses.replace(main, extra=tuple(channel for channel, _ in others))
    parts = [coefficients] + [values.reshape(len(main.species), -1)[:, 1:].ravel() for _, values in others]
    return SnapModel(basis, np.concatenate(parts))


def _read_channel(coeff_path, param_path) -> tuple[SnapBasis, np.ndarray]:
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
    return basis, np.array(values)
