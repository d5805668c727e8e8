"""CSV input (encodings, errors) and the `themes analyze` command via CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ml.csvio import OpinionInputError, read_opinions_csv
from web.cli_themes import themes

ROWS = [
    ("a1", "公園のトイレをきれいにしてほしい"),
    ("a2", ""),
    ("a3", "駅前の駐輪場が足りない、増やしてほしい"),
    ("a4", "ゴミの収集日を増やしてほしい"),
]


def _csv(rows: list[tuple[str, str]] = ROWS) -> str:
    lines = ["番号,ご意見,年代"] + [f'{i},"{t}",30代' for i, t in rows]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "shift_jis", "utf-16"])
def test_reads_excel_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "opinions.csv"
    content = _csv()
    if encoding == "utf-16":
        content = content.replace(",", "\t")
    path.write_bytes(content.encode(encoding))
    opinions = read_opinions_csv(path, "ご意見", "番号")
    assert [o.id for o in opinions] == ["a1", "a3", "a4"]  # blank text skipped
    assert opinions[0].text == "公園のトイレをきれいにしてほしい"


def test_ids_default_to_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "opinions.csv"
    path.write_text(_csv(), encoding="utf-8")
    assert [o.id for o in read_opinions_csv(path, "ご意見")] == ["1", "3", "4"]


def test_missing_column_lists_available_columns(tmp_path: Path) -> None:
    path = tmp_path / "opinions.csv"
    path.write_text(_csv(), encoding="utf-8")
    with pytest.raises(OpinionInputError) as error:
        read_opinions_csv(path, "意見")
    message = str(error.value)
    assert "見つかりません" in message and "not found" in message
    assert "'ご意見'" in message and "'番号'" in message and "'年代'" in message


@pytest.mark.parametrize(
    "content, phrase",
    [
        (b"", "empty"),
        (b"\r\n  \r\n", "empty"),
        ("番号,ご意見\n1,\n2,  \n".encode(), "No non-empty rows"),
        (b"id,text\n1,\x85\x40\xff\xfe\n", "Cannot decode"),
    ],
)
def test_clear_errors(tmp_path: Path, content: bytes, phrase: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    column = "ご意見" if "ご意見".encode() in content else "text"
    with pytest.raises(OpinionInputError, match=phrase):
        read_opinions_csv(path, column)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OpinionInputError, match="Cannot read"):
        read_opinions_csv(tmp_path / "nope.csv", "text")


@pytest.fixture
def survey_csv(tmp_path: Path, sib_ja) -> Path:
    # Real sentences, so the cached e5 vectors of the SIB fixtures are reused.
    rows = [(d.opinion.id, d.opinion.text) for d in sib_ja[:60]]
    path = tmp_path / "survey.csv"
    lines = ["id,text"] + [f'{i},"{t.replace(chr(34), chr(34) * 2)}"' for i, t in rows]
    path.write_bytes("\r\n".join(lines).encode("cp932", errors="replace"))
    return path


def test_cli_json(survey_csv: Path, tmp_path: Path, e5) -> None:
    out = tmp_path / "themes.json"
    result = CliRunner().invoke(
        themes,
        [
            "analyze",
            str(survey_csv),
            "--text-column",
            "text",
            "--id-column",
            "id",
            "--k",
            "3",
            "--format",
            "json",
            "--output",
            str(out),
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["themes"]) == 3
    assert data["params"]["seed"] == 1 and data["params"]["k"] == 3
    assert sum(t["size"] for t in data["themes"]) == 60


def test_cli_table(survey_csv: Path) -> None:
    result = CliRunner().invoke(themes, ["analyze", str(survey_csv), "--text-column", "text", "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "t1" in result.output and "t1.1" in result.output


def test_cli_errors_are_clean(tmp_path: Path, survey_csv: Path) -> None:
    result = CliRunner().invoke(themes, ["analyze", str(survey_csv), "--text-column", "nope"])
    assert result.exit_code != 0
    assert "Available columns" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, OpinionInputError)  # wrapped in ClickException
    missing = CliRunner().invoke(themes, ["analyze", str(tmp_path / "x.csv"), "--text-column", "t"])
    assert missing.exit_code != 0 and "Cannot read" in missing.output
    too_many = CliRunner().invoke(themes, ["analyze", str(survey_csv), "--text-column", "text", "--k", "999"])
    assert too_many.exit_code != 0 and "exceeds" in too_many.output
