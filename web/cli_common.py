"""What every `kyoso` command group shares: the console, the --data-dir option, storage, progress bars."""

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from web.settings import Settings

console = Console(stderr=True)

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where embedded SQLite keeps its files (default: $KYOSO_DATA_DIR or .data).",
)


def settings_for(data_dir: Path | None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


def open_storage(settings: Settings):  # type: ignore[no-untyped-def]
    from projections.storage import Storage

    try:
        return Storage.open(settings.data_dir, settings.database_url)
    except ValueError as e:
        raise click.ClickException(str(e)) from None


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
