"""Signatures: SSH-signed ledger tags, keyless (Sigstore) ledger statements, signed artifacts."""
