"""The Kyoso Application's commands for the staff engagement survey (ぱいたり値): a mixin of Kyoso."""


class EngagementCommands:
    pass
