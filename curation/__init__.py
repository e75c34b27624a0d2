"""From labeled replies to a promoted model, with no Slack: the dataset pipeline,
cost estimates, training backends, the evaluation gate and the retrain flow.
Other packages import from here only."""

from curation.dataset.base_models import (
    MIN_TRAINING_EXAMPLES,
    BaseModelFacts,
    base_model_facts,
    unknown_base_model,
)
from curation.dataset.build import BuildResult, Runner, build_dataset, run_here
from curation.dataset.collector import cycle_collector_paused
from curation.dataset.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.dataset.jsonl import FileCheck, check_training_file
from curation.dataset.labels import LabelPolicy, is_real_correction
from curation.dataset.models import load_models
from curation.dataset.pipeline import CuratedDataset, CurationConfig, Progress, curate
from curation.dataset.rules import CurationRules, load_rules, shipped_rules_text
from curation.dataset.tokens import (
    TOKENS_PER_MESSAGE,
    TOKENS_REPLY_PRIMING,
    count_tokens,
    truncate_to_tokens,
)
from curation.endpoints import Endpoint, Endpoints
from curation.errors import CurationError, LifecycleError
from curation.evaluation.gate import GateConfig
from curation.evaluation.stats import GateSummary
from curation.prompt_tokens import PromptTokens, system_prompt_tokens
from curation.retrain import Lifecycle, LifecycleConfig, RetrainRunningError
from curation.run_updates import LifecycleStatus, RetrainPreview, RunUpdate
from curation.training.backend import (
    LOCAL_HINT,
    Backend,
    JobProgress,
    JobStatus,
    ModelServing,
    Submitted,
    TrainingBackend,
    TrainingRefusedError,
    TrainingUnavailableError,
)
from curation.training.config import OpenAITrainerConfig, TrainerConfig
from curation.training.factory import build_backend, import_backends
from curation.training.local.config import DEFAULT_LOCAL_TOKENS_PER_SECOND, LocalTrainerConfig
from curation.training.local.hyperparameters import LoraHyperparameters
from curation.training.local.trainer import missing_local_extra

__all__ = [
    "DEFAULT_LOCAL_TOKENS_PER_SECOND",
    "LOCAL_HINT",
    "MIN_TRAINING_EXAMPLES",
    "TOKENS_PER_MESSAGE",
    "TOKENS_REPLY_PRIMING",
    "Backend",
    "BaseModelFacts",
    "BuildResult",
    "ChatMessage",
    "CuratedDataset",
    "CurationConfig",
    "CurationError",
    "CurationRules",
    "Endpoint",
    "Endpoints",
    "Example",
    "FileCheck",
    "GateConfig",
    "GateSummary",
    "JobProgress",
    "JobStatus",
    "LabelPolicy",
    "LabeledReply",
    "Lifecycle",
    "LifecycleConfig",
    "LifecycleError",
    "LifecycleStatus",
    "LocalTrainerConfig",
    "LoraHyperparameters",
    "ModelServing",
    "OpenAITrainerConfig",
    "Progress",
    "PromptTokens",
    "Rejection",
    "RetrainPreview",
    "RetrainRunningError",
    "RunUpdate",
    "Runner",
    "Submitted",
    "TrainerConfig",
    "TrainingBackend",
    "TrainingRefusedError",
    "TrainingUnavailableError",
    "base_model_facts",
    "build_backend",
    "build_dataset",
    "check_training_file",
    "count_tokens",
    "curate",
    "cycle_collector_paused",
    "import_backends",
    "is_real_correction",
    "load_models",
    "load_rules",
    "missing_local_extra",
    "run_here",
    "shipped_rules_text",
    "system_prompt_tokens",
    "truncate_to_tokens",
    "unknown_base_model",
]
