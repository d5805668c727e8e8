"""The Kyoso Application's commands for the plan's KPIs recorded from outside sources: a mixin of Kyoso."""


class KpiCommands:
    pass
