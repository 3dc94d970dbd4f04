"""Signed model artifacts: OpenSSF model signing (the ``model-signing`` library) for mlgate.

A registered artifact is signed when it is registered, and the signature is checked again
wherever the artifact is trusted: ``mlgate verify``, before ``serve`` and before the champion
is loaded. Two methods, both producing a Sigstore bundle that mlgate stores with the evidence:

* :class:`~mlgate.signing.methods.KeyMethod`: an elliptic-curve key pair, fully offline; the
  private key is a CI secret, the public key is committed on the default branch.
* :class:`~mlgate.signing.methods.SigstoreMethod`: keyless Sigstore, bound to the identity of
  the GitHub Actions workflow that signed (needs ``permissions: id-token: write``).

The functions live in :mod:`mlgate.signing.artifact`. ``model-signing`` is an optional extra
(``pip install 'mlgate[signing]'``): it is imported only when a signature is made or checked,
so mlgate works without it until a policy asks for signatures.
"""
