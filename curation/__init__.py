"""From labeled replies to a promoted model, with no Slack: the dataset pipeline,
cost estimates and the retrain flow. Other packages import from here only."""

from curation.dataset.base_models import MIN_TRAINING_EXAMPLES, BaseModelFacts, base_model_facts
from curation.dataset.build import BuildResult, build_dataset
from curation.dataset.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.dataset.jsonl import FileCheck, check_training_file
from curation.dataset.labels import LabelPolicy, is_real_correction
from curation.dataset.pipeline import CuratedDataset, CurationConfig, Progress, curate
from curation.dataset.rules import CurationRules, load_rules
from curation.dataset.tokens import (
    TOKENS_PER_MESSAGE,
    TOKENS_REPLY_PRIMING,
    count_tokens,
    truncate_to_tokens,
)
from curation.errors import CurationError
from curation.retrain import Retrainer, RetrainRunningError

__all__ = [
    "MIN_TRAINING_EXAMPLES",
    "TOKENS_PER_MESSAGE",
    "TOKENS_REPLY_PRIMING",
    "BaseModelFacts",
    "BuildResult",
    "ChatMessage",
    "CuratedDataset",
    "CurationConfig",
    "CurationError",
    "CurationRules",
    "Example",
    "FileCheck",
    "LabelPolicy",
    "LabeledReply",
    "Progress",
    "Rejection",
    "RetrainRunningError",
    "Retrainer",
    "base_model_facts",
    "build_dataset",
    "check_training_file",
    "count_tokens",
    "curate",
    "is_real_correction",
    "load_rules",
    "truncate_to_tokens",
]
