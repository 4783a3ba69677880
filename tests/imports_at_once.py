"""Two `genome import` commands of one file started at once (the write lock of issue 20), for any profile."""

import os
import subprocess
import sys
from pathlib import Path

import ase.io


def shifted_dataset(path: Path, count: int | None = None, shift: float = 0.0123) -> Path:
    """Write the first ``count`` configurations of the W basic set with energies moved by ``shift`` eV (so
    no other test stored them and both imports must write) to ``path``."""
    from aiida_defectgenome.core.structures.datasets import Labels, labelled_atoms, read_configurations
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    frames = read_configurations(BASIC_W_DATASET)[:count]
    shifted = [labelled_atoms(atoms, Labels(labels.energy + shift, labels.forces, labels.stress)) for atoms, labels in frames]
    ase.io.write(path, shifted, format='extxyz')
    return path


def import_twice_at_once(profile: str, dataset: Path, groups: list[str], env: dict) -> list[tuple[int, int]]:
    """Start ``genome import DATASET --group G`` for both ``groups`` at once; return each run's (new, already
    stored) counts, sorted. Raises ``AssertionError`` with the output when one fails or shows a traceback."""
    command = [str(Path(sys.executable).parent / 'aiida-defectgenome'), '-p', profile, 'genome', 'import', str(dataset)]
    runs = [
        subprocess.Popen([*command, '--group', group], env={**os.environ, **env}, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for group in groups
    ]  # fmt: skip
    results = [run.communicate(timeout=600) for run in runs]
    for run, (stdout, stderr) in zip(runs, results):
        assert run.returncode == 0 and 'Traceback' not in stderr, stdout + stderr
    return sorted((int(out.split(': ')[1].split()[0]), int(out.split(', ')[1].split()[0])) for out, _ in results)
