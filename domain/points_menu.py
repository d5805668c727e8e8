"""SDGs action menus (SDGsアクションメニュー): what earns points, how many, and within what limits.

A menu's rule has versions. Changing it applies from that moment on: an award is always decided
by the rule in force when its cause happened (a response's submission, a code's claim), so the
awarding process may lag, crash or rebuild and still decide exactly as it would have on time.
"""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from domain import clock
from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand
from domain.messages import N_
from domain.text import has_forbidden_characters
from domain.values import check_sdg_goals

MAX_NAME = 80
MAX_POINTS = 100_000
MAX_BUDGET = 1_000_000_000
MAX_PER_YEAR = 366


class Trigger(StrEnum):
    """How a menu's points are earned: on platform activity, by a venue code, or by a staff list."""

    SURVEY_ANSWERED = "survey_answered"
    IDEA_ADOPTED = "idea_adopted"
    PROPOSAL_AGREED = "proposal_agreed"
    VENUE_CODE = "venue_code"
    BULK = "bulk"

    @property
    def label(self) -> str:
        return TRIGGER_LABELS[self]

    @property
    def automatic(self) -> bool:
        return self in AUTOMATIC


TRIGGER_LABELS = {
    Trigger.SURVEY_ANSWERED: "アンケート回答（自動）",
    Trigger.IDEA_ADOPTED: "提案の実施決定（自動）",
    Trigger.PROPOSAL_AGREED: "事業者提案の協定締結（自動）",
    Trigger.VENUE_CODE: "会場コード",
    Trigger.BULK: "名簿による一括付与",
}
AUTOMATIC = frozenset({Trigger.SURVEY_ANSWERED, Trigger.IDEA_ADOPTED, Trigger.PROPOSAL_AGREED})


class Limit(StrEnum):
    """How often one person may earn a menu's points."""

    ONCE = "once"
    DAILY = "daily"
    PER_YEAR = "per_year"

    @property
    def label(self) -> str:
        return LIMIT_LABELS[self]


LIMIT_LABELS = {Limit.ONCE: "1人1回", Limit.DAILY: "1日1回", Limit.PER_YEAR: "年度内N回まで"}


class MenuRule(msgspec.Struct, frozen=True, kw_only=True):
    """One version of a menu's rule. `budget` is the points the menu may award in a fiscal year;
    `valid_from`/`valid_until` are Asia/Tokyo days, both included; points expire at the end of
    the fiscal year (3/31) unless `expires_after_days` says otherwise."""

    points: int
    budget: int
    valid_from: date
    valid_until: date
    limit: Limit = Limit.ONCE
    per_year: int = 1
    expires_after_days: int | None = None

    def describe_limit(self) -> str:
        return f"年度内{self.per_year}回まで" if self.limit is Limit.PER_YEAR else self.limit.label

    def expiry_for(self, day: date) -> date:
        """The last day on which points earned on `day` can be spent."""
        if self.expires_after_days is not None:
            return date.fromordinal(day.toordinal() + self.expires_after_days)
        return date(clock.fiscal_year(day) + 1, 3, 31)


def check_rule(rule: MenuRule) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 1 <= rule.points <= MAX_POINTS:
        errors["points"] = N_("付与ポイントは1〜%(maximum)sの整数で入力してください。", maximum=format(MAX_POINTS, ","))
    if not 1 <= rule.budget <= MAX_BUDGET:
        errors["budget"] = N_(
            "年度予算は1〜%(maximum)sポイントの整数で入力してください。", maximum=format(MAX_BUDGET, ",")
        )
    elif "points" not in errors and rule.budget < rule.points:
        errors["budget"] = N_("年度予算は1回分の付与ポイント以上にしてください。")
    if rule.valid_until < rule.valid_from:
        errors["valid_until"] = N_("有効期間の終了日は開始日以降にしてください。")
    if rule.limit is Limit.PER_YEAR and not 1 <= rule.per_year <= MAX_PER_YEAR:
        errors["per_year"] = N_("年度内の回数は1〜%(maximum)sで入力してください。", maximum=MAX_PER_YEAR)
    if rule.expires_after_days is not None and not 1 <= rule.expires_after_days <= 3660:
        errors["expires_after_days"] = N_("有効日数は1〜3660日で入力してください。")
    return errors


def check_menu_fields(name: str, goals: list[int], department: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = N_("メニュー名を入力してください。")
    elif len(name) > MAX_NAME or has_forbidden_characters(name):
        errors["name"] = N_("メニュー名は%(limit)s文字以内で、制御文字を含めないでください。", limit=MAX_NAME)
    if not goals:
        errors["sdg_goals"] = N_("SDGsの目標を1つ以上選んでください。")
    elif message := check_sdg_goals(goals):
        errors["sdg_goals"] = message
    if not department.strip():
        errors["department"] = N_("担当部署を入力してください。")
    return errors


class SdgMenu(KyosoAggregate):
    class Defined(Aggregate.Created):
        name: str
        sdg_goals: list[int]
        trigger: Trigger
        department: str
        rule: MenuRule
        survey_ids: list[UUID]
        funder_id: UUID | None
        defined_by: UUID

    class RuleChanged(Aggregate.Event):
        rule: MenuRule
        effective_at: datetime
        changed_by: UUID

    @classmethod
    def define(
        cls,
        *,
        name: str,
        sdg_goals: list[int],
        trigger: Trigger,
        department: str,
        rule: MenuRule,
        defined_by: UUID,
        survey_ids: list[UUID] | None = None,
        funder_id: UUID | None = None,
    ) -> "SdgMenu":
        trigger = Trigger(trigger)
        errors = check_menu_fields(name, sdg_goals, department) | check_rule(rule)
        if survey_ids and trigger is not Trigger.SURVEY_ANSWERED:
            errors["survey_ids"] = N_("対象アンケートを選べるのは「アンケート回答」のメニューだけです。")
        if errors:
            raise InvalidCommand(field_errors=errors)
        return cls(
            name=name.strip(),
            sdg_goals=sorted(sdg_goals),
            trigger=trigger,
            department=department.strip(),
            rule=rule,
            survey_ids=list(survey_ids or []),
            funder_id=funder_id,
            defined_by=defined_by,
        )

    @event(Defined)
    def __init__(
        self,
        name: str,
        sdg_goals: list[int],
        trigger: Trigger,
        department: str,
        rule: MenuRule,
        survey_ids: list[UUID],
        funder_id: UUID | None,
        defined_by: UUID,
    ) -> None:
        self.name = name
        self.sdg_goals = sdg_goals
        self.trigger = trigger
        self.department = department
        self.survey_ids = survey_ids
        self.funder_id = funder_id
        self.defined_by = defined_by
        # Each rule with the moment it took effect, oldest first.
        self.rules: list[tuple[datetime, int, MenuRule]] = [(self.created_on, 1, rule)]

    @property
    def rule(self) -> MenuRule:
        return self.rules[-1][2]

    @property
    def rule_version(self) -> int:
        return self.rules[-1][1]

    def rule_at(self, moment: datetime) -> tuple[int, MenuRule] | None:
        """The rule (and its version number) in force at `moment`, or None before the menu existed."""
        found = None
        for since, number, rule in self.rules:
            if since > moment:
                break
            found = (number, rule)
        return found

    def covers_survey(self, survey_id: UUID) -> bool:
        return not self.survey_ids or survey_id in self.survey_ids

    def change_rule(self, rule: MenuRule, changed_by: UUID) -> None:
        if errors := check_rule(rule):
            raise InvalidCommand(field_errors=errors)
        if rule == self.rule:
            raise InvalidCommand(N_("変更がありません。"))
        self._change_rule(rule, clock.now(), changed_by)

    @event(RuleChanged)
    def _change_rule(self, rule: MenuRule, effective_at: datetime, changed_by: UUID) -> None:
        self.rules.append((effective_at, len(self.rules) + 1, rule))
