"""`kyoso themes`: theme analysis of a CSV of free-text opinions, from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from web.cli_common import open_storage, settings_for


@click.group(help="意見のテーマ分析 / Theme analysis of free-text opinions.")
def themes() -> None:
    pass


def _table(analysis, console: Console) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"{len(analysis.themes)} themes ({analysis.model.name})", show_lines=True)
    table.add_column("ID", no_wrap=True)
    table.add_column("テーマ / Theme")
    table.add_column("件数", justify="right")
    table.add_column("キーワード / Keywords")
    table.add_column("代表的な意見 / Quotes")
    for theme in analysis.themes:
        for row, depth in [(theme, 0)] + [(child, 1) for child in theme.children]:
            table.add_row(
                row.id,
                ("  └ " if depth else "") + row.label,
                str(row.size),
                "、".join(row.keywords[:6]),
                "\n".join(f"「{q.text[:80]}」" for q in row.quotes) if depth == 0 else "",
            )
    console.print(table)


@themes.command(help="Analyse FILE (CSV, UTF-8 or Shift_JIS) and print its themes.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text-column", required=True, help="Column holding the opinion text.")
@click.option("--id-column", default=None, help="Column holding opinion ids (default: row no.).")
@click.option("--k", type=click.IntRange(min=1), default=None, help="Number of themes (default: auto).")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--model",
    default=None,
    help="sentence-transformers model directory (default: $KYOSO_EMBEDDING_MODEL or bundled e5).",
)
def analyze(
    file: Path,
    text_column: str,
    id_column: str | None,
    k: int | None,
    fmt: str,
    output: Path | None,
    seed: int,
    model: str | None,
) -> None:
    # Imported here so `kyoso --help` stays fast: ml pulls in numpy and scikit-learn.
    from ml import OpinionInputError, encode_analysis, make_embedder, read_opinions_csv
    from ml import analyze as run_analysis

    try:
        opinions = read_opinions_csv(file, text_column, id_column)
    except OpinionInputError as e:
        raise click.ClickException(str(e)) from None
    if k is not None and k > len(opinions):
        raise click.ClickException(
            f"--k {k} は意見の件数 ({len(opinions)}) を超えています / "
            f"--k {k} exceeds the number of opinions ({len(opinions)})"
        )
    try:
        embedder = make_embedder(model)
    except (FileNotFoundError, OSError) as e:
        raise click.ClickException(str(e)) from None

    err = Console(stderr=True)
    with Progress(
        TextColumn("埋め込み計算 / embedding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("embed", total=len(opinions))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            analysis = run_analysis(opinions, k=k, embedder=embedder, seed=seed, progress=progress)
        except ValueError as e:
            raise click.ClickException(str(e)) from None

    if fmt == "json":
        text = encode_analysis(analysis).decode("utf-8") + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
    else:
        if output is None:
            _table(analysis, Console())
        else:
            with output.open("w", encoding="utf-8") as handle:
                _table(analysis, Console(file=handle, width=160))
    err.print(f"{len(opinions)} 件 → {len(analysis.themes)} テーマ (seed={seed}, model={analysis.model.name})")


def _partition(themes: list[Any]) -> list[tuple[str, tuple[str, ...]]]:
    """What decides a result: which opinions went to which theme and sub-theme."""
    out = []
    for theme in themes:
        out.append((theme.id, tuple(sorted(theme.members))))
        out.extend((child.id, tuple(sorted(child.members))) for child in theme.children)
    return out


@themes.command(help="Re-run a recorded analysis with its inputs, model, parameters and seed; compare.")
@click.argument("analysis_id", type=click.UUID)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def rerun(analysis_id: Any, data_dir: Path | None) -> None:
    from ml import Opinion, make_embedder
    from ml import analyze as run
    from web.themes import opinions_for

    storage = open_storage(settings_for(data_dir))
    try:
        try:
            recorded = storage.app.get_theme_analysis(analysis_id)
        except Exception as e:
            raise click.ClickException(f"分析 {analysis_id} が見つかりません / not found: {e}") from None
        embedder = make_embedder(cache_dir=storage.data_dir / "embeddings")
        if (embedder.name, embedder.version) != (recorded.model.name, recorded.model.version):
            raise click.ClickException(
                f"モデルが異なります / model differs: recorded {recorded.model.name} {recorded.model.version}, "
                f"installed {embedder.name} {embedder.version}"
            )
        wanted = set(recorded.input_ids)
        rows = [r for r in opinions_for(storage, recorded.corpus) if r[0] in wanted]
        if len(rows) != len(wanted):
            raise click.ClickException(f"入力の一部が見つかりません / {len(wanted) - len(rows)} inputs missing")
        result = run(
            [Opinion(rid, text) for rid, text in rows],
            k=recorded.params.get("k"),
            embedder=embedder,
            seed=recorded.seed,
        )
    finally:
        storage.close()
    same = _partition(result.themes) == _partition(recorded.themes)
    labels_same = [t.label for t in result.themes] == [t.label for t in recorded.themes]
    click.echo(
        json.dumps(
            {"analysis_id": str(analysis_id), "identical": same and labels_same, "themes": len(result.themes)},
            ensure_ascii=False,
        )
    )
    if not (same and labels_same):
        raise SystemExit(1)
