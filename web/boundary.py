"""The web boundary: every text a request carries is checked here, once, before any handler runs.

The path, the query string and the body a route will parse (its form or its JSON) are decoded the
way Litestar decodes them and every key and string value is checked for the control characters
domain/text.py forbids. Litestar itself is lenient where we must not be: it turns bad UTF-8 in a
form into U+FFFD and raw bytes into latin-1, and lets the JSON decoder's RecursionError or
UnicodeDecodeError become a 500. Here those are a 400, forbidden characters a 422, and nothing
is stored because no handler ran.
"""

from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import parse_qsl

import msgspec
from litestar.connection import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.text import CONTROL_MESSAGE, has_forbidden_characters

BodyKind = Literal["form", "json", "multipart", "unchecked"]

# Far deeper than any request Kyoso takes ({"answers": {"q1": [0, 2]}} is three levels), and far
# below the depth where the JSON decoder gives up with a RecursionError.
MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MALFORMED_MESSAGE = "リクエストの内容が正しくありません。"
NUMBER_MESSAGE = "数値が大きすぎます。"


class RefusedInput(ClientException):
    """A request refused at the boundary, with the stable code and field errors the API reports."""

    def __init__(self, status_code: int, error: str, detail: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(detail=detail, status_code=status_code)
        self.error = error
        self.field_errors = field_errors or {}


def malformed(what: str) -> RefusedInput:
    return RefusedInput(400, f"malformed_{what}", MALFORMED_MESSAGE)


class BoundaryMiddleware:
    """Runs after routing (Litestar middleware does), so it knows how the route will read the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems: dict[str, str] = {}
        check_text("path", scope["path"], problems)
        check_pairs(parse_urlencoded(scope.get("query_string", b""), "query"), problems)
        kind = body_kind(scope.get("route_handler"))
        if kind == "multipart":
            receive = await check_multipart(Request(scope, receive), receive, problems)
        elif kind is not None:
            # Reading through Request enforces the body size limit and leaves the body cached in
            # the scope for Litestar's own parsers; the replayed messages serve anything else.
            request: Request[Any, Any, Any] = Request(scope, receive)
            body = await request.body()
            receive = replay(body, receive)
            if body and kind == "form":
                # A multipart body would be parsed by the CSRF check and that parse reused for the
                # route: refuse it, so that the form checked here is the form the handler gets.
                if request.content_type[0] == RequestEncodingType.MULTI_PART:
                    raise RefusedInput(415, "unsupported_body", MALFORMED_MESSAGE)
                check_pairs(parse_urlencoded(body, "form"), problems)
            elif body and kind == "json":
                check_json(body, problems)
            elif body:
                raise RefusedInput(415, "unsupported_body", MALFORMED_MESSAGE)
        if problems:
            if CONTROL_MESSAGE in problems.values():
                raise RefusedInput(422, "invalid_characters", CONTROL_MESSAGE, problems)
            raise RefusedInput(422, "number_out_of_range", NUMBER_MESSAGE, problems)
        await self.app(scope, receive, send)


def body_kind(handler: Any) -> BodyKind | None:
    """How the route parses its body (whatever the Content-Type says), or None if it takes none."""
    signature = getattr(handler, "parsed_fn_signature", None)
    field = signature.parameters.get("data") if signature else None
    if field is None:
        return None
    media_type = getattr(field.kwarg_definition, "media_type", None)
    if media_type == RequestEncodingType.URL_ENCODED:
        return "form"
    if media_type in (None, RequestEncodingType.JSON):
        return "json"
    if media_type == RequestEncodingType.MULTI_PART:
        return "multipart"  # Only routes that declare an upload (with their own request_max_body_size).
    return "unchecked"  # msgpack: none yet; teach the boundary before adding one.


async def check_multipart(request: Request[Any, Any, Any], receive: Receive, problems: dict[str, str]) -> Receive:
    """An upload route's form: its text fields, field names and file names checked like a form's.

    The form is parsed once (the CSRF check may already have parsed it) and that same parse is the
    one the handler gets, from the connection state. Anything but multipart is refused (415).
    """
    if request.content_type[0] != RequestEncodingType.MULTI_PART:
        body = await request.body()
        if body:
            raise RefusedInput(415, "unsupported_body", MALFORMED_MESSAGE)
        return replay(body, receive)
    form = await request.form()
    for key, value in form.multi_items():
        text = value if isinstance(value, str) else (getattr(value, "filename", "") or "")
        check_text(key, key + text, problems)
    return receive


def replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed  # type: ignore[return-value]


def parse_urlencoded(raw: bytes, what: str) -> list[tuple[str, str]]:
    """Pairs exactly as Litestar's parser reads them, but refusing what it would silently mangle.

    Browsers percent-encode everything outside ASCII, and percent-escapes must decode as UTF-8.
    """
    try:
        return parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise malformed(what) from None


def check_text(field: str, text: str, problems: dict[str, str]) -> None:
    if has_forbidden_characters(text):
        problems.setdefault(printable(field), CONTROL_MESSAGE)


def check_pairs(pairs: list[tuple[str, str]], problems: dict[str, str]) -> None:
    for key, value in pairs:
        check_text(key, key + value, problems)


def check_json(body: bytes, problems: dict[str, str]) -> None:
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        raise malformed("json") from None
    for path, depth, value in walk(document):
        if depth > MAX_JSON_DEPTH:
            raise malformed("json")
        if isinstance(value, str):
            check_text(path or "$", value, problems)
        elif isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            problems.setdefault(printable(path or "$"), NUMBER_MESSAGE)


def walk(document: Any) -> Iterator[tuple[str, int, Any]]:
    """Every value and every key of a decoded JSON document, with its dotted path and depth.

    Iterative, so that no document can exhaust Python's stack here.
    """
    stack: list[tuple[str, int, Any]] = [("", 0, document)]
    while stack:
        path, depth, value = stack.pop()
        yield path, depth, value
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                yield child, depth + 1, key
                stack.append((child, depth + 1, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), depth + 1, item) for i, item in enumerate(value))


def printable(field: str) -> str:
    """A field name fit to echo back: the forbidden characters in it shown as escapes."""
    if not has_forbidden_characters(field):
        return field
    return "".join(f"\\u{ord(c):04x}" if has_forbidden_characters(c) else c for c in field)
