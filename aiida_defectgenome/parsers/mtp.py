"""Parser of ``MtpTrainingCalculation``: the MTP, mlp's own train errors, metrics of its predictions, a parity plot."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from aiida import orm
from aiida.parsers import Parser

from ..calculations.mtp import PREDICTIONS, TRAINED
from ..core.lammps.potentials import PotentialSpec
from ..core.mlip.mlip_cfg import read_cfg
from ..core.mlip.mlip_output import errors_report, mlp_failure, mlp_output
from ..core.mlip.mtp_files import efs_errors, efs_parity
from ..core.plots import plot_parity
from ..data.potential import InteratomicPotentialData
from . import missing_output, scheduler_error, temporary_folder

__all__ = ('MtpTrainingParser',)

CITATION = 'MTP fitted with MLIP-3 (Podryabinkin et al., J. Chem. Phys. 159, 084112 (2023))'


class MtpTrainingParser(Parser):
    """Turn ``trained.almtp`` into an ``InteratomicPotentialData`` named ``mtp-<uuid8>`` (``pair_style mlip``,
    a LAMMPS built with the MLIP-3 interface); metrics per split from ``calculate_efs`` (meV/atom, meV/A per
    force component) and, under ``mlp_train_report``, mlp's own report (eV, eV/atom, eV/A over force vectors)."""

    def parse(self, **kwargs):
        repository = self.retrieved.base.repository
        names = repository.list_object_names()
        streams = {name: repository.get_object_content(name) for name in names if name.endswith(('.err', '.out'))}
        stdout = streams.get(self.node.get_option('output_filename'), '')
        failure = mlp_failure(stdout, streams.get('train.err', ''))
        if failure is not None:  # mlp's own errors exit 9, its usage errors 0: its words decide
            return self.exit_codes.ERROR_MLP.format(error=failure)
        missing = missing_output(self, TRAINED)
        if missing is not None:
            return missing
        elements = self.node.inputs.parameters['elements']
        temporary = temporary_folder(kwargs)
        try:
            metrics = {'mlp_train_report': errors_report(stdout)}
            parity = {}
            for split, output in PREDICTIONS.items():
                written = mlp_output(temporary, output) if temporary else None
                if written is None and split == 'train':
                    return scheduler_error(self) or self.exit_codes.ERROR_NO_OUTPUT.format(error=f'calculate_efs wrote no {output}')
                if written is None:  # no test set
                    continue
                predicted = read_cfg(written.read_text(), written.name)
                failure = mlp_failure(streams.get(f'efs_{split}.out', ''), streams.get(f'efs_{split}.err', ''))
                if failure is not None:
                    return self.exit_codes.ERROR_MLP.format(error=f'calculate_efs on the {split} set: {failure}')
                reference = read_cfg((temporary / f'{split}.cfg').read_text(), f'{split}.cfg')
                metrics[split] = efs_errors(reference, predicted)
                parity[split] = efs_parity(reference, predicted)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / TRAINED
                path.write_bytes(repository.get_object_content(TRAINED, mode='rb'))
                spec = PotentialSpec(
                    name=f'mtp-{self.node.uuid[:8]}',
                    files=(path,),
                    species=tuple(elements),
                    pair_style=f'mlip load_from={TRAINED}',
                    pair_coeff='* *',
                    citation=CITATION,
                )
                potential = InteratomicPotentialData(spec)
        except (OSError, ValueError, KeyError) as exc:  # CfgError is a ValueError
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        self.out('potential', potential)
        self.out('metrics', orm.Dict(metrics))
        plot = io.BytesIO()
        plot_parity(parity, plot, title=f'MTP (MLIP-3), {", ".join(elements)}')
        self.out('parity_plot', orm.SinglefileData(io.BytesIO(plot.getvalue()), filename='parity.png'))
        return None
