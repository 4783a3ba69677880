"""Parser of ``GpawCalculation``: ``results.json`` into ``output_parameters`` and a one-row labels table."""

from __future__ import annotations

import json

import numpy as np
from aiida import orm
from aiida.parsers import Parser

from ..core.jobs import gpaw_single_point
from ..core.structures.datasets import Labels
from ..data.labels import labels_table
from . import scheduler_error

__all__ = ('GpawParser',)


class GpawParser(Parser):
    """Turn GPAW's results into labels (energy eV, forces eV/A, stress eV/A^3) and run information."""

    def parse(self, **kwargs):
        retrieved = self.retrieved
        if gpaw_single_point.RESULTS_FILE not in retrieved.base.repository.list_object_names():
            return scheduler_error(self) or self.exit_codes.ERROR_NO_RESULTS
        try:
            result = json.loads(retrieved.base.repository.get_object_content(gpaw_single_point.RESULTS_FILE))
        except ValueError as exc:
            return self.exit_codes.ERROR_READING_RESULTS.format(error=str(exc))
        summary = {key: value for key, value in result.items() if key not in ('forces', 'traceback')}
        self.out('output_parameters', orm.Dict(summary))
        if not result.get('converged'):
            error = result.get('error', 'no message')
            if error.startswith('SCF not converged'):
                return self.exit_codes.ERROR_SCF_NOT_CONVERGED.format(error=error)
            return self.exit_codes.ERROR_GPAW.format(error=error)
        stress = np.array(result['stress']) if result.get('stress') is not None else None
        table = labels_table([Labels(energy=result['energy'], forces=np.array(result['forces']), stress=stress)], engine='GPAW')
        parameters = self.node.inputs.parameters.get_dict() if 'parameters' in self.node.inputs else {}
        table.base.attributes.set('settings', gpaw_single_point.merged_parameters(parameters))
        self.out('labels', table)
        return None
