"""The queues this counter serves: how many wait and how long the longest has waited.

The longest wait is coloured by the server's ``wait_level`` against the service's own target
(the office's standard), so a clerk sees at a glance which queue is slipping.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from counter.labels import WAIT_COLOURS, minutes_text
from counter.model import CounterModel
from lobby import protocol as p


class ServiceQueues(Static):
    def show(self, model: CounterModel) -> None:
        services = model.my_services()
        if not services:
            self.update(Text("Waiting for the server…", style="dim"))
            return
        blocks: list[Text] = []
        for index, service in enumerate(services):
            if index:
                blocks.append(Text(""))
            blocks.extend(_service_block(service))
        self.update(Group(*blocks))


def _service_block(service: p.ServiceView) -> list[Text]:
    """Three short lines rather than one long one, so a narrow panel cuts none of the figures."""
    title = Text(service.name, style="bold", no_wrap=True, overflow="ellipsis")
    if service.state != "open":
        title.append(f" · {service.state}", style="dim")
    count = Text("  ", no_wrap=True, overflow="ellipsis")
    count.append(f"{service.waiting} waiting" if service.waiting else "nobody waiting")
    count.append(f" · target {service.target_wait_min:g} min", style="dim")
    if not service.waiting:
        count.stylize("dim")
        return [title, count]
    longest = Text("  longest ", no_wrap=True, overflow="ellipsis")
    colour = WAIT_COLOURS[service.wait_level]
    longest.append(f" {minutes_text(service.longest_wait_min)} ", style=f"bold black on {colour}")
    if service.wait_level == "over":
        longest.append(" over target", style="bold red")
    return [title, count, longest]
