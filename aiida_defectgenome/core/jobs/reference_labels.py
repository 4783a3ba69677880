"""Reference labels job: energy, forces and stress of many configurations with a published potential standing
in for DFT, run where the job runs (``python -m aiida_defectgenome.core.jobs.reference_labels``).

Reads ``structures.json`` (the configurations, in order: ``symbols``, ``positions`` (A), ``cell`` (A),
``pbc``) and the potential in ``potential/`` (``potential.json`` and its files); writes ``labels.json``: per
configuration, in order, ``energy`` (eV), ``forces`` ``(n, 3)`` (eV/A) and ``stress`` ``(3, 3)`` (eV/A^3, ASE
sign; ``null`` unless periodic along all axes), at full precision.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ('main',)


def main() -> int:
    """Run the job in the working directory (see the module docstring); exit 2 when LAMMPS cannot run it."""
    from ase import Atoms

    from ..mlip.potential_evaluation import lammps_labels, read_potential_directory

    try:
        frames = [Atoms(**frame) for frame in json.loads(Path('structures.json').read_text())]
        rows = lammps_labels(read_potential_directory('potential'), frames)
    except (ValueError, OSError) as exc:
        print(f'reference labels failed: {exc}', file=sys.stderr)
        return 2
    labels = [
        {'energy': row.energy, 'forces': row.forces.tolist(), 'stress': None if row.stress is None else row.stress.tolist()}
        for row in rows
    ]
    Path('labels.json').write_text(json.dumps(labels))
    print(f'{len(rows)} configurations labelled')
    return 0


if __name__ == '__main__':
    sys.exit(main())
