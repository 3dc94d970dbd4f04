"""Load-test gate: open-model load generator, SLOs, process/Docker/URL targets, model server."""
