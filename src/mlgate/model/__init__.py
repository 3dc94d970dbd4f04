"""Model-quality gate: metrics, thresholds, champion comparison with confidence, slices."""
