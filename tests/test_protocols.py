"""Protocol overrides: a key that no protocol of the work chain has is an error naming it and the known keys,
before anything is built or stored; keys below the open places (user-named structures, settings the stage
checks itself) pass through."""

import pytest

from aiida_defectgenome.protocols import merge_overrides, read_protocol
from aiida_defectgenome.workflows.campaign import OPEN_OVERRIDES, DefectGenomeWorkChain
from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain


def test_a_typo_in_eip_sampling_overrides_names_the_key_and_the_known_ones():
    with pytest.raises(ValueError, match=r'unknown override `loop.stepz` in `loop`; known: length, radius, steps, temperature'):
        EipSamplingWorkChain.get_builder_from_protocol(None, None, [], scenarios=['loop'], overrides={'loop': {'stepz': 1}})


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

    builder = PccGcmcGroupWorkChain.get_builder_from_protocol(
        lammps_code, eam_w, 'my-clusters', protocol='paper', overrides={'max_atoms': 200}
    )
    assert builder.parameters.get_dict() == protocol_parameters('paper', {'max_atoms': 200}).get_dict()
    assert builder.parameters['boxes'] == 9 and builder.parameters['max_atoms'] == 200
    assert builder.output_group.value == 'my-clusters-periodic' and 'max_concurrent' not in builder
    with pytest.raises(ValueError, match='unknown PCC-GCMC parameter.*boxez'):
        PccGcmcGroupWorkChain.get_builder_from_protocol(lammps_code, eam_w, 'my-clusters', overrides={'boxez': 3})
    with pytest.raises(ValueError, match='boxez'):
        PccGcmcWorkChain.get_builder_from_protocol(lammps_code, eam_w, None, overrides={'boxez': 3})


def test_every_protocol_builder_has_one_signature():
    """Codes and what to work on first, then ``protocol``, ``overrides`` and ``options``, keyword-only, then the
    work chain's own keywords (all keyword-only)."""
    import inspect
    from importlib.metadata import entry_points

    from aiida.plugins import WorkflowFactory

    builders = {}
    for entry_point in entry_points(group='aiida.workflows'):
        if entry_point.name.startswith('defectgenome.'):
            workflow = WorkflowFactory(entry_point.name)
            if 'get_builder_from_protocol' in vars(workflow):
                builders[workflow.__name__] = inspect.signature(workflow.get_builder_from_protocol).parameters
    assert len(builders) == 8, sorted(builders)
    for name, parameters in builders.items():
        keyword_only = [key for key, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        assert keyword_only[:3] == ['protocol', 'overrides', 'options'], name
        assert all(parameters[key].default is None for key in keyword_only[:3]), name


def test_campaign_options_go_to_their_jobs_and_an_unknown_kind_is_refused(lammps_code, python_code, gpaw_code):
    options = {
        'lammps': {'max_wallclock_seconds': 1800, 'account': 'p1'},
        'dft': {'max_wallclock_seconds': 7200, 'resources': {'num_machines': 2}},
        'training': {'max_wallclock_seconds': 3600},
    }
    builder = DefectGenomeWorkChain.get_builder_from_protocol(lammps_code, python_code, gpaw_code, protocol='demo', options=options)
    assert builder.eip_sampling.lammps_options.get_dict() == options['lammps']
    assert builder.pcc_gcmc.lammps_options.get_dict() == options['lammps']
    assert builder.dft_labeling.gpaw.gpaw.metadata.options.max_wallclock_seconds == 7200
    assert builder.training.snap.metadata.options.max_wallclock_seconds == 3600
    with pytest.raises(ValueError, match='unknown options `vasp`; known: lammps, dft, training'):
        DefectGenomeWorkChain.get_builder_from_protocol(lammps_code, python_code, gpaw_code, options={'vasp': {}})


def test_the_labelling_engine_is_the_codes(gpaw_code, aiida_localhost):
    from aiida import orm

    from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain

    assert DftLabelingWorkChain.get_builder_from_protocol(gpaw_code, 'cells').engine.value == 'gpaw'
    other = orm.InstalledCode(
        computer=aiida_localhost, filepath_executable='/bin/true', default_calc_job_plugin='core.arithmetic.add'
    )
    with pytest.raises(ValueError, match='runs `core.arithmetic.add`, not GPAW or VASP: say which engine it is'):
        DftLabelingWorkChain.get_builder_from_protocol(other, 'cells')
    with pytest.raises(ValueError, match=r'engine vasp, but code `gpaw@localhost` runs `defectgenome.gpaw` \(gpaw\)'):
        DftLabelingWorkChain.get_builder_from_protocol(gpaw_code, 'cells', engine='vasp')


def test_a_lammps_protocol_with_a_bad_override_is_refused(lammps_code, eam_w, bcc_w):
    from aiida_defectgenome.workflows.lammps_base import LammpsBaseWorkChain

    builder = LammpsBaseWorkChain.get_builder_from_protocol(lammps_code, bcc_w(), eam_w, overrides={'thermo_every': 5})
    assert builder.lammps.parameters.get_dict() == {
        'stages': [{'type': 'minimize', 'box_relax': 'iso', 'ftol': 1e-10}],
        'thermo_every': 5,
    }
    with pytest.raises(ValueError, match='box_relax'):
        LammpsBaseWorkChain.get_builder_from_protocol(
            lammps_code, bcc_w(), eam_w, overrides={'stages': [{'type': 'minimize', 'box_relax': 'yes'}]}
        )
