"""Labels from a reference potential standing in for DFT (a surrogate, for trying the machinery in minutes).

``ReferenceLabelsCalculation`` (``calculations/reference_labels.py``) computes energy, forces and stress of
many configurations with a published potential into one labels table of engine ``reference:<potential>``,
which the trainer never mixes with DFT labels; the names below tell such labels apart.
``copied_configurations`` makes fresh copies of configurations (their
ancestors), so that a labelled DFT set can be labelled again by a reference potential without touching
its own labels.
"""

from __future__ import annotations

from aiida.engine import calcfunction

from ...common.structures import atoms_from_structure, structure_from_atoms
from ...data.potential import InteratomicPotentialData

__all__ = ('REFERENCE_ENGINE', 'copied_configurations', 'reference_engine', 'reference_settings')

#: Engine prefix of reference-potential labels (``reference:<potential name>``).
REFERENCE_ENGINE = 'reference'


def reference_engine(potential: InteratomicPotentialData) -> str:
    """The engine name of labels made by ``potential``: ``reference:<its name>``."""
    return f'{REFERENCE_ENGINE}:{potential.name}'


def reference_settings(potential: InteratomicPotentialData) -> dict:
    """The ``settings`` of labels made by ``potential`` (its UUID and file digest): equal settings, same labels."""
    return {'potential': potential.uuid, 'sha256': potential.sha256}


@calcfunction
def copied_configurations(**structures) -> dict:
    """Return a fresh copy of each structure under its own key (same cell, sites and periodicity)."""
    return {key: structure_from_atoms(atoms_from_structure(structure)) for key, structure in structures.items()}
