"""Mount the workspace on the FastAPI application: its static files, its
routers, and the answers a browser expects (a redirect to /masuk, error pages
in Bahasa Indonesia instead of JSON)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tindaklanjut.api.guard import API_PREFIX
from tindaklanjut.web.deps import LoginRequired, PageError, login_url, render
from tindaklanjut.web.routes import admin, assessment_upload, items, oversight, report, session, verification

ROUTERS = (session.router, items.router, verification.router, oversight.router, report.router,
           assessment_upload.router, admin.router)
STATIC = "/static/web"


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIX) and not request.url.path.startswith("/docs")


async def _login_required(request: Request, exc: LoginRequired):
    if request.method == "GET":
        return RedirectResponse(login_url(exc.next_path), status_code=303)
    return render(request, "error.html", status_code=401, title="Sesi berakhir",
                  message="Sesi Anda berakhir. Masuk lagi, lalu ulangi langkah ini.")


async def _page_error(request: Request, exc: PageError):
    return render(request, "error.html", status_code=exc.status, title=exc.title, message=exc.message)


def install(api: FastAPI, invalid_api_request) -> None:
    api.mount(STATIC, StaticFiles(directory=str(files("tindaklanjut") / "static" / "web")), name="web-static")
    api.add_exception_handler(LoginRequired, _login_required)
    api.add_exception_handler(PageError, _page_error)

    async def invalid(request: Request, exc: RequestValidationError):
        if not _is_page(request):
            return await invalid_api_request(request, exc)
        return render(request, "error.html", status_code=400, title="Isian tidak valid",
                      message="Sebagian isian formulir tidak valid atau terlalu panjang. Kembali, periksa, "
                              "lalu kirim lagi.")

    async def not_found(request: Request, exc: StarletteHTTPException):
        if _is_page(request) and exc.status_code in (404, 405):
            return render(request, "error.html", status_code=exc.status_code, title="Tidak ditemukan",
                          message="Halaman ini tidak ada.")
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    api.add_exception_handler(RequestValidationError, invalid)
    api.add_exception_handler(StarletteHTTPException, not_found)
    for router in ROUTERS:
        api.include_router(router)
