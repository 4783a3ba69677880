import pytest

from aiida_defectgenome.core.lammps_runtime import potentials_directory
from aiida_defectgenome.core.potentials import (
    BUNDLED_POTENTIALS,
    PotentialError,
    PotentialSpec,
    bundled_potential,
    species_in_file,
)


def test_bundled_potentials_render_their_pair_lines():
    assert bundled_potential('eam-zhou-W').pair_commands(['W']) == [
        'pair_style eam/alloy',
        'pair_coeff * * W_zhou.eam.alloy W',
    ]
    assert bundled_potential('meam-W').pair_commands(['W']) == ['pair_style meam', 'pair_coeff * * library.meam W NULL W']
    assert set(BUNDLED_POTENTIALS) == {'eam-zhou-W', 'meam-W'}


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
