"""Who may do what with citizens' ideas: what pages offer and routes refuse. The aggregates
(domain/idea.py, support.py, comment.py) enforce the same rules again on every command.

- Submitting is for citizens' accounts only. Staff may not submit as citizens: an idea is
  answered by the city, and a staff account proposing to its own colleagues would blur who
  speaks for the city; staff with a private idea use a private citizen account.
- Supports: citizens and staff (an admin too), never on one's own idea.
- Comments: anyone signed in except auditors, who only observe. Reporting: anyone signed in.
- Moderators (hiding a comment with a reason): staff and admins.
- Answers, status, reassignment: staff of the responsible department, or an admin.
"""

from typing import Any

from domain.idea import Idea
from domain.messages import N_
from domain.values import Role
from web.auth import User

NOT_A_CITIZEN = N_(
    "提案を投稿できるのは市民のアカウントだけです。"
    "職員の方が個人として提案する場合は、個人のアカウントをお使いください。"
)
NOT_RESPONSIBLE = N_("この提案に対応できるのは担当部署の職員だけです。")


def may_submit_idea(user: User | None) -> bool:
    return bool(user and user.role is Role.CITIZEN)


def may_support(user: User | None, idea: Any) -> bool:
    return bool(user and user.role in (Role.CITIZEN, Role.STAFF, Role.ADMIN) and user.participant_id != idea.author_id)


def may_comment(user: User | None) -> bool:
    return bool(user and user.role is not Role.AUDITOR)


def may_report(user: User | None, comment: Any) -> bool:
    return bool(user and user.participant_id != comment.author_id and not comment.hidden)


def may_moderate(user: User | None) -> bool:
    return bool(user and user.is_staff)


def is_author(user: User | None, idea: Any) -> bool:
    return bool(user and user.participant_id == idea.author_id)


def may_edit(user: User | None, idea: Any) -> bool:
    return is_author(user, idea) and idea.listed and not idea.responded


def may_withdraw(user: User | None, idea: Any) -> bool:
    return is_author(user, idea) and idea.listed and not idea.status.is_decision


def may_respond(user: User | None, idea: Any) -> bool:
    """Draft and publish the answer, change the status, reassign."""
    return bool(user and Idea.is_responsible(user.role, user.department, idea.department))


def may_view(user: User | None, idea: Any) -> bool:
    """A withdrawn idea stays visible to its author and to staff only."""
    return bool(idea.listed or is_author(user, idea) or (user and (user.is_staff or user.is_auditor)))
