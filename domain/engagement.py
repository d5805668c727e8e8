"""The staff engagement instrument (ぱいたり値): the Utrecht Work Engagement Scale, 9-item version.

UWES-9: Schaufeli, W. B., Bakker, A. B., & Salanova, M. (2006). The measurement of work engagement
with a short questionnaire: a cross-national study. Educational and Psychological Measurement,
66(4), 701–716. Japanese version: Shimazu, A., Schaufeli, W. B., Kosugi, S., et al. (2008). Work
engagement in Japan: validation of the Japanese version of the Utrecht Work Engagement Scale.
Applied Psychology: An International Review, 57(3), 510–523.

Each item is answered 0 (全くない) to 6 (いつも感じる, 毎日); a sub-scale's score is the mean of its
items and the index the mean of all nine. A wave is a staff survey whose questions are the items,
each a single choice whose option index is the score.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.messages import N_
from domain.questions import AnyQuestion, SingleChoice
from domain.text import forbidden_characters_problem

MAX_LABEL = 40


class Subscale(StrEnum):
    VIGOUR = "vigour"
    DEDICATION = "dedication"
    ABSORPTION = "absorption"

    @property
    def label(self) -> str:
        return {"vigour": "活力", "dedication": "熱意", "absorption": "没頭"}[self.value]


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    subscale: Subscale


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    citation: str
    instructions: str
    anchors: tuple[str, ...]
    items: tuple[Item, ...]

    @property
    def top(self) -> int:
        """The highest score of an item (the lowest is 0)."""
        return len(self.anchors) - 1

    def subscale_items(self, subscale: Subscale) -> list[int]:
        return [item.number for item in self.items if item.subscale is subscale]

    def questions(self, first_number: int) -> list[SingleChoice]:
        """The items as required single-choice questions q{first_number}…, option index = score."""
        return [
            SingleChoice(id=f"q{first_number + i}", text=item.text, options=self.anchors, required=True)
            for i, item in enumerate(self.items)
        ]


UWES_9 = Instrument(
    key="uwes-9",
    name="ユトレヒト・ワーク・エンゲイジメント尺度 9項目版（UWES-9）",
    citation=(
        "Schaufeli, Bakker & Salanova (2006), Educational and Psychological Measurement 66(4), 701–716; "
        "日本語版: Shimazu et al. (2008), Applied Psychology: An International Review 57(3), 510–523"
    ),
    instructions=(
        "次の9つの文は、仕事に関してどのように感じているかを尋ねるものです。それぞれの文をよく読んで、"
        "仕事に関してそのように感じることがあるかどうかを判断してください。そのように感じたことが一度もない場合は"
        "「0」を、感じたことがある場合はその頻度に当てはまるものを選んでください。"
        "回答は部署ごと（5人未満の部署は「その他」）にまとめて集計され、個人の回答が示されることはありません。"
    ),
    anchors=(
        "0 全くない",
        "1 ほとんど感じない（1年に数回以下）",
        "2 めったに感じない（1か月に1回以下）",
        "3 時々感じる（1か月に数回）",
        "4 よく感じる（1週間に1回）",
        "5 とてもよく感じる（1週間に数回）",
        "6 いつも感じる（毎日）",
    ),
    items=(
        Item(1, "仕事をしていると、活力がみなぎるように感じる。", Subscale.VIGOUR),
        Item(2, "職場では、元気が出て精力的になるように感じる。", Subscale.VIGOUR),
        Item(3, "仕事に熱心である。", Subscale.DEDICATION),
        Item(4, "仕事は、私に活力を与えてくれる。", Subscale.DEDICATION),
        Item(5, "朝に目がさめると、さあ仕事へ行こう、という気持ちになる。", Subscale.VIGOUR),
        Item(6, "仕事に没頭しているとき、幸せだと感じる。", Subscale.ABSORPTION),
        Item(7, "自分の仕事に誇りを感じる。", Subscale.DEDICATION),
        Item(8, "私は仕事にのめり込んでいる。", Subscale.ABSORPTION),
        Item(9, "仕事をしていると、つい夢中になってしまう。", Subscale.ABSORPTION),
    ),
)

INSTRUMENTS: dict[str, Instrument] = {UWES_9.key: UWES_9}


def check_label(label: str) -> str | None:
    """A message in Japanese if a wave's label (e.g. 2025年度) is unusable, else None."""
    if not label.strip():
        return N_("調査回の名前（例: 2025年度）を入力してください。")
    if len(label) > MAX_LABEL:
        return N_("調査回の名前は%(limit)s文字以内にしてください。", limit=MAX_LABEL)
    return forbidden_characters_problem(label)


def item_map_problems(instrument_key: str, questions: Sequence[AnyQuestion], item_map: Mapping[str, int]) -> list[str]:
    """Why these questions cannot carry this instrument's items, or nothing: every item exactly
    once, each on a required single choice whose options are the instrument's answer scale."""
    instrument = INSTRUMENTS.get(instrument_key)
    if instrument is None:
        return [N_("尺度の種類が正しくありません。")]
    by_id = {q.id: q for q in questions}
    problems = []
    if sorted(item_map.values()) != [item.number for item in instrument.items]:
        problems.append(
            N_(
                "%(instrument)sの全%(count)s項目を1問ずつ対応させてください。",
                instrument=instrument.name,
                count=len(instrument.items),
            )
        )
    for question_id in item_map:
        question = by_id.get(question_id)
        if question is None:
            problems.append(N_("設問 %(question)s がありません。", question=question_id))
        elif not isinstance(question, SingleChoice) or len(question.options) != len(instrument.anchors):
            problems.append(
                N_(
                    "設問 %(question)s は%(count)s択の単一選択にしてください。",
                    question=question_id,
                    count=len(instrument.anchors),
                )
            )
        elif not question.required:
            problems.append(N_("設問 %(question)s は必須にしてください。", question=question_id))
    return problems


@dataclass(frozen=True)
class Scores:
    """A group's scores: means over its respondents' answers (every item is required, so the mean
    of the items' means equals the mean of the respondents' own scores)."""

    respondents: int
    index: float | None
    subscales: dict[Subscale, float | None]
    items: dict[int, float | None]

    @property
    def index_100(self) -> float | None:
        """The index on 0–100: 0 is 全くない on every item, 100 いつも感じる."""
        return None if self.index is None else round(100 * self.index / UWES_9.top, 1)


def score(instrument: Instrument, respondents: int, sums: Mapping[int, tuple[int, int]]) -> Scores:
    """Scores from (answers, sum of scores) per item number."""

    def mean(numbers: list[int]) -> float | None:
        answers = sum(sums.get(n, (0, 0))[0] for n in numbers)
        total = sum(sums.get(n, (0, 0))[1] for n in numbers)
        return total / answers if answers else None

    return Scores(
        respondents=respondents,
        index=mean([item.number for item in instrument.items]),
        subscales={s: mean(instrument.subscale_items(s)) for s in Subscale},
        items={item.number: mean([item.number]) for item in instrument.items},
    )
