"""Event serialization with msgspec, in place of eventsourcing's default JSON transcoder.

Each event class gets a typed msgspec decoder built from its own annotations, so dates, UUIDs,
enums and question structs come back as themselves, and decoding is a single pass in C.
"""

import dataclasses
from functools import cache
from typing import Any, NotRequired, TypedDict, cast, get_type_hints
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

_HEADER_FIELDS = ("originator_id", "originator_version")
_encoder = msgspec.json.Encoder()


class MsgspecTranscoder(Transcoder):
    """Untyped msgspec JSON, for anything that is not a domain event (e.g. snapshots)."""

    def encode(self, obj: Any) -> bytes:
        return _encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return msgspec.json.decode(data)


@cache
def _state_type(event_class: type) -> Any:
    all_hints = get_type_hints(event_class)
    hints = {f.name: all_hints[f.name] for f in dataclasses.fields(event_class) if f.name not in _HEADER_FIELDS}
    hints["class_version"] = NotRequired[int]  # type: ignore[assignment]
    return TypedDict(f"{event_class.__qualname__}State", hints)  # type: ignore[misc]


@cache
def _decoder_for(event_class: type) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(_state_type(event_class))


class MsgspecMapper(Mapper[Any]):
    def __init__(self) -> None:
        super().__init__(transcoder=MsgspecTranscoder())

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=_encoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        cls = resolve_topic(stored_event.topic)
        class_version = getattr(cls, "class_version", 1)
        try:
            try:
                state = cast(dict[str, Any], _decoder_for(cls).decode(stored_event.state))
            except msgspec.ValidationError:
                if class_version == 1:
                    raise
                # An older version of the event: upcast it untyped, then type the result.
                state = msgspec.json.decode(stored_event.state)
                _upcast(cls, state, class_version)
                state = msgspec.convert(state, _state_type(cls))
        except (msgspec.DecodeError, TypeError) as e:
            msg = (
                f"Failed to decode event {stored_event.topic} of "
                f"{stored_event.originator_id} v{stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        _upcast(cls, state, class_version)
        originator_id = stored_event.originator_id
        # Every Kyoso aggregate has a UUID id; SQLite hands it back as text.
        state["originator_id"] = UUID(originator_id) if isinstance(originator_id, str) else originator_id
        state["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return cast(DomainEventProtocol[Any], domain_event)


def _upcast(cls: type, state: dict[str, Any], class_version: int) -> None:
    from_version = state.pop("class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
