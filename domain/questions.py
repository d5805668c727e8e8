"""The kinds of question a survey can ask, and how an answer is checked against each.

Answers are stored as plain JSON-able values: the option index for single choice, a sorted list
of indices for multiple choice, 1–5 for a scale, a number, or a string for free text.
"""

import math
from typing import ClassVar

import msgspec

from domain.messages import N_
from domain.text import CONTROL_MESSAGE, has_forbidden_characters

AnswerValue = int | float | str | list[int] | None

MAX_OPTIONS = 50
MAX_QUESTION_TEXT = 500
MAX_OPTION_TEXT = 200
MAX_FREE_TEXT = 4000
SCALE_POINTS = 5


class Question(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    id: str
    text: str
    required: bool = True
    help: str = ""

    kind_label: ClassVar[str] = ""

    def check_definition(self) -> list[str]:
        problems = []
        if not self.text.strip():
            problems.append(N_("質問文を入力してください。"))
        if len(self.text) > MAX_QUESTION_TEXT:
            problems.append(N_("質問文は%(limit)s文字以内にしてください。", limit=MAX_QUESTION_TEXT))
        if any(has_forbidden_characters(text) for text in self._texts()):
            problems.append(CONTROL_MESSAGE)
        return problems

    def _texts(self) -> list[str]:
        """Every text of the definition that people will read."""
        return [self.text, self.help, *(str(v) for v in (getattr(self, n, "") for n in _TEXT_SETTINGS) if v)]

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        """Returns the normalised answer, or an error message in Japanese."""
        raise NotImplementedError


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _WithOptions(Question, frozen=True, kw_only=True):
    options: tuple[str, ...] = ()

    def check_definition(self) -> list[str]:
        problems = super().check_definition()
        options = [o.strip() for o in self.options]
        if len(options) < 2:
            problems.append(N_("選択肢を2つ以上入力してください。"))
        if len(options) > MAX_OPTIONS:
            problems.append(N_("選択肢は%(limit)s個までです。", limit=MAX_OPTIONS))
        if any(not o for o in options):
            problems.append(N_("空の選択肢があります。"))
        if len(set(options)) != len(options):
            problems.append(N_("同じ選択肢が重複しています。"))
        if any(len(o) > MAX_OPTION_TEXT for o in options):
            problems.append(N_("選択肢は%(limit)s文字以内にしてください。", limit=MAX_OPTION_TEXT))
        if any(has_forbidden_characters(o) for o in options) and CONTROL_MESSAGE not in problems:
            problems.append(CONTROL_MESSAGE)
        return problems

    def _valid_index(self, value: object) -> bool:
        return _is_int(value) and 0 <= value < len(self.options)  # type: ignore[operator]


class SingleChoice(_WithOptions, frozen=True, kw_only=True, tag="single"):
    kind_label: ClassVar[str] = N_("単一選択")

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None:
            return None, N_("選択してください。") if self.required else None
        if not self._valid_index(value):
            return None, N_("選択肢の中から1つ選んでください。")
        return value, None


class MultipleChoice(_WithOptions, frozen=True, kw_only=True, tag="multiple"):
    """`exclusive` holds the indices of options such as 「特にない」 that stand alone: an answer
    ticking one of them ticks nothing else."""

    max_choices: int | None = None
    exclusive: tuple[int, ...] = ()

    kind_label: ClassVar[str] = N_("複数選択")

    def check_definition(self) -> list[str]:
        problems = super().check_definition()
        if self.max_choices is not None and self.max_choices < 1:
            problems.append(N_("選択できる数の上限は1以上にしてください。"))
        if any(not self._valid_index(i) for i in self.exclusive) or len(set(self.exclusive)) != len(self.exclusive):
            problems.append(N_("他と同時に選べない選択肢の指定が正しくありません。"))
        elif self.options and len(self.exclusive) >= len(self.options):
            problems.append(N_("すべての選択肢を「他と同時に選べない」にはできません。単一選択を使ってください。"))
        return problems

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None or value == []:
            return None, N_("1つ以上選択してください。") if self.required else None
        if not isinstance(value, list) or not all(self._valid_index(v) for v in value):
            return None, N_("選択肢の中から選んでください。")
        chosen = sorted(set(value))
        alone = [i for i in chosen if i in self.exclusive]
        if alone and len(chosen) > 1:
            return None, N_("「%(option)s」は他の選択肢と一緒には選べません。", option=self.options[alone[0]])
        if self.max_choices is not None and len(chosen) > self.max_choices:
            return None, N_("選択できるのは%(limit)s個までです。", limit=self.max_choices)
        return chosen, None


class Scale(Question, frozen=True, kw_only=True, tag="scale"):
    """A 1–5 Likert scale."""

    low_label: str = "そう思わない"
    high_label: str = "そう思う"

    kind_label: ClassVar[str] = N_("5段階評価")

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None:
            return None, N_("1〜5から選んでください。") if self.required else None
        if not _is_int(value) or not 1 <= value <= SCALE_POINTS:  # type: ignore[operator]
            return None, N_("1〜5の中から選んでください。")
        return value, None


class Number(Question, frozen=True, kw_only=True, tag="number"):
    minimum: float
    maximum: float
    integer: bool = True
    unit: str = ""

    kind_label: ClassVar[str] = N_("数値")

    def check_definition(self) -> list[str]:
        problems = super().check_definition()
        if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)):
            problems.append(N_("最小値と最大値を入力してください。"))
        elif self.minimum > self.maximum:
            problems.append(N_("最小値は最大値以下にしてください。"))
        return problems

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None or value == "":
            return None, N_("数値を入力してください。") if self.required else None
        if isinstance(value, str):
            try:
                value = float(value.strip().translate(_FULLWIDTH_DIGITS))
            except ValueError:
                return None, N_("半角数字で入力してください。")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None, N_("数値を入力してください。")
        if self.integer:
            if value != int(value):
                return None, N_("整数で入力してください。")
            value = int(value)
        if not self.minimum <= value <= self.maximum:
            return None, N_(
                "%(minimum)s〜%(maximum)sの範囲で入力してください。",
                minimum=_fmt(self.minimum),
                maximum=_fmt(self.maximum),
            )
        return value, None


class FreeText(Question, frozen=True, kw_only=True, tag="text"):
    max_length: int = 1000

    kind_label: ClassVar[str] = N_("自由記述")

    def check_definition(self) -> list[str]:
        problems = super().check_definition()
        if not 1 <= self.max_length <= MAX_FREE_TEXT:
            problems.append(N_("文字数の上限は1〜%(maximum)sにしてください。", maximum=MAX_FREE_TEXT))
        return problems

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None, N_("入力してください。") if self.required else None
        if not isinstance(value, str):
            return None, N_("文章で入力してください。")
        if has_forbidden_characters(value):
            return None, CONTROL_MESSAGE
        text = value.strip().replace("\r\n", "\n")
        if len(text) > self.max_length:
            return None, N_(
                "%(limit)s文字以内で入力してください（現在%(count)s文字）。", limit=self.max_length, count=len(text)
            )
        return text, None


AnyQuestion = SingleChoice | MultipleChoice | Scale | Number | FreeText


class QuestionTranslation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A question's texts in another language (domain/survey.py, Survey.provide_translation).

    Every text is optional: an empty one, like a missing translation, leaves the Japanese in place,
    and so does an empty option. Only the texts people read are translated; the answers still mean
    the Japanese question's option indices, scale points and numbers.
    """

    text: str = ""
    help: str = ""
    options: tuple[str, ...] = ()
    low_label: str = ""
    high_label: str = ""
    unit: str = ""

    def stripped(self) -> "QuestionTranslation":
        return QuestionTranslation(
            text=self.text.strip(),
            help=self.help.strip(),
            # All empty is no translation at all; otherwise each position keeps its option.
            options=tuple(o.strip() for o in self.options) if any(o.strip() for o in self.options) else (),
            low_label=self.low_label.strip(),
            high_label=self.high_label.strip(),
            unit=self.unit.strip(),
        )

    def is_empty(self) -> bool:
        return self == QuestionTranslation()

    def problems_for(self, question: Question) -> list[str]:
        """What is wrong with this as a translation of `question`: the Japanese texts' limits,
        and only the settings that question has."""
        problems = []
        if len(self.text) > MAX_QUESTION_TEXT:
            problems.append(N_("質問文は%(limit)s文字以内にしてください。", limit=MAX_QUESTION_TEXT))
        options = getattr(question, "options", None)
        if self.options:
            if options is None:
                problems.append(N_("この質問には選択肢がありません。"))
            elif len(self.options) != len(options):
                problems.append(
                    N_("選択肢は日本語と同じ数（%(count)s個）、同じ順に入力してください。", count=len(options))
                )
            elif any(len(o) > MAX_OPTION_TEXT for o in self.options):
                problems.append(N_("選択肢は%(limit)s文字以内にしてください。", limit=MAX_OPTION_TEXT))
            else:
                given = [o for o in self.options if o]
                if len(set(given)) != len(given):
                    problems.append(N_("同じ選択肢が重複しています。"))
        if (self.low_label or self.high_label) and not isinstance(question, Scale):
            problems.append(N_("この質問には5段階評価のラベルがありません。"))
        if self.unit and not isinstance(question, Number):
            problems.append(N_("この質問には単位がありません。"))
        texts = [self.text, self.help, *self.options, self.low_label, self.high_label, self.unit]
        if any(has_forbidden_characters(t) for t in texts):
            problems.append(CONTROL_MESSAGE)
        return problems

    def applied_to(self, question: AnyQuestion) -> AnyQuestion:
        """The question as a reader of this language sees it: each translated text in place of the
        Japanese, each missing one left Japanese."""
        changes: dict[str, object] = {}
        if self.text:
            changes["text"] = self.text
        if self.help:
            changes["help"] = self.help
        options = getattr(question, "options", None)
        if self.options and options is not None and len(self.options) == len(options):
            changes["options"] = tuple(t or o for t, o in zip(self.options, options, strict=True))
        if isinstance(question, Scale):
            changes.update({k: v for k, v in (("low_label", self.low_label), ("high_label", self.high_label)) if v})
        if isinstance(question, Number) and self.unit:
            changes["unit"] = self.unit
        return msgspec.structs.replace(question, **changes) if changes else question


QUESTION_KINDS: dict[str, type[Question]] = {
    "single": SingleChoice,
    "multiple": MultipleChoice,
    "scale": Scale,
    "number": Number,
    "text": FreeText,
}

_TEXT_SETTINGS = ("low_label", "high_label", "unit")

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


def check_answers(
    questions: list[AnyQuestion], answers: dict[str, AnswerValue]
) -> tuple[dict[str, AnswerValue], dict[str, str]]:
    """Checks every answer; returns the normalised answers and the errors by question id."""
    known = {q.id for q in questions}
    errors: dict[str, str] = {key: N_("このアンケートにない質問です。") for key in answers if key not in known}
    normalised: dict[str, AnswerValue] = {}
    for question in questions:
        value, error = question.check_answer(answers.get(question.id))
        if error:
            errors[question.id] = error
        elif value is not None:
            normalised[question.id] = value
    return normalised, errors
