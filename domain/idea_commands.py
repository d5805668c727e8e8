"""The Kyoso Application's commands for citizens' ideas (市民の提案): a mixin of Kyoso."""


class IdeaCommands:
    pass
