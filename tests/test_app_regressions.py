"""Regression tests of crashes found by using the app as a planner would (issue 20).

- The same site plan computed a second time (again, after a reload, or by
  another user with the same settings) crashed with Streamlit's
  ``CacheReplayClosureError``: the cached plan function updated a progress
  bar made outside it. Cached results must be safe to replay.
- Switching to English kept the German labels as the widgets' values (Streamlit
  stores a choice as its formatted label), so the next interaction on the Karte
  failed with ``KeyError: 'Kreis'``; the browser half is in
  ``tests/test_browser_monkey.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.settings import PROJECT_ROOT
from ui import state

APP = str(PROJECT_ROOT / "app.py")


def _standort() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("ui/pages/standort.py").run()
    at.number_input(key="standort_p").set_value(2)
    return at


@pytest.mark.slow
def test_the_same_site_plan_twice_in_one_session_and_in_another(app_home: Path) -> None:
    first = _standort()
    first.button(key="standort_run").click().run()
    assert not first.exception, [e.message for e in first.exception]
    plan = first.session_state[state.SITING_RESULT]
    first.button(key="standort_run").click().run()  # the same plan again: answered from the cache
    assert not first.exception, [e.message for e in first.exception]
    assert first.session_state[state.SITING_RESULT] is plan
    other = _standort()  # another user (or a reload) with the same settings
    other.button(key="standort_run").click().run()
    assert not other.exception, [e.message for e in other.exception]
    assert other.session_state[state.SITING_RESULT] is plan
