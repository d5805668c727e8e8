"""The rules of organisations, challenges and proposals, on the aggregates alone (no storage)."""

from datetime import date, datetime, timedelta
from uuid import uuid4

import pytest

from domain import clock
from domain.attachment import DOCX, JPEG, PDF, PNG, XLSX, sniff
from domain.challenge import Challenge, ChallengeClosed, ChallengeStatus
from domain.corporate_number import (
    BAD_CHECK_DIGIT,
    NOT_DIGITS,
    check_digit,
    corporate_number_problem,
    normalise,
    with_check_digit,
)
from domain.errors import InvalidCommand, NotAllowed
from domain.organisation import Organisation, OrganisationKind, organisation_id_for
from domain.proposal import (
    AGREED,
    COCREATION_WINDOW,
    TRANSITIONS,
    Actor,
    Proposal,
    ProposalClosed,
    Stage,
    readable_by,
)
from domain.values import Role

JST = clock.CITY_TZ
# Real, public 法人番号 (国税庁 法人番号公表サイト): 国税庁, トヨタ自動車, ソニーグループ.
REAL_NUMBERS = ["7000012050002", "1180301018771", "5010401067252"]


# 法人番号


@pytest.mark.parametrize("number", REAL_NUMBERS)
def test_real_corporate_numbers_pass_the_check_digit(number: str) -> None:
    assert check_digit(number[1:]) == int(number[0])
    assert corporate_number_problem(number) is None


def test_the_check_digit_follows_the_nta_formula_worked_by_hand() -> None:
    # 000012050002 from the right: 2·1 + 0·2 + 0·1 + 0·2 + 5·1 + 0·2 + 2·1 + 1·2 = 11; 9 − 11 mod 9 = 7.
    assert check_digit("000012050002") == 7
    assert with_check_digit("000012050002") == "7000012050002"


@pytest.mark.parametrize("number", REAL_NUMBERS)
def test_every_wrong_check_digit_is_refused(number: str) -> None:
    for digit in "0123456789":
        if digit != number[0]:
            assert corporate_number_problem(digit + number[1:]) == BAD_CHECK_DIGIT


def test_full_width_digits_and_hyphens_are_normalised() -> None:
    assert normalise("７０００－０１２０５−０００２") == "7000012050002"
    assert corporate_number_problem("1-1803-0101-8771") is None
    assert corporate_number_problem("１１８０３０１０１８７７１") is None


@pytest.mark.parametrize("raw", ["118030101877", "11803010187712", "1180301O18771", "abc", "١١٨٠٣٠١٠١٨٧٧١"])
def test_anything_but_13_digits_is_refused(raw: str) -> None:
    assert corporate_number_problem(raw) == NOT_DIGITS


def test_one_organisation_per_corporate_number_by_construction() -> None:
    person = uuid4()
    a = Organisation.register(
        kind=OrganisationKind.CORPORATION, corporate_number="７０００-012050002", name="国税庁",
        sealed_name=None, registered_by=person,
    )  # fmt: skip
    b = Organisation.register(
        kind=OrganisationKind.CORPORATION, corporate_number="7000012050002", name="別名",
        sealed_name=None, registered_by=uuid4(),
    )  # fmt: skip
    assert a.id == b.id == organisation_id_for("7000012050002")
    assert a.members == [person]


def test_an_organisation_with_a_bad_number_is_not_registered() -> None:
    with pytest.raises(InvalidCommand) as e:
        Organisation.register(
            kind=OrganisationKind.CORPORATION, corporate_number="8000012050002", name="偽",
            sealed_name=None, registered_by=uuid4(),
        )  # fmt: skip
    assert e.value.field_errors["corporate_number"] == BAD_CHECK_DIGIT


def test_a_sole_proprietor_has_no_number_and_a_sealed_name() -> None:
    owner = uuid4()
    org = Organisation.register(
        kind=OrganisationKind.SOLE_PROPRIETOR, corporate_number=None, name="", sealed_name=b"sealed",
        registered_by=owner,
    )  # fmt: skip
    assert org.corporate_number is None and org.name == "" and org.sealed_name == b"sealed"
    with pytest.raises(InvalidCommand):
        Organisation.register(
            kind=OrganisationKind.SOLE_PROPRIETOR, corporate_number=None, name="山田商店", sealed_name=None,
            registered_by=owner,
        )  # fmt: skip


def test_only_members_add_members_and_verification_is_once() -> None:
    owner, other, outsider = uuid4(), uuid4(), uuid4()
    org = _organisation(owner)
    with pytest.raises(InvalidCommand):
        org.add_member(other, added_by=outsider)
    org.add_member(other, added_by=owner)
    assert org.is_member(other)
    org.verify(uuid4())
    with pytest.raises(InvalidCommand):
        org.verify(uuid4())


# Challenges and their deadlines


def test_the_deadline_day_takes_proposals_until_2359_jst_and_not_at_midnight() -> None:
    challenge = _challenge(deadline=date(2026, 3, 31))
    challenge.publish(uuid4(), datetime(2026, 3, 1, 9, tzinfo=JST))
    assert challenge.is_accepting(datetime(2026, 3, 31, 23, 59, 59, tzinfo=JST))
    assert not challenge.is_accepting(datetime(2026, 4, 1, 0, 0, tzinfo=JST))
    # 15:00 UTC on 3/31 is already 00:00 on 4/1 in Japan.
    assert not challenge.is_accepting(datetime(2026, 3, 31, 15, 0, tzinfo=clock.UTC))
    with pytest.raises(ChallengeClosed):
        challenge.require_accepting(datetime(2026, 4, 1, 0, 0, tzinfo=JST))


def test_a_challenge_takes_proposals_only_while_published() -> None:
    challenge = _challenge(deadline=date(2030, 1, 1))
    moment = datetime(2026, 1, 1, tzinfo=JST)
    assert not challenge.is_accepting(moment)
    challenge.publish(uuid4(), moment)
    assert challenge.status is ChallengeStatus.PUBLISHED and challenge.is_accepting(moment)
    challenge.close(uuid4())
    assert not challenge.is_accepting(moment)
    with pytest.raises(InvalidCommand):
        challenge.revise(
            title="t", background="b", shareable_data="", outcomes="o", sdg_goals=[3], deadline=date(2030, 1, 1),
            revised_by=uuid4(),
        )  # fmt: skip


def test_a_challenge_past_its_deadline_cannot_be_published() -> None:
    challenge = _challenge(deadline=date(2026, 3, 31))
    with pytest.raises(InvalidCommand):
        challenge.publish(uuid4(), datetime(2026, 4, 1, 0, 0, tzinfo=JST))


def test_a_challenge_needs_its_fields_and_valid_sdg_goals() -> None:
    with pytest.raises(InvalidCommand) as e:
        Challenge.draft(
            department="環境保全課", title="", background="", shareable_data="", outcomes="", sdg_goals=[0, 18],
            deadline=None, drafted_by=uuid4(),
        )  # fmt: skip
    assert set(e.value.field_errors) == {"title", "background", "outcomes", "sdg_goals", "deadline"}


# Proposals: who may submit, and the stages


def test_only_a_member_with_a_business_account_submits() -> None:
    owner = uuid4()
    org = _organisation(owner)
    for actor in (Actor(owner, Role.CITIZEN), Actor(uuid4(), Role.BUSINESS, organisation_id=org.id)):
        with pytest.raises(NotAllowed):
            _submit(org, actor)


def test_a_proposal_to_a_closed_challenge_is_refused() -> None:
    owner = uuid4()
    org = _organisation(owner)
    challenge = _challenge(deadline=date(2026, 3, 31))
    challenge.publish(uuid4(), datetime(2026, 3, 1, tzinfo=JST))
    actor = Actor(owner, Role.BUSINESS, organisation_id=org.id)
    ok = _submit(org, actor, challenge, now=datetime(2026, 3, 31, 23, 59, tzinfo=JST))
    assert ok.department == challenge.department and ok.sdg_goals == challenge.sdg_goals
    with pytest.raises(ChallengeClosed):
        _submit(org, actor, challenge, now=datetime(2026, 4, 1, 0, 0, tzinfo=JST))


def test_a_free_proposal_goes_to_the_window_which_routes_it() -> None:
    proposal, _ = _proposal()
    assert proposal.is_free and proposal.department == COCREATION_WINDOW
    with pytest.raises(NotAllowed):
        proposal.route("環境保全課", Actor(uuid4(), Role.STAFF, "子育て支援課"))
    window = Actor(uuid4(), Role.STAFF, COCREATION_WINDOW)
    proposal.route("環境保全課", window)
    assert proposal.department == "環境保全課"
    assert isinstance(proposal.pending_events[-1], Proposal.Routed)
    assert proposal.pending_events[-1].routed_by == window.participant_id


def test_legal_stage_paths_are_recorded_with_who_decided() -> None:
    proposal, _ = _proposal()
    staff = Actor(uuid4(), Role.STAFF, COCREATION_WINDOW)
    for stage in (Stage.IN_DIALOGUE, Stage.AGREEMENT, Stage.PILOT, Stage.BUSINESS):
        proposal.change_stage(stage, "", staff)
        assert proposal.stage is stage
    changes = [e for e in proposal.pending_events if isinstance(e, Proposal.StageChanged)]
    assert [e.stage for e in changes] == [Stage.IN_DIALOGUE, Stage.AGREEMENT, Stage.PILOT, Stage.BUSINESS]
    assert {e.decided_by for e in changes} == {staff.participant_id}


@pytest.mark.parametrize("start", list(Stage))
def test_every_illegal_transition_is_refused(start: Stage) -> None:
    staff = Actor(uuid4(), Role.STAFF, COCREATION_WINDOW)
    for target in Stage:
        proposal, _ = _proposal()
        path = {
            Stage.RECEIVED: [],
            Stage.IN_DIALOGUE: [Stage.IN_DIALOGUE],
            Stage.AGREEMENT: [Stage.IN_DIALOGUE, Stage.AGREEMENT],
            Stage.PILOT: [Stage.IN_DIALOGUE, Stage.PILOT],
            Stage.BUSINESS: [Stage.IN_DIALOGUE, Stage.BUSINESS],
            Stage.ENDED: [Stage.ENDED],
        }[start]
        for step in path:
            proposal.change_stage(step, "理由", staff)
        if target in TRANSITIONS[start]:
            proposal.change_stage(target, "理由", staff)
            assert proposal.stage is target
        else:
            with pytest.raises(InvalidCommand):
                proposal.change_stage(target, "理由", staff)
            assert proposal.stage is start


def test_ending_the_talks_needs_a_reason_and_closes_the_thread() -> None:
    proposal, member = _proposal()
    staff = Actor(uuid4(), Role.STAFF, COCREATION_WINDOW)
    with pytest.raises(InvalidCommand) as e:
        proposal.change_stage(Stage.ENDED, "  ", staff)
    assert "reason" in e.value.field_errors
    proposal.change_stage(Stage.ENDED, "予算の確保が難しいため", staff)
    with pytest.raises(ProposalClosed):
        proposal.check_message(member, "まだ話せますか")
    assert Stage.ENDED not in AGREED


def test_only_the_responsible_department_decides() -> None:
    proposal, member = _proposal()
    for actor in (member, Actor(uuid4(), Role.STAFF, "危機管理課"), Actor(uuid4(), Role.AUDITOR)):
        with pytest.raises(NotAllowed):
            proposal.change_stage(Stage.IN_DIALOGUE, "", actor)
    proposal.change_stage(Stage.IN_DIALOGUE, "", Actor(uuid4(), Role.ADMIN, "デジタル推進課"))


def test_confidentiality_members_responsible_staff_window_admins_auditors_only() -> None:
    proposal, member = _proposal()
    proposal.route("環境保全課", Actor(uuid4(), Role.STAFF, COCREATION_WINDOW))
    readers = {
        "member": member,
        "responsible staff": Actor(uuid4(), Role.STAFF, "環境保全課"),
        "window": Actor(uuid4(), Role.STAFF, COCREATION_WINDOW),
        "admin": Actor(uuid4(), Role.ADMIN, "デジタル推進課"),
        "auditor": Actor(uuid4(), Role.AUDITOR),
    }
    outsiders = {
        "other staff": Actor(uuid4(), Role.STAFF, "子育て支援課"),
        "other business": Actor(uuid4(), Role.BUSINESS, organisation_id=uuid4()),
        "business without organisation": Actor(uuid4(), Role.BUSINESS),
        "citizen": Actor(uuid4(), Role.CITIZEN),
        "anonymous": None,
    }
    assert all(proposal.readable_by(a) for a in readers.values())
    assert not any(proposal.readable_by(a) for a in outsiders.values())
    assert readable_by(member, "環境保全課", proposal.organisation_id)


def test_the_thread_is_between_the_members_and_the_responsible_department() -> None:
    proposal, member = _proposal()
    assert proposal.check_message(member, "ご検討ください") is False
    assert proposal.check_message(Actor(uuid4(), Role.STAFF, COCREATION_WINDOW), "拝見しました") is True
    for outsider in (Actor(uuid4(), Role.STAFF, "子育て支援課"), Actor(uuid4(), Role.AUDITOR)):
        with pytest.raises(NotAllowed):
            proposal.check_message(outsider, "横から失礼")
    with pytest.raises(InvalidCommand):
        proposal.check_message(member, "制御\x00文字")


def test_a_summary_is_published_only_after_the_proposers_consent() -> None:
    proposal, member = _proposal()
    staff = Actor(uuid4(), Role.STAFF, COCREATION_WINDOW)
    with pytest.raises(InvalidCommand):
        proposal.publish_summary("公表する概要", staff)
    with pytest.raises(NotAllowed):
        proposal.give_consent(staff)
    proposal.give_consent(member)
    with pytest.raises(NotAllowed):
        proposal.publish_summary("公表する概要", member)
    proposal.publish_summary("公表する概要", staff)
    assert proposal.summary_published


def test_cost_zero_is_allowed_and_flagged_negative_is_not() -> None:
    proposal, _ = _proposal(cost_yen=0)
    assert proposal.no_cost_to_city
    owner = uuid4()
    org = _organisation(owner)
    with pytest.raises(InvalidCommand):
        _submit(org, Actor(owner, Role.BUSINESS, organisation_id=org.id), cost_yen=-1)


def test_attachments_only_by_members_and_not_twice() -> None:
    proposal, member = _proposal()
    with pytest.raises(NotAllowed):
        proposal.add_attachment(Actor(uuid4(), Role.STAFF, COCREATION_WINDOW), "a" * 64, b"n", PDF, 10)
    proposal.add_attachment(member, "a" * 64, b"n", PDF, 10)
    with pytest.raises(InvalidCommand):
        proposal.add_attachment(member, "a" * 64, b"n", PDF, 10)


def test_file_types_are_known_by_content() -> None:
    import io
    import zipfile

    def office(folder: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr(f"{folder}/document.xml", "<x/>")
        return buffer.getvalue()

    assert sniff(b"%PDF-1.7\n") == PDF
    assert sniff(b"\x89PNG\r\n\x1a\n....") == PNG
    assert sniff(b"\xff\xd8\xff\xe0....") == JPEG
    assert sniff(office("word")) == DOCX
    assert sniff(office("xl")) == XLSX
    assert sniff(office("other")) is None
    assert sniff(b"MZ\x90\x00") is None  # a Windows executable
    assert sniff(b"PK\x03\x04 not really a zip") is None


# Helpers


def _organisation(owner):  # type: ignore[no-untyped-def]
    return Organisation.register(
        kind=OrganisationKind.CORPORATION, corporate_number="1180301018771", name="トヨタ自動車株式会社",
        sealed_name=None, registered_by=owner,
    )  # fmt: skip


def _challenge(deadline: date) -> Challenge:
    return Challenge.draft(
        department="環境保全課", title="食品ロス削減", background="背景", shareable_data="ごみ組成調査",
        outcomes="食品ロスの半減", sdg_goals=[12, 2], deadline=deadline, drafted_by=uuid4(),
    )  # fmt: skip


def _submit(org, actor, challenge=None, now=None, cost_yen=0):  # type: ignore[no-untyped-def]
    return Proposal.submit(
        actor=actor,
        organisation=org,
        challenge=challenge,
        submission_key=uuid4(),
        texts={"title": b"t", "summary": b"s", "plan": b"p", "effect": b"e"},
        cost_yen=cost_yen,
        sdg_goals=[],
        now=now or datetime.now(JST) + timedelta(0),
    )


def _proposal(cost_yen: int = 0):  # type: ignore[no-untyped-def]
    owner = uuid4()
    org = _organisation(owner)
    member = Actor(owner, Role.BUSINESS, organisation_id=org.id)
    return _submit(org, member, cost_yen=cost_yen), member
