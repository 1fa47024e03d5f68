"""The office file's [headquarters] section: read with the rest, refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.config import ConfigError, parse_config
from server.engine import Event
from server.hq.shipping import shareable
from tests.conftest import CONFIG_PATH


def with_section(section: str, source: str = "/etc/lobby/office.toml") -> object:
    return parse_config(CONFIG_PATH.read_text() + "\n[headquarters]\n" + section, source)


def test_an_office_without_the_section_ships_nothing() -> None:
    assert parse_config(CONFIG_PATH.read_text()).headquarters is None


def test_the_section_is_read_and_the_token_file_is_beside_the_office_file() -> None:
    config = with_section(
        'url = "https://hq.example/"\noffice_id = "north"\ntoken_file = "hq.token"\n'
    )
    hq = config.headquarters  # type: ignore[attr-defined]
    assert hq.url == "https://hq.example" and hq.office_id == "north"
    assert hq.token_file == Path("/etc/lobby/hq.token")
    assert hq.share_private is False and hq.batch == 500


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ('url = "ftp://hq"\noffice_id = "north"\ntoken_file = "t"\n', "headquarters.url"),
        (
            'url = "https://hq"\noffice_id = "North Office"\ntoken_file = "t"\n',
            "headquarters.office_id",
        ),
        ('url = "https://hq"\noffice_id = "north"\n', "headquarters"),
        (
            'url = "https://hq"\noffice_id = "n"\ntoken_file = "t"\nbatch = 0\n',
            "headquarters.batch",
        ),
    ],
)
def test_a_wrong_section_is_refused_naming_the_field(section: str, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        with_section(section)


def test_private_fields_are_blanked_unless_the_office_shares_them() -> None:
    event = Event(
        "ticket.checked_in",
        datetime(2026, 11, 2, 9, tzinfo=UTC),
        {"id": 1, "number": "P-001", "service": "permits", "name": "Ana", "needs": ["seated"]},
    )
    kept = shareable(event, share_private=False).data
    assert kept["name"] is None and kept["needs"] is None and kept["number"] == "P-001"
    assert event.data["name"] == "Ana", "the office's own event is left as it was"
    assert shareable(event, share_private=True).data["name"] == "Ana"


def test_a_period_is_cut_at_month_ends_and_only_whole_months_are_kept_as_one() -> None:
    from datetime import date

    from server.hq.reports import months_of

    assert list(months_of(date(2025, 1, 20), date(2025, 3, 31))) == [
        (date(2025, 1, 20), date(2025, 1, 31), False),
        (date(2025, 2, 1), date(2025, 2, 28), True),
        (date(2025, 3, 1), date(2025, 3, 31), True),
    ]
    assert list(months_of(date(2025, 12, 1), date(2025, 12, 24))) == [
        (date(2025, 12, 1), date(2025, 12, 24), False)
    ]
