"""Parsers of ``MtpGradeCalculation`` (grades, cut neighbourhoods traced to their sources) and
``MtpSelectCalculation`` (indices of the selected candidates)."""

from __future__ import annotations

import io

import numpy as np
from aiida import orm
from aiida.parsers import Parser
from ase import Atoms

from ..core.mlip.mlip_cfg import read_cfg
from ..core.mlip.mlip_output import cut_sources, mlp_failure, mlp_output, selected_count
from . import scheduler_error, temporary_folder

__all__ = ('MtpGradeParser', 'MtpSelectParser')


def _failure(parser) -> str | None:
    repository = parser.retrieved.base.repository
    names = repository.list_object_names()
    streams = [
        repository.get_object_content(name) if name in names else '' for name in ('aiida.out', 'mlp.err', 'cut.out', 'cut.err')
    ]
    return mlp_failure(streams[0], streams[1]) or mlp_failure(streams[2], streams[3])


class MtpGradeParser(Parser):
    """``grades`` from ``calculate_grade``'s output configurations; ``clusters`` from ``cut_extrapolative_nbh``."""

    def parse(self, **kwargs):
        failure = _failure(self)
        if failure is not None:
            return self.exit_codes.ERROR_MLP.format(error=failure)
        folder = temporary_folder(kwargs)
        path = mlp_output(folder, 'graded.cfg') if folder else None
        if path is None:
            return scheduler_error(self) or self.exit_codes.ERROR_NO_OUTPUT.format(what='graded configurations (graded.cfg)')
        elements = self.node.inputs.parameters['elements']
        try:
            graded = read_cfg(path.read_text(), path.name)
            grades = orm.ArrayData()
            grades.set_array('grades', np.array([float(c.features['MV_grade']) for c in graded]))
            grades.set_array('natoms', np.array([len(c.types) for c in graded]))
            if all('nbh_grades' in c.columns for c in graded):
                grades.set_array('atom_grades', np.concatenate([c.columns['nbh_grades'] for c in graded]))
            clusters = None
            if self.node.inputs.parameters.get('cut_radius'):
                repository = self.retrieved.base.repository
                if 'clusters.cfg' not in repository.list_object_names():
                    return scheduler_error(self) or self.exit_codes.ERROR_NO_OUTPUT.format(what='cut neighbourhoods (clusters.cfg)')
                cuts = read_cfg(repository.get_object_content('clusters.cfg'), 'clusters.cfg')
                clusters = _clusters_file(cuts, cut_sources(graded, cuts), elements)
        except (KeyError, ValueError) as exc:  # CfgError is a ValueError
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        self.out('grades', grades)
        if clusters is not None:
            self.out('clusters', clusters)
        return None


def _clusters_file(cuts, sources, elements) -> orm.SinglefileData:
    """extxyz of the cut neighbourhoods, each with its source configuration and central atom."""
    import ase.io

    frames = []
    for cut, (index, atom) in zip(cuts, sources):
        atoms = Atoms([elements[t] for t in cut.types], positions=cut.positions, pbc=False)
        atoms.info.update(source_index=index, source_atom=atom, centre=0, gamma=float(cut.features['extrapolation_grade']))
        frames.append(atoms)
    text = io.StringIO()
    ase.io.write(text, frames, format='extxyz')
    return orm.SinglefileData(io.BytesIO(text.getvalue().encode()), filename='clusters.extxyz')


class MtpSelectParser(Parser):
    """``selected``: the candidates ``select_add`` wrote, found by their positions in ``candidates.cfg``."""

    def parse(self, **kwargs):
        failure = _failure(self)
        if failure is not None:
            return self.exit_codes.ERROR_MLP.format(error=failure)
        repository = self.retrieved.base.repository
        folder = temporary_folder(kwargs)
        candidates = folder / 'candidates.cfg' if folder else None
        if 'selected.cfg' not in repository.list_object_names() or candidates is None or not candidates.is_file():
            return scheduler_error(self) or self.exit_codes.ERROR_NO_OUTPUT.format(what='selected configurations (selected.cfg)')
        try:
            selected = read_cfg(repository.get_object_content('selected.cfg'), 'selected.cfg')
            pool = read_cfg(candidates.read_text(), 'candidates.cfg')
            indices = [_index_of(configuration, pool) for configuration in selected]
            if selected_count(repository.get_object_content('aiida.out')) != len(indices):
                raise ValueError('selected.cfg does not hold as many configurations as mlp says it selected')
        except (KeyError, ValueError) as exc:
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        self.out('selected', orm.List(indices))
        return None


def _index_of(configuration, pool) -> int:
    for index, candidate in enumerate(pool):
        if candidate.positions.shape == configuration.positions.shape and np.allclose(candidate.positions, configuration.positions):
            return index
    raise ValueError('a selected configuration is none of the candidates')
