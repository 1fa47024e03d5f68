"""Emergency kinds in the office file: every text in every office language, or a config error
that names the language and the field; an office that names none gets the server's own."""

from __future__ import annotations

import pytest

from server.config import ConfigError, load_config, parse_config
from tests.conftest import CONFIG_PATH, without_emergencies

BASE = without_emergencies(CONFIG_PATH.read_text())


def office(languages: str, emergencies: str = "") -> str:
    languages_line = f"languages = {languages}"
    return BASE.replace('languages = ["en", "es", "so"]', languages_line) + "\n" + emergencies


def test_the_test_office_has_its_own_three_kinds_with_checklists() -> None:
    config = load_config(CONFIG_PATH)
    assert [(e.kind, e.drill) for e in config.emergencies] == [
        ("evacuate", False),
        ("shelter", False),
        ("drill", True),
    ]
    evacuate = config.emergency("evacuate")
    assert evacuate is not None
    assert evacuate.instruction["so"] == "Tijaabo: ka bax albaabka kuugu dhow."
    assert evacuate.heading == {"en": "EMERGENCY", "es": "EMERGENCIA", "so": "XAALAD DEGDEG AH"}
    assert evacuate.checklist == (
        "Guide visitors out",
        "Check the restrooms",
        "Meet at the assembly point",
    )
    drill = config.emergency("drill")
    assert drill is not None and drill.heading["es"] == "SIMULACRO"


def test_the_demo_office_has_three_kinds_in_every_language() -> None:
    config = load_config(CONFIG_PATH.parent.parent / "examples" / "demo.toml")
    assert [e.kind for e in config.emergencies] == ["evacuate", "shelter", "drill"]
    for kind in config.emergencies:
        assert set(kind.instruction) == set(config.languages) == set(kind.heading)
        assert kind.checklist


def test_an_office_naming_no_kind_gets_the_servers_own_texts() -> None:
    config = parse_config(office('["so", "en"]'))
    assert [e.kind for e in config.emergencies] == ["evacuate", "shelter", "drill"]
    shelter = config.emergency("shelter")
    assert shelter is not None
    assert list(shelter.instruction) == ["so", "en"], "in the office's order"
    assert shelter.instruction["so"].startswith("Fadlan gudaha joog")
    assert shelter.checklist, "staff get the built-in checklist"


@pytest.mark.parametrize(
    ("languages", "emergencies", "expected"),
    [
        (
            '["en", "es", "so"]',
            '[emergency.shelter]\ninstruction = { en = "Stay inside.", es = "Quédese dentro." }\n',
            'emergency.shelter.instruction: no text in "so"',
        ),
        (
            '["en", "es"]',
            '[emergency.shelter]\ninstruction = "Stay inside."\n',
            'emergency.shelter.instruction: no text in "es"',
        ),
        (
            '["en", "es"]',
            '[emergency.shelter]\ninstruction = { en = "Stay inside.", es = "  " }\n',
            'emergency.shelter.instruction: no text in "es"',
        ),
        (
            '["en"]',
            '[emergency.shelter]\ninstruction = { en = "Stay inside.", fr = "Restez." }\n',
            "emergency.shelter.instruction: 'fr' is not one of office.languages",
        ),
        (
            '["en", "vi"]',
            "",
            'emergency.evacuate.heading: no text in "vi"',
        ),
        (
            '["en", "vi"]',
            '[emergency.fire]\ninstruction = { en = "Leave.", vi = "Rời đi." }\n',
            'emergency.fire.heading: no text in "vi"',
        ),
        (
            '["en", "vi"]',
            '[emergency.fire]\nheading = { vi = "KHẨN CẤP" }\ninstruction = { en = "Leave." }\n',
            'emergency.fire.instruction: no text in "vi"',
        ),
        (
            '["en"]',
            '[emergency.fire]\ninstruction = "Leave."\ncolour = "red"\n',
            "emergency.fire: Object contains unknown field `colour`",
        ),
        (
            '["en"]',
            '[emergency.Fire]\ninstruction = "Leave."\n',
            "emergency",
        ),
    ],
)
def test_a_missing_text_is_an_error_naming_language_and_field(
    languages: str, emergencies: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(office(languages, emergencies), "office.toml")
    assert expected in str(raised.value)
    assert str(raised.value).startswith("office.toml: ")


def test_a_language_the_server_has_no_text_in_can_be_configured() -> None:
    config = parse_config(
        office(
            '["en", "vi"]',
            '[emergency.fire]\nheading = { vi = "KHẨN CẤP" }\n'
            'instruction = { en = "Leave now.", vi = "Hãy rời đi ngay." }\n',
        )
    )
    fire = config.emergency("fire")
    assert fire is not None
    assert fire.heading == {"en": "EMERGENCY", "vi": "KHẨN CẤP"}
    assert fire.instruction == {"en": "Leave now.", "vi": "Hãy rời đi ngay."}
    assert [e.kind for e in config.emergencies] == ["fire"], "the configured kinds only"
