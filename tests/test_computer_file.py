"""``aiida-defectgenome setup --computer FILE.yaml`` on the file of ``examples/`` (no connection: --no-test);
the real cluster behind such a file is in ``tests/test_slurm.py``."""

from pathlib import Path

import pytest
import yaml
from aiida import orm
from aiida.common.exceptions import NotExistent

EXAMPLE = Path(__file__).resolve().parents[1] / 'examples' / 'cluster.yaml'


def test_the_example_cluster_file_sets_up_the_computer_and_every_code(cli):
    result = cli('setup', '--computer', EXAMPLE, '--no-test')
    assert result.exit_code == 0, result.output
    computer = orm.load_computer('mycluster')
    assert (computer.transport_type, computer.scheduler_type, computer.is_configured) == ('core.ssh_async', 'core.slurm', True)
    assert computer.get_default_mpiprocs_per_machine() == 64 and 'OMP_NUM_THREADS=1' in computer.get_prepend_text()
    names = ('lammps', 'gpaw', 'python', 'mlp', 'vasp')
    plugins = {name: orm.load_code(f'{name}@mycluster').default_calc_job_plugin for name in names}
    assert plugins['lammps'] == 'defectgenome.lammps' and plugins['mlp'] == 'defectgenome.mtp_training'
    assert orm.load_code('lammps@mycluster').prepend_text == 'module load lammps/2Aug2023'
    again = cli('setup', '--computer', EXAMPLE, '--no-test')
    assert again.exit_code == 0 and 'Code `gpaw@mycluster` exists' in again.output


@pytest.mark.parametrize(
    ('change', 'message'),
    [
        ({'computer': {'hostnme': 'x'}}, 'unknown key(s) hostnme'),
        ({'codes': {'lammps': {'prepend_text': 'module load lammps'}}}, 'codes.lammps: needs `executable`'),
        ({'codes': {'cp2k': {'executable': '/opt/cp2k'}}}, 'say which `plugin` it runs'),
        ({'computer': {'username': 'alice', 'port': 2222}}, 'Host mycluster\n    HostName login.mycluster.org\n    User alice'),
    ],
)
def test_a_bad_cluster_file_is_refused_before_anything_is_stored(cli, tmp_path, change, message):
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec['computer']['label'] = 'refused'
    for section, entries in change.items():
        spec[section].update(entries)
    path = tmp_path / 'cluster.yaml'
    path.write_text(yaml.safe_dump(spec))
    result = cli('setup', '--computer', path, '--no-test')
    assert result.exit_code != 0 and message in result.output, result.output
    with pytest.raises(NotExistent):
        orm.load_computer('refused')
