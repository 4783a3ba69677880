"""Sphinx configuration of aiida-defectgenome (MyST Markdown pages, sphinx-click for the CLI, aiida.sphinxext and
the local ``dg-processes`` directive for the process reference)."""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / '_ext'))

# aiida.sphinxext loads the default profile to build the process specs: a throw-away one in a temporary AiiDA
# folder, so that the build needs no setup and never touches the user's profiles
os.environ['AIIDA_PATH'] = tempfile.mkdtemp(prefix='defectgenome-docs-')
from aiida.manage.configuration import create_profile, get_config  # noqa: E402

_config = get_config(create=True)
create_profile(_config, storage_backend='core.sqlite_temp', storage_config={}, name='docs', email='docs@localhost')
_config.set_default_profile('docs', overwrite=True)
_config.store()

project = 'aiida-defectgenome'
author = 'aiida-defectgenome developers'
copyright = '2026, aiida-defectgenome developers'
extensions = ['myst_parser', 'sphinx_click', 'aiida.sphinxext', 'process_reference']
source_suffix = {'.md': 'markdown'}
myst_enable_extensions = ['colon_fence', 'deflist']
myst_heading_anchors = 3
html_theme = 'alabaster'
exclude_patterns = ['_build']
