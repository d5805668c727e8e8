"""The Kyoso Application's commands for what a person follows, and their consent to e-mail: a mixin of Kyoso."""


class PreferenceCommands:
    pass
