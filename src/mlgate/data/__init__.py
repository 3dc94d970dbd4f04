"""Data-validation gate: Great Expectations suites, column contract, drift and skew."""
