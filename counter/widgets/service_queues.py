"""The queues this counter serves: how many wait and how long the longest has waited.

The longest wait is coloured against the service's own target (the office's standard), so a
clerk sees at a glance which queue is slipping.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from counter.labels import minutes_text, wait_colour
from counter.model import CounterModel
from lobby import protocol as p


class ServiceQueues(Static):
    def show(self, model: CounterModel, now: float) -> None:
        services = model.my_services()
        if not services:
            self.update(Text("Waiting for the server…", style="dim"))
            return
        blocks: list[Text] = []
        for index, service in enumerate(services):
            if index:
                blocks.append(Text(""))
            blocks.extend(_service_block(service, model.longest_wait_min(service, now)))
        self.update(Group(*blocks))


def _service_block(service: p.ServiceView, longest_min: float) -> list[Text]:
    title = Text(no_wrap=True, overflow="ellipsis")
    title.append(service.name, style="bold")
    title.append(f"  target {service.target_wait_min:g} min", style="dim")
    if service.state == "closed":
        title.append(" · closed", style="dim")
    line = Text("  ", no_wrap=True, overflow="ellipsis")
    if not service.waiting:
        line.append("nobody waiting", style="dim")
        return [title, line]
    line.append(f"{service.waiting} waiting", style="bold")
    colour = wait_colour(longest_min, service.target_wait_min)
    line.append("   longest ")
    line.append(f" {minutes_text(longest_min)} ", style=f"bold black on {colour}")
    if colour == "red":
        line.append("  over target", style="bold red")
    return [title, line]
