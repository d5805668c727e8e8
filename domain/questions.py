"""The kinds of question a survey can ask, and how an answer is checked against each.

Answers are stored as plain JSON-able values: the option index for single choice, a sorted list
of indices for multiple choice, 1–5 for a scale, a number, or a string for free text.
"""

import math
from typing import ClassVar

import msgspec

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
            problems.append("質問文を入力してください。")
        if len(self.text) > MAX_QUESTION_TEXT:
            problems.append(f"質問文は{MAX_QUESTION_TEXT}文字以内にしてください。")
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
            problems.append("選択肢を2つ以上入力してください。")
        if len(options) > MAX_OPTIONS:
            problems.append(f"選択肢は{MAX_OPTIONS}個までです。")
        if any(not o for o in options):
            problems.append("空の選択肢があります。")
        if len(set(options)) != len(options):
            problems.append("同じ選択肢が重複しています。")
        if any(len(o) > MAX_OPTION_TEXT for o in options):
            problems.append(f"選択肢は{MAX_OPTION_TEXT}文字以内にしてください。")
        if any(has_forbidden_characters(o) for o in options) and CONTROL_MESSAGE not in problems:
            problems.append(CONTROL_MESSAGE)
        return problems

    def _valid_index(self, value: object) -> bool:
        return _is_int(value) and 0 <= value < len(self.options)  # type: ignore[operator]


class SingleChoice(_WithOptions, frozen=True, kw_only=True, tag="single"):
    kind_label: ClassVar[str] = "単一選択"

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None:
            return None, "選択してください。" if self.required else None
        if not self._valid_index(value):
            return None, "選択肢の中から1つ選んでください。"
        return value, None


class MultipleChoice(_WithOptions, frozen=True, kw_only=True, tag="multiple"):
    max_choices: int | None = None

    kind_label: ClassVar[str] = "複数選択"

    def check_definition(self) -> list[str]:
        problems = super().check_definition()
        if self.max_choices is not None and self.max_choices < 1:
            problems.append("選択できる数の上限は1以上にしてください。")
        return problems

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None or value == []:
            return None, "1つ以上選択してください。" if self.required else None
        if not isinstance(value, list) or not all(self._valid_index(v) for v in value):
            return None, "選択肢の中から選んでください。"
        chosen = sorted(set(value))
        if self.max_choices is not None and len(chosen) > self.max_choices:
            return None, f"選択できるのは{self.max_choices}個までです。"
        return chosen, None


class Scale(Question, frozen=True, kw_only=True, tag="scale"):
    """A 1–5 Likert scale."""

    low_label: str = "そう思わない"
    high_label: str = "そう思う"

    kind_label: ClassVar[str] = "5段階評価"

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None:
            return None, "1〜5から選んでください。" if self.required else None
        if not _is_int(value) or not 1 <= value <= SCALE_POINTS:  # type: ignore[operator]
            return None, "1〜5の中から選んでください。"
        return value, None


class Number(Question, frozen=True, kw_only=True, tag="number"):
    minimum: float
    maximum: float
    integer: bool = True
    unit: str = ""

    kind_label: ClassVar[str] = "数値"

    def check_definition(self) -> list[str]:
        problems = super().check_definition()
        if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)):
            problems.append("最小値と最大値を入力してください。")
        elif self.minimum > self.maximum:
            problems.append("最小値は最大値以下にしてください。")
        return problems

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None or value == "":
            return None, "数値を入力してください。" if self.required else None
        if isinstance(value, str):
            try:
                value = float(value.strip().translate(_FULLWIDTH_DIGITS))
            except ValueError:
                return None, "半角数字で入力してください。"
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None, "数値を入力してください。"
        if self.integer:
            if value != int(value):
                return None, "整数で入力してください。"
            value = int(value)
        if not self.minimum <= value <= self.maximum:
            return None, f"{_fmt(self.minimum)}〜{_fmt(self.maximum)}の範囲で入力してください。"
        return value, None


class FreeText(Question, frozen=True, kw_only=True, tag="text"):
    max_length: int = 1000

    kind_label: ClassVar[str] = "自由記述"

    def check_definition(self) -> list[str]:
        problems = super().check_definition()
        if not 1 <= self.max_length <= MAX_FREE_TEXT:
            problems.append(f"文字数の上限は1〜{MAX_FREE_TEXT}にしてください。")
        return problems

    def check_answer(self, value: AnswerValue) -> tuple[AnswerValue, str | None]:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None, "入力してください。" if self.required else None
        if not isinstance(value, str):
            return None, "文章で入力してください。"
        if has_forbidden_characters(value):
            return None, CONTROL_MESSAGE
        text = value.strip().replace("\r\n", "\n")
        if len(text) > self.max_length:
            return None, f"{self.max_length}文字以内で入力してください（現在{len(text)}文字）。"
        return text, None


AnyQuestion = SingleChoice | MultipleChoice | Scale | Number | FreeText

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
    errors: dict[str, str] = {key: "このアンケートにない質問です。" for key in answers if key not in known}
    normalised: dict[str, AnswerValue] = {}
    for question in questions:
        value, error = question.check_answer(answers.get(question.id))
        if error:
            errors[question.id] = error
        elif value is not None:
            normalised[question.id] = value
    return normalised, errors
