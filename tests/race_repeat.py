"""Race tests run several times per CI run, so a guarantee that holds only by luck shows up.

A race test is one marked `race`, or any Postgres test in a module whose file name contains
"race" (test_booking_race.py, test_races.py, ...), so a new race file is repeated without anyone
remembering to mark it. Each runs RACE_REPEAT times (env; default 3 in CI, 1 locally), capped
by `@pytest.mark.race(max_repeat=N)` for the slow ones. The hook is imported by tests/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
RUN = "race_run"  # the parameter name: test ids end in [race-1-of-3], [race-2-of-3], ...


def race_repeat_count(definition) -> int:
    marker = definition.get_closest_marker("race")
    in_race_module = "race" in Path(str(definition.path)).name and definition.get_closest_marker("postgres")
    if marker is None and not in_race_module:
        return 1
    times = max(1, int(os.environ.get("RACE_REPEAT") or (3 if IN_CI else 1)))
    cap = marker.kwargs.get("max_repeat") if marker is not None else None
    return min(times, cap) if cap else times


def pytest_generate_tests(metafunc):
    times = race_repeat_count(metafunc.definition)
    if times > 1:
        metafunc.fixturenames.append(RUN)
        metafunc.parametrize(
            RUN, range(1, times + 1), ids=[f"race-{n}-of-{times}" for n in range(1, times + 1)]
        )
