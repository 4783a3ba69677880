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


@pytest.mark.parametrize('script', sorted(p.name for p in (ROOT / 'benchmarks').glob('[!_]*.py')))
def test_every_benchmark_script_imports(script):
    """Each script's top level (its imports) runs in a fresh interpreter, not its main: a module moved
    inside the package breaks a benchmark here, not months later when someone runs it again."""
    folder = ROOT / 'benchmarks'  # on sys.path first, as when the script is run
    code = f'import runpy, sys; sys.path.insert(0, {str(folder)!r}); runpy.run_path({str(folder / script)!r}, run_name="imported")'
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
