"""DFT labels: VASP results and INCAR, equations of state."""
