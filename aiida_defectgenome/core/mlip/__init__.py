"""MLIPs: SNAP bases, fits, models and training; MLIP-3 and pacemaker files."""
