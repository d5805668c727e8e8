"""What files a proposal may carry: PDF, Word, Excel, PNG and JPEG up to 10 MB, known by their content.

The type is read from the bytes (magic numbers; for .docx/.xlsx, the zip's own directory), never
from the name or the browser's Content-Type. A name whose extension says something else than the
content is refused rather than stored: downloaded under that name, the file would open in the
wrong program, and a mismatch is how disguised files usually arrive.
"""

import hashlib
import io
import zipfile
from dataclasses import dataclass

from domain.errors import InvalidCommand
from domain.messages import N_, Message
from domain.text import forbidden_characters_problem

MAX_BYTES = 10 * 1024 * 1024
MAX_NAME = 200
PDF, DOCX, XLSX, PNG, JPEG = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/png",
    "image/jpeg",
)
EXTENSIONS = {PDF: (".pdf",), DOCX: (".docx",), XLSX: (".xlsx",), PNG: (".png",), JPEG: (".jpg", ".jpeg")}
LABELS = {PDF: "PDF", DOCX: "Word", XLSX: "Excel", PNG: N_("PNG画像"), JPEG: N_("JPEG画像")}
UNSUPPORTED = N_("対応していない形式です。PDF・Word（.docx）・Excel（.xlsx）・PNG・JPEGのファイルを添付してください。")
TOO_LARGE = N_("ファイルが大きすぎます。1ファイル10MBまでです。")


@dataclass(frozen=True)
class CheckedFile:
    name: str
    media_type: str
    size: int
    sha256: str


def sniff(content: bytes) -> str | None:
    """The media type the content really is, or None if it is none we take."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        # Only the central directory is read: nothing is decompressed, so a zip bomb costs nothing.
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return DOCX
            if any(n.startswith("xl/") for n in names):
                return XLSX
    return None


def check_file(name: str, content: bytes) -> CheckedFile:
    """The file as it will be recorded, or InvalidCommand with a field error on "file"."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()  # Some browsers send the whole path.
    if not name or not content:
        raise InvalidCommand(field_errors={"file": N_("ファイルを選んでください。")})
    if len(name) > MAX_NAME:
        raise InvalidCommand(field_errors={"file": N_("ファイル名は%(limit)s文字以内にしてください。", limit=MAX_NAME)})
    if problem := forbidden_characters_problem(name):
        raise InvalidCommand(field_errors={"file": problem})
    if len(content) > MAX_BYTES:
        raise InvalidCommand(TOO_LARGE, field_errors={"file": TOO_LARGE})
    media_type = sniff(content)
    if media_type is None:
        raise InvalidCommand(field_errors={"file": UNSUPPORTED})
    if not name.lower().endswith(EXTENSIONS[media_type]):
        message = N_(
            "ファイルの中身（%(kind)s）が拡張子と一致しません。正しいファイルか確認してください。",
            kind=Message(LABELS[media_type]),
        )
        raise InvalidCommand(field_errors={"file": message})
    return CheckedFile(name, media_type, len(content), hashlib.sha256(content).hexdigest())
