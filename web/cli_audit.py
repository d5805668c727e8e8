"""`kyoso audit`: verify the tamper-evident event history, and sign checkpoints of its head."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from web.cli_common import console, data_dir_option, open_storage, progress_bar, settings_for


@click.group(help="改ざん検知 / The tamper-evident event history: verify it, sign its head.")
def audit() -> None:
    pass


def _verify(storage: Any) -> Any:
    from projections.checkpoints import verify_against_log

    with progress_bar() as progress:
        task = progress.add_task("検証中", total=storage.app.recorder.max_notification_id() or 0)
        result, latest = verify_against_log(
            storage.app,
            storage.checkpointer.checkpoints,
            progress=lambda done, total: progress.update(task, completed=done, total=max(done, total)),
        )
    if not result.ok:
        where = result.first_bad_position if result.first_bad_position is not None else "-"
        click.echo(f"first bad position: {where}", err=True)
        click.echo(f"reason: {result.reason}", err=True)
        raise SystemExit(1)
    return result, latest


@audit.command(
    help="Recompute the whole chain and check it against the latest signed checkpoint; exit 1 if not intact."
)
@data_dir_option
def verify(data_dir: Path | None) -> None:
    storage = open_storage(settings_for(data_dir))
    try:
        result, latest = _verify(storage)
    finally:
        storage.close()
    line = {
        "events": result.events,
        "head": result.head.hex if result.head else None,
        "position": result.head.position if result.head else 0,
        "checkpoint": {"position": latest.position, "digest": latest.digest, "signed_at": latest.signed_at}
        if latest
        else None,
    }
    click.echo(json.dumps(line, ensure_ascii=False))


@audit.command(
    help="Verify, then sign a checkpoint of the current head with the key outside the database, append it to "
    "the checkpoints file and print it (JSON) for an external notary."
)
@data_dir_option
def head(data_dir: Path | None) -> None:
    storage = open_storage(settings_for(data_dir))
    try:
        result, _ = _verify(storage)
        if result.head is None:
            raise click.ClickException("まだイベントがありません。署名するチェックポイントはありません。")
        checkpoint = storage.checkpointer.checkpoints.sign(result.head)
        key_file = storage.checkpointer.checkpoints.key_file
    finally:
        storage.close()
    click.echo(checkpoint.to_json())
    console.print(f"signed position {checkpoint.position}; public key {checkpoint.public_key} ({key_file})")
