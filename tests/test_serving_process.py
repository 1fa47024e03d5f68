"""What ``lobby serve`` sets up for its own process: the cycle collector's policy, and status
tokens cut from batches of kernel randomness."""

from __future__ import annotations

import base64
import gc
from collections.abc import Iterator

import pytest
from aiohttp import web

from server.auth import StatusTokens
from server.heap import MIDDLE, OLD, YOUNG, keep_collector_off_the_state


@pytest.fixture
def collector_as_it_was() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_the_start_sets_the_thresholds_then_freezes_what_it_loaded(
    collector_as_it_was: None,
) -> None:
    app = web.Application()
    loaded: list[object] = []

    async def load(app: web.Application) -> None:  # stands for the office's start
        loaded.extend([object()] for _ in range(1000))

    app.on_startup.append(load)
    keep_collector_off_the_state(app)
    assert gc.get_threshold() == (YOUNG, MIDDLE, OLD)
    frozen_before = gc.get_freeze_count()
    app.freeze()
    await app.startup()
    assert gc.get_freeze_count() >= frozen_before + len(loaded)


def test_status_tokens_are_distinct_url_safe_and_carry_twelve_random_bytes() -> None:
    tokens = StatusTokens()
    # more than one read of randomness, so the refill is crossed several times
    issued = [tokens.next() for _ in range(3 * StatusTokens.READ_BYTES // 12)]
    assert len(set(issued)) == len(issued)
    for token in issued:
        assert len(base64.urlsafe_b64decode(token + "==")) == 12
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
