"""The lobby display page: ``GET /display`` with its assets, its settings and spoken calls.

The page is for display devices only: its live stream (``/ws``) is the public audience, so the
browser never receives a name, a note or a need. The page's files live in the ``display``
package (``display/web/``) and are read from there; the server imports no display code.
Announcements are WAVs made on this server by :mod:`server.speech` (espeak-ng, offline), and
so is an emergency's spoken instruction (``/display/emergency.wav``).
"""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from importlib import resources
from pathlib import Path

from aiohttp import web

from lobby.i18n import Catalogues
from server.auth import PRINCIPAL, Principal, require
from server.clips import ClipError, Clips
from server.config import OfficeConfig
from server.errors import api_error
from server.keys import OFFICE, SPEECH
from server.speech import Speech, SpeechUnavailable, valid_number

log = logging.getLogger("lobby.display")
WEB = resources.files("display") / "web"
ASSETS = {
    "display.js": "text/javascript",
    "display.css": "text/css",
    "labels.json": "application/json",
    "chime.wav": "audio/wav",
    "emergency.js": "text/javascript",
    "alarm.wav": "audio/wav",
}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; media-src 'self' blob:; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
SIGN_IN_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>Lobby display: not signed in</title>
<body style="background:#000;color:#fff;font:2rem/1.4 sans-serif;padding:8vh 8vw">
<h1 style="color:#ffd60a">This lobby display is not signed in</h1>
<p>{reason}</p>
<p>Open <code>/display?token=DISPLAY-TOKEN</code> once with the token printed by
<code>lobby device add NAME --role display</code>. The browser keeps it after that.</p>
</body></html>"""


@cache
def web_file(name: str) -> bytes:
    """One of the page's files, read once: they change only with a new release. The labels
    are the display's gettext catalogues (``web/labels/LANG.po``), served as one JSON table."""
    if name == "labels.json":
        return Catalogues.load(Path(str(WEB / "labels"))).tables_json()
    return (WEB / name).read_bytes()


async def display_page(request: web.Request) -> web.Response:
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None or principal.role != "display":
        reason = (
            "It has no display token yet."
            if principal is None
            else f"It is signed in as a {principal.role}, and this page is for display devices."
        )
        return web.Response(
            status=401 if principal is None else 403,
            text=SIGN_IN_PAGE.format(reason=reason),
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )
    return web.Response(
        body=web_file("display.html"),
        content_type="text/html",
        charset="utf-8",
        headers=PAGE_HEADERS,
    )


async def display_asset(request: web.Request) -> web.Response:
    """The page's own files: a fixed list, so the path can never reach outside ``web/``."""
    name = request.match_info["name"]
    content_type = ASSETS.get(name)
    if content_type is None:
        raise api_error(404, "not_found", f"no display file named {name!r}")
    return web.Response(
        body=web_file(name), content_type=content_type, headers={"Cache-Control": "no-cache"}
    )


async def display_settings(request: web.Request) -> web.Response:
    """What the page cannot know by itself: which office languages can be spoken here."""
    require(request, "display")
    office = request.app[OFFICE]
    speech = request.app[SPEECH]
    return web.json_response(
        {
            "languages": list(office.config.languages),
            "speech": await spoken_languages(office.config, speech),
        },
        headers={"Cache-Control": "no-store"},
    )


async def announcement(request: web.Request) -> web.StreamResponse:
    """``?number=P-014&counter=w3&lang=es``: the spoken call as a WAV (cached on disk)."""
    require(request, "display")
    office = request.app[OFFICE]
    config = office.config
    speech: Speech = request.app[SPEECH]
    number = request.query.get("number", "")
    counter_id = request.query.get("counter", "")
    lang = request.query.get("lang", "")
    prefixes = {s.prefix for s in config.services}
    if not valid_number(number) or number.split("-")[0] not in prefixes:
        raise api_error(422, "invalid", "number must be a ticket number like P-014", "number")
    counter = config.counter(counter_id)
    if counter is None:
        raise api_error(422, "invalid", "counter must be one of the office's counters", "counter")
    if lang not in config.languages:
        raise api_error(422, "invalid", "lang must be one of the office's languages", "lang")
    if lang not in await speech.languages(config.languages):
        return await recorded_announcement(config, lang, number, counter.id)
    try:
        path = await speech.announcement(lang, number, counter.names.get(lang, counter.name))
    except SpeechUnavailable as exc:
        log.warning("announcement unavailable: %s", exc)
        raise api_error(503, "unavailable", "speech is not available right now") from None
    return wav_file(path)


WAV_HEADERS = {"Content-Type": "audio/wav", "Cache-Control": "private, max-age=3600"}


def wav_file(path: Path) -> web.FileResponse:
    """A WAV from disk, read and sent off the event loop (aiohttp opens it in a thread and
    sends it with ``sendfile``): a call is fetched by every display at once."""
    return web.FileResponse(path, headers=dict(WAV_HEADERS))


def clips_of(config: OfficeConfig) -> Clips | None:
    return Clips(config.speech_clips) if config.speech_clips else None


async def emergency_speech(request: web.Request) -> web.StreamResponse:
    """``?kind=evacuate&lang=es``: that emergency kind's instruction said in ``lang``: by an
    espeak-ng voice, or the office's recording (``LANG/emergency-KIND.wav`` in its clips).
    404 where neither exists: the page then shows the instruction without saying it."""
    require(request, "display")
    config = request.app[OFFICE].config
    speech: Speech = request.app[SPEECH]
    lang = request.query.get("lang", "")
    if lang not in config.languages:
        raise api_error(422, "invalid", "lang must be one of the office's languages", "lang")
    emergency = config.emergency(request.query.get("kind", ""))
    if emergency is None:
        kinds = ", ".join(e.kind for e in config.emergencies)
        raise api_error(422, "invalid", f"kind must be one of the office's: {kinds}", "kind")
    clips = clips_of(config)
    recorded = await asyncio.to_thread(clips.emergency, lang, emergency.kind) if clips else None
    if recorded is not None:
        path = recorded
    elif lang in await speech.languages(config.languages):
        try:
            path = await speech.sentence(lang, emergency.instruction[lang])
        except SpeechUnavailable as exc:
            log.warning("emergency instruction unavailable: %s", exc)
            raise api_error(503, "unavailable", "speech is not available right now") from None
    else:
        raise api_error(404, "not_found", f"no voice for language {lang!r} on this server", "lang")
    return wav_file(path)


async def spoken_languages(config: OfficeConfig, speech: Speech) -> list[str]:
    """The office languages a call is said in: by an espeak-ng voice, or by the office's
    recorded clips (``server/clips.py``)."""
    voiced = await speech.languages(config.languages)
    clips = clips_of(config)

    def spoken() -> list[str]:  # the clips are looked for on disk, off the event loop
        return [
            lang
            for lang in config.languages
            if lang in voiced or (clips is not None and clips.speaks(lang, config))
        ]

    return await asyncio.to_thread(spoken) if clips else spoken()


async def recorded_announcement(
    config: OfficeConfig, lang: str, number: str, counter_id: str
) -> web.Response:
    """A call in a language without a voice, from the office's clips."""
    clips = clips_of(config)

    def recorded() -> bytes | None:  # read off the event loop
        if clips is None or not clips.speaks(lang, config):
            return None
        return clips.announcement(lang, number, counter_id)

    try:
        body = await asyncio.to_thread(recorded)
    except ClipError as exc:
        log.warning("recorded announcement unavailable: %s", exc)
        raise api_error(503, "unavailable", "speech is not available right now") from None
    if body is None:
        raise api_error(404, "not_found", f"no voice for language {lang!r} on this server", "lang")
    return web.Response(body=body, headers=dict(WAV_HEADERS))


def add_display_routes(app: web.Application) -> None:
    app.router.add_get("/display", display_page)
    app.router.add_get("/display/settings.json", display_settings)
    app.router.add_get("/display/announce.wav", announcement)
    app.router.add_get("/display/emergency.wav", emergency_speech)
    app.router.add_get("/display/{name}", display_asset)
