from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.support import LiveConnector, start_connector


@pytest.fixture
def connector(app_factory: Any) -> Iterator[LiveConnector]:
    live = start_connector(app_factory)
    yield live
    live.server.stop()
