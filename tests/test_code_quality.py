"""The checks anyone can run: `lint-imports` (the layers and the pure core, contracts in pyproject.toml),
`ruff check` and `ruff format --check`."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    'command',
    [['lint-imports'], ['ruff', 'check', '.'], ['ruff', 'format', '--check', '.']],
    ids=['lint-imports', 'ruff-check', 'ruff-format'],
)
def test_the_code_passes(command):
    executable = shutil.which(command[0], path=str(BIN)) or shutil.which(command[0])
    assert executable, f'{command[0]} is not installed: pip install -e .[tests]'
    result = subprocess.run([executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
