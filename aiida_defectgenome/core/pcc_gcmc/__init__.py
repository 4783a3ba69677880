"""PCC-GCMC: the frozen core, box search, lattice seeding, GCMC and the assessment of cells."""
