"""Heavy end-to-end checks (run with --slow; CI runs them): the README demo, the docs build, the example."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

NUMBER = r'(-?\d+\.\d+)'
ROOT = Path(__file__).parents[1]
pytestmark = pytest.mark.slow


@pytest.mark.timeout(3000)  # above the subprocess's own; the suite's 900 s per test killed the worker first
def test_demo_on_a_fresh_aiida_path(tmp_path):
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path)}
    command = [str(Path(sys.executable).parent / 'aiida-defectgenome'), 'demo']
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=2700, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    a0 = float(re.search(rf'a0 += {NUMBER} A', result.stdout).group(1))
    e_coh = float(re.search(rf'E_coh = {NUMBER} eV/atom', result.stdout).group(1))
    assert a0 == pytest.approx(3.1648, abs=2e-4) and e_coh == pytest.approx(-8.760, abs=5e-4)
    assert '678 imported' in result.stdout
    assert re.search(r'-> import_configurations <\d+> -> 678 StructureData \+ labels table <\d+>', result.stdout)
    # the demo campaign: every stage ran, the final model is scored, and the four figures are written
    assert re.search(r'DefectGenomeWorkChain<\d+> finished in \d+ s', result.stdout)
    for stage in ('eip_sampling', 'pcc_gcmc', 'dft_labeling_cells', 'active_learning', 'training_0', 'md_divacancy_iter1'):
        assert stage in result.stdout, stage
    assert re.search(r'final model: test \d+\.\d+ meV/atom', result.stdout)
    for name in ('gamma.png', 'pcc_energy_map.png', 'parity.png', 'learning_curve.png'):
        assert (tmp_path / 'defectgenome-demo' / name).stat().st_size > 10_000, name
    # every label of the campaign comes from a GPAW run of exactly its configuration (`test_campaign.py` checks
    # the rest of the provenance on a reference-labelled campaign)
    check = subprocess.run([sys.executable, '-c', GPAW_LABELS], env=env, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    cells = int(re.search(r'(\d+) configurations labelled by GPAW', check.stdout).group(1))
    assert cells >= 2, check.stdout  # the PCC-GCMC cells and the active-learning cells


GPAW_LABELS = """
from aiida import load_profile, orm
load_profile()
query = orm.QueryBuilder().append(orm.Group, filters={'label': {'like': 'demo-%/%'}}, tag='group')
query.append(orm.StructureData, with_group='group', filters={'extras': {'has_key': 'dg_labels'}})
structures = query.distinct().all(flat=True)
for structure in structures:
    table = orm.load_node(structure.base.extras.get('dg_labels'))
    assert table.creator.process_label == 'GpawCalculation', (structure.pk, table.creator.process_label)
    assert table.creator.is_finished_ok and table.creator.inputs.structure.pk == structure.pk, structure.pk
print(len(structures), 'configurations labelled by GPAW')
"""


def test_docs_build_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '-q', str(ROOT / 'docs' / 'source'), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_submission_script(lammps_code, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['relax_bcc_w.py', lammps_code.full_label])
    runpy.run_path(str(ROOT / 'examples' / 'relax_bcc_w.py'), run_name='__main__')
    found = re.findall(rf'^(\S+) +a0 = {NUMBER} A +E_coh = {NUMBER} eV/atom', capsys.readouterr().out, re.MULTILINE)
    values = {name: (float(a0), float(e)) for name, a0, e in found}
    assert values['eam-zhou-W'] == pytest.approx((3.1648, -8.760), abs=5e-4)
    assert values['meam-W'] == pytest.approx((3.165, -8.660), abs=5e-4)
