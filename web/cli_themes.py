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
    table.add_column("同趣旨 / Duplicates")
    multi = _multi_theme(analysis.themes)
    for theme in analysis.themes:
        for row, depth in [(theme, 0)] + [(child, 1) for child in theme.children]:
            table.add_row(
                row.id,
                ("  └ " if depth else "") + row.label,
                str(row.size) + (f"\n(複数テーマ {sum(m in multi for m in row.members)})" if depth == 0 else ""),
                "、".join(row.keywords[:6]),
                "\n".join(f"「{q.text[:80]}」" for q in row.quotes) if depth == 0 else "",
                _duplicates_cell(row) if depth == 0 else "",
            )
    console.print(table)
    console.print(
        f"同趣旨のまとまり {sum(len(t.duplicates) for t in analysis.themes)} 件、"
        f"複数のテーマにまたがる意見 {len(multi)} 件 / duplicate groups, opinions in several themes"
    )


def _multi_theme(themes: list[Any]) -> set[str]:
    seen: dict[str, int] = {}
    for theme in themes:
        for m in theme.members:
            seen[m] = seen.get(m, 0) + 1
    return {m for m, n in seen.items() if n > 1}


def _duplicates_cell(theme: Any) -> str:
    groups = sorted(theme.duplicates, key=lambda d: -len(d.members))
    lines = [f"同趣旨 {len(d.members)}件 ({d.representative})" for d in groups[:5]]
    return "\n".join(lines + ([f"…ほか{len(groups) - 5}まとまり"] if len(groups) > 5 else []))


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
        from ml.pipeline import ALGORITHM_VERSION

        if recorded.params.get("algorithm_version") not in (None, ALGORITHM_VERSION):
            raise click.ClickException(
                f"アルゴリズムが異なります / algorithm differs: recorded {recorded.params['algorithm_version']}, "
                f"installed {ALGORITHM_VERSION}"
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


@themes.command(help="Show a recorded analysis: themes, duplicate groups, multi-theme opinions, lift, assignments.")
@click.argument("analysis_id", type=click.UUID)
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def show(analysis_id: Any, fmt: str, data_dir: Path | None) -> None:
    import msgspec

    storage = open_storage(settings_for(data_dir))
    try:
        view = storage.themes.analysis(str(analysis_id))
        if view is None:
            raise click.ClickException(f"分析 {analysis_id} が見つかりません / not found")
        lift = storage.themes.lift(view)
        runs = storage.themes.assignments(str(analysis_id))
    finally:
        storage.close()
    if fmt == "json":
        # Counts, ids and labels only: the opinions' words stay behind the web's access rules.
        data = {
            "analysis_id": view.id,
            "themes": [
                {"id": t.id, "label": t.label, "size": t.size, "duplicates": msgspec.to_builtins(t.duplicates)}
                for t in view.themes
            ],
            "multi_theme_opinions": sorted(_multi_theme(view.themes)),
            "lift": msgspec.to_builtins(lift),
            "assignment": msgspec.to_builtins(runs[0]) if runs else None,
        }
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    out = Console()
    multi = _multi_theme(view.themes)
    table = Table(title=f"{len(view.themes)} themes, {view.input_count} opinions", show_lines=True)
    for column in ("ID", "テーマ / Theme", "件数", "複数テーマ", "同趣旨 / Duplicates"):
        table.add_column(column)
    for t in view.themes:
        table.add_row(t.id, t.label, str(t.size), str(sum(m in multi for m in t.members)), _duplicates_cell(t))
    out.print(table)
    for segment in lift:
        heat = Table(
            title=f"lift: {segment.segment} (x = hidden, * = significant after Bonferroni, m={segment.cells_tested})"
        )
        heat.add_column("テーマ")
        for _, label, share in segment.columns:
            heat.add_column(f"{label}\n{share}", justify="right")
        for _, label, cells in segment.rows:
            heat.add_row(
                label,
                *[
                    str(c.count) if c.lift is None else f"{c.count} ×{c.lift:.2f}{'*' if c.significant else ''}"
                    for c in cells
                ],
            )
        out.print(heat)
    if runs:
        run = runs[0]
        placed = run.by_theme()
        out.print(
            f"分析後に届いた意見 {run.opinion_count} 件を割り当て済み ({run.assigned_at}): "
            + "、".join(f"{t.label} {len(placed.get(t.id, []))}" for t in view.themes)
            + f"、新しい意見 {run.new_count}"
            + ("（再分析をおすすめします）" if run.rerun_recommended else "")
        )


@themes.command(help="Assign the opinions that arrived since ANALYSIS_ID to its themes (no re-clustering).")
@click.argument("analysis_id", type=click.UUID)
@click.option("--by", "email", required=True, help="E-mail of the staff member on whose behalf it is recorded.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def assign(analysis_id: Any, email: str, data_dir: Path | None) -> None:
    from domain.errors import DomainError
    from web.themes import assign_new_opinions

    storage = open_storage(settings_for(data_dir))
    try:
        identity = storage.identities.find_by_email(email)
        if identity is None:
            raise click.ClickException("そのメールアドレスの職員はいません / no such staff member")
        try:
            result = assign_new_opinions(storage, analysis_id, identity.participant_id)
        except (ValueError, DomainError) as e:
            raise click.ClickException(str(e)) from None
    finally:
        storage.close()
    click.echo(
        json.dumps(
            {
                "analysis_id": str(analysis_id),
                "assigned": len(result.assignments),
                "new_opinions": len(result.far),
                "threshold": result.threshold,
                "rerun_recommended": result.rerun_recommended,
            },
            ensure_ascii=False,
        )
    )
