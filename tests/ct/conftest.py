"""The ledger tests' ``repo`` fixture (the example with local approvals) for the CT tests."""

from tests.ledger.conftest import repo

__all__ = ["repo"]
