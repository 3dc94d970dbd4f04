"""The ledger: versions, stages, approvals and evidence recorded as git tags and notes."""
