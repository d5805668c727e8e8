"""The Kyoso Application's commands for the plan's KPIs recorded from outside sources: a mixin of Kyoso."""

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain import clock
from domain.errors import DomainError, InvalidCommand
from domain.kpi import KpiMeasurements, kpi_named, measurements_id
from domain.messages import N_

# Two staff recording the same KPI at once conflict on its aggregate's version; the loser's
# measurement is checked again against the winner's (a second correction of one measurement is
# then refused) and saved on the next round.
RECORD_RETRIES = 10


class MeasurementConflict(DomainError):
    code = "measurement_conflict"
    message = N_("同時に別の記録が行われました。もう一度お試しください。")


class KpiCommands:
    # Provided by Kyoso (domain/application.py).
    repository: Any
    save: Any
    _require_staff: Any

    def record_measurement(
        self,
        staff_id: UUID,
        *,
        kpi: str,
        value: float,
        measured_on: date | None,
        source: str,
        corrects: UUID | None = None,
    ) -> UUID:
        """Records a dated measurement of a KPI from a source outside Kyoso (staff and admins);
        with `corrects`, it corrects an earlier measurement of the same KPI, which stays on record."""
        self._require_staff(staff_id)
        if kpi_named(kpi) is None:
            raise InvalidCommand(field_errors={"kpi": N_("指標を一覧から選んでください。")})
        for _ in range(RECORD_RETRIES):
            try:
                measurements = self.repository.get(measurements_id(kpi))
            except AggregateNotFoundError:
                measurements = KpiMeasurements.open(kpi)
            measurement_id: UUID = measurements.record(
                value=value,
                measured_on=measured_on,
                source=source,
                recorded_by=staff_id,
                corrects=corrects,
                today=clock.city_today(),
            )
            try:
                self.save(measurements)
            except RecordConflictError:
                continue
            return measurement_id
        raise MeasurementConflict()

    def kpi_measurements(self, kpi: str) -> KpiMeasurements | None:
        """The KPI's measurements as recorded (None when none has been)."""
        try:
            found: KpiMeasurements = self.repository.get(measurements_id(kpi))
        except AggregateNotFoundError:
            return None
        return found
