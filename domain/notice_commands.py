"""The Kyoso Application's commands for targeted notices (ターゲット別情報発信): a mixin of Kyoso."""


class NoticeCommands:
    pass
