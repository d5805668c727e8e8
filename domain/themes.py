"""A theme analysis of free-text opinions, recorded so that it can be audited and re-run.

What was analysed is its corpus: the answers to one free-text question of a survey
(`survey:<survey id>:<question id>`), the citizens' ideas of one department (`ideas:<department>`),
or the summaries of the business proposals one department handles (`proposals:<department>`).

The event carries everything needed to repeat the run exactly (the ids of the opinions analysed,
the model and its version, the parameters and the seed) and its result, the themes themselves.
"""

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand
from domain.messages import N_


class ThemeQuote(msgspec.Struct, frozen=True):
    """A representative opinion, by id only: its text stays sealed under its author's key, so
    an erased person's words drop out of every analysis that quoted them."""

    id: str


class DuplicateGroup(msgspec.Struct, frozen=True):
    """Opinions saying the same thing (同趣旨), by id; the representative is the oldest."""

    representative: str
    members: list[str]
    exact: bool


class ThemeNode(msgspec.Struct, frozen=True):
    id: str
    label: str
    keywords: list[str]
    size: int
    members: list[str]
    quotes: list[ThemeQuote]
    children: list["ThemeNode"] = []
    # Since themes v2 (older analyses decode with none): the opinion units of the theme and its
    # groups of near-duplicate opinions.
    units: list[str] = []
    duplicates: list[DuplicateGroup] = []


class OpinionAssignment(msgspec.Struct, frozen=True):
    """Where a new opinion went: the top-level themes of its units, or none (新しい意見)."""

    opinion_id: str
    themes: list[str]
    similarity: float
    duplicate_of: str = ""


class AssignmentRun(msgspec.Struct, frozen=True):
    """One putting of new opinions into an analysis's themes, with what decides the result (the
    model, the threshold, the algorithm) to repeat it; its fields are NewOpinionsAssigned's."""

    assignments: list[OpinionAssignment]
    threshold: float
    rerun_recommended: bool
    model_version: str
    algorithm_version: str


class PublishedTheme(msgspec.Struct, frozen=True):
    """One theme of a summary published to citizens: the staff's words and its opinion count."""

    id: str
    label: str
    summary: str
    count: int


# Staff edits: a label a person would write, and a summary a citizen reads in a minute.
# (The messages spell the numbers out, so that they can be translated whole.)
MAX_LABEL, MAX_SUMMARY = 40, 400


def renamed(themes: list[ThemeNode], theme_id: str, label: str) -> list[ThemeNode]:
    return [msgspec.structs.replace(t, label=label) if t.id == theme_id else t for t in themes]


def merged(themes: list[ThemeNode], theme_ids: list[str], label: str) -> list[ThemeNode]:
    """The themes as one, kept in the place (and under the id) of the first: its opinions are the
    union of theirs, an opinion in several of them counted once."""
    parts = [t for t in themes if t.id in theme_ids]
    members = list(dict.fromkeys(m for t in parts for m in t.members))
    one = ThemeNode(
        id=theme_ids[0],
        label=label,
        keywords=list(dict.fromkeys(k for t in parts for k in t.keywords))[:8],
        size=len(members),
        members=members,
        quotes=[q for t in parts for q in t.quotes],
        children=[c for t in parts for c in t.children],
        units=[u for t in parts for u in t.units],
        duplicates=[d for t in parts for d in t.duplicates],
    )
    out = []
    for t in themes:
        if t.id == theme_ids[0]:
            out.append(one)
        elif t.id not in theme_ids:
            out.append(t)
    return out


def split_off(
    themes: list[ThemeNode], theme_id: str, new_theme_id: str, opinion_ids: list[str], label: str
) -> list[ThemeNode]:
    """The chosen opinions moved out of a theme into a new one right after it (no re-clustering:
    the new theme has no keywords of its own, and its quotes are those of the moved opinions)."""
    moving = set(opinion_ids)
    out = []
    for t in themes:
        if t.id != theme_id:
            out.append(t)
            continue
        opinion_of = lambda unit: unit.split("#", 1)[0]  # noqa: E731 - unit ids are "<opinion id>#<n>"
        stay = [m for m in t.members if m not in moving]
        go = [m for m in t.members if m in moving]
        kept_children = [
            msgspec.structs.replace(c, members=[m for m in c.members if m not in moving], size=0) for c in t.children
        ]
        kept_children = [msgspec.structs.replace(c, size=len(c.members)) for c in kept_children if c.members]
        out.append(
            msgspec.structs.replace(
                t,
                size=len(stay),
                members=stay,
                quotes=[q for q in t.quotes if q.id not in moving],
                children=kept_children,
                units=[u for u in t.units if opinion_of(u) not in moving],
                duplicates=[d for d in t.duplicates if d.representative not in moving],
            )
        )
        out.append(
            ThemeNode(
                id=new_theme_id,
                label=label,
                keywords=[],
                size=len(go),
                members=go,
                quotes=[q for q in t.quotes if q.id in moving],
                units=[u for u in t.units if opinion_of(u) in moving],
                duplicates=[d for d in t.duplicates if d.representative in moving],
            )
        )
    return out


def _label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise InvalidCommand(N_("テーマの名前を入力してください。"), {"label": N_("テーマの名前を入力してください。")})
    if len(label) > MAX_LABEL:
        message = N_("テーマの名前は40文字以内にしてください。")  # MAX_LABEL
        raise InvalidCommand(message, {"label": message})
    return label


class AnalysisModel(msgspec.Struct, frozen=True):
    name: str
    version: str
    dim: int


SURVEY, IDEAS, PROPOSALS = "survey", "ideas", "proposals"
# Corpora that belong to one department: its ideas, or the summaries of the proposals it handles.
DEPARTMENT_CORPORA = (IDEAS, PROPOSALS)


def survey_corpus(survey_id: UUID | str, question_id: str) -> str:
    return f"{SURVEY}:{survey_id}:{question_id}"


def ideas_corpus(department: str) -> str:
    return f"{IDEAS}:{department}"


def proposals_corpus(department: str) -> str:
    return f"{PROPOSALS}:{department}"


def parse_corpus(corpus: str) -> tuple[str, str, str]:
    """(kind, survey id or department, question id or "")."""
    kind, _, rest = corpus.partition(":")
    if kind == SURVEY:
        survey_id, _, question_id = rest.partition(":")
        return kind, survey_id, question_id
    return kind, rest, ""


class ThemeAnalysis(KyosoAggregate):
    class Completed(Aggregate.Created):
        corpus: str
        survey_id: UUID | None
        question_id: str | None
        requested_by: UUID
        input_ids: list[str]
        model: AnalysisModel
        params: dict[str, Any]
        seed: int
        themes: list[ThemeNode]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 analysed survey answers only.
            state["corpus"] = survey_corpus(state["survey_id"], state["question_id"])

    class Viewed(Aggregate.Event):
        viewed_by: UUID

    class NewOpinionsAssigned(Aggregate.Event):
        """Opinions that arrived after the analysis, put into its themes without re-clustering;
        with what decides the result (the model, the threshold, the algorithm) to repeat it."""

        assigned_by: UUID
        assignments: list[OpinionAssignment]
        threshold: float
        rerun_recommended: bool
        model_version: str
        algorithm_version: str

    class ThemeRenamed(Aggregate.Event):
        """Staff named a theme; the machine's label stays in Completed."""

        edited_by: UUID
        theme_id: str
        label: str

    class ThemesMerged(Aggregate.Event):
        """Staff joined themes into the first of `theme_ids`."""

        edited_by: UUID
        theme_ids: list[str]
        label: str

    class ThemeSplit(Aggregate.Event):
        """Staff moved chosen opinions (copies of a 同趣旨 group with them) out of a theme into a new one."""

        edited_by: UUID
        theme_id: str
        new_theme_id: str
        opinion_ids: list[str]
        label: str

    class ThemeSummaryPublished(Aggregate.Event):
        """A summary for citizens: the themes as staff curated them, in their words, with counts
        (the page hides small ones); never an opinion's text."""

        published_by: UUID
        survey_id: UUID
        question_id: str
        total: int
        themes: list[PublishedTheme]

    @event(Completed)
    def __init__(
        self,
        corpus: str,
        survey_id: UUID | None,
        question_id: str | None,
        requested_by: UUID,
        input_ids: list[str],
        model: AnalysisModel,
        params: dict[str, Any],
        seed: int,
        themes: list[ThemeNode],
    ) -> None:
        self.corpus = corpus
        self.survey_id = survey_id
        self.question_id = question_id
        self.requested_by = requested_by
        self.input_ids = input_ids
        self.model = model
        self.params = params
        self.seed = seed
        self.themes = themes
        self.viewers: list[UUID] = []
        self.assignments: list[OpinionAssignment] = []
        # The themes as staff have edited them (the machine's stay in `themes`).
        self.curated: list[ThemeNode] = list(themes)
        self.staff_themes = 0
        self.published: list[PublishedTheme] = []

    def _theme(self, theme_id: str) -> ThemeNode:
        found = next((t for t in self.curated if t.id == theme_id), None)
        if found is None:
            raise InvalidCommand(N_("この分析にないテーマです。"))
        return found

    def rename_theme(self, edited_by: UUID, theme_id: str, label: str) -> None:
        theme = self._theme(theme_id)
        label = _label(label)
        if label == theme.label:
            raise InvalidCommand(N_("名前が変わっていません。"), {"label": N_("名前が変わっていません。")})
        self._renamed(edited_by, theme_id, label)

    @event(ThemeRenamed)
    def _renamed(self, edited_by: UUID, theme_id: str, label: str) -> None:
        self.curated = renamed(self.curated, theme_id, label)

    def merge_themes(self, edited_by: UUID, theme_ids: list[str], label: str) -> None:
        theme_ids = list(dict.fromkeys(theme_ids))
        if len(theme_ids) < 2:
            message = N_("まとめるテーマを2つ以上選んでください。")
            raise InvalidCommand(message, {"theme_ids": message})
        for theme_id in theme_ids:
            self._theme(theme_id)
        # Kept in the order of the page, so the merged theme takes the place of the first one shown.
        order = [t.id for t in self.curated]
        self._merged(edited_by, sorted(theme_ids, key=order.index), _label(label))

    @event(ThemesMerged)
    def _merged(self, edited_by: UUID, theme_ids: list[str], label: str) -> None:
        self.curated = merged(self.curated, theme_ids, label)

    def split_theme(self, edited_by: UUID, theme_id: str, opinion_ids: list[str], label: str) -> None:
        theme = self._theme(theme_id)
        chosen = set(opinion_ids)
        if not chosen:
            message = N_("新しいテーマに移す意見を選んでください。")
            raise InvalidCommand(message, {"opinion_ids": message})
        if chosen - set(theme.members):
            raise InvalidCommand(N_("このテーマにない意見は移せません。"))
        for group in theme.duplicates:  # a copy goes where its 同趣旨 group goes
            if chosen & set(group.members):
                chosen |= set(group.members)
        if chosen >= set(theme.members):
            raise InvalidCommand(N_("すべての意見は移せません。名前を変えるには「名前を変える」を使ってください。"))
        label = _label(label)
        moving = [m for m in theme.members if m in chosen]
        self._split(edited_by, theme_id, f"h{self.staff_themes + 1}", moving, label)

    @event(ThemeSplit)
    def _split(self, edited_by: UUID, theme_id: str, new_theme_id: str, opinion_ids: list[str], label: str) -> None:
        self.curated = split_off(self.curated, theme_id, new_theme_id, opinion_ids, label)
        self.staff_themes += 1

    def publish_summary(self, published_by: UUID, summaries: dict[str, str]) -> None:
        """Publishes the curated themes, each with the text staff wrote for it (may be empty)."""
        if self.survey_id is None or self.question_id is None:
            raise InvalidCommand(N_("公表できるのはアンケートの自由記述のテーマだけです。"))
        message = N_("テーマの説明は400文字以内にしてください。")  # MAX_SUMMARY
        too_long = {f"summary_{t}": message for t, s in summaries.items() if len(s) > MAX_SUMMARY}
        if too_long:
            raise InvalidCommand(message, too_long)
        if set(summaries) - {t.id for t in self.curated}:
            raise InvalidCommand(N_("この分析にないテーマです。"))
        themes = [PublishedTheme(t.id, t.label, summaries.get(t.id, "").strip(), t.size) for t in self.curated]
        total = len({m for t in self.curated for m in t.members})
        self._published(published_by, self.survey_id, self.question_id, total, themes)

    @event(ThemeSummaryPublished)
    def _published(
        self, published_by: UUID, survey_id: UUID, question_id: str, total: int, themes: list[PublishedTheme]
    ) -> None:
        self.published = themes

    @event(Viewed)
    def record_view(self, viewed_by: UUID) -> None:
        self.viewers.append(viewed_by)

    def assign_new_opinions(self, assigned_by: UUID, run: AssignmentRun) -> None:
        ids = [a.opinion_id for a in run.assignments]
        if not ids:
            raise InvalidCommand("割り当てる新しい意見がありません。")
        if len(set(ids)) != len(ids) or set(ids) & set(self.input_ids):
            raise InvalidCommand("分析済みの意見や重複した意見は割り当てられません。")
        known = {t.id for t in self.themes}
        if any(set(a.themes) - known for a in run.assignments):
            raise InvalidCommand("この分析にないテーマには割り当てられません。")
        if run.model_version != self.model.version:
            raise InvalidCommand("分析と異なるモデルでは割り当てられません。")
        self._assigned(assigned_by, **msgspec.structs.asdict(run))

    @event(NewOpinionsAssigned)
    def _assigned(
        self,
        assigned_by: UUID,
        assignments: list[OpinionAssignment],
        threshold: float,
        rerun_recommended: bool,
        model_version: str,
        algorithm_version: str,
    ) -> None:
        self.assignments = assignments
