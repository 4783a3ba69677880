"""Register, find and list interatomic potentials stored in the current AiiDA profile."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from aiida import orm

from ..core.lammps.potential_check import check_potential
from ..core.lammps.potentials import BUNDLED_POTENTIALS, PotentialError, PotentialSpec, bundled_potential
from ..core.mlip.snap_model import SnapModel, read_snap_paths
from ..core.structures.scenarios import IDEAL_C_OVER_A, Lattice
from .potential import InteratomicPotentialData, potential_attributes

__all__ = (
    'described_potential',
    'ground_state_lattice',
    'ground_state_of',
    'list_potentials',
    'load_potential',
    'potential_files',
    'register_bundled_potentials',
    'register_potential',
    'require_potentials',
    'require_single_element',
    'snap_model_of',
    'write_potential_files',
)

_COMPARED = ('species', 'pair_style', 'pair_coeff', 'filenames', 'sha256')


def register_potential(
    files, name: str, species, pair_style: str, pair_coeff: str = '', citation: str = '', check: bool = True
) -> tuple[InteratomicPotentialData, bool]:
    """Store a potential under ``name``; return ``(node, created)``.

    Registering the same files and settings again returns the stored node (``created`` False); a
    different potential under a taken name raises :class:`PotentialError`. With ``check`` (the default),
    LAMMPS must first give a crystal of each species a finite energy (:func:`..core.lammps.potential_check.check_potential`),
    else :class:`PotentialError` carries LAMMPS's message; ``check=False`` stores a potential that may fail
    later (to test how runs report it).
    """
    spec = PotentialSpec(
        name=name,
        files=tuple(Path(f) for f in files),
        species=tuple(species),
        pair_style=pair_style,
        pair_coeff=pair_coeff,
        citation=citation,
    )
    if name in BUNDLED_POTENTIALS and not _same(potential_attributes(spec), potential_attributes(bundled_potential(name))):
        raise PotentialError(f'`{name}` is the name of a bundled potential; choose another name')
    if check and _find(name) is None:
        check_potential(spec)
    return _store(spec)


def _same(attributes: dict, other: dict) -> bool:
    return all(attributes[key] == other[key] for key in _COMPARED)


def _store(spec: PotentialSpec) -> tuple[InteratomicPotentialData, bool]:
    existing = _find(spec.name)
    if existing is not None:
        if _same(existing.base.attributes.all, potential_attributes(spec)):
            return existing, False
        raise PotentialError(
            f'a different potential is already registered as `{spec.name}` (pk {existing.pk}); choose another name'
        )
    return InteratomicPotentialData(spec).store(), True


def _find(name: str) -> InteratomicPotentialData | None:
    query = (
        orm.QueryBuilder()
        .append(InteratomicPotentialData, filters={'label': name}, tag='p', project='*')
        .order_by({'p': {'ctime': 'desc'}})
    )
    found = query.first()
    return found[0] if found else None


def load_potential(name: str) -> InteratomicPotentialData:
    """Return the stored potential ``name``; bundled potentials are registered on first use."""
    node = _find(name)
    if node is not None:
        return node
    if name in BUNDLED_POTENTIALS:
        return _store(bundled_potential(name))[0]
    known = sorted({p.label for p in list_potentials()} | set(BUNDLED_POTENTIALS))
    raise PotentialError(f'no potential named `{name}`; known: {", ".join(known)}')


def described_potential(name: str) -> InteratomicPotentialData | PotentialSpec:
    """Return the stored potential ``name``, or the spec of a bundled one not stored yet (``.name``, ``.species``):
    for checks that must store nothing. :raises PotentialError: for an unknown name."""
    node = _find(name)
    if node is not None:
        return node
    require_potentials([name])
    return bundled_potential(name)


def require_potentials(names) -> None:
    """Raise :class:`PotentialError` if a name is neither stored nor bundled (before any is registered on use)."""
    known = {p.label for p in list_potentials()} | set(BUNDLED_POTENTIALS)
    missing = [name for name in names if name not in known]
    if missing:
        raise PotentialError(f'no potential named {", ".join(f"`{n}`" for n in missing)}; known: {", ".join(sorted(known))}')


def list_potentials() -> list[InteratomicPotentialData]:
    """Return every stored potential, newest first."""
    query = orm.QueryBuilder().append(InteratomicPotentialData, tag='p').order_by({'p': {'ctime': 'desc'}})
    return [row[0] for row in query.all()]


def register_bundled_potentials() -> list[tuple[InteratomicPotentialData, bool]]:
    """Register every bundled potential (idempotent); return ``(node, created)`` for each."""
    return [_store(bundled_potential(name)) for name in BUNDLED_POTENTIALS]


def write_potential_files(node: InteratomicPotentialData, directory) -> list[Path]:
    """Write the files of a stored potential into ``directory`` (created if missing); return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in node.filenames:
        path = directory / name
        path.write_bytes(node.file_bytes(name))
        paths.append(path)
    return paths


@contextlib.contextmanager
def potential_files(node: InteratomicPotentialData):
    """Yield a :class:`PotentialSpec` of a stored potential with its files written to a scratch folder."""
    with tempfile.TemporaryDirectory(prefix='dg-potential-') as folder:
        paths = write_potential_files(node, folder)
        yield PotentialSpec(
            name=node.name,
            files=tuple(paths),
            species=tuple(node.species),
            pair_style=node.pair_style,
            pair_coeff=node.pair_coeff,
            citation=node.citation,
        )


def snap_model_of(node: InteratomicPotentialData) -> SnapModel:
    """Return the :class:`SnapModel` of a stored ``pair_style snap`` potential.

    :raises ValueError: if ``node`` is not a SNAP potential in the files this package writes.
    """
    words = node.pair_style.split()
    if words[0] != 'snap' and not (words[0] == 'hybrid/overlay' and set(words[1:]) == {'snap'}):
        raise ValueError(f'potential `{node.name}` is `{node.pair_style}`, not a SNAP model')
    with potential_files(node) as spec:
        return read_snap_paths(spec.files)


#: :func:`..core.lammps.local.ground_state` of each potential asked for, by content (files, pair style, species).
_GROUND_STATES: dict[tuple, dict] = {}


def require_single_element(nodes) -> None:
    """Raise ValueError for a potential of several elements: the built-in scenarios and basic sets are single-element."""
    for node in nodes:
        if len(node.species) != 1:
            raise ValueError(
                f'potential `{node.name}` has {len(node.species)} elements ({", ".join(node.species)}): the built-in '
                'scenarios are single-element'
            )


def ground_state_of(node: InteratomicPotentialData) -> dict:
    """Return :func:`..core.lammps.local.ground_state` of the potential's (first) element: bcc, fcc and hcp
    relaxed at zero pressure with the local LAMMPS, and the ``'lowest'``; computed once per process for the
    same potential (the sample command and the builders it calls ask for the same one)."""
    from ..core.lammps.local import ground_state

    key = (node.sha256, node.pair_style, node.pair_coeff, tuple(node.species))
    if key not in _GROUND_STATES:
        with potential_files(node) as spec:
            _GROUND_STATES[key] = ground_state(spec, node.species[0])
    return _GROUND_STATES[key]


def ground_state_lattice(node: InteratomicPotentialData) -> tuple[Lattice, float]:
    """Return ``(lattice, a)``: the lowest-energy crystal of :func:`ground_state_of` (hcp with its c/a) and its
    lattice constant (A)."""
    states = ground_state_of(node)
    state = states[states['lowest']]
    return Lattice(states['lowest'], state.get('c_over_a', IDEAL_C_OVER_A)), state['a']
