"""Values of citizens' ideas: statuses, the policy areas an idea may be addressed to, and limits."""

from enum import StrEnum

MAX_TITLE = 80
MAX_BODY = 4000
MAX_DEPARTMENT = 40
MAX_COMMENT = 2000
MAX_REASON = 400
MAX_ANSWER = 4000

# Ideas go to a department that runs surveys, or to one of these policy areas, which the
# city's co-creation window routes onwards (staff can reassign an idea to the right department).
POLICY_AREAS: tuple[str, ...] = (
    "子育て・教育",
    "公園・みどり",
    "防災・安全",
    "交通・道路",
    "商店街・産業振興",
    "環境・ごみ",
    "高齢者・福祉",
    "健康・医療",
    "文化・スポーツ",
    "デジタル・行政手続き",
    "まちづくり・住まい",
    "その他",
)


class IdeaStatus(StrEnum):
    RECEIVED = "received"
    CONSIDERING = "considering"
    DECIDED = "decided"
    DONE = "done"
    ALREADY = "already"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_decision(self) -> bool:
        """A conclusion about the idea: after it, the author can no longer withdraw it."""
        return self in DECISIONS


STATUS_LABELS = {
    IdeaStatus.RECEIVED: "受付",
    IdeaStatus.CONSIDERING: "検討中",
    IdeaStatus.DECIDED: "実施決定",
    IdeaStatus.DONE: "実施済み",
    IdeaStatus.ALREADY: "既に実施中",
    IdeaStatus.DECLINED: "実施しない",
}

DECISIONS = frozenset({IdeaStatus.DECIDED, IdeaStatus.DONE, IdeaStatus.ALREADY, IdeaStatus.DECLINED})


def department_choices(known: list[str]) -> list[str]:
    """Where an idea can be addressed: the departments that run surveys, then the policy areas."""
    return list(dict.fromkeys([*known, *POLICY_AREAS]))
