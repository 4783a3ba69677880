"""``InteratomicPotentialData``: a LAMMPS potential (files, species, pair style, citation) as one node."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aiida import orm

from ..core.lammps.potentials import PotentialSpec, pair_commands

__all__ = ('InteratomicPotentialData', 'potential_attributes')


def potential_attributes(spec: PotentialSpec) -> dict:
    """Return the attributes an ``InteratomicPotentialData`` of ``spec`` has (``sha256`` over all files)."""
    digest = hashlib.sha256()
    for path in spec.files:
        digest.update(Path(path).read_bytes())
    return {
        'name': spec.name,
        'species': list(spec.species),
        'pair_style': spec.pair_style,
        'pair_coeff': spec.pair_coeff,
        'citation': spec.citation,
        'filenames': list(spec.filenames),
        'sha256': digest.hexdigest(),
    }


class InteratomicPotentialData(orm.Data):
    """An interatomic potential LAMMPS can run: its files live in the node's repository.

    Attributes: ``name``, ``species`` (elements, potential order), ``pair_style``, ``pair_coeff``
    (template, see :mod:`aiida_defectgenome.core.lammps.potentials`), ``citation``, ``filenames``, ``sha256``
    (of all files, in order). The node's ``label`` is its name, which ``--potential NAME`` looks up.
    """

    def __init__(self, spec: PotentialSpec | None = None, **kwargs):
        super().__init__(**kwargs)
        if spec is None:
            return
        for path in spec.files:
            self.base.repository.put_object_from_bytes(Path(path).read_bytes(), Path(path).name)
        self.label = spec.name
        self.base.attributes.set_many(potential_attributes(spec))

    @property
    def name(self) -> str:
        return self.base.attributes.get('name')

    @property
    def species(self) -> list[str]:
        return self.base.attributes.get('species')

    @property
    def pair_style(self) -> str:
        return self.base.attributes.get('pair_style')

    @property
    def pair_coeff(self) -> str:
        return self.base.attributes.get('pair_coeff')

    @property
    def citation(self) -> str:
        return self.base.attributes.get('citation', '')

    @property
    def filenames(self) -> list[str]:
        return self.base.attributes.get('filenames')

    @property
    def sha256(self) -> str:
        return self.base.attributes.get('sha256')

    def pair_commands(self, type_elements) -> list[str]:
        """Return the ``pair_style``/``pair_coeff`` lines for atom types of elements ``type_elements``."""
        return pair_commands(self.pair_style, self.pair_coeff, self.filenames, self.species, type_elements)

    def file_bytes(self, filename: str) -> bytes:
        """Return the content of one of the potential's files."""
        return self.base.repository.get_object_content(filename, mode='rb')
