"""The rules of ideas, supports and comments, held by the aggregates alone (no storage)."""

from uuid import uuid4

import pytest

from domain.comment import AlreadyReported, Comment, CommentHidden
from domain.errors import InvalidCommand, NotAllowed
from domain.idea import Idea, IdeaDecided, IdeaLocked, IdeaWithdrawn, NoDraftAnswer, check_idea_fields
from domain.idea_values import IdeaStatus
from domain.participant import Participant
from domain.support import Support, support_id
from domain.values import Attributes, Role


def person(role: Role = Role.CITIZEN, department: str | None = None) -> Participant:
    return Participant.register(role, department, Attributes())


def an_idea(author: Participant, department: str = "公園計画課") -> Idea:
    return Idea.submit(
        idea_id=uuid4(),
        author_id=author.id,
        author_role=author.role,
        title=b"sealed-title",
        body=b"sealed-body",
        department=department,
        sdg_goals=[11, 3],
        ward=None,
    )


def edit(idea: Idea, who: Participant) -> None:
    idea.edit(who.id, title=b"t2", body=b"b2", department=idea.department, sdg_goals=[], ward=None)


def test_only_citizens_submit_and_fields_are_checked() -> None:
    staff = person(Role.STAFF, "公園計画課")
    with pytest.raises(NotAllowed):
        an_idea(staff)
    errors = check_idea_fields("", "x" * 4001, "", [0, 18])
    assert set(errors) == {"title", "body", "department", "sdg_goals"}
    assert check_idea_fields("あ" * 80, "本文", "公園計画課", [1, 17]) == {}
    assert "title" in check_idea_fields("あ" * 81, "本文", "公園計画課", [])
    assert "department" in check_idea_fields("題", "本文", "架空課", [], departments=["公園計画課"])
    assert "title" in check_idea_fields("題\x00", "本文", "公園計画課", [])


def test_author_edits_until_staff_first_respond() -> None:
    author, other = person(), person()
    staff = person(Role.STAFF, "公園計画課")
    for respond in (
        lambda i: i.draft_answer_text(staff.id, staff.role, staff.department, "検討します"),
        lambda i: i.change_status(staff.id, staff.role, staff.department, IdeaStatus.CONSIDERING),
        lambda i: i.reassign(staff.id, staff.role, staff.department, "防災・安全", ["防災・安全"]),
    ):
        idea = an_idea(author)
        edit(idea, author)
        with pytest.raises(NotAllowed):
            edit(idea, other)
        respond(idea)
        with pytest.raises(IdeaLocked) as locked:
            edit(idea, author)
        assert locked.value.code == "idea_locked"


def test_withdraw_any_time_before_a_decision() -> None:
    author = person()
    staff = person(Role.STAFF, "公園計画課")
    idea = an_idea(author)
    idea.change_status(staff.id, staff.role, staff.department, IdeaStatus.CONSIDERING)
    idea.withdraw(author.id)
    with pytest.raises(IdeaWithdrawn):
        idea.withdraw(author.id)
    with pytest.raises(IdeaWithdrawn):
        idea.draft_answer_text(staff.id, staff.role, staff.department, "回答")
    decided = an_idea(author)
    decided.change_status(staff.id, staff.role, staff.department, IdeaStatus.DECIDED)
    with pytest.raises(IdeaDecided):
        decided.withdraw(author.id)


def test_only_the_responsible_department_or_an_admin_responds() -> None:
    idea = an_idea(person())
    other = person(Role.STAFF, "人事課")
    admin = person(Role.ADMIN, "デジタル推進課")
    citizen = person()
    for who in (other, citizen):
        with pytest.raises(NotAllowed):
            idea.draft_answer_text(who.id, who.role, who.department, "回答")
        with pytest.raises(NotAllowed):
            idea.change_status(who.id, who.role, who.department, IdeaStatus.CONSIDERING)
        with pytest.raises(NotAllowed):
            idea.reassign(who.id, who.role, who.department, "人事課", ["人事課"])
    idea.draft_answer_text(admin.id, admin.role, admin.department, "管理者の回答")
    idea.reassign(admin.id, admin.role, admin.department, "人事課", ["人事課"])
    idea.change_status(other.id, other.role, other.department, IdeaStatus.CONSIDERING)  # now theirs
    assert idea.department == "人事課"


def test_the_draft_is_private_until_published_and_declining_needs_a_reason() -> None:
    staff = person(Role.STAFF, "公園計画課")
    idea = an_idea(person())
    with pytest.raises(NoDraftAnswer):
        idea.publish_answer(staff.id, staff.role, staff.department)
    idea.draft_answer_text(staff.id, staff.role, staff.department, "木陰を増やします")
    assert idea.published_answer is None
    idea.publish_answer(staff.id, staff.role, staff.department)
    assert idea.published_answer == "木陰を増やします"
    with pytest.raises(NoDraftAnswer):
        idea.publish_answer(staff.id, staff.role, staff.department)
    with pytest.raises(InvalidCommand) as e:
        idea.change_status(staff.id, staff.role, staff.department, IdeaStatus.DECLINED, " ")
    assert "reason" in e.value.field_errors
    idea.change_status(staff.id, staff.role, staff.department, IdeaStatus.DECLINED, "予算の都合")
    assert idea.status_reason == "予算の都合"
    with pytest.raises(InvalidCommand):
        idea.change_status(staff.id, staff.role, staff.department, IdeaStatus.RECEIVED)
    events = [type(e).__name__ for e in idea.collect_events()]
    assert events == ["Submitted", "AnswerDrafted", "AnswerPublished", "StatusChanged"]


def test_one_support_per_person_idempotent_and_never_ones_own() -> None:
    author, fan = person(), person()
    idea = an_idea(author)
    with pytest.raises(NotAllowed):
        Support.give(idea, author)
    with pytest.raises(NotAllowed):
        Support.give(idea, person(Role.AUDITOR))
    support = Support.give(idea, fan)
    assert support.id == support_id(idea.id, fan.id)
    support.give_again(idea, fan)  # already given: nothing happens
    support.withdraw()
    support.withdraw()  # already withdrawn: nothing happens
    support.give_again(idea, fan)
    assert [type(e).__name__ for e in support.collect_events()] == ["Given", "Withdrawn", "GivenAgain"]
    staff_support = Support.give(idea, person(Role.STAFF, "人事課"))
    assert staff_support.active


def test_comments_have_one_level_of_replies_one_report_per_person_and_hiding_needs_a_reason() -> None:
    idea = an_idea(person())
    writer, reader = person(), person()
    moderator = person(Role.STAFF, "人事課")
    top = Comment.post(comment_id=uuid4(), idea=idea, author=writer, text=b"x", parent=None)
    reply = Comment.post(comment_id=uuid4(), idea=idea, author=reader, text=b"y", parent=top)
    with pytest.raises(InvalidCommand) as e:
        Comment.post(comment_id=uuid4(), idea=idea, author=writer, text=b"z", parent=reply)
    assert "parent_id" in e.value.field_errors
    top.report(reader.id)
    with pytest.raises(AlreadyReported):
        top.report(reader.id)
    with pytest.raises(NotAllowed):
        top.report(writer.id)
    with pytest.raises(NotAllowed):
        top.hide(reader, "不適切")
    with pytest.raises(InvalidCommand):
        top.hide(moderator, " ")
    top.hide(moderator, "個人名が含まれていたため")
    hidden = top.collect_events()[-1]
    assert (hidden.moderator_id, hidden.reason) == (moderator.id, "個人名が含まれていたため")
    with pytest.raises(CommentHidden):
        top.hide(moderator, "再度")
    with pytest.raises(CommentHidden):
        Comment.post(comment_id=uuid4(), idea=idea, author=reader, text=b"w", parent=top)
    idea.withdraw(idea.author_id)
    with pytest.raises(IdeaWithdrawn):
        Comment.post(comment_id=uuid4(), idea=idea, author=reader, text=b"v", parent=None)
