"""Command registration (filled in by the issue that owns this command)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's subcommands to the ``mlgate`` parser."""
