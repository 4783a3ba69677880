"""D-optimality: descriptors, MaxVol active sets, extrapolation grades, selection and cluster cuts."""
