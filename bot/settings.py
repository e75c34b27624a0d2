"""One typed settings object, read from the environment and `.env`."""

from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import UserFacingError
from curation import (
    DEFAULT_LOCAL_TOKENS_PER_SECOND,
    CurationConfig,
    Endpoint,
    Endpoints,
    GateConfig,
    LabelPolicy,
    LifecycleConfig,
    LocalTrainerConfig,
    LoraHyperparameters,
    OpenAITrainerConfig,
    TrainerConfig,
    load_rules,
    missing_local_extra,
)

DEFAULT_GOOD_EMOJI = ("+1", "thumbsup", "white_check_mark", "heart", "star", "100")
DEFAULT_BAD_EMOJI = ("-1", "thumbsdown", "x", "no_entry", "no_entry_sign", "disappointed")

DEFAULT_SHORT_PROMPT = (
    "You are Brightside, the assistant for Fernleaf Outdoor Co. Answer the team's "
    "questions in Fernleaf's voice."
)

CommaList = Annotated[list[str], NoDecode]


def _env(name: str) -> AliasChoices:
    # Standard names (SLACK_*, OPENAI_*) are read as-is; pydantic's field name
    # would otherwise get the VOICELOOP_ prefix.
    return AliasChoices(name)


class SettingsError(UserFacingError):
    """A setting is missing or malformed; the message is one line for people."""


class Settings(BaseSettings):
    """Everything voiceloop reads from its environment (see README, Settings)."""

    model_config = SettingsConfigDict(
        env_prefix="VOICELOOP_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        use_attribute_docstrings=True,
    )

    # -- Slack ---------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    """Bot token (xoxb-); required to serve."""
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    """Verifies that HTTP requests come from Slack; required in HTTP mode."""
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    """App-level token (xapp-); when set, `serve` uses Socket Mode."""
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    """Base URL of the Slack Web API, ending in `/`."""

    # -- Chat model ------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    """API key for OpenAI or the OpenAI-compatible server."""
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    """Base URL of any OpenAI-compatible server (vLLM, Ollama, a proxy)."""
    chat_model: str = "gpt-5-mini"
    """Model for the first deployment, before any trained model is promoted."""
    voice_guide: Path | None = None
    """The long system prompt (brand voice guide) used before training; unset: the shipped one."""
    short_prompt: str = DEFAULT_SHORT_PROMPT
    """The short system prompt used with trained models and in training data."""
    context_tokens: int = Field(8000, ge=256)
    """Token budget for the system prompt plus thread history sent to the model."""
    reply_tokens: int = Field(800, ge=16)
    """Most tokens the model may write in one reply."""
    openai_max_retries: int = Field(3, ge=0, le=10)
    """Retries (with backoff) on 429, 5xx and connection errors."""
    openai_timeout: float = Field(60.0, gt=0)
    """Seconds to wait for one model call."""

    # -- Where the bot answers and how ratings are read --------------------------
    channels: CommaList = []
    """Channel ids the bot answers in; empty means any channel it is in. DMs always."""
    good_emoji: CommaList = list(DEFAULT_GOOD_EMOJI)
    """Reaction names counted as a good vote."""
    bad_emoji: CommaList = list(DEFAULT_BAD_EMOJI)
    """Reaction names counted as a bad vote."""
    admins: CommaList = []
    """User ids allowed to run admin commands such as /retrain; empty means anyone."""

    # -- Curation (see README, Curation) -------------------------------------------
    good_threshold: int = Field(1, ge=1)
    """Net votes (good voters minus bad voters) a reply needs to count as good."""
    contested_share: float = Field(0.3, gt=0, le=0.5)
    """A reply is contested, and held out, when each side has at least this share of its voters."""
    validation_share: float = Field(0.1, ge=0, lt=1)
    """Share of examples (by thread) kept for validation."""
    curation_rules: Path | None = None
    """TOML file with tone and format rules and extra PII patterns; unset: the shipped rules."""
    base_model: str = "gpt-4.1-mini-2025-04-14"
    """Model the next fine-tune starts from: sets token limits and the price per token."""
    epochs: int | None = Field(None, ge=1, le=50)
    """Training epochs; unset picks them from the dataset size as OpenAI does."""
    dataset_dir: Path = Path("datasets")
    """Where `voiceloop curate` writes dataset versions unless --out is given."""
    import_authors: CommaList = []
    """User or bot ids whose messages in a Slack export count as bot replies."""

    # -- Training and promotion (see README, Training and promotion) -------------
    trainer: Literal["openai", "local"] = "openai"
    """Training backend: `openai` (fine-tuning jobs) or `local` (LoRA on your own GPU)."""
    judge_model: str | None = None
    """Model that judges candidate against live replies in the gate; unset: the chat model."""
    promote_min_win_rate: float = Field(0.5, ge=0, le=1)
    """Promote when the candidate's win rate against the live model reaches this."""
    job_timeout_hours: float = Field(24.0, gt=0)
    """A run still unfinished after this many hours fails (and its job is cancelled)."""
    poll_seconds: float = Field(30.0, gt=0)
    """How often a run in flight is polled; errors back off from here."""
    retrain_min_new_examples: int = Field(50, ge=1)
    """New kept examples needed since the last trained dataset before a scheduled run."""
    dpo_min_pairs: int = Field(50, ge=1)
    """Preference pairs from which training uses DPO (OpenAI: instead of SFT; local: after it)."""
    training_seed: int = 42
    """Seed of each fine-tuning job, so a rerun on the same data trains the same way."""
    eval_max_prompts: int = Field(100, ge=1)
    """Most held-out prompts the gate judges per run (four model calls each)."""

    # -- Self-hosted training (VOICELOOP_TRAINER=local; README, Self-hosted training)
    local_base_model: str | None = None
    """Open-weight base model for local training: a local folder or a Hugging Face hub id."""
    models_dir: Path = Path("models")
    """Where local runs write their adapter, logs and metadata (one folder per run)."""
    serve_base_url: str | None = None
    """OpenAI-compatible server (vLLM) that serves the base model and loads the adapters."""
    serve_api_key: SecretStr | None = None
    """API key of that server (vLLM's --api-key); unset: none."""
    accelerate_config: Path | None = None
    """accelerate config file: local training runs under `accelerate launch` (more GPUs)."""
    local_tokens_per_second: float = Field(DEFAULT_LOCAL_TOKENS_PER_SECOND, gt=0)
    """Training throughput the GPU-time estimate assumes; set it from your own runs' logs."""
    lora_rank: int = Field(16, ge=1, le=1024)
    """LoRA rank (r); the vLLM server needs --max-lora-rank at least this."""
    lora_alpha: int = Field(32, ge=1)
    """LoRA alpha (the adapter's scale is alpha / rank)."""
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    """Dropout on the LoRA layers."""
    lora_target_modules: CommaList = ["all-linear"]
    """Modules LoRA adapts: `all-linear`, or names such as q_proj,k_proj,v_proj,o_proj."""
    lora_learning_rate: float = Field(2e-4, gt=0)
    """Learning rate of supervised LoRA training."""
    lora_epochs: int | None = Field(None, ge=1, le=50)
    """Epochs of local training; unset: the dataset version's epochs."""
    lora_batch_size: int = Field(4, ge=1)
    """Examples per GPU per step."""
    lora_gradient_accumulation: int = Field(2, ge=1)
    """Steps whose gradients add up per optimizer step (effective batch: batch × this × GPUs)."""
    lora_max_seq_length: int = Field(2048, ge=64)
    """Longest tokenized example; longer ones are cut at the end."""
    dpo_beta: float = Field(0.1, gt=0)
    """DPO's beta: how far preference training may move from the supervised adapter."""
    dpo_learning_rate: float = Field(5e-6, gt=0)
    """Learning rate of local DPO training."""

    # -- Retrain triggers and announcements (see README, Retraining) ---------------
    retrain_every_hours: float = Field(24.0, ge=0)
    """How often the scheduler checks for enough new examples to train on; 0 turns it off."""
    announce_channel: str | None = None
    """Channel id where promotions, holds and failures are announced; unset: none."""

    # -- Storage and serving -----------------------------------------------------
    db: Path = Field(Path("voiceloop.db"), validation_alias=AliasChoices("VOICELOOP_DB"))
    """SQLite database file."""
    port: int = Field(3000, ge=0, le=65535)
    """HTTP mode port (0 picks a free one); Slack posts to /slack/events."""
    host: str = "0.0.0.0"  # noqa: S104 - Slack must reach the bot from outside
    """HTTP mode bind address."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """How much the bot logs; secrets are redacted at every level."""

    # -- Delivery, recovery and imports under faults ------------------------------
    claim_expiry_seconds: float = Field(300.0, gt=0)
    """Seconds after which a claimed, still unanswered message is taken up again (its worker
    died or hung)."""
    maintenance_seconds: float = Field(60.0, gt=0)
    """How often the bot retries failed replies and prunes old delivery records."""
    slack_retries: int = Field(2, ge=0, le=10)
    """Retries (with backoff) of Slack Web API calls that get a 5xx, a 429 or a connection error."""
    import_max_bytes: int = Field(2 * 1024**3, ge=1)
    """Most bytes an export may hold (or inflate to) in all; a larger one is refused."""
    import_max_messages: int = Field(5_000_000, ge=1)
    """Most messages read from one export; the rest is skipped and reported."""

    # -- Load: HTTP threads, body cap, reply workers, shutdown -------------------
    http_threads: int = Field(8, ge=1, le=256)
    """HTTP mode threads answering Slack's requests (and as many listener threads)."""
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    """Largest request body accepted in HTTP mode; bigger ones get 413 unread."""
    reply_workers: int = Field(8, ge=1, le=256)
    """Replies generated at once (model calls run on these threads, never on the ones that ack)."""
    reply_queue: int = Field(100, ge=0)
    """Messages that may wait for a reply worker; beyond that the bot says it is busy."""
    shutdown_grace_seconds: float = Field(10.0, ge=0)
    """On SIGTERM or Ctrl-C, how long replies in progress may finish before the bot exits."""

    @field_validator(
        "channels",
        "good_emoji",
        "bad_emoji",
        "admins",
        "import_authors",
        "lora_target_modules",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip().strip(":") for item in value.split(",") if item.strip()]
        return value

    @field_validator("short_prompt")
    @classmethod
    def _prompt_has_text(cls, value: str) -> str:
        # Every curated example starts with this prompt, and a blank system
        # message makes each of them invalid.
        if not value.strip():
            raise ValueError("must not be blank; unset it to use the default prompt")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    def secrets(self) -> list[str]:
        """Secret values, so logging can redact them wherever they appear."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.openai_api_key,
            self.serve_api_key,
        ]
        return [v.get_secret_value() for v in values if v and v.get_secret_value()]

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def missing_for_serve(self) -> list[str]:
        missing = []
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if not self.socket_mode and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        if not self.openai_api_key and not self.openai_base_url:
            missing.append("OPENAI_API_KEY")
        return missing

    def read_voice_guide(self) -> str:
        if self.voice_guide is None:
            return shipped_voice_guide()
        try:
            text = self.voice_guide.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or type(e).__name__
            raise SettingsError(
                f"VOICELOOP_VOICE_GUIDE: cannot read {self.voice_guide} ({reason})"
            ) from e
        if not text.strip():
            raise SettingsError(f"VOICELOOP_VOICE_GUIDE: {self.voice_guide} is empty")
        return text

    @property
    def training_base_model(self) -> str:
        """What the next run trains: the open-weight model when training locally."""
        if self.trainer == "local" and self.local_base_model:
            return self.local_base_model
        return self.base_model

    def curation_config(self) -> CurationConfig:
        """Curation's values (shared by `voiceloop curate` and /retrain); reads
        the rules file, so a broken one stops the command that needs it."""
        return CurationConfig(
            system_prompt=self.short_prompt,
            base_model=self.training_base_model,
            rules=load_rules(self.curation_rules),
            policy=LabelPolicy(self.good_threshold, self.contested_share),
            validation_share=self.validation_share,
            epochs=self.epochs,
        )

    def endpoints(self) -> Endpoints:
        """The OpenAI-compatible servers the flow talks to (chat, judge, trainer)."""
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else None
        serve_key = self.serve_api_key.get_secret_value() if self.serve_api_key else None
        serving = (Endpoint(self.serve_base_url, serve_key),) if self.serve_base_url else ()
        return Endpoints(
            Endpoint(self.openai_base_url, key),
            serving,
            max_retries=self.openai_max_retries,
            timeout=self.openai_timeout,
        )

    def trainer_config(self) -> TrainerConfig:
        if self.trainer == "local":
            return self.local_trainer_config()
        return OpenAITrainerConfig(
            base_model=self.base_model,
            dpo_min_pairs=self.dpo_min_pairs,
            seed=self.training_seed,
        )

    def local_trainer_config(self) -> LocalTrainerConfig:
        missing = missing_local_extra()
        if missing:
            raise SettingsError(
                f"VOICELOOP_TRAINER=local needs the local extra ({', '.join(missing)} not "
                "installed): pip install 'voiceloop[local]'"
            )
        absent = [
            name
            for name, value in (
                ("VOICELOOP_LOCAL_BASE_MODEL", self.local_base_model),
                ("VOICELOOP_SERVE_BASE_URL", self.serve_base_url),
            )
            if not value
        ]
        if absent or self.local_base_model is None or self.serve_base_url is None:
            raise SettingsError(f"VOICELOOP_TRAINER=local needs {' and '.join(absent)}")
        return LocalTrainerConfig(
            base_model=self.local_base_model,
            models_dir=self.models_dir,
            hyperparameters=LoraHyperparameters(
                rank=self.lora_rank,
                alpha=self.lora_alpha,
                dropout=self.lora_dropout,
                target_modules=tuple(self.lora_target_modules),
                learning_rate=self.lora_learning_rate,
                epochs=self.lora_epochs,
                batch_size=self.lora_batch_size,
                gradient_accumulation=self.lora_gradient_accumulation,
                max_seq_length=self.lora_max_seq_length,
                dpo_min_pairs=self.dpo_min_pairs,
                dpo_beta=self.dpo_beta,
                dpo_learning_rate=self.dpo_learning_rate,
                seed=self.training_seed,
            ),
            accelerate_config=self.accelerate_config,
            tokens_per_second=self.local_tokens_per_second,
            serve_base_url=self.serve_base_url,
        )

    def lifecycle_config(self) -> LifecycleConfig:
        """The retrain flow's values; reads the rules file and the voice guide
        (the judge compares replies against it)."""
        curation = self.curation_config()
        return LifecycleConfig(
            curation=curation,
            dataset_dir=self.dataset_dir,
            gate=GateConfig(
                judge_model=self.judge_model or self.chat_model,
                voice_guide=self.read_voice_guide(),
                min_win_rate=self.promote_min_win_rate,
                max_prompts=self.eval_max_prompts,
                reply_tokens=self.reply_tokens,
                rules=curation.rules,
            ),
            job_timeout_hours=self.job_timeout_hours,
            poll_seconds=self.poll_seconds,
            min_new_examples=self.retrain_min_new_examples,
        )


def shipped_voice_guide() -> str:
    """The example brand's voice guide, read from the installed package."""
    guide = resources.files("bot").joinpath("defaults", "voice_guide.md")
    return guide.read_text(encoding="utf-8")


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation errors into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        raise SettingsError("invalid settings: " + "; ".join(_describe(e.errors()))) from None


# -- Settings per command ------------------------------------------------------


def load_settings_for(command: str, uses: Collection[str]) -> tuple[Settings, list[str]]:
    """Settings for one command, which reads only the fields in `uses`.

    A malformed setting the command never reads (VOICELOOP_PORT=abc for
    `curate`) does not stop it: that field keeps its default and comes back
    as a warning line. A malformed setting it does read stops it, as
    load_settings does.
    """
    try:
        return Settings(), []  # type: ignore[call-arg]
    except ValidationError as e:
        errors = e.errors()
    bad = {str(error["loc"][0]) if error["loc"] else "settings" for error in errors}
    if not bad <= set(Settings.model_fields) or bad & set(uses):
        used = [error for error in errors if not error["loc"] or str(error["loc"][0]) in uses]
        raise SettingsError("invalid settings: " + "; ".join(_describe(used))) from None
    defaults = {
        name: Settings.model_fields[name].get_default(call_default_factory=True) for name in bad
    }
    warnings = [
        f"{problem}; ignored, since `voiceloop {command}` does not use it"
        for problem in _describe(errors)
    ]
    return load_settings(**defaults), warnings


def _describe(errors: Collection[ErrorDetails]) -> list[str]:
    problems = []
    for error in errors:
        field = str(error["loc"][0]) if error["loc"] else "settings"
        problems.append(f"{_variable(field)}: {error['msg']}")
    return problems


def _variable(field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        return str(info.validation_alias.choices[0])
    return f"VOICELOOP_{field.upper()}"
