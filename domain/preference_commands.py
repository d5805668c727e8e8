"""The Kyoso Application's commands for what a person follows, and their consent to e-mail: a mixin of Kyoso.

Consent to e-mail is given on the person's settings page only, with the wording below shown
beside the checkbox; the event records which version of the wording they saw. It is withdrawn
there too, or by the one-click link in any message: each is an event naming how.
"""

from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.participant import Participant

# A new wording gets a new version, so the city can show what each person agreed to.
EMAIL_CONSENT_VERSION = "2025-04-01"
EMAIL_CONSENT_WORDING = (
    "市からのお知らせ（フォローしているSDGsの目標・部署に関するもの、回答できるアンケートの案内など）を、"
    "登録したメールアドレスに送ることに同意します。メールアドレスは送信のときだけ使い、"
    "お知らせの記録には含めません。同意はこのページか、メールの末尾の「配信停止」リンクからいつでも取り消せます。"
)


class PreferenceCommands:
    # Provided by Kyoso (domain/application.py).
    if TYPE_CHECKING:

        def save(self, *objs: Any, **kwargs: Any) -> Any: ...
        def get_participant(self, participant_id: UUID) -> Participant: ...

    def set_follows(
        self,
        participant_id: UUID,
        *,
        goals: list[int],
        departments: list[str],
        known_departments: list[str] | None = None,
    ) -> None:
        """Replaces what the person follows; `known_departments`, when given, is the list to choose from."""
        participant = self.get_participant(participant_id)
        participant.change_follows(list(goals), list(departments), known_departments)
        self.save(participant)

    def give_email_consent(self, participant_id: UUID, *, wording_version: str = EMAIL_CONSENT_VERSION) -> None:
        participant = self.get_participant(participant_id)
        participant.give_email_consent(wording_version, "settings")
        self.save(participant)

    def withdraw_email_consent(self, participant_id: UUID, *, how: str = "settings") -> None:
        participant = self.get_participant(participant_id)
        participant.withdraw_email_consent(how)
        self.save(participant)

    def choose_language(self, participant_id: UUID, language: str) -> None:
        participant = self.get_participant(participant_id)
        participant.choose_language(language)
        self.save(participant)
