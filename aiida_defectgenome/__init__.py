"""aiida-defectgenome: defect genomes for metals (EIP sampling, PCC-GCMC, DFT labels, MLIPs) with AiiDA."""

__version__ = '0.1.0'
