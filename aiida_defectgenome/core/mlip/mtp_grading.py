"""Per-atom extrapolation grades from an MTP's own active set, by MLIP-3's ``mlp calculate_grade``.

A trained ``.almtp`` carries its selection state (the ``#MVS_v1.1`` block). Trained with
``--al_mode=nbh`` (``site_en_weight 1`` in that block) its active set holds neighbourhoods, and
``calculate_grade`` writes each atom's grade (the ``nbh_grades`` column); trained by configurations
(``--al_mode=cfg``) it grades whole configurations only, which cannot say where to cut a cluster.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .mlip_cfg import read_cfg, write_cfg
from .mlip_output import mlp_failure, mlp_output

__all__ = ('MtpGrader', 'almtp_cutoff', 'almtp_selection_mode')

_SITE_WEIGHT = re.compile(rb'^site_en_weight\s+(\S+)\s*$', re.MULTILINE)
_MAX_DIST = re.compile(rb'^\s*max_dist\s*=\s*(\S+)\s*$', re.MULTILINE)


def almtp_selection_mode(data: bytes) -> str | None:
    """Return ``'nbh'`` or ``'cfg'``: what the active set of the ``.almtp`` ``data`` holds; ``None`` when it
    has no selection state (an untrained template)."""
    if b'#MVS_v' not in data:
        return None
    match = _SITE_WEIGHT.search(data)
    return 'nbh' if match is not None and float(match.group(1)) > 0 else 'cfg'


def almtp_cutoff(data: bytes) -> float:
    """Return the cutoff (A) of the ``.almtp`` ``data``: its radial basis' ``max_dist``."""
    match = _MAX_DIST.search(data)
    if match is None:
        raise ValueError('the MTP file has no max_dist: not an MLIP-3 .almtp')
    return float(match.group(1))


@dataclasses.dataclass
class MtpGrader:
    """Grade atoms with ``mlp`` (path of the MLIP-3 executable) against the active set of ``potential``
    (an ``.almtp`` trained with ``--al_mode=nbh``) whose types are ``elements`` in order."""

    mlp: str
    potential: Path
    elements: Sequence[str]

    def check(self) -> float:
        """Return the potential's cutoff (A); raise ``ValueError`` when it cannot grade atoms."""
        data = Path(self.potential).read_bytes()
        mode = almtp_selection_mode(data)
        if mode != 'nbh':
            state = 'has no active set (an untrained template?)' if mode is None else 'grades configurations (al_mode=cfg)'
            raise ValueError(f'the MTP {Path(self.potential).name} {state}: per-atom grades need an MTP trained with --al_mode=nbh')
        return almtp_cutoff(data)

    def grade(self, frames: Sequence, folder: Path) -> list[np.ndarray]:
        """Return the grade of every atom ``(len(frame),)`` of each ASE ``frame``; files go to ``folder``.

        :raises RuntimeError: when ``mlp`` fails (its own words) or writes grades that do not fit the frames.
        """
        folder = Path(folder)
        source, graded = folder / 'to_grade.cfg', folder / 'graded.cfg'
        for path in (graded, folder / 'graded.cfg.0'):
            path.unlink(missing_ok=True)
        write_cfg([(atoms, None) for atoms in frames], source, self.elements)
        arguments = [self.mlp, 'calculate_grade', str(self.potential), str(source), str(graded)]
        done = subprocess.run(arguments, capture_output=True, text=True, cwd=folder, check=False)
        failure = mlp_failure(done.stdout, done.stderr)
        written = mlp_output(folder, graded.name)
        if done.returncode or failure or written is None:
            said = failure or done.stderr.strip()[-300:] or done.stdout.strip()[-300:] or 'no output'
            raise RuntimeError(f'mlp calculate_grade failed (exit {done.returncode}): {said}')
        configurations = read_cfg(written.read_text(), written.name)
        source.unlink()
        written.unlink()
        grades = [configuration.columns.get('nbh_grades') for configuration in configurations]
        if len(grades) != len(frames) or any(g is None or len(g) != len(a) for g, a in zip(grades, frames)):
            raise RuntimeError(f'mlp calculate_grade wrote {len(grades)} configurations without per-atom grades for {len(frames)}')
        return grades
