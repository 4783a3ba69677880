"""A remote cluster and its codes in one go, from a YAML file (``aiida-defectgenome setup --computer``).

The file, every key but those marked required optional::

    computer:
      label: mycluster                # required
      hostname: login.mycluster.org   # required
      workdir: /scratch/{username}/aiida   # required; {username} is the remote user
      transport: core.ssh_async       # or core.ssh, core.local
      ssh_host: mycluster             # core.ssh_async: a host or a Host alias of ~/.ssh/config (default: hostname)
      username: alice                 # core.ssh only (core.ssh_async takes user, key, port from ~/.ssh/config)
      key_filename: ~/.ssh/id_ed25519 # core.ssh only
      port: 22                        # core.ssh only
      scheduler: core.slurm           # any AiiDA scheduler: core.pbspro, core.sge, core.direct, ...
      mpirun_command: srun -n {tot_num_mpiprocs}
      mpiprocs_per_machine: 32        # default of the jobs' resources
      memory_per_machine: 128000000   # kB, optional
      prepend_text: |                 # every job script, before the codes' own
        export OMP_NUM_THREADS=1
      safe_interval: 5                # s between two connections
      poll_interval: 30               # s between two checks of the queue
    codes:                            # the package's codes: lammps, gpaw, python, mlp, vasp (or `plugin:` any)
      lammps:
        executable: /opt/lammps/bin/lmp   # required
        prepend_text: module load lammps
        with_mpi: true
"""

from __future__ import annotations

import shlex

from aiida import orm
from aiida.common.exceptions import NotExistent

__all__ = ('CODE_PLUGINS', 'ComputerFileError', 'setup_remote')

#: The calculation plugin each code of the package runs by default.
CODE_PLUGINS = {
    'lammps': 'defectgenome.lammps',
    'gpaw': 'defectgenome.gpaw',
    'python': 'defectgenome.selection',
    'mlp': 'defectgenome.mtp_training',
    'vasp': 'vasp.vasp',
}
_COMPUTER_KEYS = {
    'label', 'hostname', 'workdir', 'transport', 'ssh_host', 'username', 'key_filename', 'port', 'scheduler',
    'mpirun_command', 'mpiprocs_per_machine', 'memory_per_machine', 'prepend_text', 'append_text', 'shebang',
    'description', 'safe_interval', 'poll_interval',
}  # fmt: skip
_CODE_KEYS = {'executable', 'plugin', 'prepend_text', 'append_text', 'with_mpi', 'label', 'description'}
_SSH_ONLY = ('username', 'key_filename', 'port')


class ComputerFileError(ValueError):
    """The YAML file does not describe a computer this command can set up; the message says what to change."""


def _no_unknown(where: str, settings: dict, known: set) -> None:
    unknown = set(settings) - known
    if unknown:
        raise ComputerFileError(f'{where}: unknown key(s) {", ".join(sorted(unknown))}; known: {", ".join(sorted(known))}')


def _check(spec: dict) -> tuple[dict, dict]:
    if not isinstance(spec, dict) or not isinstance(spec.get('computer'), dict):
        raise ComputerFileError('the file needs a `computer:` mapping (label, hostname, workdir, ...)')
    unknown = set(spec) - {'computer', 'codes'}
    if unknown:
        raise ComputerFileError(f'unknown top-level key(s) {", ".join(sorted(unknown))}: only `computer` and `codes`')
    computer, codes = spec['computer'], spec.get('codes') or {}
    missing = [key for key in ('label', 'hostname', 'workdir') if not computer.get(key)]
    if missing:
        raise ComputerFileError(f'computer: {", ".join(missing)} missing')
    _no_unknown('computer', computer, _COMPUTER_KEYS)
    transport = computer.get('transport', 'core.ssh_async')
    ssh_only = [key for key in _SSH_ONLY if key in computer]
    if transport == 'core.ssh_async' and ssh_only:
        block = '\n'.join(
            [f'Host {computer.get("ssh_host", computer["hostname"])}', f'    HostName {computer["hostname"]}']
            + [f'    {name} {computer[key]}' for key, name in zip(_SSH_ONLY, ('User', 'IdentityFile', 'Port')) if key in computer]
        )
        raise ComputerFileError(
            f'computer: {", ".join(ssh_only)} are core.ssh settings; core.ssh_async reads them from ~/.ssh/config. '
            f'Add there\n{block}\nand remove them from the file (or use transport: core.ssh)'
        )
    if not isinstance(codes, dict):
        raise ComputerFileError('codes: a mapping of code name to its settings (executable, prepend_text, ...)')
    for name, code in codes.items():
        if not isinstance(code, dict) or not code.get('executable'):
            raise ComputerFileError(f'codes.{name}: needs `executable` (the path on the computer)')
        _no_unknown(f'codes.{name}', code, _CODE_KEYS)
        if name not in CODE_PLUGINS and 'plugin' not in code:
            raise ComputerFileError(f'codes.{name}: not one of {", ".join(CODE_PLUGINS)}: say which `plugin` it runs')
    return computer, codes


def _store_computer(settings: dict) -> orm.Computer:
    computer = orm.Computer(
        label=settings['label'],
        hostname=settings['hostname'],
        description=settings.get('description', 'Set up by aiida-defectgenome setup --computer'),
        transport_type=settings.get('transport', 'core.ssh_async'),
        scheduler_type=settings.get('scheduler', 'core.slurm'),
        workdir=settings['workdir'],
    )
    computer.set_mpirun_command(shlex.split(settings.get('mpirun_command', 'mpirun -np {tot_num_mpiprocs}')))
    computer.set_default_mpiprocs_per_machine(int(settings.get('mpiprocs_per_machine', 1)))
    if 'memory_per_machine' in settings:
        computer.set_default_memory_per_machine(int(settings['memory_per_machine']))
    computer.set_prepend_text(settings.get('prepend_text', ''))
    computer.set_append_text(settings.get('append_text', ''))
    computer.set_shebang(settings.get('shebang', '#!/bin/bash'))
    return computer.store()


def _configure(computer: orm.Computer, settings: dict) -> None:
    options = {'safe_interval': float(settings.get('safe_interval', 5.0))}
    transport = computer.transport_type
    if transport == 'core.ssh_async':
        options['host'] = settings.get('ssh_host', settings['hostname'])
    elif transport == 'core.ssh':
        options.update({key: settings[key] for key in _SSH_ONLY if key in settings})
        options.setdefault('key_policy', 'AutoAddPolicy')
    computer.configure(**options)
    computer.set_minimum_job_poll_interval(float(settings.get('poll_interval', 10.0)))


def setup_remote(spec: dict) -> tuple[orm.Computer, list[str]]:
    """Create (or keep) the computer and codes that ``spec`` (the parsed YAML) describes; configure the
    computer for the current user. Return it and one line per thing done or found."""
    settings, codes = _check(spec)
    label = settings['label']
    try:
        computer = orm.load_computer(label)
        notes = [f'Computer `{label}` exists (pk {computer.pk}); its settings are left as they are.']
    except NotExistent:
        computer = _store_computer(settings)
        notes = [f'Created computer `{label}` (pk {computer.pk}, {computer.transport_type}, {computer.scheduler_type}).']
    if not computer.is_configured:
        _configure(computer, settings)
        notes.append(f'Configured computer `{label}` for the current user.')
    for name, code in codes.items():
        code_label = code.get('label', name)
        try:
            existing = orm.load_code(f'{code_label}@{label}')
            notes.append(f'Code `{code_label}@{label}` exists (pk {existing.pk}) -> {existing.filepath_executable}.')
            continue
        except NotExistent:
            pass
        node = orm.InstalledCode(
            computer=computer,
            filepath_executable=code['executable'],
            label=code_label,
            description=code.get('description', f'{name} on {label}'),
            default_calc_job_plugin=code.get('plugin', CODE_PLUGINS.get(name)),
            prepend_text=code.get('prepend_text', ''),
            append_text=code.get('append_text', ''),
            with_mpi=code.get('with_mpi'),
        ).store()
        notes.append(f'Created code `{code_label}@{label}` (pk {node.pk}) -> {code["executable"]}.')
    return computer, notes
