"""Parser of ``ReferenceLabelsCalculation``: ``labels.json`` into one labels table."""

from __future__ import annotations

import json

import numpy as np
from aiida.parsers import Parser

from ..calculations.functions.reference_labels import reference_engine, reference_settings
from ..core.structures.datasets import Labels
from ..data.labels import labels_table
from . import missing_output

__all__ = ('ReferenceLabelsParser',)


class ReferenceLabelsParser(Parser):
    """One row per input structure (sorted keys), engine ``reference:<name>``, settings: the potential's identity."""

    def parse(self, **kwargs):
        missing = missing_output(self, 'labels.json')
        if missing is not None:
            return missing
        structures = self.node.inputs.structures
        try:
            found = json.loads(self.retrieved.base.repository.get_object_content('labels.json'))
            if len(found) != len(structures):
                raise ValueError(f'{len(found)} labelled configurations for {len(structures)} inputs')
            rows = []
            for key, row in zip(sorted(structures), found):
                forces = np.array(row['forces'], dtype=float).reshape(-1, 3)
                if len(forces) != len(structures[key].sites):
                    raise ValueError(f'{key}: forces of {len(forces)} atoms for {len(structures[key].sites)}')
                stress = None if row['stress'] is None else np.array(row['stress'], dtype=float)
                rows.append(Labels(energy=float(row['energy']), forces=forces, stress=stress))
        except (ValueError, KeyError, TypeError) as exc:
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        potential = self.node.inputs.potential
        table = labels_table(rows, engine=reference_engine(potential))
        table.base.attributes.set('settings', reference_settings(potential))
        self.out('labels', table)
        return None
