"""The message bus: one handler per command type, registered in one place
(`HANDLERS`), with its dependencies injected once by `bootstrap`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tindaklanjut.service_layer import commands


class MessageBus:
    def __init__(self, handlers: Mapping[type[commands.Command], Callable[[Any], Awaitable[Any]]]) -> None:
        self.handlers = dict(handlers)

    async def handle(self, command: commands.Command) -> Any:
        """Run the command's handler and return what it returns; its errors are the caller's."""
        try:
            handler = self.handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        return await handler(command)


def inject(handler: Callable, dependencies: Mapping[str, Any]) -> Callable[[Any], Awaitable[Any]]:
    """`handler(command, **deps)` -> `handler(command)`, taking from `dependencies`
    the parameters it names (as cosmicpython's bootstrap does)."""
    wanted = list(inspect.signature(handler).parameters)[1:]
    missing = [name for name in wanted if name not in dependencies
               and inspect.signature(handler).parameters[name].default is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"{handler.__qualname__} needs {', '.join(missing)}, which bootstrap does not provide")
    chosen = {name: dependencies[name] for name in wanted if name in dependencies}

    async def call(command: Any) -> Any:
        return await handler(command, **chosen)
    call.__qualname__ = handler.__qualname__
    return call
