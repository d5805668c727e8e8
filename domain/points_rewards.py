"""What points are spent on: partner shops' rewards, and transfers to the regional-currency wallet.

A transfer is paid out in a batch (a CSV for the currency operator). Each transfer joins at most
one batch: joining is an event on the transfer, saved with the batch, so two staff making a
batch at once conflict on the transfer's version and only one batch gets it.
"""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import DomainError, InvalidCommand
from domain.messages import N_
from domain.text import has_forbidden_characters

MAX_REWARD_NAME = 80
MAX_PARTNER = 80
WALLET_DIGITS = (8, 16)
MIN_TRANSFER = 100


class OutOfStock(DomainError):
    code = "out_of_stock"
    message = N_("この特典は品切れです。")


class Reward(KyosoAggregate):
    """A reward a partner shop offers for points (one point is one yen)."""

    class Offered(Aggregate.Created):
        name: str
        partner: str
        points: int
        stock: int | None
        offered_by: UUID

    class Taken(Aggregate.Event):
        spending_id: UUID

    class Withdrawn(Aggregate.Event):
        withdrawn_by: UUID

    @classmethod
    def offer(cls, *, name: str, partner: str, points: int, stock: int | None, offered_by: UUID) -> "Reward":
        errors: dict[str, str] = {}
        name, partner = name.strip(), partner.strip()
        if not name or len(name) > MAX_REWARD_NAME or has_forbidden_characters(name):
            errors["name"] = N_("特典名を%(limit)s文字以内で入力してください。", limit=MAX_REWARD_NAME)
        if not partner or len(partner) > MAX_PARTNER or has_forbidden_characters(partner):
            errors["partner"] = N_("協力店名を%(limit)s文字以内で入力してください。", limit=MAX_PARTNER)
        if not 1 <= points <= 1_000_000:
            errors["points"] = N_("必要ポイントは1〜1,000,000で入力してください。")
        if stock is not None and not 0 <= stock <= 1_000_000:
            errors["stock"] = N_("在庫数は0〜1,000,000で入力してください（空欄は無制限）。")
        if errors:
            raise InvalidCommand(field_errors=errors)
        return cls(name=name, partner=partner, points=points, stock=stock, offered_by=offered_by)

    @event(Offered)
    def __init__(self, name: str, partner: str, points: int, stock: int | None, offered_by: UUID) -> None:
        self.name = name
        self.partner = partner
        self.points = points
        self.stock = stock
        self.active = True

    def take(self, spending_id: UUID) -> None:
        """Takes one from the stock (a reward without a stock limit records nothing)."""
        if not self.active:
            raise InvalidCommand(N_("この特典の受付は終了しました。"))
        if self.stock is None:
            return
        if self.stock <= 0:
            raise OutOfStock()
        self._take(spending_id)

    @event(Taken)
    def _take(self, spending_id: UUID) -> None:
        assert self.stock is not None
        self.stock -= 1

    def withdraw(self, withdrawn_by: UUID) -> None:
        if self.active:
            self._withdraw(withdrawn_by)

    @event(Withdrawn)
    def _withdraw(self, withdrawn_by: UUID) -> None:
        self.active = False


def check_wallet_number(text: str) -> str | None:
    """A message in Japanese if the wallet number is not 8 to 16 digits, else None."""
    digits = text.strip().replace("-", "").replace(" ", "")
    low, high = WALLET_DIGITS
    if not (digits.isascii() and digits.isdigit() and low <= len(digits) <= high):
        return N_("ウォレット番号は%(low)s〜%(high)s桁の数字で入力してください。", low=low, high=high)
    return None


class Transfer(KyosoAggregate):
    """Points sent to the person's regional-currency wallet, waiting for (or in) a payout batch.

    The wallet number is personal data: it is sealed under the person's key, so erasing the
    person makes it unreadable, and the payout file can only be made while they exist."""

    class Requested(Aggregate.Created):
        participant_id: UUID
        points: int
        wallet: bytes
        spent_in: int

    class Batched(Aggregate.Event):
        batch_id: UUID

    @event(Requested)
    def __init__(self, participant_id: UUID, points: int, wallet: bytes, spent_in: int) -> None:
        self.participant_id = participant_id
        self.points = points
        self.wallet = wallet
        self.spent_in = spent_in
        self.batch_id: UUID | None = None

    def join(self, batch_id: UUID) -> None:
        if self.batch_id is not None:
            raise InvalidCommand(N_("この移行はすでに別の支払バッチに含まれています。"))
        self._join(batch_id)

    @event(Batched)
    def _join(self, batch_id: UUID) -> None:
        self.batch_id = batch_id


class PayoutBatch(KyosoAggregate):
    """A set of transfers paid out together: the lines of one CSV for the currency operator."""

    class Made(Aggregate.Created):
        transfer_ids: list[UUID]
        points: int
        made_by: UUID

    @classmethod
    def make(cls, transfers: list[Transfer], made_by: UUID) -> "PayoutBatch":
        if not transfers:
            raise InvalidCommand(N_("支払待ちの移行がありません。"))
        batch = cls(transfer_ids=[t.id for t in transfers], points=sum(t.points for t in transfers), made_by=made_by)
        for transfer in transfers:
            transfer.join(batch.id)
        return batch

    @event(Made)
    def __init__(self, transfer_ids: list[UUID], points: int, made_by: UUID) -> None:
        self.transfer_ids = transfer_ids
        self.points = points
        self.made_by = made_by
