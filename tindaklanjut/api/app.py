"""The FastAPI application: the guard, the error translation and the routers
(one per file under `api/routes`). Routes are thin: they build a command for
the bus, or ask a read model."""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from tindaklanjut.api.admission import ReadAdmission
from tindaklanjut.api.errors import ApiError
from tindaklanjut.api.guard import BodyTooLarge, FailedLogins, RequestGuard
from tindaklanjut.api.health import HttpMetrics, Metrics
from tindaklanjut.api.read_cache import ReadCache
from tindaklanjut.api.routes import assessments, cycles, health, overdue, recommendations, requests, status
from tindaklanjut.bootstrap import Container
from tindaklanjut.web import app as web

ROUTERS = (assessments.router, recommendations.router, requests.router, overdue.router, status.router,
           cycles.router, health.router)


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(status_code=exc.status, content={"code": exc.code, "message": exc.message}, headers=headers)


async def _too_large(_request: Request, exc: BodyTooLarge) -> JSONResponse:
    return JSONResponse(status_code=413, content={"code": "too_large", "message": exc.detail})


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": errors})


async def _favicon() -> Response:
    return Response(status_code=204)


DOCS_ASSETS = "/static/docs"


def _offline_docs(api: FastAPI) -> None:
    """Swagger UI and ReDoc from files the application serves itself (an
    intranet has no CDN): the assets come from the `fastapi-offline` package."""
    api.mount(DOCS_ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=api.openapi_url, title="tindaklanjut: API",
                                   oauth2_redirect_url="/docs/oauth2-redirect",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=api.openapi_url, title="tindaklanjut: API",
                              redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png", with_google_fonts=False)

    api.add_api_route("/docs", swagger, include_in_schema=False)
    api.add_api_route("/docs/oauth2-redirect", oauth2_redirect, include_in_schema=False)
    api.add_api_route("/redoc", redoc, include_in_schema=False)


class PagesGZip(GZipMiddleware):
    """Compress pages and JSON, not evidence downloads: those are PDFs and images already
    compressed, and their Content-Length lets a browser show the download's progress."""

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if "/evidence/" in path or "/bukti/" in path:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_health_api(container: Container) -> FastAPI:
    """Liveness, readiness and metrics alone, for a worker process that serves no API."""
    api = FastAPI(title="tindaklanjut (health)", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.container = container
    api.state.metrics = Metrics(container)
    api.add_middleware(HttpMetrics, metrics=api.state.metrics)
    api.include_router(health.router)
    return api


def create_api(container: Container, *, failed_logins: FailedLogins | None = None) -> FastAPI:
    api = FastAPI(title="tindaklanjut", version="1", docs_url=None, redoc_url=None,
                  description="Tindak lanjut rekomendasi hasil penilaian pelayanan publik.")
    _offline_docs(api)
    api.state.container = container
    api.state.read_cache = ReadCache(container.settings.read_cache_seconds)
    api.add_middleware(RequestGuard, container=container, failed_logins=failed_logins)
    # Pages and JSON compressed on the wire (CSRF tokens in pages are masked per response: web/deps.py).
    # Level 5, not Starlette's 9: about half the CPU per page, a few percent larger.
    api.add_middleware(PagesGZip, minimum_size=2048, compresslevel=5)
    api.add_middleware(ReadAdmission, concurrency=container.settings.api_concurrent_reads)
    api.state.metrics = Metrics(container)
    api.add_middleware(HttpMetrics, metrics=api.state.metrics)
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(BodyTooLarge, _too_large)
    api.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    for router in ROUTERS:
        api.include_router(router)
    web.install(api, invalid_api_request=_invalid)
    return api
