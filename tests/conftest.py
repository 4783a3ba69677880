"""Fixtures: a temporary SQLite profile with the built-in ZeroMQ broker, the LAMMPS code, W structures."""

import os
from pathlib import Path

# one BLAS thread per process, before NumPy loads: GPAW in this process (and every job it starts) runs 4x
# faster so on 2 cores than with OpenBLAS's own threads (25 s against 6.4 s for a 2-atom W single point)
for _variable in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_variable, '1')

import pytest  # noqa: E402
from ase.build import bulk  # noqa: E402

pytest_plugins = 'aiida.tools.pytest_fixtures'


def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', help='Also run the tests marked slow (CI does).')


#: The longest tests (minutes on 2 cores), run first and in this order: under `pytest -n N --maxschedchunk 1`
#: each of the first N goes to its own worker at once, and no worker is left with a long one at the end.
LONGEST_FIRST = (
    'test_demo_on_a_fresh_aiida_path',
    'test_a_small_campaign_through_slurm_gives_what_it_gives_on_localhost',
    'test_gpaw_past_its_walltime_comes_back_as_120_and_runs_again_with_twice_the_time',
    'test_demo_campaign_through_the_daemon_with_a_restart',
    'test_copper_from_its_eip_to_a_campaign',
    'test_fast_sampling_returns_clusters_on_defects_traceable_to_scenario_and_potential',
    'test_sample_command_writes_clusters_with_core_centre_and_source',
    'test_a_hot_meam_polycrystal_cluster_gets_its_cell_from_the_second_round',
)


def pytest_collection_modifyitems(config, items):
    order = {name: rank for rank, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: order.get(item.originalname, len(order)))
    if config.getoption('--slow'):
        return
    skip = pytest.mark.skip(reason='slow: run with --slow')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope='session')
def aiida_profile(aiida_config, aiida_profile_factory):
    """The test profile: SQLite storage and the ZeroMQ broker, so that run(), submit() and the daemon work."""
    with aiida_profile_factory(aiida_config, broker_backend='core.zeromq') as profile:
        yield profile


@pytest.fixture
def local_code(aiida_localhost):
    """Return a factory ``local_code(label, plugin, executable)``: the code ``label@localhost``, made if missing.

    aiida-core's ``aiida_code_installed`` looks a code up by label alone, so a ``lammps`` code on another computer
    (the SLURM tests, ``setup --computer``) makes it store a second ``lammps@localhost``, which ``load_code`` refuses.
    """
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    def factory(label, plugin, executable):
        try:
            return orm.load_code(f'{label}@{aiida_localhost.label}')
        except NotExistent:
            return orm.InstalledCode(
                label=label, computer=aiida_localhost, default_calc_job_plugin=plugin, filepath_executable=str(executable)
            ).store()

    return factory


@pytest.fixture
def lammps_code(local_code):
    from aiida_defectgenome.core.lammps.runtime import lammps_executable

    return local_code('lammps', 'defectgenome.lammps', lammps_executable())


@pytest.fixture
def eam_w():
    from aiida_defectgenome.data.potential_registry import load_potential

    return load_potential('eam-zhou-W')


@pytest.fixture
def bcc_w():
    """Return a factory of bcc W ``StructureData``: ``bcc_w(a=3.165, repeat=1)``."""
    from aiida import orm

    def factory(a=3.165, repeat=1):
        return orm.StructureData(ase=bulk('W', 'bcc', a=a, cubic=True) * (repeat, repeat, repeat))

    return factory


@pytest.fixture
def exploding_w():
    """A 54-atom bcc W ``StructureData`` with two atoms 0.85 A apart: NVE at a 10 fs timestep loses atoms."""
    from aiida import orm

    atoms = bulk('W', 'bcc', a=3.165, cubic=True) * (3, 3, 3)
    atoms.positions[0] = atoms.positions[1] + [0.6, 0.6, 0.0]
    return orm.StructureData(ase=atoms)


@pytest.fixture
def mpi_localhost(aiida_localhost):
    """``localhost`` with this environment's ``mpirun -np {tot_num_mpiprocs}`` (the mpich wheel's)."""
    from aiida_defectgenome.core.lammps.runtime import mpirun_executable

    aiida_localhost.set_mpirun_command([str(mpirun_executable()), '-np', '{tot_num_mpiprocs}'])
    return aiida_localhost


@pytest.fixture
def lammps_inputs(lammps_code, eam_w, bcc_w):
    """Return a factory of ``LammpsCalculation`` inputs with the EAM and 2-atom bcc W by default."""
    from aiida import orm

    def factory(parameters=None, structure=None, potential=None):
        inputs = {'code': lammps_code, 'potential': potential or eam_w, 'structure': structure or bcc_w()}
        if parameters is not None:
            inputs['parameters'] = orm.Dict(parameters)
        return inputs

    return factory


@pytest.fixture
def cli(aiida_profile):
    """Invoke ``aiida-defectgenome`` on the test profile; return the result (exit code, output)."""
    from click.testing import CliRunner

    from aiida_defectgenome.cli import cmd_root

    def invoke(*args):
        return CliRunner().invoke(cmd_root, ['-p', aiida_profile.name, *map(str, args)], catch_exceptions=False)

    return invoke


@pytest.fixture
def gpaw_code(local_code):
    import shutil
    import sys
    from pathlib import Path

    gpaw = Path(sys.executable).parent / 'gpaw'
    return local_code('gpaw', 'defectgenome.gpaw', gpaw if gpaw.exists() else shutil.which('gpaw'))


@pytest.fixture(scope='session')
def w_active_set():
    """Active set of the bundled W basic set (SNAP twojmax 6), built once per test session."""
    from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
    from aiida_defectgenome.core.doptimality.screening import active_set_of
    from aiida_defectgenome.core.structures.datasets import read_configurations
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    return active_set_of([atoms for atoms, _ in read_configurations(BASIC_W_DATASET)], SnapDescriptor(twojmax=6))


@pytest.fixture
def python_code(local_code):
    """This environment's Python as the code of ``SelectionCalculation``."""
    import sys

    return local_code('python', 'defectgenome.selection', sys.executable)


#: Retrieved files of real runs, ``<calc>/<case>/`` (made by ``tests/parsers/fixtures/generate.py``).
PARSER_FIXTURES = Path(__file__).parent / 'parsers' / 'fixtures'


@pytest.fixture
def generate_calc_job(aiida_profile, tmp_path):
    """Return ``render(entry_point, inputs) -> (folder, calcinfo)``: the files a CalcJob writes for its
    program and its ``CalcInfo``, without running anything."""
    import tempfile

    from aiida.common.folders import Folder
    from aiida.engine.utils import instantiate_process
    from aiida.manage import get_manager
    from aiida.plugins import CalculationFactory

    def render(entry_point, inputs):
        process = instantiate_process(get_manager().get_runner(), CalculationFactory(entry_point), **inputs)
        folder = Folder(tempfile.mkdtemp(prefix='submit-', dir=tmp_path))
        return Path(folder.abspath), process.prepare_for_submission(folder)

    return render


@pytest.fixture
def generate_calc_job_node(aiida_localhost):
    """Return ``make(entry_point, fixture, inputs=None)``: a stored job of ``entry_point`` whose retrieved
    files are those of ``PARSER_FIXTURES / fixture`` (e.g. ``'lammps/relax_md'``, or a folder of the test), with
    ``inputs`` linked (a dict value is a namespace: ``structures={'s1': ...}`` links ``structures__s1``)."""
    from aiida import orm
    from aiida.common.links import LinkType

    def make(entry_point, fixture, inputs=None):
        node = orm.CalcJobNode(computer=aiida_localhost, process_type=f'aiida.calculations:{entry_point}')
        node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 1})
        node.set_option('output_filename', 'aiida.out')
        for name, value in (inputs or {}).items():
            for label, item in (
                {f'{name}__{key}': v for key, v in value.items()} if isinstance(value, dict) else {name: value}
            ).items():
                node.base.links.add_incoming(item.store(), LinkType.INPUT_CALC, label)
        node.store()
        retrieved = orm.FolderData(tree=PARSER_FIXTURES / fixture)
        retrieved.base.links.add_incoming(node, LinkType.CREATE, 'retrieved')
        retrieved.store()
        return node

    return make
