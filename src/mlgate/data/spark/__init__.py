"""The data gate on Spark DataFrames (``data.engine: spark``).

Spark produces counts (histograms, null and type counts) in a few passes over the data; the
statistics themselves come from :mod:`mlgate.data.drift_stats`, shared with the pandas engine,
and the verdicts from :mod:`mlgate.data.drift`'s rules, so both engines judge alike.
"""
