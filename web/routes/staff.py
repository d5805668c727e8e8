"""Staff pages: drafting surveys and their questions, the lifecycle, results and CSV export.

Publishing, closing, publishing results and deleting a question cannot be undone, so the editor
offers each as a link to a confirmation page whose form does it (no JavaScript needed).
"""

import csv
import io
import re
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from domain import clock
from domain.errors import InvalidCommand
from domain.messages import N_
from domain.questions import FreeText, MultipleChoice, Number, QuestionTranslation, Scale
from projections.storage import Storage
from projections.survey_changes import SurveyChanges
from web import access
from web.access import editors_only, exporters_only
from web.auth import User, current_user, staff_only
from web.forms import one, parse_audience, parse_date, question_fields
from web.i18n import gettext as _
from web.routes.common import FormData, go, page, survey_or_404, translated
from web.routes.pages import results_page
from web.templating import question_form_values


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # The router's guard has checked.
    return user


@get("/", sync_to_thread=True)
def dashboard(request: Request[Any, Any, Any], storage: Storage, department: str = "") -> Template:
    user = _user(request)
    chosen = department or ""
    # Every department's surveys are listed, each with only the actions this person may take;
    # another department's drafts are not theirs to read.
    surveys = [
        (s, access.offers(user, s))
        for s in storage.catalogue.surveys(department=chosen or None, limit=500)
        if access.may_view_survey(user, s)
    ]
    return page(
        request,
        "staff/dashboard.html",
        surveys=surveys,
        departments=storage.catalogue.departments(),
        department=chosen,
        my_department=user.department,
    )


@get("/surveys/new", sync_to_thread=False)
def new_survey_form(request: Request[Any, Any, Any]) -> Template:
    return page(request, "staff/survey_new.html", errors={}, values={"audience": "citizens"})


def _details(data: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    details = {
        "title": one(data, "title"),
        "description": one(data, "description"),
        "audience": parse_audience(one(data, "audience"), errors),
        "opens_on": parse_date(one(data, "opens_on"), "opens_on", errors),
        "closes_on": parse_date(one(data, "closes_on"), "closes_on", errors),
    }
    return details, errors


@post("/surveys", sync_to_thread=True)
def create_survey(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    details, errors = _details(data)
    if not errors:
        try:
            survey_id = storage.app.draft_survey(staff_id=_user(request).id, **details)
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"title": _(e.message)}
        else:
            return _back_to_editor(request, storage, survey_id)
    return page(request, "staff/survey_new.html", status_code=422, errors=errors, values=data)


def _editor(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, status_code: int = 200, **context: Any
) -> Template:
    survey = survey_or_404(storage, survey_id)
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context.setdefault("question_errors", {})
    context.setdefault("question_values", {"kind": "single", "required": "on"})
    context.setdefault("correction_errors", {})
    context.setdefault("correction_values", {"title": survey.title, "description": survey.description})
    context.setdefault("extend_errors", {})
    context.setdefault("translation_errors", {})
    context.setdefault("translation_values", translation_form_values(survey, "en"))
    offers = access.offers(_user(request), survey)
    return page(
        request,
        "staff/survey_edit.html",
        status_code=status_code,
        survey=survey,
        offers=offers,
        changes=SurveyChanges(storage.db).of(survey.id),
        settings_of=question_settings,
        editor_values=editor_values,
        **context,
    )


def _back_to_editor(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, anchor: str = ""
) -> Response[Any]:
    """After a change to a survey: its editor, once the read models it shows have the change."""
    storage.projector.catch_up()
    return go(request, f"/staff/surveys/{survey_id}{anchor}")


def question_settings(question: Any) -> list[str]:
    """A question's settings in words, for the list of questions."""
    out = [_("必須") if question.required else _("任意")]
    if isinstance(question, MultipleChoice):
        if question.max_choices:
            out.append(_("%(count)sつまで選択") % {"count": question.max_choices})
        alone = _("「%(option)s」は他と同時に選べない")
        out.extend(alone % {"option": question.options[i]} for i in question.exclusive)
    elif isinstance(question, Scale):
        out.append(_("1 = %(low)s、5 = %(high)s") % {"low": question.low_label, "high": question.high_label})
    elif isinstance(question, Number):
        low, high = (f"{v:g}" for v in (question.minimum, question.maximum))
        out.append(_("%(low)s〜%(high)s%(unit)s") % {"low": low, "high": high, "unit": question.unit})
        out.append(_("整数のみ") if question.integer else _("小数も可"))
    elif isinstance(question, FreeText):
        out.append(_("%(count)s文字まで") % {"count": question.max_length})
    if question.help:
        out.append(_("補足: %(help)s") % {"help": question.help})
    return out


def translation_form_values(survey: Any, language: str) -> dict[str, str]:
    """The English form's fields as the survey's translation now stands (empty where none)."""
    translation = (survey.translations or {}).get(language)
    if translation is None:
        return {}
    values = {"title": translation.title, "description": translation.description}
    for question_id, q in translation.questions.items():
        for name in ("text", "help", "low_label", "high_label", "unit"):
            values[f"{question_id}.{name}"] = getattr(q, name)
        values[f"{question_id}.options"] = "\n".join(q.options)
    return values


def _translated_questions(survey: Any, data: FormData) -> dict[str, QuestionTranslation]:
    """The form's English of each question. An options line left empty, or missing at the end,
    reads in Japanese; more lines than options are the survey's rule to refuse."""
    questions = {}
    for q in survey.questions:
        lines = one(data, f"{q.id}.options").replace("\r\n", "\n").split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        options = getattr(q, "options", None)
        if lines and options is not None and len(lines) < len(options):
            lines += [""] * (len(options) - len(lines))
        questions[q.id] = QuestionTranslation(
            text=one(data, f"{q.id}.text"),
            help=one(data, f"{q.id}.help"),
            options=tuple(lines),
            low_label=one(data, f"{q.id}.low_label"),
            high_label=one(data, f"{q.id}.high_label"),
            unit=one(data, f"{q.id}.unit"),
        )
    return questions


def editor_values(question: Any) -> dict[str, Any]:
    """The edit form's values of a question, its exclusive options included."""
    values = question_form_values(question)
    if isinstance(question, MultipleChoice):
        values["exclusive"] = "\n".join(question.options[i] for i in question.exclusive)
    return values


def _question_fields(data: FormData, errors: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The question form's fields; settings of the other kinds, still in the form when the page
    runs without CSS or JavaScript, are ignored."""
    kind, fields = question_fields(data, errors)
    if kind == "multiple":
        wanted = [line.strip() for line in one(data, "exclusive").splitlines() if line.strip()]
        options = fields.get("options", [])
        unknown = [w for w in wanted if w not in options]
        if unknown:
            errors["exclusive"] = f"「{unknown[0]}」は選択肢にありません。選択肢と同じ文言で入力してください。"
        else:
            fields["exclusive"] = sorted({options.index(w) for w in wanted})
    return kind, fields


@get("/surveys/{survey_id:uuid}", sync_to_thread=True, guards=[editors_only])
def edit_survey(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Template:
    return _editor(request, storage, survey_id)


@post("/surveys/{survey_id:uuid}/details", sync_to_thread=True, guards=[editors_only])
def revise_details(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: FormData) -> Response[Any]:
    details, errors = _details(data)
    if not errors:
        try:
            storage.app.revise_survey_details(survey_id, staff_id=_user(request).id, **details)
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"title": _(e.message)}
    if errors:
        return _editor(request, storage, survey_id, status_code=422, errors=errors, values=data)
    return _back_to_editor(request, storage, survey_id)


@post("/surveys/{survey_id:uuid}/questions", sync_to_thread=True, guards=[editors_only])
def add_question(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: FormData) -> Response[Any]:
    errors: dict[str, str] = {}
    kind, fields = _question_fields(data, errors)
    if not errors:
        try:
            storage.app.add_question(survey_id, staff_id=_user(request).id, kind=kind, **fields)
        except InvalidCommand as e:
            errors = {"form": _(e.message)}
    if errors:
        return _editor(request, storage, survey_id, status_code=422, question_errors=errors, question_values=data)
    return _back_to_editor(request, storage, survey_id, "#questions")


@post("/surveys/{survey_id:uuid}/questions/{question_id:str}", sync_to_thread=True, guards=[editors_only])
def revise_question(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, question_id: str, data: FormData
) -> Response[Any]:
    errors: dict[str, str] = {}
    kind, fields = _question_fields(data, errors)
    if not errors:
        try:
            storage.app.revise_question(survey_id, question_id, staff_id=_user(request).id, kind=kind, **fields)
        except InvalidCommand as e:
            errors = {"form": _(e.message)}
    if errors:
        message = _("質問を保存できませんでした: %(problems)s") % {"problems": " ".join(errors.values())}
        return _editor(request, storage, survey_id, status_code=422, message=message)
    return _back_to_editor(request, storage, survey_id, "#questions")


@get("/surveys/{survey_id:uuid}/questions/{question_id:str}/delete", sync_to_thread=True, guards=[editors_only])
def confirm_remove_question(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, question_id: str
) -> Template:
    survey = survey_or_404(storage, survey_id)
    question = next((q for q in survey.questions if q.id == question_id), None)
    if question is None:
        raise NotFoundException("その質問は見つかりません。")
    return _confirmation(
        request,
        survey,
        heading=_("質問「%(text)s」を削除しますか？") % {"text": question.text},
        consequence=_("削除した質問は元に戻せません。同じ質問が必要になったら、もう一度追加してください。"),
        action=f"/staff/surveys/{survey.id}/questions/{question_id}/delete",
        button=_("削除する"),
        danger=True,
    )


@post("/surveys/{survey_id:uuid}/questions/{question_id:str}/delete", sync_to_thread=True, guards=[editors_only])
def remove_question(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, question_id: str
) -> Response[Any]:
    try:
        storage.app.remove_question(survey_id, question_id, staff_id=_user(request).id)
    except InvalidCommand as e:
        return _editor(request, storage, survey_id, status_code=422, message=_(e.message))
    return _back_to_editor(request, storage, survey_id, "#questions")


@post("/surveys/{survey_id:uuid}/questions/{question_id:str}/move", sync_to_thread=True, guards=[editors_only])
def move_question(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, question_id: str, data: FormData
) -> Response[Any]:
    offset = {"up": -1, "down": 1}.get(one(data, "direction"))
    try:
        if offset is None:
            raise InvalidCommand(_("移動の向きが正しくありません。"))
        storage.app.move_question(survey_id, question_id, offset, staff_id=_user(request).id)
    except InvalidCommand as e:
        return _editor(request, storage, survey_id, status_code=422, message=_(e.message))
    return _back_to_editor(request, storage, survey_id, f"#question-{question_id}")


@get("/surveys/{survey_id:uuid}/preview", sync_to_thread=True, guards=[editors_only])
def preview(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Template:
    """The survey as a citizen will see it; nothing here can be sent."""
    return page(request, "staff/preview.html", survey=survey_or_404(storage, survey_id))


@post("/surveys/{survey_id:uuid}/correction", sync_to_thread=True, guards=[editors_only])
def correct_details(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: FormData
) -> Response[Any]:
    values = {"title": one(data, "title"), "description": one(data, "description")}
    try:
        storage.app.correct_survey_details(survey_id, staff_id=_user(request).id, **values)
    except InvalidCommand as e:
        errors = translated(e.field_errors) or {"title": _(e.message)}
        message = _("訂正を保存できませんでした: %(problems)s") % {"problems": " ".join(translated(errors).values())}
        return _editor(
            request, storage, survey_id, 422, correction_errors=errors, correction_values=values, message=message
        )
    return _back_to_editor(request, storage, survey_id, "#changes")


@post("/surveys/{survey_id:uuid}/extend", sync_to_thread=True, guards=[editors_only])
def extend_closing(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: FormData) -> Response[Any]:
    errors: dict[str, str] = {}
    closes_on = parse_date(one(data, "closes_on"), "closes_on", errors)
    if closes_on is None and not errors:
        errors["closes_on"] = _("新しい締切を入力してください。")
    if not errors:
        try:
            storage.app.extend_survey_closing(survey_id, staff_id=_user(request).id, closes_on=closes_on)  # type: ignore[arg-type]
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"closes_on": _(e.message)}
    if errors:
        message = _("締切を延長できませんでした: %(problems)s") % {"problems": " ".join(translated(errors).values())}
        return _editor(request, storage, survey_id, status_code=422, extend_errors=errors, message=message)
    return _back_to_editor(request, storage, survey_id, "#changes")


@post("/surveys/{survey_id:uuid}/translation/{language:str}", sync_to_thread=True, guards=[editors_only])
def provide_translation(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, language: str, data: FormData
) -> Response[Any]:
    survey = survey_or_404(storage, survey_id)
    try:
        storage.app.provide_survey_translation(
            survey_id,
            staff_id=_user(request).id,
            language=language,
            title=one(data, "title"),
            description=one(data, "description"),
            questions=_translated_questions(survey, data),
        )
    except InvalidCommand as e:
        # The survey names a question's problem "questions.q1"; the form shows it at "en-q1".
        errors = {"en-" + k.removeprefix("questions."): v for k, v in translated(e.field_errors).items()}
        message = _("英語版を保存できませんでした: %(problems)s") % {
            "problems": " ".join(errors.values()) or _(e.message)
        }
        return _editor(
            request, storage, survey_id, 422, translation_errors=errors, translation_values=data, message=message
        )
    return _back_to_editor(request, storage, survey_id, "#english")


# What each irreversible step asks before it is taken: the question, and what cannot be undone.
CONFIRMATIONS: dict[str, tuple[str, str, str]] = {
    "publish": (
        N_("このアンケートを公開しますか？"),
        N_(
            "公開すると市民が回答できるようになり、質問は変更できなくなります。"
            "公開後にできるのは、タイトル・説明の誤字の訂正と締切の延長だけです（更新履歴として回答者に表示されます）。"
        ),
        N_("公開する"),
    ),
    "close": (
        N_("回答の受付を終了しますか？"),
        N_("終了すると新しい回答は受け付けられません。受付を再開することはできません。"),
        N_("受付を終了する"),
    ),
    "publish-results": (
        N_("集計結果を公開しますか？"),
        N_("公開すると、だれでも集計結果（5人未満の区分は非表示）を見られるようになります。公開は取り消せません。"),
        N_("結果を公開する"),
    ),
}


def _confirmation(
    request: Request[Any, Any, Any],
    survey: Any,
    *,
    heading: str,
    consequence: str,
    action: str,
    button: str,
    danger: bool = False,
) -> Template:
    return page(
        request,
        "staff/confirm.html",
        survey=survey,
        heading=heading,
        consequence=consequence,
        action=action,
        button=button,
        danger=danger,
    )


@get("/surveys/{survey_id:uuid}/confirm/{step:str}", sync_to_thread=True, guards=[editors_only])
def confirm_step(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, step: str) -> Template:
    if step not in CONFIRMATIONS:
        raise NotFoundException("その操作はありません。")
    survey = survey_or_404(storage, survey_id)
    heading, consequence, button = CONFIRMATIONS[step]
    return _confirmation(
        request,
        survey,
        heading=_(heading),
        consequence=_(consequence),
        action=f"/staff/surveys/{survey.id}/{step}",
        button=_(button),
        danger=step != "publish",
    )


def _transition(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, command: str) -> Response[Any]:
    try:
        getattr(storage.app, command)(survey_id, staff_id=_user(request).id)
    except InvalidCommand as e:
        return _editor(request, storage, survey_id, status_code=422, message=_(e.message))
    return _back_to_editor(request, storage, survey_id)


@post("/surveys/{survey_id:uuid}/publish", sync_to_thread=True, guards=[editors_only])
def publish(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Response[Any]:
    return _transition(request, storage, survey_id, "publish_survey")


@post("/surveys/{survey_id:uuid}/close", sync_to_thread=True, guards=[editors_only])
def close(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Response[Any]:
    return _transition(request, storage, survey_id, "close_survey")


@post("/surveys/{survey_id:uuid}/publish-results", sync_to_thread=True, guards=[editors_only])
def publish_results(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Response[Any]:
    return _transition(request, storage, survey_id, "publish_results")


@get("/surveys/{survey_id:uuid}/results", sync_to_thread=True)
def staff_results(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, segment: str = "ward"
) -> Response[Any]:
    survey = survey_or_404(storage, survey_id)
    user = _user(request)
    if not access.may_read_live_results(user, survey) and access.may_read_published_results(user, survey):
        # Another department's published results: the public view, in aggregate only.
        return Redirect(f"/surveys/{survey_id}/results?{urlencode({'segment': segment})}", status_code=303)
    access.require(access.may_read_live_results(user, survey), access.RESULTS_NOT_PUBLISHED)
    return results_page(request, storage, survey, segment, staff_view=True)


@get("/surveys/{survey_id:uuid}/results.csv", sync_to_thread=True, guards=[exporters_only])
def results_csv(storage: Storage, survey_id: UUID) -> Response[bytes]:
    survey = survey_or_404(storage, survey_id)
    results = storage.results.of(survey)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def row(cells: list[object]) -> None:
        # Excel runs a cell starting = + - @ (or tab, CR) as a formula; staff-typed text such as a
        # question or option is kept text by a leading apostrophe. Numbers are written as they are.
        writer.writerow(
            ["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in cells]
        )

    row(["質問ID", "質問", "区分", "区分の値", "回答者数", "選択肢・階級", "件数", "割合(%)", "平均"])
    for q in results.questions:
        has_mean = q.kind in ("scale", "number")
        columns = [q.overall] + [c for cols in q.breakdowns.values() for c in cols]
        for col in columns:
            segment = "全体" if col.segment == "all" else results.segments[col.segment]
            mean = col.mean if col.mean is not None else (results.suppressed_mark if has_mean else "")
            if not q.buckets:
                row([q.id, q.text, segment, col.label, col.respondents, "", "", "", ""])
            for label, count, percent in zip(q.buckets, col.counts, col.percents, strict=True):
                shown_percent = results.suppressed_mark if percent is None else percent
                row([q.id, q.text, segment, col.label, col.respondents, label, count, shown_percent, mean])
    # Excel detects UTF-8 only with a byte-order mark; without it Japanese turns to mojibake.
    body = "\ufeff" + out.getvalue()
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": csv_disposition(survey.title, clock.city_date(clock.now()).isoformat())},
    )


# Characters Windows, macOS or Excel refuse in a file name, and control characters.
_NOT_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def csv_disposition(title: str, day: str) -> str:
    """attachment; the survey's title and the day as the file name (RFC 6266 with RFC 5987's
    filename* for the Japanese), and an ASCII name for clients that read only filename."""
    name = _NOT_IN_FILENAMES.sub("_", title).strip(" ._") or "results"
    name = f"{name[:60]}_{day}.csv"
    return f"attachment; filename=\"kyoso-results-{day}.csv\"; filename*=UTF-8''{quote(name, safe='')}"


router = Router(
    path="/staff",
    guards=[staff_only],
    route_handlers=[
        dashboard,
        new_survey_form,
        create_survey,
        edit_survey,
        revise_details,
        add_question,
        revise_question,
        confirm_remove_question,
        remove_question,
        move_question,
        preview,
        correct_details,
        extend_closing,
        provide_translation,
        confirm_step,
        publish,
        close,
        publish_results,
        staff_results,
        results_csv,
    ],
)
routes = [router]
