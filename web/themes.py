"""Running theme analyses for staff: a small background job per request, recorded as an event.

Embedding a few thousand opinions takes a minute on two cores, longer than a request should
wait, so staff start a job and the page polls for it. The finished analysis is stored as a
domain event with its inputs, model, parameters and seed, so an auditor can re-run it exactly.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.themes import IDEAS, PROPOSALS, AnalysisModel, AssignmentRun, ThemeNode, parse_corpus, survey_corpus
from projections.storage import Storage
from projections.themes import idea_texts, proposal_texts

log = logging.getLogger(__name__)

MIN_OPINIONS = 10


@dataclass
class Job:
    id: str
    corpus: str
    done: int = 0
    total: int = 0
    analysis_id: str | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.analysis_id is not None or self.error is not None


def opinions_for(storage: Storage, corpus: str) -> list[tuple[str, str]]:
    """The readable opinions of a corpus, oldest first, as (id, text)."""
    kind, scope, question_id = parse_corpus(corpus)
    if kind == IDEAS:
        return list(idea_texts(storage.db, department=scope).items())
    if kind == PROPOSALS:
        return list(proposal_texts(storage.db, department=scope).items())
    return [(str(rid), text) for rid, text in storage.results.free_text_rows(scope, question_id)]


def run_analysis(
    storage: Storage,
    corpus: str,
    staff_id: UUID,
    *,
    k: int | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    input_ids: list[str] | None = None,
) -> UUID:
    """Analyses the opinions of a corpus and records the result as an event."""
    from ml import Opinion, analyze, make_embedder

    rows = opinions_for(storage, corpus)
    if input_ids is not None:
        wanted = set(input_ids)
        rows = [r for r in rows if r[0] in wanted]
    if len(rows) < MIN_OPINIONS:
        raise ValueError(f"分析には{MIN_OPINIONS}件以上の意見が必要です（現在{len(rows)}件）。")
    if k is not None and not 1 <= k <= min(30, len(rows)):
        raise ValueError(f"テーマ数は1〜{min(30, len(rows))}の範囲で指定してください。")
    embedder = make_embedder(cache_dir=storage.data_dir / "embeddings")
    result = analyze([Opinion(rid, text) for rid, text in rows], k=k, embedder=embedder, seed=seed, progress=progress)
    themes = msgspec.convert(msgspec.to_builtins(result.themes), list[ThemeNode])
    model = AnalysisModel(name=result.model.name, version=result.model.version, dim=result.model.dim)
    analysis_id = storage.app.record_theme_analysis(
        corpus=corpus,
        staff_id=staff_id,
        input_ids=[rid for rid, _ in rows],
        model=model,
        params=msgspec.to_builtins(result.params),
        seed=seed,
        themes=themes,
    )
    storage.projector.catch_up()
    return analysis_id


def new_opinions(storage: Storage, analysis_id: UUID) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(analysed, arrived since) opinions of a recorded analysis's corpus, readable ones only."""
    recorded = storage.app.get_theme_analysis(analysis_id)
    analysed_ids = set(recorded.input_ids)
    rows = opinions_for(storage, recorded.corpus)
    return [r for r in rows if r[0] in analysed_ids], [r for r in rows if r[0] not in analysed_ids]


def assign_new_opinions(storage: Storage, analysis_id: UUID, staff_id: UUID) -> Any:
    """Puts the opinions that arrived since an analysis into its themes, recorded as an event."""
    from domain.themes import OpinionAssignment
    from ml import Opinion, make_embedder
    from ml.assign import assign

    recorded = storage.app.get_theme_analysis(analysis_id)
    analysed, new = new_opinions(storage, analysis_id)
    if not new:
        raise ValueError("分析の後に届いた意見はありません。")
    embedder = make_embedder(cache_dir=storage.data_dir / "embeddings")
    if (embedder.name, embedder.version) != (recorded.model.name, recorded.model.version):
        raise ValueError("分析に使ったモデルが入れ替わっているため割り当てられません。再分析してください。")
    themes = [(t.id, t.units or t.members, t.members) for t in recorded.themes]
    result = assign(themes, dict(analysed), [Opinion(rid, text) for rid, text in new], embedder)
    storage.app.record_theme_assignment(
        analysis_id,
        staff_id=staff_id,
        run=AssignmentRun(
            assignments=[msgspec.convert(msgspec.to_builtins(a), OpinionAssignment) for a in result.assignments],
            threshold=result.threshold,
            rerun_recommended=result.rerun_recommended,
            model_version=embedder.version,
            algorithm_version=result.algorithm_version,
        ),
    )
    storage.projector.catch_up()
    return result


class ThemeJobs:
    """Analyses in flight, one thread each, their progress kept in the database so that any
    web worker can answer the page that polls for it; at most `concurrency` run at once here."""

    def __init__(self, storage: Storage, concurrency: int = 1) -> None:
        self.storage = storage
        self._slots = threading.Semaphore(concurrency)

    def start(self, corpus: str, staff_id: UUID, k: int | None) -> Job:
        job = Job(id=uuid.uuid4().hex, corpus=corpus)
        _, scope, question_id = parse_corpus(corpus)
        with self.storage.db.transaction() as cur:
            cur.execute(
                "INSERT INTO theme_jobs (job_id, survey_id, question_id, corpus, started_at) VALUES (?, ?, ?, ?, ?)",
                (job.id, scope, question_id, corpus, datetime.now(UTC).isoformat()),
            )
        last_report = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last_report[0] > 0.5 or done == total:
                last_report[0] = time.monotonic()
                self._update(job.id, "done = ?, total = ?", (done, total))

        def work() -> None:
            with self._slots:
                try:
                    analysis_id = run_analysis(self.storage, corpus, staff_id, k=k, progress=progress)
                    self._update(job.id, "analysis_id = ?", (str(analysis_id),))
                except ValueError as e:
                    self._update(job.id, "error = ?", (str(e),))
                except Exception:
                    log.exception("theme analysis failed")
                    self._update(job.id, "error = ?", ("分析中にエラーが発生しました。",))

        threading.Thread(target=work, name=f"themes-{job.id[:8]}", daemon=True).start()
        return job

    def _update(self, job_id: str, assignments: str, params: tuple[object, ...]) -> None:
        with self.storage.db.transaction() as cur:
            cur.execute(f"UPDATE theme_jobs SET {assignments} WHERE job_id = ?", (*params, job_id))

    def get(self, job_id: str) -> Job | None:
        row = self.storage.db.query_one(
            "SELECT job_id, corpus, survey_id, question_id, done, total, analysis_id, error FROM theme_jobs"
            " WHERE job_id = ?",
            (job_id,),
        )
        if row is None:
            return None
        job_id, corpus, survey_id, question_id, *progress = row
        return Job(job_id, corpus or survey_corpus(survey_id, question_id), *progress)


def machine_labels(themes: list[ThemeNode], opinions: dict[str, str]) -> dict[str, str]:
    """The machine's suggestion for each theme: a phrase from its most central opinion that is still
    readable (an erased author's words drop out, and with them any label made of them), else its
    keyword label."""
    from ml.labels import phrase_label

    out: dict[str, str] = {}
    for theme in themes:
        central = next((opinions[q.id] for q in theme.quotes if opinions.get(q.id)), "")
        out.setdefault(theme.id, phrase_label(central) or theme.label)
    return out


def who_edited(storage: Storage, ids: set[str]) -> dict[str, tuple[str, str]]:
    """(role, department) of each staff member by id: the page names the office, not the person."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    sql = f"SELECT participant_id, role, department FROM participants WHERE participant_id IN ({marks})"
    rows = storage.db.query(sql, list(ids))
    return {pid: (role, department or "") for pid, role, department in rows}
