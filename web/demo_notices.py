"""Demo data for targeted notices: four notices from four departments sent to segments over the past
year (one in the previous fiscal year), their recipients opening them over the following days, in
the inbox or from the e-mail, and some answering the linked survey within the week; and a draft.

Everything is sent through the same job as the staff pages (web/notice_jobs.py), each step stamped
at its moment, in the order of those moments: a notice's openings and answers come after its
sending in the log, as they would have. The segments are resolved against the participants read
model, so this runs after the other demo parts (and after the preferences demo, whose e-mail
opt-ins decide who also gets each notice by e-mail).
"""

import contextlib
import heapq
import itertools
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from domain import clock
from domain.errors import DomainError
from domain.notice import LinkKind, OpenedHow, Segment
from domain.questions import MultipleChoice, Number, Scale, SingleChoice
from domain.values import AgeBand, Role, Ward
from projections.storage import Storage
from web.notice_jobs import NoticeJobs

PARKS_SURVEY = "公園とまちの魅力についてのアンケート"
CITIZENS = (Role.CITIZEN,)

# (key, department, sent (days from today), title, body, segment, link, share opening, share of openers answering)
NOTICES: list[tuple[str, str, int, str, str, Segment, str | None, float, float]] = [
    ("mynumber", "デジタル推進課", -320, "マイナンバーカードの出張申請窓口を開設します",
     "60歳以上の皆さまを対象に、各地区の公民館でマイナンバーカードの出張申請窓口を開設します。\n予約は不要です。本人確認書類をお持ちください。",
     Segment(age_bands=(AgeBand.AGE_60S, AgeBand.AGE_70_PLUS), roles=CITIZENS), None, 0.31, 0.0),
    ("bousai", "危機管理課", -60, "中央・小田地区の総合防災訓練のお知らせ",
     "来月の第2日曜日に、中央・小田地区で総合防災訓練を行います。\n避難所までの道順を、ご家族で確かめる機会にしてください。",
     Segment(wards=(Ward.CHUO, Ward.ODA), roles=CITIZENS), None, 0.38, 0.0),
    ("hiroba", "子育て支援課", -45, "子育てひろばを新しく開設しました",
     "未就学のお子さんと保護者が自由に過ごせる子育てひろばを、市内3か所に開設しました。\n保育士が子育ての相談にも応じます。",
     Segment(age_bands=(AgeBand.AGE_30S, AgeBand.AGE_40S), has_children=True, roles=CITIZENS), None, 0.62, 0.0),
    ("parks", "公園計画課", -12, "公園アンケートへのご協力のお願い",
     "身近な公園とまちの魅力について、アンケートを実施しています。\n5分ほどで回答できます。まだの方はぜひご協力ください。",
     Segment(roles=CITIZENS), "parks", 0.55, 0.45),
]  # fmt: skip
DRAFT = (
    "子育て支援課",
    "乳幼児健診の日程変更について（案）",
    "来月の乳幼児健診の日程が一部変わります。詳しい日程は決まり次第お知らせします。",
)


def _moment(today: date, days: int, hour: int = 10) -> datetime:
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.CITY_TZ)


def _answers(questions: Any, rng: random.Random) -> dict[str, Any]:
    """Plausible answers to any survey's closed questions (free text left out)."""
    answers: dict[str, Any] = {}
    for q in questions:
        if isinstance(q, SingleChoice):
            answers[q.id] = rng.randrange(len(q.options))
        elif isinstance(q, MultipleChoice):
            answers[q.id] = sorted(rng.sample(range(len(q.options)), min(len(q.options), q.max_choices or 2, 2)))
        elif isinstance(q, Scale):
            answers[q.id] = rng.choice([2, 3, 3, 4, 4, 4, 5])
        elif isinstance(q, Number):
            answers[q.id] = rng.randint(int(q.minimum), min(int(q.maximum), int(q.minimum) + 60))
    return answers


def load(storage: Storage, ids: dict[str, UUID], citizens: list[UUID], seed: int = 2025) -> None:
    """Sends the demo's notices, with their openings and answers, each at its moment."""
    del citizens  # the segments find them in the participants read model
    rng = random.Random(seed)
    app, db = storage.app, storage.db
    today = clock.city_today()
    storage.projector.catch_up()
    found = db.query_one("SELECT survey_id FROM surveys WHERE title = ? AND status = 'published'", (PARKS_SURVEY,))
    parks = UUID(str(found[0])) if found else None
    jobs = NoticeJobs(storage)
    staff = {"子育て支援課": ids["staff"]}
    demo_citizen = ids.get("citizen")

    # One timeline: sendings, then the openings and answers each sending schedules, in time order.
    order = itertools.count()
    timeline: list[tuple[datetime, int, Callable[[], None]]] = []

    def at(moment: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(timeline, (moment, next(order), action))

    def send(key: str, department: str, title: str, body: str, segment: Segment, link: str | None,
             opening: float, answering: float, moment: datetime) -> Callable[[], None]:  # fmt: skip
        def action() -> None:
            if link == "parks" and parks is None:
                return  # the surveys demo is not there: nothing to link to
            chosen = Segment(**{**_fields(segment), "not_answered_survey_id": parks}) if link == "parks" else segment
            by = staff.get(department, ids["admin"])
            notice = app.draft_notice(
                staff_id=by, title=title, body=body, department=department,
                link_kind=LinkKind.SURVEY if link == "parks" else None, link_id=parks if link == "parks" else None,
            )  # fmt: skip
            try:
                jobs.send_now(notice, by, chosen)
            except DomainError:
                return
            storage.projector.catch_up()
            rows = db.query("SELECT participant_id, emailed FROM notice_recipients WHERE notice_id = ?", (str(notice),))
            for participant, emailed in sorted(rows):
                person = UUID(participant)
                if person == demo_citizen:
                    # The demo login reads the childcare notice and leaves the others unread.
                    if key == "hiroba":
                        at(moment + timedelta(hours=3), lambda p=person, n=notice: _open(p, n, OpenedHow.INBOX))
                    continue
                if rng.random() >= opening:
                    continue
                later = moment + timedelta(hours=min(24 * 10, rng.expovariate(1 / 20)))
                how = OpenedHow.EMAIL_LINK if emailed and rng.random() < 0.6 else OpenedHow.INBOX
                at(later, lambda p=person, n=notice, h=how: _open(p, n, h))
                if parks is not None and link == "parks" and rng.random() < answering:
                    answered = later + timedelta(minutes=rng.randint(5, 60 * 24 * 9))  # some after the week
                    at(answered, lambda p=person: _answer(p))

        return action

    def _open(person: UUID, notice: UUID, how: OpenedHow) -> None:
        app.open_notice(person, notice, how)

    def _answer(person: UUID) -> None:
        assert parks is not None
        with contextlib.suppress(DomainError):  # answered meanwhile, or the survey no longer open
            app.submit_response(parks, person, _answers(app.get_survey(parks).questions, rng))

    now = clock.now()
    for key, department, days, title, body, segment, link, opening, answering in NOTICES:
        moment = _moment(today, days)
        at(moment, send(key, department, title, body, segment, link, opening, answering, moment))
    while timeline:
        moment, _, action = heapq.heappop(timeline)
        if moment > now:
            continue  # what would happen after today does not happen yet
        with clock.frozen_at(moment):
            action()
    with clock.frozen_at(_moment(today, -2, 16)):
        department, title, body = DRAFT
        app.draft_notice(staff_id=ids["staff"], title=title, body=body, department=department)
    storage.projector.catch_up()


def _fields(segment: Segment) -> dict[str, Any]:
    return {name: getattr(segment, name) for name in segment.__struct_fields__}
