"""Runs the gate for one run: answer each held-out prompt both ways, judge both orders, decide."""

from collections.abc import Callable
from dataclasses import dataclass, field

from curation.dataset.rules import CurationRules
from curation.dataset.style import StyleChecker
from curation.endpoints import Endpoints
from curation.evaluation.judge import Judge, JudgeError
from curation.evaluation.prompts import HeldOutPrompt, held_out_prompts
from curation.evaluation.stats import GateSummary, outcome_of, summarize
from curation.provider_errors import classified
from storage import DatasetVersion, Evaluation, Store, TrainingRun, Verdict


@dataclass(frozen=True)
class GateConfig:
    judge_model: str
    voice_guide: str  # what the judge compares against
    min_win_rate: float = 0.5
    max_prompts: int = 100
    reply_tokens: int = 800
    rules: CurationRules = field(default_factory=CurationRules)


@dataclass(frozen=True)
class Contender:
    """One side of the comparison: where it answers, with which system prompt."""

    base_url: str | None
    model: str
    system_prompt: str


@dataclass(frozen=True)
class GateResult:
    summary: GateSummary
    promote: bool

    @property
    def decision(self) -> str:
        return "promote" if self.promote else "hold"


def decide(summary: GateSummary, min_win_rate: float) -> bool:
    """Promote on enough wins without breaking more style rules than live does."""
    return (
        summary.prompts > 0
        and summary.win_rate >= min_win_rate
        and summary.rule_pass_candidate >= summary.rule_pass_live
    )


class Gate:
    def __init__(self, store: Store, endpoints: Endpoints, config: GateConfig) -> None:
        self.store = store
        self.endpoints = endpoints
        self.config = config
        self.checker = StyleChecker(config.rules)
        self.judge = Judge(endpoints.client(), config.judge_model, config.voice_guide)

    def run(
        self,
        run: TrainingRun,
        dataset: DatasetVersion,
        candidate: Contender,
        live: Contender,
        progress: Callable[[int, int], None] | None = None,
    ) -> GateResult:
        """Judge every held-out prompt not judged yet (a restart resumes), then
        decide from all of them. A failed model call raises TrainingRefusedError
        (a 4xx) or TrainingUnavailableError (429, 5xx, no connection)."""
        prompts = held_out_prompts(dataset, self.config.max_prompts)
        done = {e.prompt_key for e in self.store.evaluations(run.id)}
        for index, prompt in enumerate(prompts):
            if prompt.key not in done:
                try:
                    verdict = self._judge(run, prompt, candidate, live)
                except Exception as e:
                    what = f"the evaluation stopped at prompt {index + 1} of {len(prompts)}"
                    converted = classified(e, what, hint=False)
                    if converted is e:
                        raise
                    raise converted from e
                self.store.record_evaluation(verdict)
            if progress is not None:
                progress(index + 1, len(prompts))
        wanted = {p.key for p in prompts}
        judged = [e for e in self.store.evaluations(run.id) if e.prompt_key in wanted]
        summary = summarize(judged)
        return GateResult(summary, decide(summary, self.config.min_win_rate))

    def _judge(
        self, run: TrainingRun, prompt: HeldOutPrompt, candidate: Contender, live: Contender
    ) -> Evaluation:
        mine = self._answer(candidate, prompt)
        theirs = self._answer(live, prompt)
        ab = self._compare(prompt, mine, theirs)
        ba = self._compare(prompt, theirs, mine)
        return Evaluation(
            run_id=run.id,
            prompt_key=prompt.key,
            prompt=prompt.transcript(),
            candidate_reply=mine,
            live_reply=theirs,
            verdict_ab=ab,
            verdict_ba=ba,
            outcome=outcome_of(ab, ba),
            candidate_rules_ok=not self.checker.violations(mine),
            live_rules_ok=not self.checker.violations(theirs),
        )

    def _compare(self, prompt: HeldOutPrompt, a: str, b: str) -> Verdict:
        try:
            return self.judge.compare(prompt, a, b)
        except JudgeError as e:
            # A refusal on one pair says nothing about either reply.
            return Verdict("tie", str(e))

    def _answer(self, side: Contender, prompt: HeldOutPrompt) -> str:
        messages = [{"role": "system", "content": side.system_prompt}, *prompt.messages]
        response = self.endpoints.client(side.base_url).chat.completions.create(
            model=side.model,
            messages=messages,  # type: ignore[arg-type]
            max_completion_tokens=self.config.reply_tokens,
        )
        choice = response.choices[0] if response.choices else None
        return (choice.message.content or "").strip() if choice else ""
