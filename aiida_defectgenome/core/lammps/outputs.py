"""Read what a LAMMPS run written by :mod:`.inputs` leaves behind (metal units)."""

from __future__ import annotations

import json
import re

import numpy as np

__all__ = ('BAR_TO_GPA', 'LammpsLog', 'classify_error', 'parse_final', 'parse_log', 'read_dump_frame')

#: 1 bar = 1e-4 GPa; LAMMPS reports pressure, so stress = -pressure.
BAR_TO_GPA = 1.0e-4

_ERROR = re.compile(r'^ERROR(?: on proc \d+)?:\s*(.*)$', re.MULTILINE)
_WARNING = re.compile(r'^WARNING:\s*(.*)$', re.MULTILINE)
_VERSION = re.compile(r'^LAMMPS \((.+)\)\s*$', re.MULTILINE)
_WALL = re.compile(r'^Total wall time: (\d+):(\d+):(\d+)', re.MULTILINE)
_STOP = re.compile(r'^\s*Stopping criterion = (.+)$', re.MULTILINE)
#: Thermo headers LAMMPS prints under another name than the ``thermo_style`` keyword.
_HEADER_TO_KEYWORD = {'PotEng': 'pe', 'KinEng': 'ke', 'TotEng': 'etotal', 'Volume': 'vol', 'Atoms': 'atoms'}


class LammpsLog(dict):
    """Parsed ``log.lammps``: ``thermo`` (list of per-stage dicts of column arrays), ``errors``,
    ``warnings``, ``version``, ``wall_time_s``, ``stopping_criteria`` (one per minimisation)."""


def parse_log(text: str) -> LammpsLog:
    """Parse the text of ``log.lammps``."""
    version = _VERSION.search(text)
    wall = _WALL.search(text)
    return LammpsLog(
        thermo=_thermo_blocks(text.splitlines()),
        errors=[m.strip() for m in _ERROR.findall(text)],
        warnings=sorted(set(m.strip() for m in _WARNING.findall(text))),
        version=version.group(1) if version else None,
        wall_time_s=(int(wall.group(1)) * 3600 + int(wall.group(2)) * 60 + int(wall.group(3))) if wall else None,
        stopping_criteria=[m.strip() for m in _STOP.findall(text)],
    )


def _thermo_blocks(lines: list[str]) -> list[dict[str, np.ndarray]]:
    blocks = []
    index = 0
    while index < len(lines):
        words = lines[index].split()
        if words and words[0] == 'Step' and index > 0 and lines[index - 1].startswith('Per MPI rank memory'):
            columns, rows = [_HEADER_TO_KEYWORD.get(w, w.lower()) for w in words], []
            index += 1
            while index < len(lines):
                values = lines[index].split()
                if len(values) != len(columns):
                    break
                try:
                    rows.append([float(v) for v in values])
                except ValueError:
                    break
                index += 1
            data = np.array(rows, dtype=float).reshape(-1, len(columns))
            blocks.append({name: data[:, i] for i, name in enumerate(columns)})
        else:
            index += 1
    return blocks


def classify_error(message: str) -> str:
    """Return ``'lost_atoms'``, ``'potential_file'`` or ``'other'`` for a LAMMPS error message."""
    if re.search(r'lost atoms', message, re.IGNORECASE):
        return 'lost_atoms'
    if re.search(r'(cannot open|could not open|failed to open).*(potential|library|file|eam|meam|snap)', message, re.I):
        return 'potential_file'
    return 'other'


def read_dump_frame(text: str) -> dict[str, np.ndarray]:
    """Return the columns of the last frame of a LAMMPS custom dump as arrays keyed by column name."""
    start = text.rfind('ITEM: ATOMS')
    if start < 0:
        raise ValueError('no ITEM: ATOMS section in the dump')
    header, _, body = text[start:].partition('\n')
    columns = header.split()[2:]
    data = np.loadtxt(body.splitlines(), ndmin=2) if body.strip() else np.zeros((0, len(columns)))
    return {name: data[:, i] for i, name in enumerate(columns)}


def parse_final(json_text: str, dump_text: str | None) -> dict:
    """Combine ``final.json`` and ``final.dump`` into energies, box, stress, positions and forces.

    Everything is in the LAMMPS frame: ``cell`` ``(3, 3)`` rows (A), ``positions``/``forces`` ``(n, 3)``
    (A, eV/A), ``energies`` ``(n,)`` per-atom energy (eV), ``stress`` ``(3, 3)`` in GPa (tension positive),
    ``types`` and ``ids`` ``(n,)``. Atoms are sorted by id. Without ``dump_text`` (a run that kept its final
    atoms on the computer) only the totals, box and stress.
    """
    final = json.loads(json_text)
    cell = np.array([[final['lx'], 0.0, 0.0], [final['xy'], final['ly'], 0.0], [final['xz'], final['yz'], final['lz']]])
    pressure = np.array(
        [
            [final['pxx'], final['pxy'], final['pxz']],
            [final['pxy'], final['pyy'], final['pyz']],
            [final['pxz'], final['pyz'], final['pzz']],
        ]
    )
    totals = {
        'energy': final['pe'],
        'kinetic_energy': final['ke'],
        'pressure_bar': final['press'],
        'volume': final['vol'],
        'natoms': int(final['natoms']),
        'step': int(final['step']),
        'cell': cell,
        'stress': -pressure * BAR_TO_GPA,
    }
    if dump_text is None:
        return totals
    frame = read_dump_frame(dump_text)
    order = np.argsort(frame['id'])
    return {
        **totals,
        'types': frame['type'][order].astype(int),
        'ids': frame['id'][order].astype(int),
        'positions': np.column_stack([frame[k][order] for k in ('x', 'y', 'z')]),
        'forces': np.column_stack([frame[k][order] for k in ('fx', 'fy', 'fz')]),
        'energies': frame['c_dg_pe'][order],
    }
