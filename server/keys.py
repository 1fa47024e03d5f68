"""Typed application keys, in one place so a reader finds what the app holds."""

from __future__ import annotations

from aiohttp import web

from server.auth import CheckInLimit, SessionPolicy, SignInLimits
from server.office import Office
from server.speech import Speech

OFFICE = web.AppKey("office", Office)
# token hash -> who it belongs to; filled on first use, emptied on sign-out
PRINCIPALS = web.AppKey("principals", dict)
SPEECH = web.AppKey("speech", Speech)
SIGN_IN_LIMITS = web.AppKey("sign_in_limits", SignInLimits)
SESSIONS = web.AppKey("sessions", SessionPolicy)
CHECK_IN_LIMIT = web.AppKey("check_in_limit", CheckInLimit)
CONTROL = web.AppKey("control", str)
"""The hash of this start's control token (``server/control.py``); empty without a file."""
