"""The jobs of the offline tests: the inputs of each case, shared by the tests that render their input files
(``tests/calculations``), the parser tests on the files a real run of them retrieved (``tests/parsers``) and
the script that made those files (``tests/parsers/fixtures/generate.py``).

Each case is ``(entry point, inputs)``: ``inputs(codes)`` builds the inputs from ``codes`` (``lammps``,
``gpaw``, ``python``: codes of those plugins) and the nodes ``prerequisites`` the case depends on (a
finished run's remote folder, a trained model), unstored and always the same.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from aiida import orm
from ase.build import bulk

A0 = 3.165  # A, bcc W of EAM-Zhou, near enough for the cases


def w_cell(a: float = A0, repeat: int = 1) -> orm.StructureData:
    """Cubic bcc W, ``repeat`` cells per side."""
    return orm.StructureData(ase=bulk('W', 'bcc', a=a, cubic=True) * (repeat, repeat, repeat))


def rotated_cell() -> orm.StructureData:
    """A strained 4-atom W cell with a displaced atom, rotated about x and z: its stress and forces are
    rotated back by the parser."""
    atoms = bulk('W', 'bcc', a=A0, cubic=True) * (2, 1, 1)
    atoms.set_cell(atoms.cell.array @ np.diag([1.01, 1.0, 0.99]), scale_atoms=True)
    atoms.positions[0] += [0.05, 0.02, -0.03]
    atoms.rotate(37, 'x', rotate_cell=True)
    atoms.rotate(21, 'z', rotate_cell=True)
    return orm.StructureData(ase=atoms)


def exploding_cell() -> orm.StructureData:
    """54 W atoms with two 0.85 A apart: NVE at a 10 fs timestep loses atoms."""
    atoms = bulk('W', 'bcc', a=A0, cubic=True) * (3, 3, 3)
    atoms.positions[0] = atoms.positions[1] + [0.6, 0.6, 0.0]
    return orm.StructureData(ase=atoms)


def potential(missing_file: bool = False):
    """EAM-Zhou W as an unstored node; with ``missing_file`` its pair_coeff names a file it does not have."""
    from aiida_defectgenome.core.lammps.potentials import bundled_potential
    from aiida_defectgenome.data.potential import InteratomicPotentialData

    spec = bundled_potential('eam-zhou-W')
    if missing_file:
        spec = dataclasses.replace(spec, name='eam-missing-file', pair_coeff='* * W_missing.eam.alloy {elements}')
    return InteratomicPotentialData(spec)


def _lammps(structure, parameters=None, missing_file=False):
    def inputs(codes, prerequisites=None):
        values = {'code': codes['lammps'], 'structure': structure(), 'potential': potential(missing_file)}
        if parameters is not None:
            values['parameters'] = orm.Dict(parameters)
        return values

    return 'defectgenome.lammps', inputs


RELAX = {'type': 'minimize', 'box_relax': 'iso', 'ftol': 1e-10}
LAMMPS = {
    'relax_md': _lammps(
        lambda: w_cell(3.12, 2),
        {'stages': [RELAX, {'type': 'md', 'temperature': 300.0, 'steps': 20, 'timestep': 0.002, 'seed': 1}], 'thermo_every': 5},
    ),
    'rotated_cell': _lammps(rotated_cell),
    'atoms_stay_remote': _lammps(lambda: w_cell(3.2, 2), {'stages': [RELAX], 'retrieve_atoms': False}),
    'unconverged_minimisation': _lammps(lambda: w_cell(3.0), {'stages': [{**RELAX, 'maxiter': 3}]}),
    'lost_atoms': _lammps(exploding_cell, {'stages': [{'type': 'md', 'ensemble': 'nve', 'steps': 200, 'timestep': 0.01}]}),
    'missing_potential_file': _lammps(w_cell, missing_file=True),
}

GPAW_FAST = {'ecut': 300, 'kpoint_spacing': 0.1, 'setups': {'W': '6'}, 'convergence': {'energy': 1e-4, 'density': 1e-3}}


def _gpaw(parameters):
    def inputs(codes, prerequisites=None):
        return {'code': codes['gpaw'], 'structure': w_cell(3.18), 'parameters': orm.Dict(parameters)}

    return 'defectgenome.gpaw', inputs


GPAW = {
    'single_point': _gpaw(GPAW_FAST),
    'scf_not_converged': _gpaw({**GPAW_FAST, 'maxiter': 2}),
}

#: A LAMMPS run whose trajectory dump the selection case grades: a 3-grain polycrystal at 600 K.
SELECTION_PARENT = (
    'defectgenome.lammps',
    {
        'stages': [{'type': 'minimize', 'etol': 1e-4, 'ftol': 0.0}, {'type': 'md', 'temperature': 600.0, 'steps': 100, 'seed': 3}],
        'dump_every': 50,
    },
)
SELECTION_PARAMETERS = {'species': ['W'], 'threshold': 1.5, 'limit': 2, 'radius': 5.0, 'provenance': {'scenario': 'polycrystal'}}


def polycrystal_cell() -> orm.StructureData:
    from aiida_defectgenome.common.structures import structure_from_atoms
    from aiida_defectgenome.core.structures.scenarios import polycrystal

    return structure_from_atoms(polycrystal('W', A0, 'bcc', length=24.0, grains=3, seed=11))


def basic_set_active_set():
    """The active set of the W basic set in the SNAP 2J=6 basis (``ActiveSetData``, unstored)."""
    from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
    from aiida_defectgenome.core.doptimality.screening import active_set_of
    from aiida_defectgenome.core.structures.datasets import read_configurations
    from aiida_defectgenome.data.active_set import ActiveSetData
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    frames = [atoms for atoms, _ in read_configurations(BASIC_W_DATASET)]
    return ActiveSetData(active_set_of(frames, SnapDescriptor(twojmax=6)))


def _selection(codes, prerequisites):
    return {
        'code': codes['python'],
        'parent_folder': prerequisites['parent_folder'],
        'active_set': prerequisites['active_set'],
        'parameters': orm.Dict(SELECTION_PARAMETERS),
    }


def mtp_potential(name: str = 'mtp-w8-nbh', fixture: str = 'trained_nbhmode.almtp'):
    """A genuine level-8 MTP of the fixtures, by default the one trained with --al_mode=nbh
    (``InteratomicPotentialData``, unstored)."""
    import tempfile
    from pathlib import Path

    from aiida_defectgenome.core.lammps.potentials import PotentialSpec
    from aiida_defectgenome.data.potential import InteratomicPotentialData

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'trained.almtp'
        path.write_bytes((Path(__file__).parent / 'fixtures' / 'mlip3' / fixture).read_bytes())
        return InteratomicPotentialData(PotentialSpec(name, (path,), ('W',), 'mlip load_from=trained.almtp', '* *'))


def _selection_by_mtp(codes, prerequisites):
    inputs = _selection(codes, prerequisites)
    del inputs['active_set']
    return {**inputs, 'mtp': prerequisites['mtp'], 'mlp_code': codes['mlp']}


SELECTION = {
    'polycrystal': ('defectgenome.selection', _selection),
    'polycrystal_mtp': ('defectgenome.selection', _selection_by_mtp),
}

#: The training case: the fast basis on the first 30 configurations of up to 54 atoms, two bootstrap members.
TRAINING_SETTINGS = {
    'species': ['W'],
    'basis': {'twojmax': 4, 'cutoff': 5.0, 'quadratic': True},
    'weights': {'energy': 1.0, 'force': 0.01, 'stress': 0.0, 'ridge': 1e-10},
    'test_fraction': 0.2,
    'seed': 0,
    'ensemble': 2,
    'learning_curve': [0.5, 1.0],
}


def training_set() -> orm.SinglefileData:
    """The first 30 configurations of the W basic set with at most 54 atoms, as extxyz."""
    import io

    import ase.io

    from aiida_defectgenome.core.structures.datasets import labelled_atoms, read_configurations
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    frames = [labelled_atoms(a, labels) for a, labels in read_configurations(BASIC_W_DATASET) if len(a) <= 54][:30]
    text = io.StringIO()
    ase.io.write(text, frames, format='extxyz')
    return orm.SinglefileData(io.BytesIO(text.getvalue().encode()), filename='training.extxyz')


def _training(codes, prerequisites=None):
    return {'code': codes['python'], 'training_set': training_set(), 'parameters': orm.Dict(TRAINING_SETTINGS)}


TRAINING = {'fast_ensemble': ('defectgenome.snap_training', _training)}

GAMMA_MD_WATCH = {'temperature': 8000.0, 'steps': 300, 'every': 20, 'seed': 5, 'save_threshold': 1.5, 'break_threshold': 5.0}


def _gamma_md(codes, prerequisites):
    return {
        'code': codes['python'],
        'structure': w_cell(3.18, 3),
        'potential': prerequisites['model'],
        'active_set': prerequisites['model_active_set'],
        'parameters': orm.Dict(GAMMA_MD_WATCH),
    }


GAMMA_MD = {'hot_run_stopped': ('defectgenome.gamma_md', _gamma_md)}


def _reference_labels(codes, prerequisites=None):
    cluster = bulk('W', 'bcc', a=A0, cubic=True) * (2, 2, 2)
    cluster.pbc = False  # no stress for a cell that is not periodic
    return {
        'code': codes['python'],
        'potential': potential(),
        'structures': {'s1': rotated_cell(), 's2': orm.StructureData(ase=cluster)},
    }


REFERENCE_LABELS = {'periodic_and_open': ('defectgenome.reference_labels', _reference_labels)}

#: Every case by the calculation's short name (the fixture folder ``tests/parsers/fixtures/<calc>/<case>``).
CASES = {
    'lammps': LAMMPS,
    'gpaw': GPAW,
    'selection': SELECTION,
    'snap_training': TRAINING,
    'gamma_md': GAMMA_MD,
    'reference_labels': REFERENCE_LABELS,
}
