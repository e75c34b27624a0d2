"""Whether a team still runs on the example brand voiceloop ships with."""

from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings, SettingsError

EXAMPLE_BRAND = "Fernleaf Outdoor Co."
EXAMPLE_BOT = "Brightside"
# Either name in a prompt means the example brand speaks, not the team's.
_EXAMPLE_NAMES = ("fernleaf", "brightside")


def names_example_brand(text: str) -> bool:
    lowered = text.lower()
    return any(name in lowered for name in _EXAMPLE_NAMES)


@dataclass(frozen=True)
class ExampleBrandUse:
    """Which of the team's prompts are still the example brand's."""

    voice_guide: bool
    short_prompt: bool
    guide_path: Path | None = None  # the team's own copy, once `voiceloop init` made one

    def __bool__(self) -> bool:
        return self.voice_guide or self.short_prompt

    def notice(self) -> str:
        """One line saying what is still the example and how to make it the team's."""
        parts = []
        if self.voice_guide:
            parts.append("voice guide (VOICELOOP_VOICE_GUIDE)")
        if self.short_prompt:
            parts.append("short prompt (VOICELOOP_SHORT_PROMPT)")
        if self.short_prompt or self.guide_path is None:
            remedy = "run `voiceloop init`, then rewrite the voice guide in your team's voice"
        else:
            remedy = f"rewrite {self.guide_path} in your team's voice"
        return (
            f"using the example brand ({EXAMPLE_BRAND} / {EXAMPLE_BOT}) for the "
            f"{' and the '.join(parts)}: {remedy}"
        )


def example_brand_use(settings: Settings) -> ExampleBrandUse:
    """What of the example brand these settings still use; a voice guide that
    cannot be read counts as the team's, since reading it reports that error."""
    try:
        guide_is_example = names_example_brand(settings.read_voice_guide())
    except SettingsError:
        guide_is_example = False
    return ExampleBrandUse(
        guide_is_example, names_example_brand(settings.short_prompt), settings.voice_guide
    )
