"""The Kyoso Application's commands for organisations, challenges and proposals (事業者提案): a mixin of Kyoso."""


class CoCreationCommands:
    pass
