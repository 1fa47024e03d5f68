"""The check-in kiosk: a Textual app that greets visitors, issues tickets and prints them.

Entry point: ``kiosk.app.main`` (``lobby kiosk``). Words live in ``kiosk/i18n/`` (one TOML file
per language); ticket printing is ``hardware``'s job, the kiosk only lays out the words.
"""
