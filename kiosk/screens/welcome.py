"""The first screen: the office's name and a language choice, written in every language.

Nothing here assumes the visitor reads English: the greeting and the prompt are shown in each
offered language, and each language's button carries its own name ("Español", "Soomaali").
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, HorizontalGroup, Vertical
from textual.widgets import Button, Static

from kiosk.screens.kiosk_screen import KioskScreen
from lobby.state import in_language


class WelcomeScreen(KioskScreen):
    AUTO_FOCUS = ".language"

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Static(id="office-name", markup=False)
            yield Static(id="greetings", markup=False)
            yield Static(id="notice", markup=False)
            yield Static(id="choose-language", markup=False)
            with Center():
                yield HorizontalGroup(id="languages")
            yield Static(id="connection", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "office", self._show_office)
        self.watch(self.app, "connected", self._show_connection)
        self.watch(self.app, "problem", self._show_connection)

    def _show_office(self) -> None:
        kiosk = self.kiosk
        office = kiosk.office
        self.query_one("#office-name", Static).update(office.name if office else "")
        languages = kiosk.languages
        catalogue = kiosk.catalogue
        self.query_one("#greetings", Static).update(
            "  ·  ".join(dict.fromkeys(catalogue.text(code, "welcome") for code in languages))
        )
        notices = (
            [in_language(office.notices, code, office.notice) for code in languages]
            if office
            else []
        )
        self.show_text("#notice", "\n".join(dict.fromkeys(notices)))
        self.query_one("#choose-language", Static).update(
            "\n".join(catalogue.text(code, "choose_language") for code in languages)
        )
        self._show_languages()

    def _show_languages(self) -> None:
        self.rebuild_buttons(
            self.query_one("#languages", HorizontalGroup),
            lambda: self.kiosk.languages,
            lambda codes: [
                Button(
                    self.kiosk.catalogue.name(code or ""),
                    id=f"language-{code}",
                    name=code,
                    classes="language",
                )
                for code in codes
            ],
            then=lambda: self.focus_first(".language"),
        )

    def on_screen_resume(self) -> None:
        self.focus_first(".language")

    def _show_connection(self) -> None:
        kiosk = self.kiosk
        line = self.query_one("#connection", Static)
        if kiosk.problem:
            line.update(kiosk.problem)
        elif kiosk.connected is False:
            line.update(kiosk.catalogue.text(kiosk.default_language, "connecting"))
        else:
            line.update("")

    @on(Button.Pressed, ".language")
    def _choose(self, event: Button.Pressed) -> None:
        assert event.button.name is not None
        self.kiosk.choose_language(event.button.name)
