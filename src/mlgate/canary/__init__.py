"""Canary analysis (``mlgate canary``): promote, roll back or wait, from live-traffic figures.

:mod:`.settings` reads the ``canary:`` section and flags, :mod:`.prometheus` and :mod:`.direct`
measure each version into a :class:`~mlgate.canary.sample.VersionSample`, :mod:`.stats` holds
the statistics (pure functions), :mod:`.decide` judges and :mod:`.commands` is the CLI door.
"""
