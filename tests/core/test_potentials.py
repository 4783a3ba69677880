import pytest

from aiida_defectgenome.core.lammps.potentials import (
    BUNDLED_POTENTIALS,
    PotentialError,
    PotentialSpec,
    bundled_potential,
    species_in_file,
)
from aiida_defectgenome.core.lammps.runtime import potentials_directory


def test_bundled_potentials_render_their_pair_lines():
    assert bundled_potential('eam-zhou-W').pair_commands(['W']) == [
        'pair_style eam/alloy',
        'pair_coeff * * W_zhou.eam.alloy W',
    ]
    assert bundled_potential('meam-W').pair_commands(['W']) == ['pair_style meam', 'pair_coeff * * library.meam W NULL W']
    assert bundled_potential('snap-W').pair_commands(['W']) == [
        'pair_style hybrid/overlay zbl 4.0 4.8 snap',
        'pair_coeff * * zbl 74 74',
        'pair_coeff * * snap W_2940_2017_2.snapcoeff W_2940_2017_2.snapparam W',
    ]
    assert set(BUNDLED_POTENTIALS) == {'eam-zhou-W', 'meam-W', 'snap-W'}


def test_a_hybrid_potential_runs_both_of_its_pair_coeff_lines():
    """SNAP + ZBL of the wheel: bcc W at its published 3.18 A, which the SNAP part alone does not give."""
    from ase.build import bulk

    from aiida_defectgenome.core.mlip.potential_evaluation import lammps_labels

    full = bundled_potential('snap-W')
    alone = PotentialSpec('snap-alone', full.files, ('W',), 'snap', '* * {files[0]} {files[1]} {elements}')
    cells = [bulk('W', 'bcc', a=a, cubic=True) * 2 for a in (3.16, 3.18, 3.20)]
    energies = [labels.energy / 16 for labels in lammps_labels(full, cells)]
    assert energies[1] < min(energies[0], energies[2]) and energies[1] == pytest.approx(-11.028, abs=2e-3)
    assert abs(lammps_labels(alone, cells[1:2])[0].energy / 16 - energies[1]) > 1.0  # the ZBL part is there


def test_species_are_read_from_setfl_and_meam_library_files():
    folder = potentials_directory()
    assert species_in_file(folder / 'W_zhou.eam.alloy', 'eam/alloy') == ['W']
    assert {'W', 'Mo', 'Ta', 'Fe'} <= set(species_in_file(folder / 'library.meam', 'meam'))
    assert species_in_file(folder / 'W_zhou.eam.alloy', 'tersoff') is None


def test_species_not_in_the_file_is_refused():
    with pytest.raises(PotentialError, match='species Mo not in W_zhou.eam.alloy'):
        PotentialSpec('x', (potentials_directory() / 'W_zhou.eam.alloy',), ('Mo',), 'eam/alloy')


@pytest.mark.parametrize(
    'kwargs, message',
    [
        ({'files': ('/nonexistent/W.eam.alloy',)}, 'potential file not found'),
        ({'species': ('Xx',)}, 'not chemical elements'),
        ({'name': 'bad name'}, 'use letters'),
        ({'pair_style': ' '}, 'pair style is empty'),
        ({'pair_coeff': '* * {files[3]} {elements}'}, 'cannot be filled'),
        ({'pair_coeff': '* * {nothing}'}, 'cannot be filled'),
        ({'pair_coeff': ' ; '}, 'gives no pair_coeff line'),
    ],
)
def test_inconsistent_potentials_are_refused(kwargs, message):
    spec = {
        'name': 'ok',
        'files': (potentials_directory() / 'W_zhou.eam.alloy',),
        'species': ('W',),
        'pair_style': 'eam/alloy',
    }
    with pytest.raises(PotentialError, match=message):
        PotentialSpec(**{**spec, **kwargs})


@pytest.mark.parametrize(
    'filename, symbol, pair_style, lowest, a',
    [
        ('W_zhou.eam.alloy', 'W', 'eam/alloy', 'bcc', 3.1648),
        ('Cu_u3.eam', 'Cu', 'eam', 'fcc', 3.615),
        ('Mg_mm.eam.fs', 'Mg', 'eam/fs', 'hcp', 3.184),
    ],
)
def test_ground_state_finds_the_lattice_of_lowest_energy(filename, symbol, pair_style, lowest, a):
    from aiida_defectgenome.core.lammps.local import ground_state

    spec = PotentialSpec(name='p', files=(potentials_directory() / filename,), species=(symbol,), pair_style=pair_style)
    states = ground_state(spec, symbol)
    assert states['lowest'] == lowest and states[lowest]['a'] == pytest.approx(a, abs=2e-3)
    assert set(states) == {'bcc', 'fcc', 'hcp', 'lowest'}
