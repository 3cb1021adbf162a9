"""Wire the reminder handlers to the real database and channels. Entry
points (the scheduler job, the CLI) go through `Reminders`; tests swap the
channels or the clock."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tindaklanjut.adapters.notifications import channels_from_settings
from tindaklanjut.bootstrap import Container
from tindaklanjut.domain.reminders import Contact, ReminderPolicy, load_reminder_policy
from tindaklanjut.observability import SWEEP_SECONDS
from tindaklanjut.service_layer.commands import ImportContacts, RunSweep
from tindaklanjut.service_layer.messagebus import MessageBus
from tindaklanjut.service_layer.reminders import SweepReport
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork


@dataclass
class Reminders:
    container: Container
    policy: ReminderPolicy
    channels: Mapping[str, object]
    clock: Callable[[], datetime]
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}-{id(object())}")
    last_reconcile: float | None = None
    bus: MessageBus = field(init=False)

    def __post_init__(self) -> None:
        # The one bus, with this scheduler's channels, policy and clock.
        self.bus = self.container.bus_with(channels=self.channels, reminder_policy=self.policy, clock=self.clock)

    def uow(self) -> AbstractUnitOfWork:
        return self.container.uow()

    async def sweep(self, now: datetime | None = None, *, reconcile: bool | None = None,
                    send: bool = True) -> SweepReport:
        """One sweep. `reconcile=None`: scan for new recommendations and changed
        deadlines if this process has not done so for `reminder_reconcile_interval`."""
        settings = self.container.settings
        if reconcile is None:
            reconcile = self.last_reconcile is None or \
                time.monotonic() - self.last_reconcile >= settings.reminder_reconcile_interval
        if reconcile:
            self.last_reconcile = time.monotonic()
        with SWEEP_SECONDS.time():
            return await self.bus.handle(RunSweep(now=now or self.clock(), owner=self.owner, reconcile=reconcile,
                                                  send=send))

    async def import_contacts(self, contacts: list[Contact]) -> tuple[int, int, int]:
        return await self.bus.handle(ImportContacts(contacts=tuple(contacts), at=self.clock()))



def reminders(container: Container, *, channels: Mapping[str, object] | None = None,
              policy: ReminderPolicy | None = None, clock: Callable[[], datetime] | None = None) -> Reminders:
    import os

    return Reminders(container=container, policy=policy or load_reminder_policy(),
                     channels=channels or channels_from_settings(container.settings),
                     clock=clock or container.clock, owner=f"{socket.gethostname()}-{os.getpid()}")
