"""Dependencies of every route, declared once (as the full-stack FastAPI
template's `api/deps.py`): the container, a read session, the current actor
and the role checks, and `dispatch` for commands."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.api.errors import ApiError, call_service
from tindaklanjut.api.read_cache import ReadCache
from tindaklanjut.bootstrap import Container
from tindaklanjut.domain import labels
from tindaklanjut.domain.lifecycle import Actor, Role
from tindaklanjut.service_layer.commands import Command

bearer = HTTPBearer(auto_error=False, description="Token dari `tindaklanjut users add`")


# Dependencies are `async def` even when they only read: FastAPI runs a plain `def` dependency in
# a worker thread, a hop that costs more than the dependency itself on every request.
async def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_read_cache(request: Request) -> ReadCache:
    return request.app.state.read_cache


ReadCacheDep = Annotated[ReadCache, Depends(get_read_cache)]


async def get_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    async with container.read_sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def current_actor(request: Request,
                        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
    """Authenticated by the guard before the body was read."""
    found = getattr(request.state, "actor", None)
    if found is None:
        raise ApiError(401, "unauthenticated", "token diperlukan")
    return found


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require(*roles: Role) -> Callable:
    async def check(current: CurrentActor) -> Actor:
        if current.role not in roles and current.role is not Role.ADMIN:
            raise ApiError(403, "forbidden", f"peran {labels.role(current.role)} tidak berwenang")
        return current
    return check


AgencyActor = Annotated[Actor, Depends(require(Role.AGENCY))]
EvaluatorActor = Annotated[Actor, Depends(require(Role.EVALUATOR))]
# Checks evidence and decides requests: the evaluator, or a verifier where the framework allows it.
VerifierActor = Annotated[Actor, Depends(require(Role.EVALUATOR, Role.VERIFIER))]
ReaderActor = Annotated[Actor, Depends(require(Role.SECRETARY, Role.EVALUATOR, Role.VERIFIER))]


async def dispatch(container: Container, command: Command) -> Any:
    """Hand a command to the bus; domain errors become clear 4xx answers."""
    return await call_service(container.bus.handle(command))
