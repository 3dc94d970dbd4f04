"""Which project requirements the gating job may install: in an untrusted run, the default
branch's.

Why: the gates load the candidate in mlgate's own environment, so the project's libraries
(scikit-learn at the version it trained with) must be installed there. Installing runs code
(build scripts, ``.pth`` files, a package's import-time code) in the job that gates and reports
the pull request; a pull request that added a package of its choosing could rewrite the
verdict. So in an untrusted run the requirements are read from the default branch, where
adding a package went through review, and a line that reaches outside the file (``-r``,
``-c``, ``-e``, a local path, a ``file:`` URL, another index) is refused, because it would read
the pull request's work tree or a server the pull request chose. A pull request that changes
the requirements is gated with the default branch's, and told so.

Run as ``python -m mlgate.requirements_source FILE... --out FILE`` by ``actions/setup``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from mlgate.errors import InputError

# Options and forms that make pip read another file, a directory or another index.
REACHING_OUT = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable",
                "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host")


def trusted_requirements(path: Path, env: dict[str, str] | None = None,
                         work_tree: bool = False) -> tuple[str, str]:
    """(text to install, where it came from) for the requirements file ``path``: in a trusted
    run a ``-r`` line naming the file itself (so its own ``-r``/``-c`` lines resolve next to
    it), in an untrusted run the default branch's content."""
    from mlgate import default_branch as db
    from mlgate.ledger import gitio
    from mlgate.trust import locate_default_branch, run_trust

    trust = run_trust(env)
    if work_tree or not trust.untrusted:
        if not path.is_file():
            raise InputError("requirements file not found", path)
        return f"-r {shlex.quote(str(path.absolute()))}", str(path)
    directory = path.absolute().parent
    try:
        top = Path(gitio.git(directory, "rev-parse", "--show-toplevel").strip()).resolve()
    except (gitio.GitError, OSError):
        raise InputError("not in a git checkout; an untrusted run reads requirements from the "
                         "default branch", path) from None
    relative = path.absolute().resolve().relative_to(top).as_posix()
    branch = locate_default_branch(top, env, what="the requirements", trust=trust)
    found = db.read_file(top, branch, relative)
    if found is None:
        raise InputError(f"the default branch ({branch.name}) has no {relative}; this run is "
                         f"untrusted ({trust.reason}), so it installs only requirements that "
                         "are on the default branch", path)
    text = found.content.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        problem = _reaches_out(line)
        if problem:
            raise InputError(f"{problem}: an untrusted run installs named packages only",
                             f"{branch.name}:{relative}:{number}")
    return text, f"{branch.name}:{relative} (untrusted run: {trust.reason})"


def _reaches_out(line: str) -> str | None:
    """Why a requirements line would read something besides the named package, or None."""
    text = line.split(" #", 1)[0].strip()
    if not text or text.startswith("#"):
        return None
    first = text.split()[0]
    for option in REACHING_OUT:
        if first == option or first.startswith(option + "=") or (
                len(option) == 2 and first.startswith(option) and first != option):
            return f"{option} reads another file, directory or index"
    if first.startswith((".", "/", "~")) or "file:" in text or "://" in text:
        return "a local path or URL is not a package name"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlgate.requirements_source")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work-tree", action="store_true",
                        help="the checked-out files even in an untrusted run (a job that runs "
                        "the pull request's code anyway)")
    args = parser.parse_args(argv)
    parts: list[str] = []
    try:
        for path in args.files:
            text, source = trusted_requirements(path, work_tree=args.work_tree)
            print(f"requirements: {source}", file=sys.stderr)
            parts.append(f"# from {source}\n{text}\n")
    except InputError as exc:
        print(f"mlgate: error: {exc.one_line()}", file=sys.stderr)
        return 2
    args.out.write_text("".join(parts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
