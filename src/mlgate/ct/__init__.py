"""Continuous training: decide whether new data warrants a training run (``mlgate
data-changed``) and ask for the production approval of what it produced (``mlgate
request-approval``)."""
