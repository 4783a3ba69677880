"""Sphinx directive ``dg-processes``: every CalcJob and WorkChain of the package (its entry points), each as
``aiida.sphinxext`` renders it (inputs, outputs, outline) followed by a table of its exit codes."""

from __future__ import annotations

from importlib.metadata import entry_points

from aiida.engine import CalcJob, WorkChain
from sphinx.util.docutils import SphinxDirective

GROUPS = {'aiida.calculations': ('aiida-calcjob', CalcJob), 'aiida.workflows': ('aiida-workchain', WorkChain)}


def _exit_code_rows(process) -> list[str]:
    """RST list-table rows (status >= 100: the scheduler's, the base classes' and the process's own)."""
    rows = []
    for label, code in sorted(process.spec().exit_codes.items(), key=lambda item: item[1].status):
        if code.status >= 100:
            message = code.message.replace('`', "'")
            rows += [f'   * - {code.status}', f'     - ``{label}``', f'     - {message}']
    return rows


class ProcessReference(SphinxDirective):
    """Render one section per process of entry-point group ``aiida.calculations`` or ``aiida.workflows``."""

    required_arguments = 1

    def run(self):
        directive, base = GROUPS[self.arguments[0]]
        lines = []
        for point in sorted(entry_points(group=self.arguments[0]), key=lambda point: point.name):
            if not point.value.startswith('aiida_defectgenome.'):
                continue
            process = point.load()
            if not (isinstance(process, type) and issubclass(process, base)):
                continue  # a calcfunction (import_configurations) is not a process class
            name = process.__name__
            lines += [name, '-' * len(name), '', f'Entry point ``{point.name}``.', '']
            lines += [f'.. {directive}:: {name}', f'   :module: {process.__module__}', '   :expand-namespaces:', '']
            lines += [f'.. list-table:: Exit codes of {name}', '   :header-rows: 1', '   :widths: 8 35 57', '']
            lines += ['   * - status', '     - label', '     - message', *_exit_code_rows(process), '']
        return self.parse_text_to_nodes('\n'.join(lines), allow_section_headings=True)


def setup(app):
    app.add_directive('dg-processes', ProcessReference)
    return {'parallel_read_safe': True}
