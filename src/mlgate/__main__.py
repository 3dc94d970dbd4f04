"""Allow ``python -m mlgate`` where the console script is not on PATH."""

from mlgate.cli import main

raise SystemExit(main())
