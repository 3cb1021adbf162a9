"""The admin's page of users: list them, deactivate one, reset a password
(shown once), revoke an API token. Same commands as `tindaklanjut users`."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request

from tindaklanjut.api.deps import ContainerDep, dispatch
from tindaklanjut.api.errors import ApiError
from tindaklanjut.service_layer import users
from tindaklanjut.service_layer.commands import DisableUser, RevokeToken, SetPassword
from tindaklanjut.web.deps import AdminActor, CsrfChecked, render

router = APIRouter(include_in_schema=False)


async def _page(request: Request, container, *, notice: str | None = None, error: str | None = None,
                new_password: tuple[str, str] | None = None, status_code: int = 200):
    rows = await users.list_users(container.uow)
    return render(request, "users.html", rows=rows, notice=notice, error=error, new_password=new_password,
                  status_code=status_code)


@router.get("/admin/pengguna")
async def users_page(request: Request, container: ContainerDep, _current: AdminActor):
    return await _page(request, container)


async def _run(request: Request, container, command, notice: str, new_password=None):
    try:
        await dispatch(container, command)
    except ApiError as exc:
        return await _page(request, container, error=exc.message, status_code=exc.status)
    return await _page(request, container, notice=notice, new_password=new_password)


@router.post("/admin/pengguna/{name}/nonaktifkan", dependencies=[CsrfChecked])
async def disable(request: Request, name: str, container: ContainerDep, _current: AdminActor):
    return await _run(request, container, DisableUser(name=name), f"Pengguna {name} dinonaktifkan.")


@router.post("/admin/pengguna/{name}/sandi-baru", dependencies=[CsrfChecked])
async def reset_password(request: Request, name: str, container: ContainerDep, _current: AdminActor):
    password = secrets.token_urlsafe(12)
    return await _run(request, container, SetPassword(name=name, password=password),
                      f"Kata sandi {name} diganti.", new_password=(name, password))


@router.post("/admin/pengguna/{name}/cabut-token", dependencies=[CsrfChecked])
async def revoke(request: Request, name: str, container: ContainerDep, _current: AdminActor):
    return await _run(request, container, RevokeToken(name=name), f"Token API {name} dicabut.")
