"""Curation's values, taken from settings (shared by `voiceloop curate` and /retrain)."""

from bot.settings import Settings
from curation.labels import LabelPolicy
from curation.pipeline import CurationConfig
from curation.rules import load_rules


def curation_config(settings: Settings) -> CurationConfig:
    return CurationConfig(
        system_prompt=settings.short_prompt,
        base_model=settings.base_model,
        rules=load_rules(settings.curation_rules),
        policy=LabelPolicy(settings.good_threshold, settings.contested_share),
        validation_share=settings.validation_share,
        epochs=settings.epochs,
    )
