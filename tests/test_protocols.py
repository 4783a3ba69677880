"""Protocol overrides: a key that no protocol of the work chain has is an error naming it and the known keys,
before anything is built or stored; keys below the open places (user-named structures, settings the stage
checks itself) pass through."""

import pytest

from aiida_defectgenome.protocols import merge_overrides, read_protocol
from aiida_defectgenome.workflows.campaign import OPEN_OVERRIDES, DefectGenomeWorkChain
from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain


def test_a_typo_in_eip_sampling_overrides_names_the_key_and_the_known_ones():
    with pytest.raises(ValueError, match=r'unknown override `loop.stepz` in `loop`; known: length, radius, steps, temperature'):
        EipSamplingWorkChain.get_builder_from_protocol(None, None, [], None, ['loop'], overrides={'loop': {'stepz': 1}})


def test_a_typo_in_campaign_overrides_is_refused_before_anything_is_built():
    with pytest.raises(ValueError, match=r'unknown override `dft_labelling`; known: active_learning, .*dft_labeling'):
        DefectGenomeWorkChain.get_builder_from_protocol(None, None, None, overrides={'dft_labelling': {'max_concurrent': 1}})
    with pytest.raises(ValueError, match=r'`pcc_gcmc.max_concurent` in `pcc_gcmc`; known: max_concurrent, overrides, protocol'):
        DefectGenomeWorkChain.get_builder_from_protocol(None, None, None, overrides={'pcc_gcmc': {'max_concurent': 1}})


def test_keys_of_any_protocol_and_open_places_are_accepted():
    _, demo = read_protocol('campaign', 'demo')
    overrides = {
        'training': {'ensemble': 3},  # only `production` sets it
        'active_learning': {'structures': {'trivacancy': {'repeat': 4, 'vacancies': 3}}},
        'eip_sampling': {'overrides': {'loop': {'steps': 500}}},
    }
    merged = merge_overrides(demo, overrides, 'campaign', OPEN_OVERRIDES)
    assert merged['training'] == {'protocol': 'fast', 'ensemble': 3}
    assert set(merged['active_learning']['structures']) == {'divacancy', 'trivacancy'}
    assert merged['eip_sampling']['overrides'] == {'loop': {'steps': 500}}
    assert merge_overrides(demo, {'no_such_key': 1}) == {**demo, 'no_such_key': 1}  # no workflow: no check


def test_the_group_work_chain_has_a_protocol_builder_too(lammps_code, eam_w):
    from aiida_defectgenome.workflows.pcc_gcmc import PccGcmcGroupWorkChain, PccGcmcWorkChain, protocol_parameters

    builder = PccGcmcGroupWorkChain.get_builder_from_protocol(lammps_code, eam_w, 'my-clusters', 'paper', {'max_atoms': 200})
    assert builder.parameters.get_dict() == protocol_parameters('paper', {'max_atoms': 200}).get_dict()
    assert builder.parameters['boxes'] == 9 and builder.parameters['max_atoms'] == 200
    assert builder.output_group.value == 'my-clusters-periodic' and 'max_concurrent' not in builder
    with pytest.raises(ValueError, match='unknown PCC-GCMC parameter.*boxez'):
        PccGcmcGroupWorkChain.get_builder_from_protocol(lammps_code, eam_w, 'my-clusters', overrides={'boxez': 3})
    with pytest.raises(ValueError, match='boxez'):
        PccGcmcWorkChain.get_builder_from_protocol(lammps_code, eam_w, None, overrides={'boxez': 3})
