"""``mlgate doctor``: check the GitHub settings the ledger's guarantees rely on.

Registered like every other command (``register(subparsers, common)``); the checks live in
:mod:`mlgate.github.doctor`. Exit codes: 0 every setting is in place (warnings allowed, e.g. a
setting the token may not read), 1 something is missing, 2 bad input (no token, no
repository, GitHub errors).
"""

from __future__ import annotations

import argparse

from mlgate.result import GateResult


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``mlgate doctor`` to the ``mlgate`` parser."""
    p = sub.add_parser(
        "doctor",
        parents=[common],
        help="check the GitHub settings the ledger relies on (rulesets, reviewers, Actions)",
        description="Read the repository's settings through the GitHub REST API and report, "
        "each with the `gh api` call and the UI steps that fix it: a tag ruleset that keeps "
        "people from writing ledger tags, the approval environment's reviewers, the check the "
        "default branch requires, the default workflow token, and which actions may run. "
        "Needs GITHUB_TOKEN (administration: read shows every setting) and GITHUB_REPOSITORY. "
        "Exit code: 0 all in place (warnings allowed), 1 something missing, 2 bad input or "
        "GitHub error.",
    )
    p.add_argument("--config", metavar="FILE",
                   help="mlgate.yaml naming the artifact, the environment and the check "
                   "(default: ./mlgate.yaml when it exists)")
    p.add_argument("--environment", metavar="NAME",
                   help="environment whose reviewers approve releases (default: the production "
                   "stage's approvals.environment, else production)")
    p.add_argument("--check", metavar="NAME",
                   help="check the default branch must require (default: github.check_name, "
                   "else 'mlgate / ARTIFACT')")
    p.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> GateResult:
    from mlgate.config import find_config
    from mlgate.github.client import GitHubClient
    from mlgate.github.doctor import doctor_options, run_doctor

    client = GitHubClient.from_env()
    client.repo_path()  # fails early, naming GITHUB_REPOSITORY, when unset
    options = doctor_options(find_config(args.config), environment=args.environment,
                             check=args.check)
    return run_doctor(client, options)
