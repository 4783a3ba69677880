"""MTP through MLIP-3: the training job's files and commands, and its parser on genuine `mlp` output.

`mlp` cannot run here; the parser reads the files a real MLIP-3 run wrote (tests/fixtures/mlip3). Where
`mlp` is on PATH (or DG_MLP names it), the last test trains a real MTP through AiiDA.
"""

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node

from aiida_defectgenome.core.mlip.mlip_cfg import read_cfg
from aiida_defectgenome.core.structures.datasets import labelled_atoms, read_configurations
from aiida_defectgenome.parsers.mtp import MtpTrainingParser
from aiida_defectgenome.tools.demo import BASIC_W_DATASET

MLIP3 = Path(__file__).parent / 'fixtures' / 'mlip3'
MLP = os.environ.get('DG_MLP') or shutil.which('mlp')
needs_mlp = pytest.mark.skipif(not MLP, reason='MLIP-3 `mlp` is not on PATH (set DG_MLP to its path): this test runs it')


@pytest.fixture(scope='module')
def small_w():
    return [c for c in read_configurations(BASIC_W_DATASET) if len(c[0]) <= 54][:40]


def _finished(computer, retrieved: dict, parameters=None, plugin='mtp_training'):
    """A finished job of ``plugin`` whose retrieved files are the fixtures ``retrieved`` (name -> fixture)."""
    node = orm.CalcJobNode(computer=computer, process_type=f'aiida.calculations:defectgenome.{plugin}')
    node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 1})
    node.set_option('output_filename', 'aiida.out')
    node.base.links.add_incoming(orm.Dict(parameters or {'elements': ['W']}).store(), LinkType.INPUT_CALC, 'parameters')
    node.store()
    folder = orm.FolderData()
    for name, source in retrieved.items():
        folder.base.repository.put_object_from_filelike(open(MLIP3 / source, 'rb'), name)
    folder.base.links.add_incoming(node, LinkType.CREATE, 'retrieved')
    folder.store()
    return node


def test_parser_on_genuine_mlp_output(aiida_profile, aiida_localhost, tmp_path):
    retrieved = {
        'aiida.out': 'train_cfgmode.stdout',
        'train.err': 'train_cfgmode.stderr',
        'trained.almtp': 'trained_cfgmode.almtp',
        'efs_train.out': 'calculate_efs.stdout',
        'efs_train.err': 'calculate_efs.stderr',
    }
    # the predictions mlp calculate_efs made of ten configurations, as an MPI build names them
    shutil.copy(MLIP3 / 'W_efs_60-69.cfg', tmp_path / 'train.cfg')
    shutil.copy(MLIP3 / 'efs_60-69.cfg.0', tmp_path / 'train_efs.cfg.0')
    node = _finished(aiida_localhost, retrieved)
    results, parsing = MtpTrainingParser.parse_from_node(node, store_provenance=False, retrieved_temporary_folder=str(tmp_path))
    assert parsing.is_finished_ok, parsing.exit_message
    metrics = results['metrics'].get_dict()
    assert metrics['mlp_train_report']['forces']['rms'] == 0.3014  # eV/A over force vectors, as mlp reports
    assert metrics['train']['configurations'] == 10 and metrics['train']['atoms'] == 603
    # the same errors as mlp check_errors reported on these ten (14.236 meV/atom; 445.5 meV/A over vectors)
    assert metrics['train']['energy_rmse_mev_per_atom'] == pytest.approx(14.236, abs=1e-3)
    assert metrics['train']['force_rmse_mev_per_a'] == pytest.approx(445.539 / np.sqrt(3), abs=1e-2)
    potential = results['potential']
    assert potential.pair_commands(['W']) == ['pair_style mlip load_from=trained.almtp', 'pair_coeff * *']
    assert (
        potential.base.repository.get_object_content('trained.almtp', mode='rb') == (MLIP3 / 'trained_cfgmode.almtp').read_bytes()
    )
    assert results['parity_plot'].get_content(mode='rb')[:4] == b'\x89PNG'


@pytest.mark.parametrize(
    'retrieved, exit_status, message',
    [
        ({'aiida.out': 'fail_train_missing_args.stdout'}, 302, 'mlp train: 2 arguments are required'),
        (
            {'aiida.out': 'fail_train_wrong_size_cfg.stdout', 'train.err': 'fail_train_wrong_size_cfg.stderr'},
            302,
            'Unable to read AtomData. Wrong Size specified?',
        ),
        ({'aiida.out': 'calculate_efs.stdout'}, 300, 'MTP loaded from'),  # no error and no potential
    ],
)
def test_parser_gives_mlps_own_words_when_it_fails(aiida_profile, aiida_localhost, retrieved, exit_status, message):
    _, parsing = MtpTrainingParser.parse_from_node(_finished(aiida_localhost, retrieved), store_provenance=False)
    assert parsing.exit_status == exit_status and message in parsing.exit_message


def test_calculation_writes_the_split_and_the_mlp_commands(aiida_profile, aiida_code_installed, small_w, tmp_path, monkeypatch):
    import ase.io

    from aiida_defectgenome.calculations.mtp import MtpTrainingCalculation

    ase.io.write(tmp_path / 'set.extxyz', [labelled_atoms(a, labels) for a, labels in small_w[:20]])
    code = aiida_code_installed(default_calc_job_plugin='defectgenome.mtp_training', filepath_executable='/opt/mlip-3/bin/mlp')
    builder = MtpTrainingCalculation.get_builder()
    builder.code = code
    builder.training_set = orm.SinglefileData(tmp_path / 'set.extxyz')
    builder.parameters = orm.Dict({'elements': ['W'], 'level': 16, 'iteration_limit': 50})
    builder.metadata.dry_run = True
    builder.metadata.options.max_wallclock_seconds = 600
    monkeypatch.chdir(tmp_path)
    _, node = run_get_node(builder)
    folder = Path(node.dry_run_info['folder'])
    train, test = read_cfg((folder / 'train.cfg').read_text()), read_cfg((folder / 'test.cfg').read_text())
    assert (len(train), len(test)) == (18, 2)
    held_out = [int(c.features['index']) for c in test]
    assert np.allclose(test[0].forces, small_w[held_out[0]][1].forces) and test[0].energy == pytest.approx(
        small_w[held_out[0]][1].energy
    )
    script = (folder / '_aiidasubmit.sh').read_text()
    assert (
        "'/opt/mlip-3/bin/mlp' 'train' '/opt/mlip-3/MTP_templates/16.almtp' 'train.cfg' '--save_to=trained.almtp' "
        "'--iteration_limit=50' '--al_mode=nbh'" in script
    )
    assert "'calculate_efs' 'trained.almtp' 'test.cfg' '--output_filename=test_efs.cfg'" in script
    with pytest.raises(ValueError, match='level must be an even number from 2 to 28'):
        builder.parameters = orm.Dict({'elements': ['W'], 'level': 7})
        run_get_node(builder)


@pytest.mark.skipif(not MLP, reason='MLIP-3 `mlp` is not on PATH (set DG_MLP to its path): no real MTP training here')
def test_a_real_mtp_training(aiida_profile, aiida_code_installed, small_w, tmp_path):
    import ase.io

    from aiida_defectgenome.calculations.mtp import MtpTrainingCalculation

    ase.io.write(tmp_path / 'set.extxyz', [labelled_atoms(a, labels) for a, labels in small_w])
    builder = MtpTrainingCalculation.get_builder()
    builder.code = aiida_code_installed(default_calc_job_plugin='defectgenome.mtp_training', filepath_executable=MLP)
    builder.training_set = orm.SinglefileData(tmp_path / 'set.extxyz')
    builder.template = orm.SinglefileData(MLIP3 / 'input_08.almtp')
    builder.parameters = orm.Dict({'elements': ['W'], 'level': 8, 'iteration_limit': 20})
    builder.metadata.options.max_wallclock_seconds = 1800
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    assert results['metrics']['test']['configurations'] == 4 and results['metrics']['train']['force_rmse_mev_per_a'] > 0


def test_the_training_workchain_takes_the_mtp_level_from_the_protocol_or_the_caller(aiida_profile, aiida_code_installed):
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    code = aiida_code_installed(default_calc_job_plugin='defectgenome.mtp_training', filepath_executable='/opt/mlip-3/bin/mlp')
    builder = TrainingWorkChain.get_builder_from_protocol(code, ['w-basic'], protocol='default', trainer='mtp')
    assert builder.trainer.value == 'mtp' and builder.mtp.code.uuid == code.uuid
    assert builder.parameters.get_dict() == {'level': 20, 'iteration_limit': 1000, 'test_fraction': 0.1}
    builder = TrainingWorkChain.get_builder_from_protocol(
        code, ['w-basic'], protocol='fast', overrides={'level': 16}, trainer='mtp'
    )
    assert builder.parameters['level'] == 16
    with pytest.raises(ValueError, match='ensembles are trained by the built-in SNAP trainer only'):
        TrainingWorkChain.get_builder_from_protocol(code, ['w-basic'], ensemble=5, trainer='mtp')


@pytest.mark.skipif(bool(MLP), reason='mlp is installed: the message for its absence cannot show')
def test_evaluate_of_an_mtp_without_mlp_says_what_it_needs(cli, tmp_path):
    import json

    shutil.copy(MLIP3 / 'trained_cfgmode.almtp', tmp_path / 'trained.almtp')
    description = {'name': 'mtp-x', 'files': ['trained.almtp'], 'species': ['W'], 'pair_style': 'mlip load_from=trained.almtp'}
    (tmp_path / 'potential.json').write_text(json.dumps({**description, 'pair_coeff': '* *'}))
    result = cli('evaluate', tmp_path, BASIC_W_DATASET)
    assert result.exit_code == 1 and 'mtp-x is an MTP (pair_style mlip): evaluate needs MLIP-3' in result.output
    assert 'Traceback' not in result.output


def test_a_code_that_is_not_mlp_fails_the_training_with_what_it_printed(cli, aiida_code_installed, tmp_path):
    """A user's slip: `--code` names an executable that is not MLIP-3 (here `echo`, which only prints its
    arguments): the job ends without a potential and the command says which job failed and what it printed."""
    import ase.io

    ase.io.write(tmp_path / 'w-mtp.extxyz', ase.io.read(BASIC_W_DATASET, index=':12'))
    code = aiida_code_installed(
        default_calc_job_plugin='defectgenome.mtp_training', filepath_executable=shutil.which('echo'), label='not-mlp'
    )
    result = cli('train', tmp_path / 'w-mtp.extxyz', '--trainer', 'mtp', '--code', code.full_label, '--output', tmp_path / 'm')
    assert result.exit_code == 1 and 'Traceback' not in result.output
    assert 'MtpTrainingCalculation<' in result.output and 'exit 300: The training wrote no potential' in result.output
    assert 'train /' in result.output and 'MTP_templates/20.almtp train.cfg --save_to=trained.almtp' in result.output


def _parsed(parser, computer, plugin, parameters, retrieved: dict, temporary: Path):
    node = _finished(computer, retrieved, parameters, plugin)
    return parser.parse_from_node(node, store_provenance=False, retrieved_temporary_folder=str(temporary))


def test_grades_and_cut_neighbourhoods_traced_to_their_configurations(aiida_profile, aiida_localhost, tmp_path):
    import ase.io

    from aiida_defectgenome.parsers.mtp_selection import MtpGradeParser

    shutil.copy(MLIP3 / 'graded_nbhmode_60-99.cfg.0', tmp_path / 'graded.cfg.0')  # an MPI build's name
    retrieved = {
        'aiida.out': 'calculate_grade_nbhmode.stdout',
        'clusters.cfg': 'spherical_60-99.cfg',
        'cut.out': 'cut_extrapolative_nbh_all.stdout',
    }
    results, parsing = _parsed(
        MtpGradeParser, aiida_localhost, 'mtp_grade', {'elements': ['W'], 'cut_radius': 8.0}, retrieved, tmp_path
    )
    assert parsing.is_finished_ok, parsing.exit_message
    grades = results['grades']
    assert grades.get_array('grades').shape == (40,) and grades.get_array('atom_grades').shape == (
        grades.get_array('natoms').sum(),
    )
    assert grades.get_array('grades')[8] == pytest.approx(grades.get_array('atom_grades').max(), abs=1e-5)
    with results['clusters'].as_path() as path:
        clusters = ase.io.read(path, index=':')
    assert [(a.info['source_index'], a.info['source_atom']) for a in clusters] == [
        (3, 22),
        (4, 21),
        (8, 4),
        (25, 0),
        (28, 2),
        (35, 0),
        (39, 20),
    ]
    assert len(clusters[2]) == 74 and clusters[2].info['gamma'] == pytest.approx(1.84106) and not clusters[2].pbc.any()

    retrieved = {'aiida.out': 'fail_grade_no_selection_state.stdout', 'mlp.err': 'fail_grade_no_selection_state.stderr'}
    _, parsing = _parsed(MtpGradeParser, aiida_localhost, 'mtp_grade', {'elements': ['W']}, retrieved, tmp_path)
    assert parsing.exit_status == 302 and 'No selection data provided with MLIP' in parsing.exit_message


def test_selected_candidates_are_found_among_the_candidates(aiida_profile, aiida_localhost, tmp_path):
    import gzip

    from aiida_defectgenome.parsers.mtp_selection import MtpSelectParser

    (tmp_path / 'candidates.cfg').write_bytes(gzip.decompress((MLIP3 / 'W_candidates_100-199.cfg.gz').read_bytes()))
    retrieved = {'aiida.out': 'select_add_nbhmode.stdout', 'selected.cfg': 'selected_nbhmode_100-199.cfg'}
    results, parsing = _parsed(MtpSelectParser, aiida_localhost, 'mtp_select', {'elements': ['W']}, retrieved, tmp_path)
    assert parsing.is_finished_ok, parsing.exit_message
    selected = results['selected'].get_list()
    chosen = read_cfg(text := (MLIP3 / 'selected_nbhmode_100-199.cfg').read_text())
    assert len(selected) == 11 and text.count('BEGIN_CFG') == 11
    # the converter that made the fixtures kept each configuration's place in the W basic set: 100 + index
    assert [int(c.features['extxyz_index']) for c in chosen] == [100 + index for index in selected]


def test_grade_and_select_jobs_write_cfg_files_and_mlp_commands(
    aiida_profile, aiida_code_installed, small_w, tmp_path, monkeypatch
):
    import ase.io

    from aiida_defectgenome.calculations.mtp_selection import MtpGradeCalculation, MtpSelectCalculation
    from aiida_defectgenome.core.lammps.potentials import PotentialSpec
    from aiida_defectgenome.data.potential import InteratomicPotentialData

    shutil.copy(MLIP3 / 'trained_cfgmode.almtp', tmp_path / 'trained.almtp')
    spec = PotentialSpec('mtp-fixture', (tmp_path / 'trained.almtp',), ('W',), 'mlip load_from=trained.almtp', '* *')
    potential = InteratomicPotentialData(spec)
    ase.io.write(tmp_path / 'set.extxyz', [labelled_atoms(a, labels) for a, labels in small_w[:6]])
    code = aiida_code_installed(default_calc_job_plugin='defectgenome.mtp_grade', filepath_executable='/opt/mlip-3/bin/mlp')
    monkeypatch.chdir(tmp_path)
    grade = MtpGradeCalculation.get_builder()
    grade.code, grade.potential = code, potential
    grade.structures = orm.SinglefileData(tmp_path / 'set.extxyz')
    grade.parameters = orm.Dict({'elements': ['W'], 'cut_radius': 8.0})
    grade.metadata.dry_run = True
    grade.metadata.options.max_wallclock_seconds = 600
    _, node = run_get_node(grade)
    folder = Path(node.dry_run_info['folder'])
    written = read_cfg((folder / 'in.cfg').read_text())
    assert len(written) == 6 and written[0].forces is None and written[0].energy is None
    assert (folder / 'potential.almtp').read_bytes() == (MLIP3 / 'trained_cfgmode.almtp').read_bytes()
    script = (folder / '_aiidasubmit.sh').read_text()
    assert "'calculate_grade' 'potential.almtp' 'in.cfg' 'graded.cfg'" in script
    assert '\'/opt/mlip-3/bin/mlp\' cut_extrapolative_nbh "$graded" clusters.cfg --cutoff=8' in script

    select = MtpSelectCalculation.get_builder()
    select.code, select.potential = code, potential
    select.training_set = select.candidates = orm.SinglefileData(tmp_path / 'set.extxyz')
    select.parameters = orm.Dict({'elements': ['W']})
    select.metadata.dry_run = True
    select.metadata.options.max_wallclock_seconds = 600
    _, node = run_get_node(select)
    folder = Path(node.dry_run_info['folder'])
    assert read_cfg((folder / 'train.cfg').read_text())[0].forces is not None
    assert "'select_add' 'potential.almtp' 'train.cfg' 'candidates.cfg' 'selected.cfg'" in (folder / '_aiidasubmit.sh').read_text()

    with pytest.raises(ValueError, match='is not an MTP'):
        from aiida_defectgenome.data.potential_registry import load_potential

        select.potential = load_potential('eam-zhou-W')
        run_get_node(select)


def test_grading_by_an_mtp_is_refused_early_when_it_cannot_work(
    cli, lammps_code, python_code, aiida_code_installed, eam_w, w_active_set
):
    """A user's slips with `sample --mtp`: both graders, an MTP trained by configurations, an EIP as the MTP;
    and the same through the work chain's builder and the selection job, before anything runs."""
    from aiida_defectgenome.calculations.selection import SelectionCalculation
    from aiida_defectgenome.data.active_set import ActiveSetData
    from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain

    from .job_cases import mtp_potential

    mtp_potential('mtp-w8-cfg', 'trained_cfgmode.almtp').store()
    nbh = mtp_potential('mtp-w8-nbh').store()
    common = ('sample', '--potential', 'eam-zhou-W', '--scenarios', 'polycrystal', '--group', 'x')
    both = cli(*common, '--reference', 'w-basic', '--mtp', 'mtp-w8-nbh')
    assert both.exit_code == 2 and 'grade against --reference GROUP (its active set) or --mtp NAME' in both.output
    codes = ('--lammps-code', lammps_code.full_label, '--selection-code', python_code.full_label)
    for name, said in (('mtp-w8-cfg', 'trained with --al_mode=cfg'), ('eam-zhou-W', 'is not an MTP')):
        result = cli(*common, '--mtp', name, *codes)
        assert result.exit_code == 2 and said in result.output and 'Traceback' not in result.output

    mlp = aiida_code_installed(default_calc_job_plugin='defectgenome.mtp_training', filepath_executable='/opt/mlip-3/bin/mlp')
    builder = EipSamplingWorkChain.get_builder_from_protocol(
        lammps_code, python_code, [eam_w], protocol='fast', scenarios=['polycrystal'], mtp=nbh, mlp_code=mlp
    )
    builder.active_set = ActiveSetData(w_active_set)
    with pytest.raises(ValueError, match='either an `active_set` or an `mtp`'):
        run_get_node(builder)
    remote = orm.RemoteData(computer=python_code.computer, remote_path='/tmp')
    with pytest.raises(ValueError, match='needs `mlp_code`'):
        run_get_node(SelectionCalculation, code=python_code, parent_folder=remote, mtp=nbh, parameters=orm.Dict({'species': ['W']}))


@pytest.mark.slow
@needs_mlp
def test_sample_command_grades_with_an_mtp(cli, lammps_code, python_code, local_code, tmp_path):
    """`sample --mtp`: the polycrystal anneal graded by mlp against the MTP's own active set, next to the dump;
    each cluster descends from the selection job that took the MTP and the mlp code as inputs."""
    from .job_cases import mtp_potential

    mtp = mtp_potential('mtp-w8-nbh').store()
    mlp = local_code('mlp', 'defectgenome.mtp_training', MLP)
    result = cli(
        'sample', '--potential', 'eam-zhou-W', '--scenarios', 'polycrystal', '--mtp', mtp.label, '--mlp-code', mlp.full_label,
        '--protocol', 'fast', '--group', 'mtp-clusters', '--limit', '3', '--radius', '6', '--output', tmp_path / 'c.extxyz',
        '--lammps-code', lammps_code.full_label, '--selection-code', python_code.full_label,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    clusters = list(orm.load_group('mtp-clusters').nodes)
    assert 0 < len(clusters) <= 3
    for cluster in clusters:
        selection = cluster.creator
        assert selection.inputs.mtp.uuid == mtp.uuid and selection.inputs.mlp_code.uuid == mlp.uuid
        assert 'active_set' not in selection.inputs and selection.outputs.summary['grader'] == 'mtp'
        assert cluster.base.extras.get('dg_gamma') >= 2.0 and cluster.base.extras.get('dg_scenario') == 'polycrystal'


@needs_mlp
def test_real_grade_cut_and_select_jobs(aiida_profile, aiida_code_installed, tmp_path):
    """The grade (with its cuts) and select jobs run by a real mlp on configurations 60-99 of the basic set
    against the genuine nbh-mode MTP, read back as the fixture runs of the same commands were."""
    import ase.io

    from aiida_defectgenome.calculations.mtp_selection import MtpGradeCalculation, MtpSelectCalculation

    from .job_cases import mtp_potential

    frames = read_configurations(BASIC_W_DATASET)
    ase.io.write(tmp_path / 'grade.extxyz', [labelled_atoms(a, labels) for a, labels in frames[60:100]])
    ase.io.write(tmp_path / 'train.extxyz', [labelled_atoms(a, labels) for a, labels in frames[:60]])
    code = aiida_code_installed(default_calc_job_plugin='defectgenome.mtp_grade', filepath_executable=MLP)
    potential, options = mtp_potential(), {'max_wallclock_seconds': 600}
    grade = {'code': code, 'potential': potential, 'metadata': {'options': options}}
    grade['structures'] = orm.SinglefileData(tmp_path / 'grade.extxyz')
    grade['parameters'] = orm.Dict({'elements': ['W'], 'cut_radius': 8.0})
    results, node = run_get_node(MtpGradeCalculation, **grade)
    assert node.is_finished_ok, node.exit_message
    genuine = read_cfg((MLIP3 / 'graded_nbhmode_60-99.cfg.0').read_text())
    assert np.allclose(results['grades'].get_array('grades'), [float(c.features['MV_grade']) for c in genuine], atol=1e-5)
    clusters = ase.io.read(io.StringIO(results['clusters'].get_content()), index=':', format='extxyz')
    assert len(clusters) == 7  # the configurations graded 1.1 or more, as in the fixture run
    select = {'code': code, 'potential': potential, 'metadata': {'options': options}}
    select['training_set'] = orm.SinglefileData(tmp_path / 'train.extxyz')
    select['candidates'] = orm.SinglefileData(tmp_path / 'grade.extxyz')
    select['parameters'] = orm.Dict({'elements': ['W']})
    results, node = run_get_node(MtpSelectCalculation, **select)
    assert node.is_finished_ok, node.exit_message
    assert 0 < len(results['selected'].get_list()) <= 40


@needs_mlp
def test_train_and_evaluate_commands_with_a_real_mtp(cli, local_code, small_w, tmp_path):
    """`train --trainer mtp` (the fast protocol: level 8) on 24 small configurations, then `evaluate` of the
    written model on 6 others, which runs `mlp calculate_efs`; the numbers are a level-8 MTP's."""
    import json

    import ase.io

    ase.io.write(tmp_path / 'w-small.extxyz', [labelled_atoms(a, labels) for a, labels in small_w[:24]])
    ase.io.write(tmp_path / 'w-test.extxyz', [labelled_atoms(a, labels) for a, labels in small_w[24:30]])
    code = local_code('mlp', 'defectgenome.mtp_training', MLP)
    model = tmp_path / 'model'
    arguments = ('--trainer', 'mtp', '--protocol', 'fast', '--code', code.full_label, '--output', model)
    trained = cli('train', tmp_path / 'w-small.extxyz', *arguments)
    assert trained.exit_code == 0, trained.output
    assert sorted(p.name for p in model.iterdir()) == ['metrics.json', 'parity.png', 'potential.json', 'trained.almtp']
    result = cli('evaluate', model, tmp_path / 'w-test.extxyz', '--json', tmp_path / 'scores.json')
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / 'scores.json').read_text())
    assert scores['configurations'] == 6 and 0 < scores['energy_rmse_mev_per_atom'] < 100
    assert 0 < scores['force_rmse_mev_per_a'] < 1000
