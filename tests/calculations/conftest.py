"""``render``: the files a case's CalcJob writes for its program (``tests/job_cases.py``), without running it."""

import pytest

from ..job_cases import CASES


@pytest.fixture
def codes(local_code):
    """Codes with executables that need not exist: nothing runs."""
    return {
        'lammps': local_code('lmp-render', 'defectgenome.lammps', '/opt/lammps/bin/lmp'),
        'gpaw': local_code('gpaw-render', 'defectgenome.gpaw', '/opt/gpaw/bin/gpaw'),
        'python': local_code('python-render', 'defectgenome.selection', '/opt/venv/bin/python'),
        'mlp': local_code('mlp-render', 'defectgenome.mtp_training', '/opt/mlip-3/bin/mlp'),
    }


@pytest.fixture
def render(generate_calc_job, codes, aiida_localhost, w_active_set):
    """Return ``render(calc, case) -> (folder, calcinfo summary)``; the summary is plain data: the command
    line, the files copied from the database and linked on the computer, the retrieve list."""
    from aiida import orm

    from aiida_defectgenome.data.active_set import ActiveSetData
    from aiida_defectgenome.data.potential_registry import load_potential

    from ..job_cases import mtp_potential

    prerequisites = {
        'parent_folder': orm.RemoteData(computer=aiida_localhost, remote_path='/scratch/dg/lammps-run'),
        'active_set': ActiveSetData(w_active_set),
        'model': load_potential('eam-zhou-W'),  # any potential: the job only copies its files
        'model_active_set': ActiveSetData(w_active_set),
        'mtp': mtp_potential(),
    }

    def run(calc, case):
        entry_point, inputs = CASES[calc][case]
        folder, calcinfo = generate_calc_job(entry_point, inputs(codes, prerequisites))
        (codeinfo,) = calcinfo.codes_info
        summary = {
            'cmdline_params': codeinfo.cmdline_params,
            'stdout_name': codeinfo.stdout_name,
            'local_copy_list': [target for _, _, target in calcinfo.local_copy_list or []],
            'remote_symlink_list': [[source, target] for _, source, target in calcinfo.remote_symlink_list or []],
            'retrieve_list': calcinfo.retrieve_list,
            'files': sorted(str(p.relative_to(folder)) for p in folder.rglob('*') if p.is_file()),
        }
        return folder, summary

    return run
