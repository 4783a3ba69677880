"""The `campaign` commands' checks that need no campaign run: throttling, unknown nodes, bad options."""

from aiida import orm
from aiida.engine import ProcessState


def test_max_active_refuses_while_enough_campaigns_are_unfinished(cli, lammps_code, python_code, gpaw_code):
    running = orm.WorkChainNode(process_type='aiida.workflows:defectgenome.campaign')
    running.set_process_state(ProcessState.RUNNING)
    running.store()
    codes = ['--lammps-code', lammps_code.full_label, '--python-code', python_code.full_label, '--dft-code', gpaw_code.full_label]
    try:
        result = cli('campaign', 'run', '--basic', 'no-such-basic-set', '--max-active', '1', *codes)
        assert result.exit_code != 0
        assert f'1 campaigns are not finished yet ({running.pk}), --max-active 1: add --wait to queue this one' in result.output
        assert 'needs --max-active' in cli('campaign', 'run', '--wait').output
    finally:
        running.set_process_state(ProcessState.FINISHED)
        running.set_exit_status(0)
    result = cli('campaign', 'run', '--basic', 'no-such-basic-set', '--max-active', '1', *codes)
    assert result.exit_code != 0 and 'no group `no-such-basic-set`' in result.output  # the throttle let it through


def test_status_of_what_is_not_a_campaign(cli, lammps_code):
    assert 'no node 999999999' in cli('campaign', 'status', 999999999).output
    assert 'not a campaign' in cli('campaign', 'status', lammps_code.pk).output


def test_active_learning_scenarios_get_the_eip_loadings(aiida_profile, lammps_code, python_code, gpaw_code):
    """`active_learning.scenarios` plans EIP runs: each structure is watched under its own stages and held atoms."""
    from aiida_defectgenome.core.lammps.sampling_plan import plan_runs
    from aiida_defectgenome.protocols import read_protocol
    from aiida_defectgenome.workflows import port_name
    from aiida_defectgenome.workflows.active_learning import _validate_inputs
    from aiida_defectgenome.workflows.campaign import DefectGenomeWorkChain

    overrides = {'active_learning': {'scenarios': ['crack', 'tension']}}
    builder = DefectGenomeWorkChain.get_builder_from_protocol(
        lammps_code, python_code, gpaw_code, protocol='demo', overrides=overrides, basic_group='W-basic', group_prefix='x'
    )
    learning = builder.active_learning
    planned = plan_runs(['crack', 'tension'], 'W', 3.165, read_protocol('eip_sampling', 'fast')[1])
    assert sorted(learning.loadings) == sorted(port_name(run.label) for run in planned)
    assert sorted(learning.structures) == sorted(['divacancy', *learning.loadings])
    crack = learning.loadings[port_name(planned[0].label)].get_dict()
    assert [stage['type'] for stage in crack['stages']] == ['minimize', 'k_ramp'] and crack['frozen'] > 0
    assert learning.structures[port_name(planned[0].label)].get_ase().get_chemical_symbols().count('W') == len(planned[0].atoms)
    assert _validate_inputs(learning._inputs(prune=True), None) is None  # every structure's watch settings hold


def test_an_unknown_reference_labeler_stops_before_anything_is_stored(cli, lammps_code, python_code):
    groups = orm.QueryBuilder().append(orm.Group).count()
    codes = ['--lammps-code', lammps_code.full_label, '--python-code', python_code.full_label]
    result = cli('campaign', 'run', '--basic', 'not-imported', '--reference-labeler', 'no-such-potential', *codes)
    assert result.exit_code != 0 and 'no potential named `no-such-potential`' in result.output
    assert orm.QueryBuilder().append(orm.Group).count() == groups
