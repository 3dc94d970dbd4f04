"""Signatures that make ledger records and artifacts unforgeable by people.

A ledger tag is only a claim: anyone with push rights can write one. A signature made by the
release workflow's own identity (keyless Sigstore, :mod:`mlgate.signing.keyless`) turns the
claim into something only that workflow could have produced. The ledger calls this package;
nothing here reads git.
"""
