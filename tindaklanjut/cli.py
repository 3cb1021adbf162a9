"""`tindaklanjut` command line: run the stack, publish results, read state."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import sys
from datetime import datetime, timedelta, timezone
from enum import Enum
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import structlog
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tindaklanjut import views
from tindaklanjut.adapters import kafka, migrate, spreadsheet
from tindaklanjut.adapters.broker import BrokerSupervisor, EmbeddedBroker, port_open
from tindaklanjut.adapters.publisher import publish_documents
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.cli_support import parse_instant, with_container
from tindaklanjut.config import Settings, get_settings
from tindaklanjut.stack_process import WorkerProcess, exit_code_after_interrupt, interrupt_on_sigterm
from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.lifecycle import DomainError, Role
from tindaklanjut.adapters import broker_epochs
from tindaklanjut.service_layer import users
from tindaklanjut.service_layer.commands import AddUser, DisableUser, RevokeToken, SetPassword
from tindaklanjut.ports.validation import Rejected, parse_assessment

app = typer.Typer(help="tindaklanjut: follow-up tracker for public-service assessment recommendations.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

SAMPLE_DATA_KEY = "sample_data_published"


class Format(str, Enum):
    table = "table"
    json = "json"


def _configure_logging(level: int = logging.INFO) -> None:
    """Readable lines in development; one JSON object per line in production (or with
    TINDAKLANJUT_LOG_FORMAT=json), with the request id bound by the API guard."""
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    try:
        settings = get_settings()
        as_json = settings.log_format == "json" or (settings.log_format == "auto"
                                                    and settings.environment == "production")
    except Exception:        # noqa: BLE001 - invalid settings are reported by the command itself
        as_json = False
    processors = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level]
    if as_json:
        processors += [structlog.processors.TimeStamper(fmt="iso", utc=True), structlog.processors.format_exc_info,
                       structlog.processors.JSONRenderer()]
    else:
        processors += [structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
                       structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    structlog.configure(processors=processors, wrapper_class=structlog.make_filtering_bound_logger(level),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))


_with_container = with_container


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    migrate.upgrade(get_settings().resolved_database_url)
    console.print("[green]database is up to date[/green]")


@app.command()
def broker(host: Annotated[str, typer.Option(help="listen address")] = "",
           port: Annotated[int, typer.Option(help="listen port")] = 0) -> None:
    """Run the embedded Kafka-protocol broker (Tansu) in the foreground."""
    settings = get_settings()
    embedded = EmbeddedBroker(host or settings.broker_host, port or settings.broker_port)
    embedded.start()
    console.print(f"broker listening on [bold]{embedded.bootstrap}[/bold] (Ctrl-C stops it)")
    try:
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        embedded.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        embedded.stop()
        console.print("broker stopped")


def _prepare(settings: Settings) -> None:
    migrate.upgrade(settings.resolved_database_url)
    asyncio.run(kafka.ensure_topics(settings))


def _new_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    """uvloop unless `TINDAKLANJUT_EVENT_LOOP=asyncio` (or it is not installed): the worker writes
    every assessment to the database and every event to the broker, and uvloop's sockets and
    callbacks cost less CPU (docs/benchmarks.md, series G). The whole suite, broker restarts and
    killed workers included, runs on it."""
    if settings.event_loop == "uvloop":
        try:
            import uvloop
            return uvloop.new_event_loop()
        except ImportError:           # not on this platform
            pass
    return asyncio.new_event_loop()


def _run_worker(settings: Settings) -> None:
    from tindaklanjut.services.worker import Worker, build_app, settle_heap

    asyncio.set_event_loop(_new_loop(settings))
    container = bootstrap(settings)
    faust_app = build_app(settings, container)
    worker = Worker(faust_app, loglevel="WARNING", quiet=True, redirect_stdouts=False,
                    shutdown_grace=settings.shutdown_grace_seconds)
    settle_heap()
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass


@app.command()
def worker(roles: Annotated[str | None, typer.Option(
        help="comma-separated roles to run: recommender, relay, scheduler, api (default: all, or "
             "TINDAKLANJUT_WORKER_ROLES); each scales on its own")] = None) -> None:
    """Run the services (recommender, outbox relay, scheduler, HTTP API) on the configured broker and database."""
    from tindaklanjut.services.worker import parse_roles

    _configure_logging()
    settings = get_settings()
    if roles is not None:
        try:
            parse_roles(roles)
        except ValueError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        settings = settings.model_copy(update={"worker_roles": roles})
    _prepare(settings)
    _run_worker(settings)


async def _publish_samples_once(settings: Settings) -> int:
    container = bootstrap(settings)
    try:
        if await views.get_setting(container.sessions, SAMPLE_DATA_KEY):
            return 0
        samples = sorted(p for p in files("tindaklanjut.data.samples").iterdir() if p.name.endswith(".json"))
        sent = await publish_documents(settings, [json.loads(p.read_text("utf-8")) for p in samples])
        await views.put_setting(container.sessions, SAMPLE_DATA_KEY, str(sent))
        return sent
    finally:
        await container.close()


DEMO_ACCOUNTS_KEY = "demo_accounts_created"
DEMO_ACCOUNTS = (  # name, role, agency: one per role, for the sample data (Kota Jambi, Provinsi Jambi)
    ("opd.kotajambi", Role.AGENCY, "15.71"),
    ("opd.provjambi", Role.AGENCY, "15"),
    ("evaluator", Role.EVALUATOR, None),
    ("inspektorat.kotajambi", Role.VERIFIER, "15.71"),
    ("sekda.kotajambi", Role.SECRETARY, "15.71"),
    ("admin", Role.ADMIN, None),
)


async def _demo_accounts_once(settings: Settings) -> list[tuple[str, str, str]]:
    """Development only: on the first start, one account per role with a fresh password (printed once)."""
    container = bootstrap(settings)
    try:
        if await views.get_setting(container.sessions, DEMO_ACCOUNTS_KEY):
            return []
        created = []
        for name, role, agency in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(9)
            try:
                await container.bus.handle(AddUser(name=name, role=role, agency_id=agency, password=password))
            except DomainError:
                continue        # the name is taken already: leave that account alone
            created.append((name, role.value, password))
        await views.put_setting(container.sessions, DEMO_ACCOUNTS_KEY, str(len(created)))
        return created
    finally:
        await container.close()


def _print_demo_accounts(settings: Settings, accounts: list[tuple[str, str, str]]) -> None:
    table = Table(title=f"Akun demo (hanya ditampilkan sekali) — masuk di {settings.public_url}/masuk")
    for column in ("nama pengguna", "peran", "kata sandi"):
        table.add_column(column)
    for row in accounts:
        table.add_row(*row)
    console.print(table)


@app.command()
def run(sample_data: Annotated[bool, typer.Option(help="publish the contract examples on first start")] = True
        ) -> None:
    """Start the embedded stack in the foreground: broker, services, SQLite. Ctrl-C stops it."""
    _configure_logging()
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    for what, host, port in (("broker", settings.broker_host, settings.broker_port),
                             ("API", settings.api_host, settings.api_port)):
        if port_open(host, port):
            err.print(f"[red]port {host}:{port} for the {what} is already in use: is tindaklanjut already "
                      f"running? Stop it, or set TINDAKLANJUT_{'BROKER' if what == 'broker' else 'API'}_PORT.[/red]")
            raise typer.Exit(2)
    embedded = EmbeddedBroker(settings.broker_host, settings.broker_port, log_path=settings.var_dir / "broker.log")
    embedded.start()
    settings = settings.model_copy(update={"kafka_bootstrap": embedded.bootstrap})
    supervisor, worker_process, code = None, None, 0
    try:
        interrupt_on_sigterm()
        _prepare(settings)
        epoch = {"id": asyncio.run(_broker_started(settings))}
        worker_process = WorkerProcess(settings_env(settings), grace=settings.shutdown_grace_seconds)

        def restarted() -> None:
            """The embedded broker died and is back, empty: topics again, the outbox again, a fresh worker."""
            lost_at = datetime.now(timezone.utc)
            asyncio.run(kafka.ensure_topics(settings))
            count, epoch["id"] = asyncio.run(_broker_restarted(settings, epoch["id"], lost_at))
            err.print(f"[yellow]broker restarted; {count} outbox messages published again; input sent to it "
                      f"and not yet processed may be lost (see `tindaklanjut stats`)[/yellow]")
            worker_process.restart()

        supervisor = BrokerSupervisor(embedded, restarted).start()
        if sample_data:
            sent = asyncio.run(_publish_samples_once(settings))
            if sent:
                console.print(f"published {sent} sample assessments (first start)")
        if settings.environment == "development":
            accounts = asyncio.run(_demo_accounts_once(settings))
            if accounts:
                _print_demo_accounts(settings, accounts)
        console.print(f"[bold green]tindaklanjut is running[/bold green]: broker {embedded.bootstrap}, "
                      f"database {settings.resolved_database_url}, workspace {settings.public_url}/, "
                      f"API {settings.public_url}/docs. Ctrl-C stops it.")
        code = worker_process.start().wait()
    except KeyboardInterrupt:
        pass
    finally:
        # Stopping now: a second signal (Ctrl-C twice, or SIGTERM right after it) must not cut the
        # cleanup short and leave the worker or the broker running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if supervisor is not None:
            supervisor.stop()
        if worker_process is not None:      # the worker first, the broker last
            code = exit_code_after_interrupt(worker_process.stop())
        embedded.stop()
        console.print("stopped")
    if code:
        raise typer.Exit(code)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment for a child process that runs with exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINDAKLANJUT_")}
    return env | settings.to_env()


async def _broker_started(settings: Settings) -> int:
    container = bootstrap(settings)
    try:
        return await broker_epochs.broker_started(container.sessions, settings.kafka_bootstrap,
                                                  datetime.now(timezone.utc))
    finally:
        await container.close()


async def _broker_restarted(settings: Settings, epoch_id: int, lost_at: datetime) -> tuple[int, int]:
    container = bootstrap(settings)
    try:
        count = await broker_epochs.broker_lost(container.sessions, epoch_id, lost_at)
        new_epoch = await broker_epochs.broker_started(container.sessions, settings.kafka_bootstrap,
                                                       datetime.now(timezone.utc))
        return count, new_epoch
    finally:
        await container.close()


def _load_document(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"{path}: {exc}") from None


SPREADSHEETS = (".xlsx", ".csv")


def _spreadsheet_events(path: Path, catalogue, skip_invalid: bool) -> list[dict]:
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"membaca {path.name}", total=None)
        result = spreadsheet.import_results(path, catalogue, now=datetime.now(timezone.utc),
                                            progress=lambda n: progress.advance(task, n))
    for error in result.errors:
        err.print(f"[red]{path.name}: {error}[/red]")
    if result.errors and not skip_invalid:
        err.print(f"[red]{len(result.errors)} kesalahan; tidak ada yang dipublikasikan "
                  f"(gunakan --skip-invalid untuk melewati penilaian yang tidak valid)[/red]")
        raise typer.Exit(2)
    if result.skipped_assessments:
        err.print(f"[yellow]dilewati: {', '.join(result.skipped_assessments)}[/yellow]")
    console.print(f"{path.name}: {result.rows} baris -> {len(result.events)} penilaian")
    return result.events


@app.command()
def publish(paths: Annotated[list[Path], typer.Argument(help="CloudEvents JSON files, or results spreadsheets "
                                                             "(.xlsx/.csv, see docs/spreadsheet-import.md)",
                                                        exists=True)],
            validate: Annotated[bool, typer.Option(help="refuse JSON files that would be dead-lettered")] = True,
            skip_invalid: Annotated[bool, typer.Option(help="publish the valid assessments of a spreadsheet "
                                                            "and skip the invalid ones")] = False,
            ) -> None:
    """Publish assessments: CloudEvents JSON files, or spreadsheets with one row per indicator."""
    settings = get_settings()
    catalogue = load_frameworks()
    documents = []
    for path in paths:
        if path.suffix.lower() in SPREADSHEETS:
            documents.extend(_spreadsheet_events(path, catalogue, skip_invalid))
            continue
        document = _load_document(path)
        if validate and document.get("type", "").startswith("tindaklanjut.assessment.published"):
            try:
                parse_assessment(path.read_bytes(), catalogue)
            except Rejected as rejected:
                err.print(f"[red]{path}: {rejected}[/red]")
                raise typer.Exit(2)
        documents.append(document)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("publishing", total=len(documents))
        sent = asyncio.run(publish_documents(settings, documents, progress=lambda: progress.advance(task)))
    console.print(f"published {sent} event(s) to {settings.kafka_bootstrap}")


def _print_rows(rows: list[dict], fmt: Format, columns: list[str], title: str) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)


@app.command()
def recommendations(unit: Annotated[str | None, typer.Option(help="only this unit id")] = None,
                    agency: Annotated[str | None, typer.Option(help="only this agency id")] = None,
                    status: Annotated[str | None, typer.Option(help="only this status")] = None,
                    format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """List recommendations from the database."""
    rows = _with_container(lambda c: views.recommendations(c.sessions, unit_id=unit, agency_id=agency,
                                                           status=status))
    _print_rows(rows, format, ["unit_id", "indicator_code", "priority", "status", "due_date", "title"],
                f"Rekomendasi ({len(rows)})")


@app.command()
def assessments(format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """List stored assessments with official and computed grades."""
    rows = _with_container(lambda c: views.assessments(c.sessions))
    _print_rows(rows, format, ["assessment_id", "revision", "framework", "cycle", "unit_id", "score",
                               "official_grade", "computed_grade", "grade_mismatch"], f"Penilaian ({len(rows)})")


@app.command()
def deadletters(format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """List inputs that were dead-lettered, with their reasons."""
    rows = _with_container(lambda c: views.dead_letters(c.sessions))
    _print_rows(rows, format, ["id", "topic", "partition", "offset", "reason_code", "reason"],
                f"Dead letters ({len(rows)})")


users_app = typer.Typer(help="Users: API tokens for machines, passwords for the web workspace.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


def _read_password(flag: bool) -> str | None:
    if not flag:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        err.print("[red]kata sandi kosong: tuliskan kata sandi pada masukan standar[/red]")
        raise typer.Exit(2)
    return password


def _handle_user_command(command) -> object:
    try:
        return _with_container(lambda c: c.bus.handle(command))
    except DomainError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="unique user name")],
              role: Annotated[Role, typer.Option(help="what the user may do")],
              agency: Annotated[str | None, typer.Option(
                  help="agency (government) id: an agency user's own, or a secretary's own government "
                       "(--agency 15: Pemprov Jambi only; --agency 15.71: Kota Jambi)")] = None,
              region: Annotated[str | None, typer.Option(
                  help="region code for a secretary with read-only oversight of every government in it "
                       "(an Ombudsman office, a governor's bureau)")] = None,
              expires_in_days: Annotated[int, typer.Option(min=0, max=3650,
                                                           help="days until the token expires (0: never)")] = 365,
              password_stdin: Annotated[bool, typer.Option(
                  "--password-stdin", help="read a password for the web workspace from standard input")] = False,
              ) -> None:
    """Create a user; prints the API bearer token once (it is stored hashed)."""
    expires_in = timedelta(days=expires_in_days) if expires_in_days else None
    token = _handle_user_command(AddUser(name=name, role=role, agency_id=agency, region=region,
                                         expires_in=expires_in, password=_read_password(password_stdin)))
    err.print(f"pengguna [bold]{name}[/bold] ({role.value}) dibuat. Simpan token ini; token tidak ditampilkan lagi:")
    sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list(format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """Every user: role, scope, account state, whether a password is set, token state."""
    rows = _with_container(lambda c: users.list_users(c.uow))
    _print_rows(rows, format, ["name", "role", "agency_id", "region", "account", "password", "state"],
                f"Pengguna ({len(rows)})")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="the user to deactivate")]) -> None:
    """Deactivate an account: no more logins or API calls; sessions end at once."""
    _handle_user_command(DisableUser(name=name))
    console.print(f"pengguna [bold]{name}[/bold] dinonaktifkan")


@users_app.command("reset-password")
def users_reset_password(name: Annotated[str, typer.Argument(help="the user")],
                         password_stdin: Annotated[bool, typer.Option(
                             "--password-stdin", help="read the new password from standard input")] = False) -> None:
    """Set a new password (read from standard input, or generated and printed once); ends the user's sessions."""
    password = _read_password(password_stdin) or secrets.token_urlsafe(12)
    _handle_user_command(SetPassword(name=name, password=password))
    console.print(f"kata sandi pengguna [bold]{name}[/bold] diganti")
    if not password_stdin:
        sys.stdout.write(password + "\n")


outbox_app = typer.Typer(help="The outbox: messages this system publishes, kept in the database.",
                         no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("replay")
def outbox_replay(since: Annotated[str, typer.Option(help="publish again what was published at or after this "
                                                          "instant (ISO 8601, e.g. 2025-01-06T08:00+07:00)")],
                  relay: Annotated[bool, typer.Option(help="publish now from this command (otherwise a running "
                                                           "worker's relay does)")] = True) -> None:
    """Publish outbox messages again, after a broker lost them (consumers de-duplicate on the CloudEvents id)."""
    instant = parse_instant(since)
    count = _with_container(lambda c: broker_epochs.replay_outbox(c.sessions, instant))
    console.print(f"{count} pesan outbox sejak {instant.isoformat()} ditandai untuk diterbitkan ulang")
    if relay and count:
        published = _with_container(lambda c: _relay_all(c))
        console.print(f"{published} pesan diterbitkan ke {get_settings().kafka_bootstrap}")


async def _relay_all(container) -> int:
    from tindaklanjut.adapters.outbox_relay import OutboxRelay, relay_producer

    await kafka.ensure_topics(container.settings)
    producer = relay_producer(container.settings)
    await producer.start()
    try:
        relay = OutboxRelay(container.sessions, producer, container.settings)
        while await relay.relay_once():
            pass
        return relay.published
    finally:
        await producer.stop()


tokens_app = typer.Typer(help="API tokens: list their state, revoke one.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("list")
def tokens_list(format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """Every user's token: active, expired or revoked (the tokens themselves are never shown)."""
    rows = _with_container(lambda c: users.list_users(c.uow))
    _print_rows(rows, format, ["name", "role", "agency_id", "region", "state", "expires_at", "revoked_at"],
                f"Tokens ({len(rows)})")


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="the user whose token is revoked")]) -> None:
    """Revoke a user's token at once."""
    _handle_user_command(RevokeToken(name=name))
    console.print(f"token pengguna [bold]{name}[/bold] dicabut")


@app.command()
def api() -> None:
    """Serve the HTTP API alone (OpenAPI at /docs), for deployments that run it apart from the worker."""
    import uvicorn

    from tindaklanjut.api.app import create_api

    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    uvicorn.run(create_api(bootstrap(settings)), host=settings.api_host, port=settings.api_port)


@app.command()
def probe(ready: Annotated[bool, typer.Option(help="ask /readyz (database, migrations, broker) instead of /healthz")]
          = False) -> None:
    """Container health check: exit 0 when this process answers on its health endpoint, 1 otherwise.

    Asks the API's port when the process runs the api role, else TINDAKLANJUT_HEALTH_PORT."""
    import httpx

    from tindaklanjut.services.worker import parse_roles

    settings = get_settings()
    port = settings.api_port if "api" in parse_roles(settings.worker_roles) and settings.api_enabled \
        else settings.health_port
    if not port:
        err.print("no health endpoint: run the api role or set TINDAKLANJUT_HEALTH_PORT")
        raise typer.Exit(2)
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host
    path = "/readyz" if ready else "/healthz"
    try:
        answer = httpx.get(f"http://{host}:{port}{path}", timeout=3.0)
    except httpx.HTTPError as error:
        err.print(f"{path}: {error.__class__.__name__}")
        raise typer.Exit(1) from None
    if answer.status_code != 200:
        err.print(f"{path}: HTTP {answer.status_code}")
        raise typer.Exit(1)


@app.command()
def template(output: Annotated[Path, typer.Argument(help="file to write (.xlsx or .csv)")]) -> None:
    """Write the results-spreadsheet template, filled with the three contract examples."""
    if output.suffix.lower() not in SPREADSHEETS:
        raise typer.BadParameter("the template is written as .xlsx or .csv")
    samples = sorted(p for p in files("tindaklanjut.data.samples").iterdir() if p.name.endswith(".json"))
    rows = [row for p in samples for row in spreadsheet.event_to_rows(json.loads(p.read_text("utf-8")))]
    spreadsheet.write_rows(output, rows)
    console.print(f"wrote {output} ({len(rows)} rows)")


@app.command()
def stats(format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """Counters: events processed, duplicates, dead letters, recommendations by status, outbox backlog."""
    counters = _with_container(lambda c: views.stats(c.sessions))
    if format is Format.json:
        sys.stdout.write(json.dumps(counters) + "\n")
        return
    table = Table(title="tindaklanjut")
    table.add_column("counter")
    table.add_column("value", justify="right")
    for name, value in counters.items():
        if isinstance(value, dict):
            for status, count in sorted(value.items()):
                table.add_row(f"{name}: {status}", str(count))
        else:
            table.add_row(name, str(value))
    console.print(table)


@app.command()
def schemas(check: Annotated[bool, typer.Option(help="only check that schemas/ is up to date")] = False,
            directory: Annotated[Path, typer.Option(help="where the schema files live")] = Path("schemas")
            ) -> None:
    """Write (or check) the JSON Schema of every event type, generated from the models."""
    from tindaklanjut.events.registry import EVENTS, write_schemas

    if check:
        stale = [spec.schema_filename for spec in EVENTS
                 if not (directory / spec.schema_filename).exists()
                 or json.loads((directory / spec.schema_filename).read_text("utf-8")) != spec.json_schema()]
        if stale:
            err.print(f"[red]out of date: {', '.join(stale)}[/red] (run `tindaklanjut schemas`)")
            raise typer.Exit(1)
        console.print("schemas are up to date")
        return
    for path in write_schemas(directory):
        console.print(f"wrote {path}")


from tindaklanjut.cli_reminders import contacts_app, reminders_app, sweep  # noqa: E402  (reminder commands)

app.add_typer(contacts_app, name="contacts")
app.add_typer(reminders_app, name="reminders")
app.command()(sweep)

from tindaklanjut.cli_cycles import cycle_app  # noqa: E402  (cycle close and report)

app.add_typer(cycle_app, name="cycle")

if __name__ == "__main__":
    app()
