"""The approval record shared by every approval source (GitHub environments, comments, local).

It lives in its own module so the GitHub client can produce approvals without importing the
ledger's git machinery, and the ledger can record them without importing the GitHub client.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Approval:
    """One person's decision on a promotion.

    ``state`` is "approved" or "rejected"; ``source`` is "github-environment", "comment" or
    "local"; ``time`` is an ISO-8601 UTC timestamp; ``subject`` names the promotion it was
    given for, so an approval copied into another promotion's record does not count.
    """

    login: str
    state: str
    time: str
    source: str
    comment: str = ""
    url: str = ""
    subject: str = ""  # the promotion it approves: "NAME@vX.Y.Z to STAGE"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Approval:
        return cls(**{k: str(data.get(k, "")) for k in cls.__dataclass_fields__})


def promotion_subject(name: str, version: str, stage: str) -> str:
    """What an approval approves: one version of one artifact entering one stage."""
    return f"{name}@{version} to {stage}"
