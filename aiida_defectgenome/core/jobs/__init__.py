"""Scripts that run on the compute machine (``python -m ...``): training, selection, watched MD, GPAW."""
