"""Opens Kyoso's storage from configuration: the event store, the read models and their projector.

Embedded SQLite under a data directory by default (events and read models in two files, so
projection writes never wait on event writes); PostgreSQL when given a postgresql:// URL.
"""

from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from domain.application import Kyoso
from migrations import migrate
from projections.awarding import AwardingProcess, AwardingThread
from projections.catalogue import Catalogue
from projections.checkpoints import Checkpointer, CheckpointLog
from projections.cocreation import CoCreationProjection
from projections.composite import Projections
from projections.database import (
    Database,
    PostgresDatabase,
    SQLiteDatabase,
    is_postgres_url,
    postgres_env,
)
from projections.engagement import EngagementProjection
from projections.ideas import IdeaProjection
from projections.identities import SQLIdentityStore
from projections.keystore import SQLDataKeys, shared_secret
from projections.kpis import KpiProjection
from projections.notices import NoticeProjection
from projections.participants import ParticipantProjection
from projections.points import PointsProjection
from projections.results import Results
from projections.runner import Projector, ProjectorThread
from projections.surveys import SurveyProjection
from projections.themes import ThemeAssignmentProjection, ThemeReadModel


def event_store_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    if database_url and is_postgres_url(database_url):
        return postgres_env(database_url)
    return {
        # SQLite's recorder, plus the tamper-evident chain written in the same transaction.
        "PERSISTENCE_MODULE": "projections.event_chain:ChainedSQLiteFactory",
        "SQLITE_DBNAME": str(data_dir / "events.sqlite3"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def open_database(data_dir: Path, database_url: str | None) -> Database:
    if database_url and is_postgres_url(database_url):
        return PostgresDatabase(database_url)
    return SQLiteDatabase(data_dir / "readmodels.sqlite3")


@dataclass
class Storage:
    app: Kyoso
    db: Database
    identities: SQLIdentityStore
    projector: Projector
    catalogue: Catalogue
    results: Results
    themes: ThemeReadModel
    data_dir: Path
    awarding: AwardingProcess
    database_url: str | None = None
    _thread: ProjectorThread | None = field(default=None, repr=False)
    _awarding_thread: AwardingThread | None = field(default=None, repr=False)
    _checkpointer: Checkpointer | None = field(default=None, repr=False)

    @classmethod
    def open(cls, data_dir: str | Path, database_url: str | None = None) -> "Storage":
        data_dir = Path(data_dir)
        if not (database_url and is_postgres_url(database_url)):
            if database_url:
                raise ValueError(f"KYOSO_DATABASE_URL must be a postgresql:// URL: {database_url!r}")
            data_dir.mkdir(parents=True, exist_ok=True)
        db = open_database(data_dir, database_url)
        migrate(db)
        identities = SQLIdentityStore(db)
        keys = SQLDataKeys(db)
        app = Kyoso(
            env=event_store_env(data_dir, database_url),
            identities=identities,
            keys=keys,
            code_key=shared_secret(db, "venue-codes"),
        )
        projector = Projector(
            app,
            db,
            Projections(
                [
                    # Participants first: the others may read who a person is within the same batch.
                    ParticipantProjection(),
                    SurveyProjection(),
                    IdeaProjection(),
                    CoCreationProjection(),
                    PointsProjection(),
                    NoticeProjection(),
                    EngagementProjection(),
                    KpiProjection(),
                    ThemeAssignmentProjection(),
                ]
            ),
        )
        return cls(
            app=app,
            db=db,
            identities=identities,
            projector=projector,
            catalogue=Catalogue(db),
            results=Results(db),
            themes=ThemeReadModel(db),
            data_dir=data_dir,
            awarding=AwardingProcess(app),
            database_url=database_url,
        )

    def start_projecting(self, interval: float = 0.5) -> None:
        """Runs the projector and the awarding process in this process, in the background."""
        if self._thread is None:
            self.projector.catch_up()
            self._thread = ProjectorThread(self.projector, interval).start()
        if self._awarding_thread is None:
            self._awarding_thread = AwardingThread(
                self.awarding, min(interval, 0.2), on_awarded=self._thread.wake
            ).start()

    def catch_up(self) -> None:
        """Awards what activity earned, then projects everything (the awards included), now."""
        self.awarding.catch_up()
        self.projector.catch_up()

    @property
    def checkpointer(self) -> Checkpointer:
        """Verifies the event chain and signs checkpoints of it (outside the database)."""
        if self._checkpointer is None:
            self._checkpointer = Checkpointer(self.app, CheckpointLog.for_data_dir(self.data_dir))
        return self._checkpointer

    def start_checkpointing(self, interval: float | None = None) -> None:
        """Verifies the chain and signs its head now and then (KYOSO_CHECKPOINT_SECONDS), in the background."""
        self.checkpointer.start(interval)

    def stop_checkpointing(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def erase(self, participant_id: UUID) -> None:
        """Erases a person for good: key, identity and sessions at once; then the read models
        drop their text, and (on SQLite) no page or log of the database file keeps a copy."""
        self.app.erase_participant(participant_id)
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM web_sessions WHERE participant_id = ?", (str(participant_id),))
        self.projector.catch_up()
        self.db.purge_deleted()

    def close(self) -> None:
        self.stop_checkpointing()
        if self._awarding_thread is not None:
            self._awarding_thread.stop()
            self._awarding_thread = None
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        self.app.close()
        self.db.close()
