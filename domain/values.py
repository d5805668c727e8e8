"""Value types shared by the aggregates: roles, audiences and a respondent's coarse attributes."""

from enum import StrEnum

import msgspec

from domain.messages import N_


class Role(StrEnum):
    CITIZEN = "citizen"
    BUSINESS = "business"
    STAFF = "staff"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CITIZEN: N_("市民"),
    Role.BUSINESS: N_("事業者"),
    Role.STAFF: N_("職員"),
    Role.AUDITOR: N_("監査担当"),
    Role.ADMIN: N_("管理者"),
}


# The languages of the interface: Japanese (the first) is the default and the source of truth.
LANGUAGES = ("ja", "en")


class Audience(StrEnum):
    """Who a survey asks: citizens, the city's own staff, or businesses."""

    CITIZENS = "citizens"
    STAFF = "staff"
    BUSINESSES = "businesses"

    @property
    def label(self) -> str:
        return AUDIENCE_LABELS[self]

    def admits(self, role: Role) -> bool:
        return role in AUDIENCE_ROLES[self]


AUDIENCE_LABELS = {
    Audience.CITIZENS: N_("市民向け"),
    Audience.STAFF: N_("職員向け"),
    Audience.BUSINESSES: N_("事業者向け"),
}

# Admins may answer anything so that they can check a survey end to end.
AUDIENCE_ROLES = {
    Audience.CITIZENS: {Role.CITIZEN, Role.ADMIN},
    Audience.STAFF: {Role.STAFF, Role.ADMIN},
    Audience.BUSINESSES: {Role.BUSINESS, Role.ADMIN},
}


class Ward(StrEnum):
    """Amagasaki's six districts (地区)."""

    CHUO = "chuo"
    ODA = "oda"
    DAISHO = "daisho"
    TACHIBANA = "tachibana"
    MUKO = "muko"
    SONODA = "sonoda"

    @property
    def label(self) -> str:
        return WARD_LABELS[self]


WARD_LABELS = {
    Ward.CHUO: N_("中央"),
    Ward.ODA: N_("小田"),
    Ward.DAISHO: N_("大庄"),
    Ward.TACHIBANA: N_("立花"),
    Ward.MUKO: N_("武庫"),
    Ward.SONODA: N_("園田"),
}


class AgeBand(StrEnum):
    UNDER_18 = "u18"
    AGE_18_29 = "18-29"
    AGE_30S = "30-39"
    AGE_40S = "40-49"
    AGE_50S = "50-59"
    AGE_60S = "60-69"
    AGE_70_PLUS = "70+"

    @property
    def label(self) -> str:
        return AGE_BAND_LABELS[self]


AGE_BAND_LABELS = {
    AgeBand.UNDER_18: N_("18歳未満"),
    AgeBand.AGE_18_29: N_("18〜29歳"),
    AgeBand.AGE_30S: N_("30代"),
    AgeBand.AGE_40S: N_("40代"),
    AgeBand.AGE_50S: N_("50代"),
    AgeBand.AGE_60S: N_("60代"),
    AgeBand.AGE_70_PLUS: N_("70歳以上"),
}


class Attributes(msgspec.Struct, frozen=True, kw_only=True):
    """What a participant chose to tell about themselves; every field is optional.

    Coarse on purpose: these travel inside events, so they must never identify anyone.
    """

    ward: Ward | None = None
    age_band: AgeBand | None = None
    has_children: bool | None = None


NO_ATTRIBUTES = Attributes()


# The 17 Sustainable Development Goals, by number, as the Japanese government names them.
SDG_GOALS: dict[int, str] = {
    1: N_("貧困をなくそう"),
    2: N_("飢餓をゼロに"),
    3: N_("すべての人に健康と福祉を"),
    4: N_("質の高い教育をみんなに"),
    5: N_("ジェンダー平等を実現しよう"),
    6: N_("安全な水とトイレを世界中に"),
    7: N_("エネルギーをみんなに そしてクリーンに"),
    8: N_("働きがいも経済成長も"),
    9: N_("産業と技術革新の基盤をつくろう"),
    10: N_("人や国の不平等をなくそう"),
    11: N_("住み続けられるまちづくりを"),
    12: N_("つくる責任 つかう責任"),
    13: N_("気候変動に具体的な対策を"),
    14: N_("海の豊かさを守ろう"),
    15: N_("陸の豊かさも守ろう"),
    16: N_("平和と公正をすべての人に"),
    17: N_("パートナーシップで目標を達成しよう"),
}


_GOAL_NUMBERS = {str(n): n for n in SDG_GOALS}


def sdg_goal_of(text: str) -> int | None:
    """The goal a form or query names, or None; compared as text, since int() of a hostile
    5,000-digit string raises before any range check could."""
    return _GOAL_NUMBERS.get(text.strip())


def check_sdg_goals(goals: list[int]) -> str | None:
    """A message in Japanese if the goals are not distinct numbers from 1 to 17, else None."""
    if any(isinstance(g, bool) or not isinstance(g, int) or g not in SDG_GOALS for g in goals):
        return N_("SDGsの目標は1〜17の番号で選んでください。")
    if len(set(goals)) != len(goals):
        return N_("同じ目標が重複しています。")
    return None
