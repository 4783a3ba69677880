"""Scenario builders: oriented crystals, Voronoi polycrystals, straight dislocations of every character, loops, cracks."""

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from aiida_defectgenome.core.structures.analysis import adaptive_cna, structure_fractions
from aiida_defectgenome.core.structures.cracks import BCC_CRACK_SYSTEMS, crack_slab
from aiida_defectgenome.core.structures.dislocations import BCC_CHARACTERS, straight_dislocation
from aiida_defectgenome.core.structures.geometry import minimum_image
from aiida_defectgenome.core.structures.loops import glide_loop, interstitial_loop
from aiida_defectgenome.core.structures.scenarios import oriented_crystal, polycrystal

from ..defect_cells import A0, relax_eam


@pytest.mark.parametrize(
    ('lattice', 'a', 'directions', 'per_cell'),
    [
        ('bcc', A0, ((1, 0, 0), (0, 1, 0), (0, 0, 1)), 2),
        ('bcc', A0, ((1, 1, -2), (-1, 1, 0), (1, 1, 1)), 2),
        ('fcc', 3.615, ((1, 1, 0), (-1, 1, 0), (0, 0, 1)), 4),
    ],
)
def test_an_oriented_crystal_is_perfect_and_periodic(lattice, a, directions, per_cell):
    crystal = oriented_crystal('W' if lattice == 'bcc' else 'Cu', a, lattice, directions, size=(14, 14, 14))
    assert np.isclose(len(crystal) / crystal.get_volume(), per_cell / a**3)  # bulk density: no seam, no overlap
    assert structure_fractions(adaptive_cna(crystal))[lattice] == 1.0  # perfect across the periodic boundaries
    with pytest.raises(ValueError, match='mutually orthogonal'):
        oriented_crystal('W', a, lattice, ((1, 0, 0), (1, 1, 0), (0, 0, 1)))


def test_a_polycrystal_has_its_grains_and_no_overlaps():
    grains = polycrystal('W', A0, 'bcc', length=40.0, grains=4, seed=3)
    assert set(np.unique(grains.arrays['grain'])) == {0, 1, 2, 3}
    assert neighbor_list('d', grains, 3.0).min() >= 0.6 * A0 * np.sqrt(3) / 2 - 1e-9
    assert 0.95 < len(grains) / (grains.get_volume() * 2 / A0**3) <= 1.0  # close to bulk density
    fractions = structure_fractions(adaptive_cna(grains))
    assert 0.3 < fractions['bcc'] < 0.9  # grain interiors bcc, boundaries not
    again = polycrystal('W', A0, 'bcc', length=40.0, grains=4, seed=3)
    assert np.array_equal(again.positions, grains.positions)  # the seed fixes it


@pytest.mark.parametrize('character', ['screw', 'edge', 'mixed'])
def test_a_relaxed_straight_dislocation_leaves_only_its_core_non_bcc(character):
    burgers, line, normal = BCC_CHARACTERS[character]
    atoms = straight_dislocation('W', A0, burgers, line, normal, radius=18.0, periods=3 if character == 'screw' else 2)
    b = np.linalg.norm(atoms.info['burgers'])
    assert np.isclose(b, A0 * np.sqrt(3) / 2)
    assert np.isclose(atoms.info['character'], {'screw': 0.0, 'edge': 90.0, 'mixed': 70.53}[character], atol=0.01)
    atoms = atoms[np.argsort(~atoms.arrays['fixed'], kind='stable')]  # the held outer shell first
    relaxed = relax_eam(atoms, frozen=int(atoms.arrays['fixed'].sum()))
    r = np.hypot(*(relaxed.positions[:, :2] - atoms.info['line']).T)
    structures = adaptive_cna(relaxed)
    inner = r < 12.0  # away from the free surface of the cylinder
    assert np.all(structures[inner & (r > 6.0)] == 'bcc')  # elastic field only beyond a few b
    assert np.any(structures[r < 4.0] != 'bcc')  # the core itself is not bcc


def test_a_dislocation_off_its_glide_plane_is_refused():
    with pytest.raises(ValueError, match='glide plane'):
        straight_dislocation('W', A0, (0.5, 0.5, 0.5), (1, 1, 1), (1, 1, 0))


@pytest.mark.parametrize('system', list(BCC_CRACK_SYSTEMS))
def test_a_crack_opens_behind_its_tip_in_proportion_to_k(system):
    def opening(k):
        slab = crack_slab('W', A0, system, radius=25.0, k=k)
        p = slab.positions[:, :2] - slab.info['tip']
        behind, ahead = p[:, 0] < -8, p[:, 0] > 8
        gap = [p[m & (p[:, 1] > 0), 1].min() - p[m & (p[:, 1] < 0), 1].max() for m in (behind, ahead)]
        return gap, slab

    (closed_behind, closed_ahead), perfect = opening(0.0)
    (open_1, ahead_1), _ = opening(1.0)
    (open_2, _), _ = opening(2.0)
    assert np.isclose(closed_behind, closed_ahead, atol=1e-6)  # k = 0: one interplanar spacing everywhere
    assert open_1 - closed_behind > 0.5 and np.isclose(open_2 - closed_behind, 2 * (open_1 - closed_behind), rtol=0.05)
    assert ahead_1 - closed_ahead < 0.5 * (open_1 - closed_behind)  # ahead of the tip the planes barely part
    assert perfect.arrays['fixed'].any() and not perfect.arrays['fixed'].all()
    assert neighbor_list('d', perfect, 3.0).min() > 0.99 * A0 * np.sqrt(3) / 2  # k = 0 is the perfect crystal


@pytest.mark.parametrize(('name', 'translation', 'columns'), [('<100>', (1, 0, 0), 21), ('1/2<111>', (0.5, 0.5, 0.5), 19)])
def test_an_interstitial_loop_survives_relaxation_as_a_ring(name, translation, columns):
    crystal = oriented_crystal('W', A0, 'bcc', size=(32, 32, 32))
    centre = crystal.cell.lengths() / 2 + 0.1
    loop = interstitial_loop(crystal, centre, np.array(translation) * A0, radius=6.0)
    assert len(loop) - len(crystal) == loop.info['loop']['added'] == columns  # one atom per column in the disc
    relaxed = relax_eam(loop)
    not_bcc = adaptive_cna(relaxed) != 'bcc'
    distance = np.linalg.norm(relaxed.positions[not_bcc] - centre, axis=1)
    assert 30 < not_bcc.sum() < 200 and np.median(distance) > 4.0  # a ring of defect atoms, not a blob
    assert distance.max() < 12.0  # and nothing else in the crystal


def test_a_glide_loop_slips_its_disc_by_b():
    crystal = oriented_crystal('W', A0, 'bcc', ((1, 1, -2), (-1, 1, 0), (1, 1, 1)), size=(30, 30, 30))
    centre = crystal.cell.lengths() / 2 + [0.05, 0.3, 0.05]  # between two (-110) planes
    b = np.array([0, 0, A0 * np.sqrt(3) / 2])  # 1/2[111], in the (-110) glide plane
    loop = glide_loop(crystal, centre, normal=(0, 1, 0), burgers=b, radius=8.0)
    moved = minimum_image(loop.positions - crystal.positions, crystal.cell[:], [True] * 3)
    relative = crystal.positions - centre
    inside = np.hypot(relative[:, 0], relative[:, 2]) < 4.0
    above, below = inside & (relative[:, 1] > 0) & (relative[:, 1] < 2.5), inside & (relative[:, 1] < 0) & (relative[:, 1] > -2.5)
    slip = moved[below, 2].mean() - moved[above, 2].mean()
    assert 0.75 * b[2] < slip < b[2]  # slipped by b across the disc (less the decay over ~1 A off the plane)
    assert np.abs(moved[np.linalg.norm(relative, axis=1) > 14.0]).max() < 0.3  # far away: small elastic shift
    assert structure_fractions(adaptive_cna(loop))['bcc'] < 1.0
    with pytest.raises(ValueError, match='in its plane'):
        glide_loop(crystal, centre, normal=(0, 0, 1), burgers=b, radius=8.0)
