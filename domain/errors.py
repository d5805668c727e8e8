"""Domain errors: each carries a stable code and a message in Japanese for the people using Kyoso."""

from domain.messages import N_


class DomainError(Exception):
    code = "domain_error"
    message = N_("操作を完了できませんでした。")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class NotFound(DomainError):
    code = "not_found"
    message = N_("見つかりませんでした。")


class NotAllowed(DomainError):
    code = "not_allowed"
    message = N_("この操作を行う権限がありません。")


class InvalidCommand(DomainError):
    """A command that breaks a rule of the aggregate (wrong state, bad definition)."""

    code = "invalid"
    message = N_("入力内容を確認してください。")

    def __init__(self, message: str | None = None, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {}


class InvalidAnswers(InvalidCommand):
    code = "invalid_answers"
    message = N_("回答に誤りがあります。赤字の項目を確認してください。")


class SurveyNotOpen(DomainError):
    code = "survey_not_open"
    message = N_("このアンケートは現在回答を受け付けていません。")


class AlreadyAnswered(DomainError):
    code = "already_answered"
    message = N_("このアンケートにはすでに回答済みです。回答は1人1回までです。")


class EmailAlreadyRegistered(DomainError):
    code = "email_taken"
    message = N_("このメールアドレスはすでに登録されています。")
