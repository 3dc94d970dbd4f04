"""mlgate: GitOps CI/CD gates for machine-learning repositories.

All logic lives in this package; the GitHub Actions and workflow templates only call the
``mlgate`` command, so a gate behaves the same on a laptop, in any CI and on GitHub.
"""

__version__ = "0.1.0"
