"""Signatures: SSH-signed ledger tags, keyless (Sigstore) statements of ledger events, and
signed model artifacts. What a signature proves and what it cannot is in docs/hardening.md."""
