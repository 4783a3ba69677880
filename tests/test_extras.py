"""Extras are merged key by key in the storage: processes that set different keys on the same nodes at the
same time keep each other's writes (here on the test profile's SQLite; `test_production_services.py` runs
the same check on PostgreSQL)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from aiida import orm

from aiida_defectgenome.common.extras import update_extras

SCRIPT = """
import json, sys
from aiida import load_profile, orm
load_profile(sys.argv[1])
from aiida_defectgenome.common.extras import update_extras
mode, args = sys.argv[2], sys.argv[3:]
if mode == 'make':
    print(json.dumps([orm.Int(value).store().uuid for value in range(8)]))
elif mode == 'write':
    for step in range(30):
        update_extras({uuid: {f'{args[0]}_{step}': step} for uuid in args[1:]})
else:
    expected = {f'{writer}_{step}' for writer in 'abc' for step in range(30)}
    print(json.dumps(sorted(key for uuid in args for key in expected - set(orm.load_node(uuid).base.extras.all))))
"""


def extras_lost_by_writers_at_once(profile: str, env: dict) -> list:
    """Three processes set 30 keys each on the same 8 new nodes at once; return the keys that are missing after."""

    def run(*args):
        return subprocess.run([sys.executable, '-c', SCRIPT, profile, *args], env=env, capture_output=True, text=True, timeout=300)

    made = run('make')
    assert made.returncode == 0, made.stderr
    uuids = json.loads(made.stdout)
    command = [sys.executable, '-c', SCRIPT, profile, 'write']
    writers = [subprocess.Popen([*command, name, *uuids], env=env, stderr=subprocess.PIPE, text=True) for name in 'abc']
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read()
    checked = run('check', *uuids)
    assert checked.returncode == 0, checked.stderr
    return json.loads(checked.stdout)


def test_three_processes_setting_different_keys_lose_nothing(aiida_config, aiida_profile):
    env = {**os.environ, 'AIIDA_PATH': str(Path(aiida_config.dirpath).parent)}
    assert extras_lost_by_writers_at_once(aiida_profile.name, env) == []


def test_a_value_replaces_the_whole_key_and_numpy_values_are_stored_as_numbers(aiida_profile):
    import numpy as np

    node = orm.Int(1).store()
    node.base.extras.set_many({'nested': {'a': 1, 'b': 2}, 'other': 'x'})
    update_extras({node.uuid: {'nested': {'c': 3}, 'gamma': np.float64(2.5), 'count': np.int64(3)}})
    extras = orm.load_node(node.pk).base.extras.all
    assert {key: extras[key] for key in extras if key != '_aiida_hash'} == {
        'nested': {'c': 3},
        'other': 'x',
        'gamma': 2.5,
        'count': 3,
    }
    update_extras({})  # nothing to do
