"""Parser of ``PaceTrainingCalculation``: the ACE potential, metrics from pacemaker's predictions, a parity plot."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from aiida import orm
from aiida.parsers import Parser

from ..core.lammps.potentials import PotentialSpec
from ..core.mlip.pace_files import prediction_errors, prediction_parity
from ..core.plots import plot_parity
from ..data.potential import InteratomicPotentialData
from . import missing_output

__all__ = ('PaceTrainingParser',)


class PaceTrainingParser(Parser):
    """Turn ``output_potential.yace`` (+ ``.asi``) into an ``InteratomicPotentialData`` named ``ace-<uuid8>``."""

    def parse(self, **kwargs):
        repository = self.retrieved.base.repository
        names = repository.list_object_names()
        missing = missing_output(self, 'output_potential.yace')
        if missing is not None:
            return missing
        elements = self.node.inputs.parameters['elements']
        try:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                for name in names:
                    (folder / name).write_bytes(repository.get_object_content(name, mode='rb'))
                metrics = {
                    split: prediction_errors(folder / f'{split}_pred.pckl.gzip')
                    for split in ('train', 'test')
                    if f'{split}_pred.pckl.gzip' in names
                }
                parity = {split: prediction_parity(folder / f'{split}_pred.pckl.gzip') for split in metrics}
                files = [folder / 'output_potential.yace'] + (
                    [folder / 'output_potential.asi'] if 'output_potential.asi' in names else []
                )
                spec = PotentialSpec(
                    name=f'ace-{self.node.uuid[:8]}',
                    files=tuple(files),
                    species=tuple(elements),
                    pair_style='pace',
                    pair_coeff='* * {files[0]} {elements}',
                    citation='ACE fitted with pacemaker (Bochkarev et al., Phys. Rev. Mater. 6, 013804 (2022))',
                )
                potential = InteratomicPotentialData(spec)
        except (OSError, ValueError, KeyError) as exc:
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        plot = io.BytesIO()
        plot_parity(parity, plot, title=f'ACE (pacemaker), {", ".join(elements)}')
        self.out('potential', potential)
        self.out('metrics', orm.Dict(metrics))
        self.out('parity_plot', orm.SinglefileData(io.BytesIO(plot.getvalue()), filename='parity.png'))
        return None
