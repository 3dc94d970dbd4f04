"""Whether GitHub's tag rulesets keep people from writing the ledger's tags.

The ledger's record is only as strong as the rule that nobody but the release workflow writes
``NAME@vX.Y.Z`` and ``NAME#STAGE#N`` tags (docs/ledger.md, "Threat model"). GitHub enforces
that with tag rulesets, and this module decides, from what the REST API returns for them
(``GET /repos/{o}/{r}/rulesets/{id}``), whether they do:

* a ledger tag is *restricted* for a rule type (``creation``, ``update``, ``deletion``) when
  some ruleset with ``target: tag`` and ``enforcement: active`` has that rule and its ref-name
  conditions cover the tag's full ref (``refs/tags/churn@v1.2.3``), matched as GitHub matches
  them (:mod:`mlgate.github.refmatch`). Rules of every active ruleset apply together, so one
  such ruleset suffices even when another one is laxer;
* that restriction holds against people when no one with a person's rights can bypass the
  ruleset: deploy keys and GitHub Apps may (the release workflow needs to push), repository
  roles other than admin, teams and users may not. ``evaluate`` and ``disabled`` rulesets block
  nothing.

Coverage is judged on sample tag names of every kind the ledger writes (versions, their ``!``
deregistrations, stage assignments and ``!`` unassignments) for the configured artifact and a
plain name, so a pattern that misses ``churn#production!#8`` or a name with ``/`` is caught.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mlgate.github.refmatch import targets
from mlgate.ledger.tags import stage_tag, version_tag
from mlgate.result import Status

RULE_TYPES = ("creation", "update", "deletion")
KINDS = ("version tags", "stage tags")
# The ledger's tag names as GitHub ruleset patterns (ref names; FNM_PATHNAME: "*" stops at "/").
PATTERNS = {"version tags": "*@v*", "stage tags": "*#*#*"}
# App id of "GitHub Actions" on github.com: workflow runs act as this integration.
GITHUB_ACTIONS_APP_ID = 15368
# Built-in repository roles as bypass actors (RepositoryRole actor_id). GitHub's OpenAPI
# description does not list them; these are the ids its API returns for the built-in roles.
ROLE_NAMES = {1: "read", 2: "maintain", 3: "triage", 4: "write", 5: "admin"}


@dataclass(frozen=True)
class Bypass:
    """Who may bypass a ruleset, judged: PASS (only machines), WARN (weak), FAIL (people)."""

    status: Status
    text: str


@dataclass
class TagRuleset:
    """One tag ruleset, as far as the ledger is concerned."""

    id: int
    name: str
    source: str
    enforcement: str
    include: list[str]
    exclude: list[str]
    rules: set[str]
    bypass: Bypass | None  # None: GitHub did not show the bypass list to this token

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> TagRuleset:
        names = (data.get("conditions") or {}).get("ref_name") or {}
        actors = data.get("bypass_actors")
        return cls(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            source=str(data.get("source", "")),
            enforcement=str(data.get("enforcement", "")),
            include=[str(p) for p in names.get("include") or []],
            exclude=[str(p) for p in names.get("exclude") or []],
            rules={str(r.get("type")) for r in data.get("rules") or [] if isinstance(r, dict)},
            bypass=None if actors is None else judge_bypass(actors),
        )

    @property
    def label(self) -> str:
        return f"{self.name!r} (id {self.id})"

    def covers(self, ref: str) -> bool:
        return targets(self.include, self.exclude, ref)

    def describe(self) -> str:
        bypass = self.bypass.text if self.bypass else "not visible to this token"
        return (f"{self.label}: {self.enforcement}, include {self.include or '[]'}, exclude "
                f"{self.exclude or '[]'}, rules {sorted(self.rules) or '[]'}, bypass: {bypass}")


@dataclass
class TagVerdict:
    """The tag ruleset check's outcome: status, what was found and what is wrong."""

    status: Status
    found: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    kept_actors: list[dict[str, Any]] = field(default_factory=list)


def sample_refs(names: Iterable[str]) -> dict[str, list[str]]:
    """Full refs of every kind of ledger tag for each artifact name, by kind."""
    out: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for name in dict.fromkeys(names):
        version = version_tag(name, "v1.2.3")
        out["version tags"] += [f"refs/tags/{version}", f"refs/tags/{version}!"]
        out["stage tags"] += [f"refs/tags/{stage_tag(name, 'production', 7)}",
                              f"refs/tags/{stage_tag(name, 'production', 8, unassign=True)}"]
    return out


def judge_actor(actor: dict[str, Any]) -> Bypass:
    """One bypass actor: machines the release workflow can use pass, people fail."""
    kind = str(actor.get("actor_type", ""))
    actor_id = actor.get("actor_id")
    if kind == "DeployKey":
        return Bypass(Status.PASS, "deploy keys")
    if kind == "Integration" and actor_id == GITHUB_ACTIONS_APP_ID:
        return Bypass(Status.WARN, f"GitHub Actions (app {actor_id}): any workflow run given "
                      "`contents: write`, including one a person with push rights adds on a "
                      "branch, can write ledger tags")
    if kind == "Integration":
        return Bypass(Status.PASS, f"GitHub App {actor_id}")
    if kind == "OrganizationAdmin":
        return Bypass(Status.WARN, "organization admins (who can also edit the ruleset)")
    if kind == "RepositoryRole" and actor_id == 5:
        return Bypass(Status.WARN, "the admin role (admins can also edit the ruleset)")
    if kind == "RepositoryRole":
        role = ROLE_NAMES.get(actor_id) if isinstance(actor_id, int) else None
        name = f"the {role} role" if role else f"custom repository role {actor_id}"
        return Bypass(Status.FAIL, f"{name} (RepositoryRole {actor_id})")
    if kind in ("Team", "User"):
        return Bypass(Status.FAIL, f"{kind.lower()} {actor_id}")
    return Bypass(Status.FAIL, f"{kind or 'unknown actor'} {actor_id}")


def judge_bypass(actors: list[dict[str, Any]]) -> Bypass:
    """A ruleset's whole bypass list: as bad as its worst actor; empty is a warning because
    then the release workflow cannot push ledger tags either."""
    if not actors:
        return Bypass(Status.WARN, "nobody (the release workflow cannot push ledger tags "
                      "either: add its deploy key or GitHub App)")
    judged = [judge_actor(a) for a in actors if isinstance(a, dict)]
    return Bypass(Status.worst([j.status for j in judged]), ", ".join(j.text for j in judged))


def judge_tag_rulesets(rulesets: list[dict[str, Any]], names: Iterable[str]) -> TagVerdict:
    """Whether ``rulesets`` (details of every tag ruleset) keep people from creating, updating
    and deleting the ledger tags of ``names``."""
    names = list(names)
    parsed = [TagRuleset.from_api(r) for r in rulesets if r.get("target") == "tag"]
    verdict = TagVerdict(Status.PASS, found=[r.describe() for r in parsed])
    active = [r for r in parsed if r.enforcement == "active"]
    missing: dict[str, list[str]] = {}
    worst = Status.PASS
    for kind, refs in sample_refs(names).items():
        for rule in RULE_TYPES:
            for ref in refs:
                holders = [r for r in active if rule in r.rules and r.covers(ref)]
                if not holders:
                    missing.setdefault(kind, [])
                    if rule not in missing[kind]:
                        missing[kind].append(rule)
                    continue
                best = min((_bypass_status(r) for r in holders), key=lambda s: s.rank)
                worst = max(worst, best, key=lambda s: s.rank)
    verdict.status = Status.FAIL if missing else worst
    verdict.kept_actors = _kept_actors(r for r in rulesets if r.get("target") == "tag")
    if verdict.status is Status.PASS:
        return verdict  # laxer rulesets beside one that holds change nothing
    samples = sample_refs(names)
    for kind, rules in missing.items():
        example = samples[kind][0].removeprefix("refs/tags/")
        verdict.problems.append(f"no active tag ruleset restricts {', '.join(rules)} of {kind} "
                                f"(like {example}; pattern {PATTERNS[kind]})")
    for r in parsed:
        if r.enforcement != "active":
            verdict.problems.append(f"{r.label} is `{r.enforcement}`: it blocks nothing "
                                    "(`evaluate` only reports)")
        elif r.bypass is None:
            verdict.problems.append(f"{r.label}: GitHub shows `bypass_actors` only to tokens "
                                    "with write access to the ruleset (`administration: write`)")
        elif r.bypass.status is not Status.PASS:
            who = "people can bypass it" if r.bypass.status is Status.FAIL else "bypass"
            verdict.problems.append(f"{r.label}: {who}: {r.bypass.text}")
    return verdict


def _bypass_status(ruleset: TagRuleset) -> Status:
    return ruleset.bypass.status if ruleset.bypass else Status.WARN


def _kept_actors(rulesets: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bypass actors of existing tag rulesets that may stay (machines), for the fix."""
    kept: list[dict[str, Any]] = []
    for ruleset in rulesets:
        for actor in ruleset.get("bypass_actors") or []:
            shown = {k: actor.get(k) for k in ("actor_id", "actor_type", "bypass_mode")}
            if judge_actor(actor).status is Status.PASS and shown not in kept:
                kept.append(shown)
    return kept
