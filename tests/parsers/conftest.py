"""``parse``: a parser run on the retrieved files of a real job (``fixtures/<calc>/<case>``), its outputs as
plain data for ``data_regression``."""

import hashlib

import pytest
from aiida import orm

from ..job_cases import CASES

#: Parser tests need no codes: the cases' inputs are built without one.
NO_CODES = {'lammps': None, 'gpaw': None, 'python': None}


def plain(node):
    """``node`` (or a namespace of nodes) as YAML-ready data: dicts, arrays as lists, files by size and hash."""
    from aiida_defectgenome.data.potential import InteratomicPotentialData

    if isinstance(node, dict):
        return {key: plain(value) for key, value in sorted(node.items())}
    if isinstance(node, orm.Dict):
        return node.get_dict()
    if isinstance(node, orm.StructureData):
        atoms = node.get_ase()
        return {'symbols': atoms.get_chemical_formula(), 'pbc': atoms.pbc.tolist(), 'cell': atoms.cell.array.tolist(),
                'positions': atoms.positions.tolist()}  # fmt: skip
    if isinstance(node, orm.ArrayData):
        return {name: node.get_array(name).tolist() for name in sorted(node.get_arraynames())}
    if isinstance(node, orm.SinglefileData):
        content = node.get_content(mode='rb')
        return {'filename': node.filename, 'bytes': len(content), 'sha256': hashlib.sha256(content).hexdigest()}
    if isinstance(node, InteratomicPotentialData):  # named after the job's UUID: the name is left out
        attributes = {key: value for key, value in node.base.attributes.all.items() if key != 'name'}
        return {**attributes, 'filenames': [name.replace(node.name, '<name>') for name in node.filenames]}
    raise TypeError(f'no plain form for {type(node).__name__}')


@pytest.fixture
def parse(generate_calc_job_node):
    """Return ``parse(calc, case, with_inputs=True) -> (exit_code, outputs)``: the parser of the case's
    calculation run on its fixture, with the case's inputs (but the code) linked when ``with_inputs``."""
    from aiida.plugins import ParserFactory

    def run(calc, case, with_inputs=True):
        entry_point, inputs = CASES[calc][case]
        linked = {k: v for k, v in inputs(NO_CODES).items() if v is not None} if with_inputs else {}
        node = generate_calc_job_node(entry_point, f'{calc}/{case}', linked)
        outputs, calcfunction = ParserFactory(entry_point).parse_from_node(node, store_provenance=False)
        return calcfunction.exit_status, calcfunction.exit_message, outputs

    return run
