"""Analyses that drive the pipeline many times: comparisons, weight sweeps, AHP weights, stability."""
