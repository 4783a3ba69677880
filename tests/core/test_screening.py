"""The D-optimality engine on W: the basic set's own active set, defects that stand out, cut clusters."""

import numpy as np
import pytest
from ase.build import bulk

from aiida_defectgenome.core.doptimality.clusters import cut_neighbourhood, pad_with_vacuum
from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor, descriptor_from_parameters
from aiida_defectgenome.core.doptimality.screening import active_set_of, grade_structures, select_neighbourhoods
from aiida_defectgenome.core.structures.datasets import read_configurations
from aiida_defectgenome.core.structures.geometry import minimum_image
from aiida_defectgenome.tools.demo import BASIC_W_DATASET

from .. import defect_cells


@pytest.fixture(scope='module')
def basic_set():
    return [atoms for atoms, _ in read_configurations(BASIC_W_DATASET)]


@pytest.fixture(scope='module')
def w_active_set(basic_set):
    return active_set_of(basic_set, SnapDescriptor(twojmax=6))


def test_snap_descriptor_sizes_and_settings():
    assert SnapDescriptor(twojmax=6).size == 30 and SnapDescriptor(twojmax=8).size == 55
    rows = SnapDescriptor(twojmax=8).compute(bulk('W', 'bcc', a=3.165, cubic=True))
    assert rows.shape == (2, 55) and np.allclose(rows[0], rows[1])
    assert descriptor_from_parameters(SnapDescriptor(twojmax=4).parameters).parameters['twojmax'] == 4
    with pytest.raises(ValueError, match='twojmax'):
        SnapDescriptor(twojmax=7.5)
    with pytest.raises(ValueError, match='unknown descriptor'):
        descriptor_from_parameters({'name': 'soap'})


def test_basic_set_atoms_lie_inside_their_own_active_set(basic_set, w_active_set):
    grades = grade_structures(w_active_set, basic_set)
    assert len(grades.gamma) == 48761 and len(grades.maxima) == 678
    assert w_active_set.size == 30 and w_active_set.virtual_rows == 0
    assert grades.gamma.max() <= w_active_set.tol + 1e-9


def test_perfect_bcc_interpolates(w_active_set):
    for a0 in (3.16485, 3.184):
        assert grade_structures(w_active_set, [bulk('W', 'bcc', a=a0, cubic=True)]).gamma.max() <= 1.0


def test_grade_is_invariant_to_rotation_translation_permutation(w_active_set):
    atoms = bulk('W', 'bcc', a=3.165, cubic=True) * 3
    atoms.rattle(0.15, seed=4)
    moved = atoms.copy()
    moved.rotate(33, (1, 2, 3), rotate_cell=True)
    moved.translate([0.7, -1.3, 2.2])
    permutation = np.random.default_rng(0).permutation(len(atoms))
    moved = moved[permutation]
    reference = grade_structures(w_active_set, [atoms]).gamma
    assert np.allclose(grade_structures(w_active_set, [moved]).gamma, reference[permutation], atol=1e-8)
    assert reference.max() > 1.0  # a strongly rattled cell is not trivially inside


@pytest.mark.parametrize('build', [defect_cells.vacancy_cluster, defect_cells.interstitial_loop, defect_cells.free_surface])
def test_atoms_near_defects_score_higher_than_bulk_atoms(w_active_set, build):
    atoms, sites = build()
    gamma = grade_structures(w_active_set, [atoms]).gamma
    distance = np.min([np.linalg.norm(minimum_image(atoms.positions - s, atoms.cell[:], atoms.pbc), axis=1) for s in sites], axis=0)
    near, far = gamma[distance < 3.5], gamma[distance > 9.0]
    assert len(far) > 20 and far.max() < 0.3
    assert near.max() > 2 * far.max()


def test_general_grain_boundary_scores_higher_than_grain_interiors(w_active_set):
    atoms, _ = defect_cells.grain_boundary()
    gamma = grade_structures(w_active_set, [atoms]).gamma
    height, radius = np.abs(atoms.positions[:, 2]), np.linalg.norm(atoms.positions, axis=1)
    boundary, interior = gamma[(height < 2.5) & (radius < 10)], gamma[(height > 7) & (radius < 10)]
    assert interior.max() < 0.3 and boundary.max() > 1.0


def test_selection_cuts_one_cluster_per_new_environment(w_active_set):
    atoms, sites = defect_cells.interstitial_loop()
    rattled = bulk('W', 'bcc', a=3.165, cubic=True) * 3
    rattled.rattle(0.2, seed=1)
    result = select_neighbourhoods(w_active_set, [bulk('W', 'bcc', a=3.165, cubic=True) * 2, atoms, rattled], threshold=1.5)
    assert result.preselected > 0 and 0 < result.selected <= result.preselected
    assert len(result.clusters) == result.selected - result.merged
    assert {cluster.info['source_structure'] for cluster in result.clusters} <= {1, 2}
    for cluster in result.clusters:
        source = [None, atoms, rattled][cluster.info['source_structure']]
        assert cluster.info['gamma'] >= 1.5 and cluster.arrays['core_mask'].all()
        assert cluster.arrays['source_index'][0] == cluster.info['source_centre']
        centre_rows = SnapDescriptor().compute(cluster)[0]
        assert np.allclose(centre_rows, SnapDescriptor().compute(source)[cluster.info['source_centre']], atol=1e-8)
    again = select_neighbourhoods(w_active_set, [bulk('W', 'bcc', a=3.165, cubic=True) * 2, atoms, rattled], threshold=1.5)
    assert [c.info['source_centre'] for c in again.clusters] == [c.info['source_centre'] for c in result.clusters]


def test_cut_is_the_same_from_a_small_or_a_large_periodic_cell():
    small = bulk('W', 'bcc', a=3.165)
    large = bulk('W', 'bcc', a=3.165, cubic=True) * 8
    a, b = cut_neighbourhood(small, 0), cut_neighbourhood(large, 0)
    assert len(a) == len(b) == 137  # bcc shells up to 8 A
    distances = [np.sort(np.linalg.norm(c.positions - c.positions[0], axis=1)) for c in (a, b)]
    assert np.allclose(*distances)
    assert not a.pbc.any() and a.info['centre_index'] == 0


def test_cylinder_keeps_a_short_periodic_axis_and_the_central_environment():
    line = bulk('W', 'bcc', a=3.165, cubic=True) * (10, 10, 1)
    line.rattle(0.05, seed=2)
    cylinder = cut_neighbourhood(line, 33, periodic_axes='auto')
    assert cylinder.pbc.tolist() == [False, False, True]
    assert np.allclose(cylinder.cell[2], line.cell[2])
    assert len(set(cylinder.arrays['source_index'].tolist())) == len(cylinder)  # one period: no repeats
    descriptor = SnapDescriptor()
    assert np.allclose(descriptor.compute(cylinder)[0], descriptor.compute(line)[33], atol=1e-8)
    with pytest.raises(ValueError, match='periodic axes of the source'):
        cut_neighbourhood(cylinder, 0, periodic_axes=(0,))


def test_vacuum_padding_leaves_vacuum_on_every_open_side():
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=3.165, cubic=True) * 6, 10)
    padded = pad_with_vacuum(cluster, vacuum=8.0)
    assert padded.pbc.all() and len(padded) == len(cluster)
    fractional = padded.get_scaled_positions(wrap=False)
    lengths = padded.cell.lengths()
    assert np.all(fractional.min(axis=0) * lengths >= 8.0 - 1e-9)
    assert np.all((1 - fractional.max(axis=0)) * lengths >= 8.0 - 1e-9)
    assert np.allclose(padded.get_all_distances()[0], cluster.get_all_distances()[0])


def test_gamma_plot_is_written(tmp_path):
    from aiida_defectgenome.core.plots import plot_gamma_distributions

    rng = np.random.default_rng(0)
    path = plot_gamma_distributions(
        {'a': rng.uniform(0.01, 1, 500), 'b': rng.uniform(0.5, 8, 200), 'empty': []}, tmp_path / 'g.png'
    )
    assert path.read_bytes()[:4] == b'\x89PNG'
    with pytest.raises(ValueError, match='no grades'):
        plot_gamma_distributions({'empty': []}, tmp_path / 'none.png')
