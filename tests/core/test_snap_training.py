"""The built-in SNAP trainer: design rows against LAMMPS, the fit, files, metrics, ensembles."""

import numpy as np
import pytest
from ase.build import bulk, surface
from ase.calculators.lammpslib import LAMMPSlib

from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
from aiida_defectgenome.core.lammps.potentials import pair_commands
from aiida_defectgenome.core.mlip.snap_basis import SnapBasis
from aiida_defectgenome.core.mlip.snap_fit import FitWeights, errors, split_configurations
from aiida_defectgenome.core.mlip.snap_model import SnapModel, read_snap_files, read_snap_model, snap_file_pairs
from aiida_defectgenome.core.mlip.snap_training import TrainingData, force_spread, train_snap
from aiida_defectgenome.core.structures.datasets import Labels, read_configurations
from aiida_defectgenome.tools.demo import BASIC_W_DATASET


def skewed_w(seed=1):
    """A rattled, sheared and rotated 16-atom W cell: LAMMPS has to turn it into its own frame."""
    atoms = bulk('W', 'bcc', a=3.18, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=seed)
    atoms.cell[0, 1] = 0.6
    atoms.cell[2, 0] = 0.4
    atoms.rotate(30, 'x', rotate_cell=True)
    return atoms


def lammps_results(model: SnapModel, atoms, tmp_path):
    spec = model.potential_spec(tmp_path, 'model')
    commands = pair_commands(spec.pair_style, spec.pair_coeff, [str(path) for path in spec.files], spec.species, ['W'])
    atoms = atoms.copy()
    atoms.calc = LAMMPSlib(lmpcmds=commands, atom_types={'W': 1}, keep_alive=False)
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


@pytest.mark.parametrize('quadratic, extra', [(False, ()), (True, ()), (True, ({'twojmax': 4, 'cutoff': 3.6},))])
def test_design_rows_reproduce_lammps_pair_snap(quadratic, extra, tmp_path):
    """Random coefficients: rows @ beta equals what pair_style snap (hybrid/overlay snap snap for a second
    radial channel) computes, in the structure's frame."""
    basis = SnapBasis(('W',), twojmax=4, quadratic=quadratic, extra=extra)
    assert basis.columns == 1 + basis.components + (14 if extra else 0)
    beta = np.random.default_rng(0).normal(size=basis.columns) * 1e-2
    beta[0] = -8.0
    model = SnapModel(basis, beta)
    atoms = skewed_w()
    energy, forces, stress = model.predict(atoms)
    ref_energy, ref_forces, ref_stress = lammps_results(model, atoms, tmp_path)
    assert energy == pytest.approx(ref_energy, abs=1e-8)
    assert np.abs(forces - ref_forces).max() < 1e-9
    # LAMMPS reports pressure in bar; ASE's conversion constant differs from LAMMPS' in the 8th digit
    assert np.abs(stress - ref_stress).max() < 1e-6 * np.abs(ref_stress).max()


def test_fit_recovers_a_known_model_and_files_round_trip(tmp_path):
    basis = SnapBasis(('W',), twojmax=2, quadratic=True)
    truth = np.random.default_rng(3).normal(size=basis.columns) * 1e-3
    truth[0] = -8.5
    truth_model = SnapModel(basis, truth)
    configurations = []
    for seed in range(6):
        atoms = skewed_w(seed)
        energy, forces, stress = truth_model.predict(atoms)
        configurations.append((atoms, Labels(energy, forces, None)))
    data = TrainingData.build(basis, configurations)
    result = train_snap(data, FitWeights(energy=1.0, force=1.0, ridge=0.0), test_fraction=0.0)
    assert np.allclose(result.model.coefficients, truth, rtol=1e-5, atol=1e-9)
    assert result.metrics['train']['force_rmse_mev_per_a'] < 1e-4
    read = read_snap_files(*result.model.write(tmp_path, 'W-test'))
    assert read.basis == basis and np.array_equal(read.coefficients, result.model.coefficients)


def test_a_model_with_two_radial_channels_round_trips_through_its_files(tmp_path):
    basis = SnapBasis(('W',), twojmax=2, quadratic=True, extra=({'twojmax': 4, 'cutoff': 4.0},))
    model = SnapModel(basis, np.random.default_rng(5).normal(size=basis.columns))
    paths = model.write(tmp_path, 'W.v2')
    names = ['W.v2.snapcoeff', 'W.v2.snapparam', 'W.v2.channel2.snapcoeff', 'W.v2.channel2.snapparam']
    assert [path.name for path in paths] == names
    SnapModel(SnapBasis(('W',), twojmax=2), np.zeros(6)).write(tmp_path, 'other')
    read = read_snap_model(tmp_path, 'W.v2')
    assert read.basis == basis and np.array_equal(read.coefficients, model.coefficients)
    assert snap_file_pairs(reversed(paths)) == [tuple(paths[:2]), tuple(paths[2:])]
    with pytest.raises(ValueError, match='one model'):
        snap_file_pairs(list(tmp_path.iterdir()))
    with pytest.raises(ValueError, match='lacks'):
        snap_file_pairs(paths[:3])
    with pytest.raises(ValueError, match='without channels of its own'):
        SnapBasis(('W',), extra=({'twojmax': 4, 'extra': ({'twojmax': 2},)},))


def test_stress_labels_enter_the_fit():
    basis = SnapBasis(('W',), twojmax=2)
    truth = SnapModel(basis, np.r_[-8.5, np.random.default_rng(5).normal(size=basis.columns - 1) * 1e-2])
    configurations = [(atoms, Labels(*truth.predict(atoms)[:2], None)) for atoms in map(skewed_w, range(4))]
    # only the stress carries the information on the last configuration
    atoms = bulk('W', 'bcc', a=3.05, cubic=True)
    energy, forces, voigt = truth.predict(atoms)
    from ase.stress import voigt_6_to_full_3x3_stress

    configurations.append((atoms, Labels(energy, forces, voigt_6_to_full_3x3_stress(voigt))))
    data = TrainingData.build(basis, configurations)
    with_stress = train_snap(data, FitWeights(1.0, 1.0, stress=1.0, ridge=0.0), test_fraction=0.0).model
    assert np.allclose(with_stress.predict(atoms)[2], voigt, atol=1e-7)


def test_weights_and_splits_are_checked():
    with pytest.raises(ValueError, match='force weight'):
        FitWeights(force=-1.0)
    with pytest.raises(ValueError, match='at least one'):
        FitWeights(energy=0, force=0, stress=0)
    train, test = split_configurations(50, 0.1, seed=4)
    assert len(test) == 5 and not set(train) & set(test) and len(train) + len(test) == 50
    assert np.array_equal(split_configurations(50, 0.1, seed=4)[1], test)
    with pytest.raises(ValueError, match='test fraction'):
        split_configurations(5, 1.0, 0)
    with pytest.raises(ValueError, match='Mo'):
        TrainingData.build(SnapBasis(('W',), twojmax=2), [(bulk('Mo'), Labels(0.0, np.zeros((1, 3))))])


def test_a_split_chosen_by_the_caller_is_the_one_fitted_and_scored():
    cells = [skewed_w(seed) for seed in range(6)]
    labels = [Labels(-8.0 * len(a) + 0.1 * k, np.zeros((len(a), 3))) for k, a in enumerate(cells)]
    data = TrainingData.build(SnapBasis(('W',), twojmax=2), list(zip(cells, labels)))
    result = train_snap(data, FitWeights(), split=([0, 1, 2, 3], [5]))
    assert list(result.train) == [0, 1, 2, 3] and list(result.test) == [5] and result.metrics['test']['configurations'] == 1
    with pytest.raises(ValueError, match='overlap'):
        train_snap(data, FitWeights(), split=([0, 1], [1]))
    with pytest.raises(ValueError, match=r'lie in \[0, 6\)'):
        train_snap(data, FitWeights(), split=([0, 6], [2]))


def test_errors_in_mev():
    labels = [Labels(-10.0, np.zeros((2, 3))), Labels(-20.0, np.ones((4, 3)))]
    predicted = [(-10.002, np.full((2, 3), 0.01)), (-20.0, np.ones((4, 3)))]
    scores = errors(predicted, labels)
    assert scores['energy_rmse_mev_per_atom'] == pytest.approx(np.sqrt(0.5))  # 1 meV/atom on one of two
    assert scores['force_rmse_mev_per_a'] == pytest.approx(10 * np.sqrt(6 / 18))


def test_force_spread_formula():
    forces = [np.zeros((2, 3)), np.array([[2.0, 0, 0], [0, 0, 0]])]
    assert np.allclose(force_spread(forces), [1.0, 0.0])
    with pytest.raises(ValueError, match='at least two'):
        force_spread([np.zeros((2, 3))])


@pytest.fixture(scope='module')
def w_training():
    """A quadratic twojmax-4 SNAP ensemble on the W basic set (the fast protocol's size)."""
    configurations = read_configurations(BASIC_W_DATASET)
    data = TrainingData.build(SnapBasis(('W',), twojmax=4, quadratic=True), configurations)
    return train_snap(data, FitWeights(1.0, 0.01, ridge=1e-10), test_fraction=0.1, seed=0, members=5)


def test_w_basic_set_fit_generalises(w_training):
    test = w_training.metrics['test']
    assert test['configurations'] == 68
    # measured 7.7 meV/atom and 199 meV/A; predicting zero forces gives 870 meV/A
    assert test['energy_rmse_mev_per_atom'] < 10 and test['force_rmse_mev_per_a'] < 250
    assert w_training.metrics['train']['groups']['all']['configurations'] == 610


def test_ensemble_spread_is_larger_on_a_surface_and_a_liquid(w_training):
    """sigma_F on a free surface and on a random dense packing exceeds sigma_F on rattled bulk bcc."""
    members = w_training.members
    assert len(members) == 5 and not np.allclose(members[0].coefficients, members[1].coefficients)

    def spread(atoms):
        return force_spread([model.predict(atoms)[1] for model in members])

    crystal = bulk('W', 'bcc', a=3.18, cubic=True).repeat(3)
    crystal.rattle(0.05, seed=2)
    slab = surface(bulk('W', 'bcc', a=3.18, cubic=True), (1, 1, 0), 4, vacuum=6.0).repeat((3, 3, 1))
    slab.rattle(0.05, seed=2)
    liquid = crystal.copy()
    liquid.positions = np.random.default_rng(9).uniform(0, 1, (len(liquid), 3)) @ liquid.cell.array
    bulk_spread = spread(crystal).mean()
    assert spread(slab).mean() > 2 * bulk_spread
    assert spread(liquid).mean() > 2 * bulk_spread


def test_quadratic_descriptor_is_the_model_basis():
    """Per-atom rows of the quadratic descriptor summed over atoms equal the energy row of the basis
    (up to the constant B0 shift of bzeroflag, which centring in the active set absorbs)."""
    atoms = skewed_w()
    rows = SnapDescriptor(twojmax=4, quadratic=True).compute(atoms)
    basis = SnapBasis(('W',), twojmax=4, quadratic=True)
    assert rows.shape == (len(atoms), basis.components)
    energy_row = basis.rows(atoms).energy[1:]
    linear = 14
    # linear part: sum_i (B_i - B0) = sum_i B_i - n B0, so differences between two structures agree
    other = skewed_w(seed=2)
    delta = SnapDescriptor(twojmax=4, quadratic=True).compute(other).sum(0) - rows.sum(0)
    assert np.allclose(delta[:linear], basis.rows(other).energy[1 : 1 + linear] - energy_row[:linear], rtol=1e-9, atol=1e-8)


def test_md_watches_gamma_in_the_model_basis(w_training, tmp_path):
    """Gamma of the model's own basis: bulk at 300 K interpolates; a melting 8000 K run is stopped."""
    from aiida_defectgenome.core.doptimality.screening import active_set_of
    from aiida_defectgenome.core.jobs.gamma_md import model_descriptor, run_watched_md, validate_watch

    model = w_training.model
    descriptor = model_descriptor(model)
    assert descriptor.size == model.basis.components
    active_set = active_set_of(w_training_atoms(), descriptor)
    spec = model.potential_spec(tmp_path, 'w-fast')
    crystal = bulk('W', 'bcc', a=3.18, cubic=True).repeat(3)
    watch = {'every': 20, 'save_threshold': 1.5, 'break_threshold': 5}
    calm = run_watched_md(crystal, spec, active_set, **validate_watch({'temperature': 300, 'steps': 200, **watch}))
    assert calm.steps == 200 and calm.stopped == '' and not calm.saved and max(calm.gamma_max) < 1
    hot = run_watched_md(crystal, spec, active_set, **validate_watch({'temperature': 8000, 'steps': 400, **watch}))
    assert hot.stopped == 'break_threshold' and hot.steps < 400 and hot.gamma_max[-1] > 5
    assert hot.saved and hot.saved[-1].arrays['gamma'].max() == pytest.approx(hot.gamma_max[-1])
    with pytest.raises(ValueError, match='save_threshold'):
        run_watched_md(crystal, spec, active_set, [{'type': 'md', 'steps': 10}], save_threshold=5, break_threshold=2)


def test_md_with_extra_radial_channels_is_watched_in_the_main_channel(tmp_path):
    """A two-channel model runs MD through hybrid/overlay snap snap; gamma comes from its main channel."""
    from aiida_defectgenome.core.doptimality.screening import active_set_of
    from aiida_defectgenome.core.jobs.gamma_md import model_descriptor, run_watched_md, validate_watch

    configurations = read_configurations(BASIC_W_DATASET)[::3]
    basis = SnapBasis(('W',), twojmax=4, quadratic=True, extra=({'twojmax': 4, 'cutoff': 3.8},))
    model = train_snap(TrainingData.build(basis, configurations), FitWeights(1.0, 0.01), test_fraction=0.0).model
    descriptor = model_descriptor(model)
    assert descriptor.size == basis.components and descriptor.cutoff == 5.0
    active_set = active_set_of([atoms for atoms, _ in configurations], descriptor)
    crystal = bulk('W', 'bcc', a=3.18, cubic=True).repeat(3)
    watch = validate_watch({'temperature': 300, 'steps': 100, 'every': 20, 'save_threshold': 1.5, 'break_threshold': 5})
    calm = run_watched_md(crystal, model.potential_spec(tmp_path, 'two'), active_set, **watch)
    assert calm.steps == 100 and calm.stopped == '' and max(calm.gamma_max) < 1


def w_training_atoms():
    return [atoms for atoms, _ in read_configurations(BASIC_W_DATASET)]


def test_labels_from_two_sources_are_fitted_with_an_energy_offset():
    """Energies of a second source shifted by 1.7 eV/atom (another code's scale): the fit finds the shift,
    the model predicts on the first source's scale, and the scores are those of unshifted data."""
    basis = SnapBasis(('W',), twojmax=2, quadratic=True)
    truth = np.random.default_rng(3).normal(size=basis.columns) * 1e-3
    truth[0] = -8.5
    truth_model = SnapModel(basis, truth)
    configurations, sources = [], []
    for seed in range(8):
        atoms = skewed_w(seed)
        energy, forces, _ = truth_model.predict(atoms)
        shifted = seed % 2 == 1
        configurations.append((atoms, Labels(energy + 1.7 * len(atoms) * shifted, forces, None)))
        sources.append('GPAW/abc' if shifted else 'VASP')
    data = TrainingData.build(basis, configurations, sources=sources)
    assert data.offset_keys == [('GPAW/abc', 'W')]
    result = train_snap(data, FitWeights(1.0, 0.1, ridge=1e-14), test_fraction=0.25, seed=1)
    assert result.offsets == {'GPAW/abc W': pytest.approx(1.7, abs=1e-6)}
    assert np.allclose(result.model.coefficients, truth, atol=1e-6)
    assert result.metrics['test']['energy_rmse_mev_per_atom'] < 1e-3
    single = train_snap(TrainingData.build(basis, configurations), FitWeights(1.0, 0.1, ridge=1e-14), test_fraction=0.25, seed=1)
    assert single.offsets == {} and single.metrics['train']['energy_rmse_mev_per_atom'] > 100  # one scale cannot fit both
