"""Sphinx configuration of aiida-defectgenome (MyST Markdown pages, sphinx-click for the CLI)."""

project = 'aiida-defectgenome'
author = 'aiida-defectgenome developers'
copyright = '2026, aiida-defectgenome developers'
extensions = ['myst_parser', 'sphinx_click']
source_suffix = {'.md': 'markdown'}
myst_enable_extensions = ['colon_fence', 'deflist']
myst_heading_anchors = 3
html_theme = 'alabaster'
exclude_patterns = ['_build']
