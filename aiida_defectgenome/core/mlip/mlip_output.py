"""What MLIP-3's ``mlp`` prints: its errors report, its failures, its grades and selections.

Layouts as the program writes them (genuine outputs in ``tests/fixtures/mlip3``): the errors report of
``mlp train`` (at the end of its log) and of ``mlp check_errors --report_to`` (energies in eV, energy per
atom in eV/atom, forces in eV/A; its force RMS is over the atoms' force vectors, sqrt(3) times the RMSE
per component that ``evaluate`` and the paper's Table S2 give); ``Sampling: cfg# K<tab>grade: G`` lines of ``calculate_grade``;
``Training set was increased by N configurations`` of ``select_add``. ``mlp`` fails in two ways: its own
errors exit 9 with ``Rank 0, ERROR: ...`` (or another ``Rank 0, ...`` line) on stderr, usage errors exit
0 with the message on stdout, so :func:`mlp_failure` reads both streams.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = ('CUT_THRESHOLD', 'cut_sources', 'errors_report', 'grades_of', 'mlp_failure', 'mlp_output', 'selected_count')

#: Report blocks and the keys they get.
_BLOCKS = {
    'Energy': 'energy',
    'Energy per atom': 'energy_per_atom',
    'Forces': 'forces',
    'Stresses (in energy units)': 'stresses',
    'Virial stresses (in pressure units)': 'virial_stresses',
}
_FIELDS = {
    'Errors checked for': 'count',
    'Maximal absolute difference': 'max',
    'Average absolute difference': 'mean',
    'RMS     absolute difference': 'rms',
}
_USAGE = re.compile(r'^(mlp \w+: .*|Error: .*)$')


def errors_report(text: str) -> dict:
    """Return the last errors report in ``text``: ``{block: {'count', 'max', 'mean', 'rms', ...}}`` with
    blocks ``energy`` (eV), ``energy_per_atom`` (eV/atom), ``forces`` (eV/A), ``stresses`` and
    ``virial_stresses``; the relative force and stress errors as ``max_relative`` and ``rms_relative``.

    :raises ValueError: when ``text`` holds no complete report.
    """
    start = text.rfind('_________________Errors report_________________')
    if start < 0:
        raise ValueError('no errors report (the `_____Errors report_____` block) in the text')
    report, block = {}, None
    for line in text[start:].splitlines()[1:]:
        if line.startswith('_'):
            break
        heading = line.rstrip(':')
        if heading in _BLOCKS:
            block = report.setdefault(_BLOCKS[heading], {})
            continue
        if block is None or '=' not in line and 'Errors checked for' not in line:
            continue
        stripped = line.strip()
        if stripped.startswith('Errors checked for'):
            block['count'] = int(stripped.split()[3])
        elif '=' in stripped:
            name, value = (part.strip() for part in stripped.split('=', 1))
            key = _FIELDS.get(name) or ('max_relative' if name.startswith('Max(') else 'rms_relative')
            block[key] = float(value)
    missing = [key for key in _BLOCKS.values() if key not in report]
    if missing:
        raise ValueError(f'the errors report is cut short: no {", ".join(missing)} block')
    return report


def mlp_failure(stdout: str, stderr: str) -> str | None:
    """Return ``mlp``'s own words for a failure, ``None`` when neither stream holds one: the first
    ``Rank N, ...`` line of stderr (its ``ERROR:`` dropped), else a usage error on stdout."""
    for line in stderr.splitlines():
        match = re.match(r'^Rank \d+, (?:ERROR: )?(.*\S)', line)
        if match:
            return match.group(1)
    for line in stdout.splitlines():
        if _USAGE.match(line.strip()):
            return line.strip()
    return None


def mlp_output(folder: Path, name: str) -> Path | None:
    """Return the file ``name`` that mlp wrote in ``folder``, or ``name.0``, as an MPI build names it for
    rank 0 (``calculate_efs``, ``calculate_grade``); ``None`` when neither is there."""
    return next((folder / found for found in (name, f'{name}.0') if (folder / found).is_file()), None)


def grades_of(stdout: str) -> np.ndarray:
    """Return the extrapolation grades of ``calculate_grade``'s stdout, one per configuration in order."""
    found = re.findall(r'^Sampling: cfg# (\d+)\s+grade: (\S+)', stdout, flags=re.MULTILINE)
    order = [int(number) for number, _ in found]
    if order != list(range(1, len(order) + 1)):
        raise ValueError('the grade lines do not number the configurations 1, 2, ... in order')
    return np.array([float(grade) for _, grade in found])


def selected_count(stdout: str) -> int:
    """Return how many configurations ``select_add`` added to the training set."""
    match = re.search(r'Training set was increased by (\d+) configurations', stdout)
    if match is None:
        raise ValueError('select_add did not report how many configurations it selected')
    return int(match.group(1))


#: ``cut_extrapolative_nbh`` skips configurations whose largest neighbourhood grade is below this.
CUT_THRESHOLD = 1.1


def cut_sources(graded: list, cuts: list, tolerance: float = 1e-4) -> list[tuple[int, int]]:
    """Return, for each neighbourhood ``cut_extrapolative_nbh`` cut (``cuts``, in order), ``(configuration,
    atom)``: where in ``graded`` (the ``calculate_grade`` output it read, with ``nbh_grades``) it came from.

    mlp numbers its cuts (``cfg#``) among the cut ones only, so the source is recovered by order: the
    configurations whose largest grade reaches :data:`CUT_THRESHOLD`, each cut checked to be centred on
    that configuration's most extrapolative atom (``nbh#``) with its grade.

    :raises ValueError: when the cuts do not match ``graded`` that way.
    """
    sources = []
    for index, configuration in enumerate(graded):
        grades = configuration.columns.get('nbh_grades')
        if grades is None:
            raise ValueError(f'configuration {index} has no nbh_grades: grade with an al_mode=nbh potential')
        if grades.max() >= CUT_THRESHOLD:
            sources.append((index, int(np.argmax(grades)), float(grades.max())))
    if len(sources) != len(cuts):
        raise ValueError(f'{len(cuts)} cuts for {len(sources)} configurations graded at least {CUT_THRESHOLD}')
    for number, (cut, (index, atom, grade)) in enumerate(zip(cuts, sources)):
        if int(cut.features.get('nbh#', -1)) != atom or abs(float(cut.features.get('extrapolation_grade', 0)) - grade) > tolerance:
            raise ValueError(f'cut {number} is not the most extrapolative neighbourhood of configuration {index}')
    return [(index, atom) for index, atom, _ in sources]
