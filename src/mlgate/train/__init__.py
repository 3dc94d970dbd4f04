"""Training in CI: ``train.command`` produces the candidate, so models need not be committed.

``settings`` reads mlgate.yaml's ``train:`` section, ``run`` runs the command and checks what
it wrote, ``commands`` adds ``mlgate train`` and ``stage`` the pipeline stage ``train``.
"""
