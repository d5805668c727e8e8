"""The `kyoso` command: serve, demo data, migrations, projections, benchmarks and theme analysis."""

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from domain.values import Role
from web.cli_audit import audit
from web.cli_common import console, data_dir_option, open_storage, progress_bar, settings_for
from web.cli_themes import themes

if TYPE_CHECKING:
    from projections.runner import Failure


@click.group(help="共創 Kyoso: an event-sourced citizen-participation platform.")
def cli() -> None:
    pass


@cli.command(help="Serve the web app (embedded SQLite unless KYOSO_DATABASE_URL is a postgresql:// URL).")
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Only with PostgreSQL.")
def serve(data_dir: Path | None, host: str, port: int, workers: int) -> None:
    import uvicorn

    settings = settings_for(data_dir)
    if workers > 1 and not settings.database_url:
        raise click.ClickException("--workers > 1 needs PostgreSQL (KYOSO_DATABASE_URL).")
    os.environ["KYOSO_DATA_DIR"] = str(settings.data_dir)
    where = settings.database_url or f"SQLite in {settings.data_dir.resolve()}"
    console.print(f"[bold]Kyoso[/] on http://{host}:{port}  ({where})")
    uvicorn.run(
        "web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,  # web/throttle.py decides which X-Forwarded-For to believe
        server_header=False,
    )


@cli.command(help="Load realistic Japanese demo data and print the demo logins.")
@data_dir_option
@click.option("--if-empty", is_flag=True, help="Do nothing if the store already holds surveys.")
@click.option("--responses", default=300, show_default=True, type=int, help="Responses per survey (about).")
def demo(data_dir: Path | None, if_empty: bool, responses: int) -> None:
    from web.demo import DEMO_PASSWORD, load_demo

    storage = open_storage(settings_for(data_dir))
    try:
        if if_empty and storage.app.recorder.max_notification_id():
            console.print("デモデータはすでにあります（--if-empty）。")
            return
        with progress_bar() as progress:
            task = progress.add_task("デモデータを作成中", total=None)
            logins = load_demo(
                storage,
                responses_per_survey=responses,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        storage.catch_up()
    finally:
        storage.close()
    console.print("\n[bold]デモ用ログイン[/]（パスワードはすべて " + DEMO_PASSWORD + "）")
    for role, email in logins:
        console.print(f"  {role:<6} {email}")


@cli.command(help="Apply pending read-model migrations.")
@data_dir_option
def migrate(data_dir: Path | None) -> None:
    from migrations import applied, available
    from migrations import migrate as run

    settings = settings_for(data_dir)
    from projections.storage import open_database

    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings.data_dir, settings.database_url)
    try:
        done = run(db)
        for m in done:
            console.print(f"applied {m.version:04d}_{m.name}")
        console.print(f"schema at version {max(applied(db), default=0)} ({len(available(db.dialect))} known)")
    finally:
        db.close()


@cli.group(help="Read models: rebuild from zero, or keep them up to date in a worker.")
def projections() -> None:
    pass


def _report_failures(failures: "list[Failure]", total: int) -> None:
    """Every event not applied, on stderr; the command then exits 1 (the read models are complete otherwise)."""
    console.print(f"[bold red]{total} event(s) could not be projected[/] (kept in projection_failures):")
    for f in failures:
        console.print(f"  position {f.position}  {f.topic}  {f.originator_id} v{f.originator_version}: {f.error}")
    if total > len(failures):
        console.print(f"  … and {total - len(failures)} more")
    console.print("Fix the cause, then run `kyoso projections retry` (or rebuild).")


@projections.command(
    help="Delete the read models and project every event again, with a progress bar. Events that cannot be "
    "projected are recorded and listed, and the command then exits 1."
)
@data_dir_option
def rebuild(data_dir: Path | None) -> None:
    storage = open_storage(settings_for(data_dir))
    try:
        started = time.perf_counter()
        with progress_bar() as progress:
            total = storage.app.recorder.max_notification_id() or 0
            task = progress.add_task("再構築中", total=total)
            applied = storage.projector.rebuild(lambda step, _: progress.advance(task, step))
            progress.update(task, completed=total)
        elapsed = time.perf_counter() - started
        console.print(f"{applied} events projected in {elapsed:.1f}s")
        if count := storage.projector.failure_count():
            _report_failures(storage.projector.failures(limit=100), count)
            raise SystemExit(1)
    finally:
        storage.close()


@projections.command(
    help="Apply again, in position order, the events recorded as failed; exits 1 if any still fails. "
    "They come after later events: where order matters, rebuild instead."
)
@data_dir_option
def retry(data_dir: Path | None) -> None:
    storage = open_storage(settings_for(data_dir))
    try:
        applied, remaining = storage.projector.retry_failures()
        console.print(f"{applied} failed event(s) applied")
        if remaining:
            _report_failures(remaining[:100], len(remaining))
            raise SystemExit(1)
    finally:
        storage.close()


@projections.command(help="Keep the read models caught up and award what activity earns (a separate worker).")
@data_dir_option
@click.option("--interval", default=0.2, show_default=True, type=float)
def run(data_dir: Path | None, interval: float) -> None:
    from projections.runner import TRANSIENT, describe

    storage = open_storage(settings_for(data_dir))
    console.print(f"projecting (position {storage.projector.position()}); Ctrl-C to stop")
    try:
        while True:
            try:
                # The awarding process first: its awards are events the projector then picks up.
                awarded = storage.awarding.catch_up()
                if storage.projector.catch_up() == 0 and awarded == 0:
                    time.sleep(interval)
            except TRANSIENT as e:
                # The database is away (a poison event is recorded, never raised): wait and go on.
                console.print(f"projection paused: {describe(e)}; retrying in 2s")
                time.sleep(2)
    except KeyboardInterrupt:
        pass
    finally:
        storage.close()


@cli.command(help="Run the benchmarks; prints one JSON line per figure.")
@click.option("--only", multiple=True, help="Run only benchmarks whose name starts with this.")
@click.option("--quick", is_flag=True, help="Smaller sizes, for a smoke test.")
@click.option(
    "--database-url",
    envvar="KYOSO_BENCH_DATABASE_URL",
    default=None,
    help="A PostgreSQL server for the postgres figures (each in a new database there; needs CREATEDB). "
    "Without one, only the SQLite figures run. `make bench` starts a throwaway server.",
)
def bench(only: tuple[str, ...], quick: bool, database_url: str | None) -> None:
    from projections.database import is_postgres_url
    from web.bench import DATABASE_URL_VARIABLE, run_benchmarks

    if database_url:
        if not is_postgres_url(database_url):
            raise click.ClickException(f"--database-url must be a postgresql:// URL: {database_url!r}")
        os.environ[DATABASE_URL_VARIABLE] = database_url
    run_benchmarks(only=only, quick=quick)


@cli.group(help="Accounts: add staff, auditors and businesses; erase a person's identity.")
def users() -> None:
    pass


@users.command("add", help="Create an account (staff need a department).")
@data_dir_option
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="staff", show_default=True)
@click.option("--department", default=None)
@click.password_option()
def add_user(
    data_dir: Path | None, email: str, display_name: str, role: str, department: str | None, password: str
) -> None:
    from domain.errors import EmailAlreadyRegistered
    from web.passwords import hash_password, password_problem

    if problem := password_problem(password):
        raise click.ClickException(problem)
    if role in ("staff", "admin") and not department:
        raise click.ClickException("職員には --department が必要です。")
    storage = open_storage(settings_for(data_dir))
    try:
        participant_id = storage.app.sign_up(
            email=email,
            display_name=display_name,
            password_hash=hash_password(password),
            role=Role(role),
            department=department,
        )
    except EmailAlreadyRegistered as e:
        raise click.ClickException(e.message) from None
    finally:
        storage.close()
    console.print(f"created {role} {participant_id}")


@users.command("erase", help="Erase a person: their data key, identity and sessions; answers stay, pseudonymous.")
@data_dir_option
@click.option("--email", required=True)
@click.confirmation_option(prompt="Erase this person's e-mail, name, password and free text for good?")
def erase_user(data_dir: Path | None, email: str) -> None:
    storage = open_storage(settings_for(data_dir))
    try:
        identity = storage.identities.find_by_email(email)
        if identity is None:
            raise click.ClickException("そのメールアドレスの利用者はいません。")
        storage.erase(identity.participant_id)
    finally:
        storage.close()
    console.print(f"erased {identity.participant_id}")


@users.command("role", help="Change a person's role; staff and admins need a department. Effective within seconds.")
@data_dir_option
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--department", default=None)
def change_role(data_dir: Path | None, email: str, role: str, department: str | None) -> None:
    from domain.errors import DomainError
    from web.security_log import security_event

    storage = open_storage(settings_for(data_dir))
    try:
        identity = storage.identities.find_by_email(email)
        if identity is None:
            raise click.ClickException("そのメールアドレスの利用者はいません。")
        # Signed-in sessions keep going, with the new role: web/auth.py re-reads it on requests.
        storage.app.change_role(identity.participant_id, Role(role), department, changed_by=None)
        participant = storage.app.get_participant(identity.participant_id)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    finally:
        storage.close()
    security_event(
        "role_change",
        identity.participant_id,
        role=participant.role.value,
        department=participant.department,
        source="cli",
    )
    where = f" ({participant.department})" if participant.department else ""
    console.print(f"{identity.participant_id} is now {participant.role.value}{where}")


cli.add_command(themes)
cli.add_command(audit)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
