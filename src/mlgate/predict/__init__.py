"""Batch inference: ``mlgate predict`` scores a batch with a verified ledger version, behind the
data gate and a check of the predictions' distribution, and records the run as lineage."""
