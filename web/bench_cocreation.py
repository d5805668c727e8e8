"""Benchmarks of co-creation: proposals.rebuild.

Projecting the co-creation events (proposals with their stage changes and sealed messages, which
the projection opens) against the bare cost of selecting and decoding the same events, over
200,000+ events.
"""

import os
import random
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from domain import clock
from domain.corporate_number import with_check_digit
from domain.personal_data import seal
from domain.proposal import COCREATION_WINDOW, Actor, Proposal, Stage, message_context, text_context
from domain.values import Role
from projections.cocreation import CoCreationProjection
from projections.composite import Projections
from projections.runner import Projector
from projections.storage import Storage

MESSAGES = [
    "資料を拝見しました。",
    "追加の資料をお送りします。",
    "次回の打合せ日程をご相談させてください。",
    "承知しました。",
]
TEXTS = ("title", "summary", "plan", "effect")
PATHS = [
    [Stage.IN_DIALOGUE],
    [Stage.IN_DIALOGUE, Stage.AGREEMENT],
    [Stage.IN_DIALOGUE, Stage.PILOT, Stage.BUSINESS],
    [Stage.ENDED],
    [],
]


def run(wanted: Callable[[str], bool], quick: bool) -> None:
    from web.bench import DATABASE_URL_VARIABLE  # Here: web.bench imports this module.

    if not wanted("proposals.rebuild"):
        return
    kinds = ["sqlite"] + (["postgres"] if os.environ.get(DATABASE_URL_VARIABLE) else [])
    for kind in kinds:
        bench_rebuild(kind, quick)


def load_proposals(storage: Storage, proposals: int, rng: random.Random) -> int:
    """Proposals with stage changes and messages, built in memory and saved in chunks: the
    commands' one-load-one-save per event would cost far more than the figure measures."""
    app = storage.app
    window = app.register_participant(Role.STAFF, department=COCREATION_WINDOW)
    staff = Actor(window, Role.STAFF, COCREATION_WINDOW)
    members: list[tuple[Actor, Any, bytes]] = []
    for i in range(50):
        person = app.register_participant(Role.BUSINESS)
        number = with_check_digit(f"{9_000_000_000 + i:012d}")
        org = app.register_organisation(person, kind="corporation", name=f"ベンチ株式会社{i}", corporate_number=number)
        member = Actor(person, Role.BUSINESS, organisation_id=org)
        members.append((member, app.get_organisation(org), app.keys.key_for(person)))
    staff_key = app.keys.key_for(window)
    written, pending = 0, []
    for n in range(proposals):
        actor, organisation, key = members[n % len(members)]
        submission = uuid4()
        proposal_id = Proposal.create_id(organisation_id=organisation.id, submission_key=submission)
        texts = {name: seal(key, f"{name} {n}", text_context(proposal_id, name)) for name in TEXTS}
        proposal = Proposal.submit(
            actor=actor, organisation=organisation, challenge=None, submission_key=submission, texts=texts,
            cost_yen=rng.choice([0, 0, 500_000]), sdg_goals=[rng.randint(1, 17)], now=clock.now(),
        )  # fmt: skip
        for stage in rng.choice(PATHS):
            if stage is Stage.ENDED:
                break
            proposal.change_stage(stage, "", staff)
        for _ in range(rng.randint(4, 9)):
            from_city = rng.random() < 0.5
            author, author_key = (staff, staff_key) if from_city else (actor, key)
            number = proposal.next_message_number
            if proposal.stage is Stage.ENDED:
                break
            sealed = seal(author_key, rng.choice(MESSAGES), message_context(proposal.id, number))
            proposal.post_message(author, sealed, number, from_city)
        pending.append(proposal)
        written += len(proposal.pending_events)
        if len(pending) >= 500:
            app.save(*pending)
            pending = []
    if pending:
        app.save(*pending)
    return written


def select_and_decode(storage: Storage, projector: Projector) -> int:
    topics, start, count = projector.projection.topics, 0, 0
    to_event = storage.app.mapper.to_domain_event
    while True:
        notifications = storage.app.recorder.select_notifications(
            start=start, limit=projector.batch_size, topics=topics, inclusive_of_start=False
        )
        if not notifications:
            return count
        for n in notifications:
            to_event(n)
        count += len(notifications)
        start = notifications[-1].id


def bench_rebuild(kind: str, quick: bool) -> None:
    from web.bench import backend, emit, note

    # About 8.7 events a proposal: 24,000 proposals make the 200,000+ events a rebuild figure needs.
    proposals = 2_000 if quick else 24_000
    with backend(kind) as (data_dir, url):
        storage = Storage.open(data_dir, url)
        only_ours = Projections([CoCreationProjection()])
        only_ours.name = "cocreation_bench"  # its own position row, apart from the read models'
        projector = Projector(storage.app, storage.db, only_ours)
        started = time.perf_counter()
        written = load_proposals(storage, proposals, random.Random(8))
        note(f"proposals.rebuild.{kind}: wrote {written} events in {time.perf_counter() - started:.1f}s")
        baseline_times, rebuild_times, decoded, applied = [], [], 0, 0
        for _ in range(1 if quick else 3):
            started = time.perf_counter()
            decoded = select_and_decode(storage, projector)
            baseline_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            applied = projector.rebuild()
            rebuild_times.append(time.perf_counter() - started)
        emit(
            f"proposals.rebuild.{kind}", applied / min(rebuild_times), "events/s", decoded / min(baseline_times),
            events=applied,
        )  # fmt: skip
        storage.close()
