"""The office configuration file (TOML), loaded into typed records.

A wrong file is the most common way a new install fails, so every problem is reported as one
sentence naming the field (``services[1].prefix``) and what is wrong with it, never a traceback.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from lobby.i18n import Catalogues

Ident = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Prefix = Annotated[str, Meta(pattern=r"^[A-Z]{1,3}$")]
Minutes = Annotated[float, Meta(gt=0, le=600)]
HOURS_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")

KNOWN_NEEDS = ("wheelchair", "seated", "hearing", "vision", "interpreter", "assistance")


# An office text is one string for every language, or a table of one per language code:
# name = { en = "Permits", es = "Permisos" }.
Language = Annotated[str, Meta(pattern=r"^[a-z]{2,3}$")]
_Name80 = Annotated[str, Meta(min_length=1, max_length=80)]
_Name40 = Annotated[str, Meta(min_length=1, max_length=40)]
_Info300 = Annotated[str, Meta(max_length=300)]
_Notice500 = Annotated[str, Meta(max_length=500)]
Name80 = _Name80 | dict[Language, _Name80]
Name40 = _Name40 | dict[Language, _Name40]
Info300 = _Info300 | dict[Language, _Info300]
Notice500 = _Notice500 | dict[Language, _Notice500]


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names the field."""


class _Office(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=120)]
    timezone: str = "UTC"
    languages: Annotated[list[Language], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["en"]
    )
    public_url: str = "http://127.0.0.1:8080"
    retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    notice: Notice500 = ""
    data_practices: Notice500 = ""
    """What the kiosk tells a visitor before they give their name; empty: Lobby's own words
    (the name is optional, who sees it, when it is erased)."""
    idle_nudge_sec: Annotated[int, Meta(ge=0, le=3600)] = 60
    speech_clips: str = ""
    """A folder of recorded clips for languages espeak-ng cannot speak (``server/clips.py``),
    relative to this file."""
    safety_checklist: list[str] = msgspec.field(
        default_factory=lambda: [
            "Move away from the person if you can do so safely",
            "Call security / 911 if anyone is in danger",
            "Note the time, a description and what was said",
            "Tell your supervisor once it is safe",
        ]
    )


class _Priority(msgspec.Struct, forbid_unknown_fields=True):
    needs: list[str] = msgspec.field(default_factory=lambda: ["wheelchair", "seated"])
    appointment: bool = True
    head_start_min: Annotated[float, Meta(ge=0, le=240)] = 10.0


class _Service(msgspec.Struct, forbid_unknown_fields=True):
    id: Ident
    name: Name80
    prefix: Prefix
    target_wait_min: Minutes = 10.0
    mean_service_min: Minutes = 8.0
    hours: str = "00:00-24:00"
    info: Info300 = ""
    max_recalls: Annotated[int, Meta(ge=0, le=10)] = 3


class _Counter(msgspec.Struct, forbid_unknown_fields=True):
    id: Ident
    name: Name40
    services: Annotated[list[str], Meta(min_length=1)]


class _Security(msgspec.Struct, forbid_unknown_fields=True):
    demo: bool = False
    session_idle_min: Annotated[float, Meta(gt=0, le=24 * 60)] = 240.0
    session_max_hours: Annotated[float, Meta(gt=0, le=7 * 24)] = 12.0
    check_ins_per_device_per_min: Annotated[int, Meta(ge=1, le=1_000_000)] = 20
    metrics_from_loopback: bool = False
    proxies: list[str] = msgspec.field(default_factory=list, name="trusted_proxies")


@dataclass(frozen=True)
class SecurityConfig:
    """``[security]``: how long staff sessions last and how fast one kiosk may check in.

    ``demo``: the demo office, whose staff sign in with the well-known demo passwords; any
    other office refuses those (and any password shorter than the minimum) at sign-in.
    ``check_ins_per_device_per_min``: a kiosk checks in a visitor every half minute or so at
    its busiest; a burst of 20 in a minute is already a stuck key or a script.
    ``metrics_from_loopback``: ``/metrics`` answers requests from this machine itself (no
    proxy between) without a sign-in, for a Prometheus on the same box (server/metrics.py).
    ``trusted_proxies``: addresses or networks of the reverse proxies in front of the server;
    only a request from one of them has its ``X-Forwarded-For`` read (server/proxy.py).
    """

    demo: bool = False
    session_idle_min: float = 240.0
    session_max_hours: float = 12.0
    check_ins_per_device_per_min: int = 20
    metrics_from_loopback: bool = False
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()


def _security(raw: _Security, source: str) -> SecurityConfig:
    return SecurityConfig(
        raw.demo,
        raw.session_idle_min,
        raw.session_max_hours,
        raw.check_ins_per_device_per_min,
        raw.metrics_from_loopback,
        tuple(_network(text, f"{source}: security.trusted_proxies") for text in raw.proxies),
    )


def _network(text: str, where: str) -> IPv4Network | IPv6Network:
    try:
        return ip_network(text, strict=False)
    except ValueError:
        raise ConfigError(
            f"{where}: {text!r} is not an address or a network (e.g. '127.0.0.1', '10.0.0.0/24')"
        ) from None


class _Headquarters(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(pattern=r"^https?://")]
    office_id: Ident
    token_file: str
    share_private: bool = False
    batch: Annotated[int, Meta(ge=1, le=2000)] = 500


@dataclass(frozen=True)
class HeadquartersConfig:
    """``[headquarters]``: where this office ships its log (docs/headquarters.md).

    ``token_file``: the file holding the token ``lobby hq add-office`` printed, relative to
    this file; ``share_private``: whether names, needs and notes go too (off unless the
    office decides otherwise); ``batch``: events per request.
    """

    url: str
    office_id: str
    token_file: Path
    share_private: bool = False
    batch: int = 500


_Item200 = Annotated[str, Meta(min_length=1, max_length=200)]


class _Emergency(msgspec.Struct, forbid_unknown_fields=True):
    instruction: Notice500
    drill: bool = False
    checklist: Annotated[list[_Item200], Meta(max_length=20)] = msgspec.field(default_factory=list)
    heading: Name40 | None = None
    """Only for an office language the server has no heading of its own in."""


class _File(msgspec.Struct, forbid_unknown_fields=True):
    office: _Office
    services: Annotated[list[_Service], Meta(min_length=1)]
    counters: Annotated[list[_Counter], Meta(min_length=1)]
    priority: _Priority = msgspec.field(default_factory=_Priority)
    security: _Security = msgspec.field(default_factory=_Security)
    headquarters: _Headquarters | None = None
    emergency: dict[Ident, dict[str, Any]] | None = None
    """Each kind is converted on its own, so an error names it (``emergency.fire.drill``)."""


Texts = dict[str, str]
"""One office text in every office language, by code: complete, the fallback already applied."""


@dataclass(frozen=True)
class ServiceConfig:
    id: str
    name: str
    """In the office's first language; ``names`` has it in each."""
    prefix: str
    target_wait_min: float
    mean_service_min: float
    opens: time
    closes: time
    info: str
    max_recalls: int
    names: Texts = field(default_factory=dict, compare=False)
    infos: Texts = field(default_factory=dict, compare=False)

    @cached_property  # shown in every service's view, on every patch
    def hours_text(self) -> str:
        closes = "24:00" if self.closes == time.max else f"{self.closes:%H:%M}"
        return f"{self.opens:%H:%M}-{closes}"


@dataclass(frozen=True)
class CounterConfig:
    id: str
    name: str
    services: tuple[str, ...]
    names: Texts = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PriorityRule:
    """Who is called ahead: visitors with one of ``needs`` or an appointment get ``head_start_min``.

    A head start (counted as if they had arrived earlier) rather than an absolute jump keeps the
    queue fair: nobody can be overtaken forever.
    """

    needs: tuple[str, ...]
    appointment: bool
    head_start_min: float


@dataclass(frozen=True)
class EmergencyConfig:
    """One kind of emergency a supervisor can put the office in (``[emergency.<kind>]``).

    Unlike other office texts, nothing here falls back to the first language: a visitor who
    reads only Somali must be told to leave the building in Somali, so every text is complete
    in every office language or the file is refused.
    """

    kind: str
    drill: bool
    heading: Texts
    """"EMERGENCY" or "DRILL", from the server's catalogue (``server/phrases``)."""
    instruction: Texts
    checklist: tuple[str, ...]
    """What staff must do, in the office's first language."""


PHRASES = Path(__file__).parent / "phrases"
"""The server's own phrases, one gettext PO file per language (``lobby.i18n``)."""
_PHRASES = Catalogues.load(PHRASES)
BUILT_IN_EMERGENCIES: dict[str, tuple[bool, tuple[str, ...]]] = {
    "evacuate": (
        False,
        (
            "Guide visitors to the nearest exit",
            "Check the restrooms and waiting areas",
            "Meet at the assembly point and count your colleagues",
        ),
    ),
    "shelter": (
        False,
        (
            "Bring visitors away from the windows",
            "Close the doors",
            "Wait for the all-clear from the supervisor",
        ),
    ),
    "drill": (
        True,
        (
            "Guide visitors to the nearest exit",
            "Check the restrooms and waiting areas",
            "Meet at the assembly point and count your colleagues",
        ),
    ),
}
"""The kinds an office without any ``[emergency.*]`` gets, with their staff checklists; their
headings and instructions are the catalogue's ``emergency_<kind>``."""


def built_in_text(language: str, key: str) -> str | None:
    """The server's own text for ``key`` in ``language`` itself (no English fallback)."""
    catalog = _PHRASES.catalogs.get(language)
    message = catalog.get(key) if catalog is not None else None
    return str(message.string) if message is not None and message.string else None


@dataclass(frozen=True)
class OfficeConfig:
    name: str
    timezone: str
    languages: tuple[str, ...]
    public_url: str
    retention_days: int
    notice: str
    idle_nudge_sec: int
    safety_checklist: tuple[str, ...]
    services: tuple[ServiceConfig, ...]
    counters: tuple[CounterConfig, ...]
    priority: PriorityRule
    source: str = field(default="", compare=False)
    notices: Texts = field(default_factory=dict, compare=False)
    data_practices: Texts = field(default_factory=dict, compare=False)
    """The office's own data-practices notice in every office language; empty: the kiosk's."""
    speech_clips: Path | None = field(default=None, compare=False)
    gaps: tuple[str, ...] = field(default=(), compare=False)
    """Every office text missing in an office language (``lobby check-config`` lists them)."""
    security: SecurityConfig = field(default_factory=SecurityConfig)
    headquarters: HeadquartersConfig | None = None
    emergencies: tuple[EmergencyConfig, ...] = field(default=(), compare=False)

    @cached_property
    def tz(self) -> ZoneInfo:
        """Asked for on every command (the office's "now"): looked up once."""
        return ZoneInfo(self.timezone)

    def service(self, service_id: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.id == service_id), None)

    def counter(self, counter_id: str) -> CounterConfig | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def emergency(self, kind: str) -> EmergencyConfig | None:
        return next((e for e in self.emergencies if e.kind == kind), None)


def _where(path: str) -> str:
    """Turn msgspec's ``$.services[0].prefix`` into ``services[0].prefix``."""
    return path.removeprefix("$.").removeprefix("$") or "the file"


def _failed(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's message and the path it names (``$.services[0].prefix``)."""
    message, _, path = str(exc).rpartition(" - at `")
    return (message, path.rstrip("`")) if message else (str(exc), "$")


def _parse_hours(text: str, where: str) -> tuple[time, time]:
    match = HOURS_RE.match(text)
    if not match:
        raise ConfigError(f"{where}: expected opening hours like '08:00-16:30', got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    all_day_end = (h2, m2) == (24, 0)
    if h1 > 23 or (h2 > 23 and not all_day_end) or m1 > 59 or m2 > 59:
        raise ConfigError(f"{where}: {text!r} is not a valid time range")
    opens, closes = time(h1, m1), time.max if all_day_end else time(h2, m2)
    if closes <= opens:
        raise ConfigError(f"{where}: closing time must be after opening time in {text!r}")
    return opens, closes


def parse_config(text: str, source: str = "<config>") -> OfficeConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        data = msgspec.convert(raw, _File)
    except msgspec.ValidationError as exc:
        message, path = _failed(exc)
        raise ConfigError(f"{source}: {_where(path)}: {message}") from None
    return _build(data, source)


class _Localizer:
    """Turns each office text into one per office language, and notes every gap.

    The one fallback rule: a language the file gives no text in reads the first language's.
    It is applied here, once, when the file is read; every screen is sent complete texts.
    """

    def __init__(self, languages: list[str], source: str) -> None:
        self.languages, self.source = languages, source
        self.gaps: list[str] = []

    def __call__(self, value: str | dict[str, str], where: str) -> Texts:
        first = self.languages[0]
        if isinstance(value, str):
            given = {first: value}
        else:
            given = dict(value)
            unknown = [code for code in given if code not in self.languages]
            if unknown:
                raise ConfigError(
                    f"{self.source}: {where}: {unknown[0]!r} is not one of office.languages"
                )
            if first not in given:
                raise ConfigError(
                    f"{self.source}: {where}: needs a text in {first!r}, the office's first "
                    "language, which any missing translation falls back to"
                )
        if given[first]:
            self.gaps += [
                f"{where}: no {code!r} text (shows the {first!r} one)"
                for code in self.languages
                if not given.get(code)
            ]
        return {code: given.get(code) or given[first] for code in self.languages}


def _build(data: _File, source: str) -> OfficeConfig:
    localize = _Localizer(list(dict.fromkeys(data.office.languages)), source)
    try:
        ZoneInfo(data.office.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{source}: office.timezone: unknown time zone {data.office.timezone!r}"
        ) from None
    if not data.office.public_url.startswith(("http://", "https://")):
        raise ConfigError(f"{source}: office.public_url: must start with http:// or https://")
    services: list[ServiceConfig] = []
    seen_prefix: set[str] = set()
    for i, s in enumerate(data.services):
        where = f"{source}: services[{i}]"
        if any(s.id == other.id for other in services):
            raise ConfigError(f"{where}.id: duplicate service id {s.id!r}")
        if s.prefix in seen_prefix:
            raise ConfigError(f"{where}.prefix: prefix {s.prefix!r} is used by another service")
        seen_prefix.add(s.prefix)
        opens, closes = _parse_hours(s.hours, f"{where}.hours")
        names = localize(s.name, f"services[{i}].name")
        infos = localize(s.info, f"services[{i}].info")
        first = localize.languages[0]
        services.append(
            ServiceConfig(
                s.id,
                names[first],
                s.prefix,
                s.target_wait_min,
                s.mean_service_min,
                opens,
                closes,
                infos[first],
                s.max_recalls,
                names,
                infos,
            )
        )
    ids = {s.id for s in services}
    counters: list[CounterConfig] = []
    for i, c in enumerate(data.counters):
        where = f"{source}: counters[{i}]"
        if any(c.id == other.id for other in counters):
            raise ConfigError(f"{where}.id: duplicate counter id {c.id!r}")
        unknown = [s for s in c.services if s not in ids]
        if unknown:
            raise ConfigError(f"{where}.services: unknown service {unknown[0]!r}")
        names = localize(c.name, f"counters[{i}].name")
        counters.append(
            CounterConfig(
                c.id, names[localize.languages[0]], tuple(dict.fromkeys(c.services)), names
            )
        )
    bad_needs = [n for n in data.priority.needs if n not in KNOWN_NEEDS]
    if bad_needs:
        raise ConfigError(
            f"{source}: priority.needs: unknown need {bad_needs[0]!r} "
            f"(known: {', '.join(KNOWN_NEEDS)})"
        )
    o = data.office
    notices = localize(o.notice, "office.notice")
    practices = localize(o.data_practices, "office.data_practices") if o.data_practices else {}
    return OfficeConfig(
        name=o.name,
        timezone=o.timezone,
        languages=tuple(localize.languages),
        public_url=o.public_url.rstrip("/"),
        retention_days=o.retention_days,
        notice=notices[localize.languages[0]],
        notices=notices,
        data_practices=practices,
        speech_clips=_beside(source, o.speech_clips) if o.speech_clips else None,
        gaps=tuple(localize.gaps),
        idle_nudge_sec=o.idle_nudge_sec,
        safety_checklist=tuple(o.safety_checklist),
        services=tuple(services),
        counters=tuple(counters),
        priority=PriorityRule(
            tuple(data.priority.needs), data.priority.appointment, data.priority.head_start_min
        ),
        source=source,
        security=_security(data.security, source),
        emergencies=_emergencies(data.emergency, localize.languages, source),
        headquarters=_headquarters(data.headquarters, source),
    )


def _headquarters(raw: _Headquarters | None, source: str) -> HeadquartersConfig | None:
    if raw is None:
        return None
    token_file = _beside(source, raw.token_file)
    return HeadquartersConfig(
        raw.url.rstrip("/"), raw.office_id, token_file, raw.share_private, raw.batch
    )


def _complete(
    value: str | dict[str, str] | None, languages: list[str], where: str, key: str | None
) -> Texts:
    """One text in every office language, with no fallback to another language: the
    configured ``value`` (a plain string serves only a one-language office) over the server's
    own text ``key`` (``server/phrases``) where there is one."""
    given = {code: text for code in languages if key and (text := built_in_text(code, key))}
    if value is not None:
        configured = {languages[0]: value} if isinstance(value, str) else dict(value)
        unknown = [code for code in configured if code not in languages]
        if unknown:
            raise ConfigError(f"{where}: {unknown[0]!r} is not one of office.languages")
        given |= configured
    for code in languages:
        if not given.get(code, "").strip():
            own = f" (the server's own text is in {', '.join(_PHRASES.languages)})" if key else ""
            raise ConfigError(f'{where}: no text in "{code}"{own}')
    return {code: given[code] for code in languages}


def _emergencies(
    raw: dict[str, dict[str, Any]] | None, languages: list[str], source: str
) -> tuple[EmergencyConfig, ...]:
    """The configured kinds, or the server's own three when the file names none."""
    kinds = []
    if raw is None:
        for kind, (drill, checklist) in BUILT_IN_EMERGENCIES.items():
            where = f"{source}: emergency.{kind}"
            kinds.append(
                EmergencyConfig(
                    kind,
                    drill,
                    _heading(None, drill, languages, where),
                    _complete(None, languages, f"{where}.instruction", f"emergency_{kind}"),
                    checklist,
                )
            )
        return tuple(kinds)
    for kind, table in raw.items():
        where = f"{source}: emergency.{kind}"
        try:
            e = msgspec.convert(table, _Emergency)
        except msgspec.ValidationError as exc:
            message, path = _failed(exc)
            raise ConfigError(f"{where}{path.removeprefix('$')}: {message}") from None
        kinds.append(
            EmergencyConfig(
                kind,
                e.drill,
                _heading(e.heading, e.drill, languages, where),
                _complete(e.instruction, languages, f"{where}.instruction", None),
                tuple(e.checklist),
            )
        )
    return tuple(kinds)


def _heading(
    value: str | dict[str, str] | None, drill: bool, languages: list[str], where: str
) -> Texts:
    key = "drill_heading" if drill else "emergency_heading"
    return _complete(value, languages, f"{where}.heading", key)


def _beside(source: str, folder: str) -> Path:
    """A folder named in the file, relative to the file (when it was read from one)."""
    path = Path(folder).expanduser()
    if path.is_absolute() or source.startswith("<"):
        return path
    return Path(source).parent / path


def load_config(path: str | Path) -> OfficeConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration file ({exc.strerror})") from None
    return parse_config(text, str(p))
