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
