"""The one-node SLURM cluster of ``.ci/slurm-cluster`` as a computer file for ``aiida-defectgenome setup
--computer``: used by ``tests/test_slurm.py`` and ``benchmarks/campaign.py --slurm``."""

import sys
from pathlib import Path

from aiida_defectgenome.core.lammps.runtime import lammps_executable

CLUSTER = Path(__file__).resolve().parents[1] / '.ci' / 'slurm-cluster'


def computer_file(label: str, workdir: Path) -> dict:
    """The computer (SSH to localhost, ``core.slurm``, polled every second) and its LAMMPS, GPAW and Python codes."""
    return {
        'computer': {
            'label': label,
            'hostname': 'localhost',
            'workdir': str(workdir),
            'transport': 'core.ssh_async',
            'scheduler': 'core.slurm',
            'mpirun_command': 'srun -n {tot_num_mpiprocs}',
            'prepend_text': 'export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1',
            'safe_interval': 0,
            'poll_interval': 1,
        },
        'codes': {
            'lammps': {'executable': str(lammps_executable())},
            'gpaw': {'executable': str(Path(sys.executable).parent / 'gpaw')},
            'python': {'executable': sys.executable},
        },
    }
