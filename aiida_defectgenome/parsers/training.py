"""Parser of ``SnapTrainingCalculation``: the model and ensemble as potential nodes, metrics, plots and the
active set of the training atoms when the job wrote one."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from aiida import orm
from aiida.parsers import Parser

from ..core.doptimality.active_set import load_active_set
from ..core.jobs.training_job import ACTIVE_SET_FILE, ACTIVE_SOURCES_FILE
from ..core.mlip.snap_model import read_snap_model
from ..data.active_set import ActiveSetData
from ..data.potential import InteratomicPotentialData
from . import missing_output

__all__ = ('SnapTrainingParser',)


class SnapTrainingParser(Parser):
    """Turn the retrieved coefficient files into ``InteratomicPotentialData`` nodes named ``snap-<uuid8>[-k]``."""

    def parse(self, **kwargs):
        repository = self.retrieved.base.repository
        names = repository.list_object_names()
        missing = missing_output(self, 'metrics.json')
        if missing is not None:
            return missing
        stem = f'snap-{self.node.uuid[:8]}'
        try:
            metrics = json.loads(repository.get_object_content('metrics.json'))
            with tempfile.TemporaryDirectory() as tmp:
                for name in names:
                    if name.endswith(('.snapcoeff', '.snapparam')):
                        (Path(tmp) / name).write_bytes(repository.get_object_content(name, mode='rb'))
                potential = self._potential(Path(tmp), 'model', stem)
                members = {
                    f'member_{k}': self._potential(Path(tmp), f'member_{k}', f'{stem}-{k}')
                    for k in range(metrics.get('ensemble', 0))
                }
                active_set = self._active_set(Path(tmp)) if ACTIVE_SET_FILE in names else None
        except (OSError, ValueError, KeyError) as exc:
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        self.out('potential', potential)
        for key, node in members.items():
            self.out(f'ensemble.{key}', node)
        self.out('metrics', orm.Dict(metrics))
        if active_set is not None:
            self.out('active_set', active_set)
        for output, filename in (('parity_plot', 'parity.png'), ('learning_curve_plot', 'learning_curve.png')):
            if filename in names:
                content = repository.get_object_content(filename, mode='rb')
                self.out(output, orm.SinglefileData(io.BytesIO(content), filename=filename))
        return None

    def _active_set(self, directory: Path) -> ActiveSetData:
        repository = self.retrieved.base.repository
        (directory / ACTIVE_SET_FILE).write_bytes(repository.get_object_content(ACTIVE_SET_FILE, mode='rb'))
        node = ActiveSetData(load_active_set(directory / ACTIVE_SET_FILE))
        pairs = json.loads(repository.get_object_content(ACTIVE_SOURCES_FILE))
        node.base.attributes.set('source_atoms', [None if pair is None else [f'frame {pair[0]}', pair[1]] for pair in pairs])
        return node

    @staticmethod
    def _potential(directory: Path, stem: str, name: str) -> InteratomicPotentialData:
        model = read_snap_model(directory, stem)
        spec = model.potential_spec(directory / name, name, citation='SNAP fitted by aiida-defectgenome')
        return InteratomicPotentialData(spec)
