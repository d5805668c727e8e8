"""Reading opinions from the CSV files staff export from survey tools and Excel.

Excel on Japanese Windows saves "CSV" as Shift_JIS (really CP932); newer versions offer UTF-8 with
a BOM; other tools write plain UTF-8. We try those in that order of strictness.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ml.types import Opinion

# UTF-8 first: it is strict, so Shift_JIS bytes almost never decode as UTF-8 by accident.
_ENCODINGS = ("utf-8-sig", "cp932")


class OpinionInputError(ValueError):
    """The input file cannot be turned into opinions; the message is for staff (ja + en)."""


# Python's cp932 codec maps a few bytes no Excel file contains (0x80, 0xA0, 0xFD-0xFF) to
# control or private-use characters; seeing them means the file was not really Shift_JIS.
_CP932_GARBAGE = re.compile("[\x80\uf8f0-\uf8f3]")


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export is UTF-16 with a byte-order mark.
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in _ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp932" and _CP932_GARBAGE.search(text):
            continue
        return text
    raise OpinionInputError(
        f"ファイルの文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）: {path}\n"
        f"Cannot decode the file; save it as UTF-8 or Shift_JIS (CP932): {path}"
    )


def read_opinions_csv(path: str | Path, text_column: str, id_column: str | None = None) -> list[Opinion]:
    """Opinions from a CSV with a header row; blank texts are skipped.

    Ids come from ``id_column`` if given, else the 1-based data row number (header excluded), so
    that staff can find a quoted opinion in the spreadsheet.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OpinionInputError(
            f"ファイルを読み込めません: {path}\nCannot read the file: {path} ({exc.strerror})"
        ) from exc
    text = _decode(raw, path)
    if not text.strip():
        raise OpinionInputError(f"ファイルが空です: {path}\nThe file is empty: {path}")
    first_line = text.split("\n", 1)[0]
    # Tab-separated exports (Excel "Unicode text", TSV) are accepted as well.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise OpinionInputError(f"CSV として読み込めません: {path}\nNot a valid CSV file: {path} ({exc})") from exc
    columns = {name: i for i, name in reversed(list(enumerate(header)))}
    available = ", ".join(repr(h) for h in header)
    for wanted in (text_column, id_column):
        if wanted is not None and wanted not in columns:
            raise OpinionInputError(
                f"列 {wanted!r} が見つかりません。利用できる列: {available}\n"
                f"Column {wanted!r} not found. Available columns: {available}"
            )
    text_index = columns[text_column]
    id_index = columns[id_column] if id_column is not None else None

    opinions: list[Opinion] = []
    seen_ids: set[str] = set()
    try:
        for row_number, row in enumerate(reader, start=1):
            value = row[text_index].strip() if text_index < len(row) else ""
            if not value:
                continue
            if id_index is None:
                opinion_id = str(row_number)
            else:
                opinion_id = row[id_index].strip() if id_index < len(row) else ""
                if not opinion_id:
                    raise OpinionInputError(
                        f"{row_number} 行目の ID が空です（列 {id_column!r}）\n"
                        f"Row {row_number} has an empty id in column {id_column!r}"
                    )
                if opinion_id in seen_ids:
                    raise OpinionInputError(
                        f"ID {opinion_id!r} が重複しています（列 {id_column!r}）\n"
                        f"Duplicate id {opinion_id!r} in column {id_column!r}"
                    )
            seen_ids.add(opinion_id)
            opinions.append(Opinion(id=opinion_id, text=value))
    except csv.Error as exc:
        raise OpinionInputError(f"CSV として読み込めません: {path}\nNot a valid CSV file: {path} ({exc})") from exc
    if not opinions:
        raise OpinionInputError(
            f"列 {text_column!r} に意見が1件もありません: {path}\nNo non-empty rows in column {text_column!r}: {path}"
        )
    return opinions
