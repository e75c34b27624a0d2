"""A fake OpenAI API on loopback: chat, files, fine-tuning jobs, moderation and models."""

import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fakes.loopback import LoopbackHandler, LoopbackServer

DEFAULT_API_KEY = "sk-test-voiceloop"
DEFAULT_MODELS = (
    "gpt-5-mini",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4o-mini-2024-07-18",
    "omni-moderation-latest",
)
ORGANIZATION = "voiceloop"
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

# "auto" hyperparameters resolve to these, so trained_tokens stays deterministic.
_AUTO_HYPERPARAMETERS: dict[str, Any] = {
    "n_epochs": 3,
    "batch_size": 1,
    "learning_rate_multiplier": 1.8,
}
_NEXT_STATUS = {"validating_files": "queued", "queued": "running"}
_FINISHED = ("succeeded", "failed", "cancelled")

ReplySource = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class OpenAICall:
    """One HTTP request as it arrived; `json` is None for multipart and bodiless calls."""

    method: str
    path: str
    json: dict[str, Any] | None
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Answered with OpenAI's error shape: {"error": {message, type, param, code}}."""

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type, "param": param, "code": code}}


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Self:
        return cls(status, json.dumps(payload).encode("utf-8"), headers=headers or {})


@dataclass
class _Fault:
    status: int
    retry_after_ms: int
    path: str | None
    remaining: int | None  # None: until recover()


@dataclass
class _Job:
    obj: dict[str, Any]
    failure: tuple[str, str] | None  # (code, message) it will end with
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    # Retrieves it stays "running" before it finishes (hold_jobs()).
    running_polls: int = 0


_FAULT_BODIES = {
    400: ("Bad request (injected by the fake).", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def _words(text: str) -> int:
    return len(text.split())


def _text_of(content: Any) -> str:
    # Message content is a string or a list of typed parts; only text parts count.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def default_reply(request: dict[str, Any]) -> str:
    """A friendly, deterministic answer quoting the start of the last user message."""
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    if not users:
        return "Hello from the fake model!"
    words = _text_of(users[-1].get("content")).split()
    quoted = " ".join(words[:6]) + ("…" if len(words) > 6 else "")
    return f'Happy to help with "{quoted}"! Here is a friendly answer from the fake model.'


class FakeOpenAI(LoopbackServer):
    """The parts of the OpenAI API voiceloop uses, stateful, behind a real HTTP server.

    Give ``base_url`` and ``api_key`` to ``openai.OpenAI``. Fine-tuning jobs take one
    step (validating_files → queued → running → succeeded | failed) per retrieve.
    """

    # State that reset() restores; set in _clear().
    _calls: list[OpenAICall]
    _reply: ReplySource
    _faults: list[_Fault]
    _delay: float
    _files: dict[str, dict[str, Any]]
    _file_data: dict[str, bytes]
    _jobs: dict[str, _Job]
    _job_failure: tuple[str, str] | None
    _job_failures_left: int | None
    _flag_words: dict[str, str]
    _trained_models: list[str]
    _ids: Iterator[int]
    _refusal: tuple[int, str, str | None] | None
    _shutdown_dates: dict[str, str]
    _running_polls: int

    def __init__(self, api_key: str = DEFAULT_API_KEY, models: Iterable[str] = DEFAULT_MODELS):
        super().__init__(_Handler, thread_name="fake-openai")
        self.api_key = api_key
        self._base_models = tuple(models)
        # Re-entrant: a reply_with callable may call back into the fake's helpers.
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = [
            ("POST", re.compile(r"/v1/chat/completions"), self._chat),
            ("POST", re.compile(r"/v1/files"), self._upload),
            ("GET", re.compile(r"/v1/files"), self._list_files),
            ("GET", re.compile(r"/v1/files/(?P<file_id>[^/]+)"), self._get_file),
            ("DELETE", re.compile(r"/v1/files/(?P<file_id>[^/]+)"), self._delete_file),
            ("GET", re.compile(r"/v1/files/(?P<file_id>[^/]+)/content"), self._file_content),
            ("POST", re.compile(r"/v1/fine_tuning/jobs"), self._create_job),
            ("GET", re.compile(r"/v1/fine_tuning/jobs"), self._list_jobs),
            ("GET", re.compile(r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)"), self._get_job),
            ("POST", re.compile(r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)/cancel"), self._cancel),
            ("GET", re.compile(r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)/events"), self._events),
            (
                "GET",
                re.compile(r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)/checkpoints"),
                self._checkpoints,
            ),
            ("POST", re.compile(r"/v1/moderations"), self._moderate),
            ("GET", re.compile(r"/v1/models"), self._list_models),
            ("GET", re.compile(r"/v1/models/(?P<model>[^/]+)"), self._get_model),
        ]
        self._clear()

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        self._stopping.set()  # wakes requests sleeping in delay()
        super().stop()

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    # -- test helpers ----------------------------------------------------------
    def reset(self) -> None:
        """Back to a fresh server: no calls, files, jobs, faults, delay or custom replies."""
        with self._lock:
            self._clear()

    def calls(self, path: str | None = None) -> list[OpenAICall]:
        """Every request that arrived (failed and retried ones included), oldest first."""
        with self._lock:
            return [c for c in self._calls if path is None or c.path == path]

    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies sent to /v1/chat/completions, retries included."""
        return [c.json for c in self.calls("/v1/chat/completions") if c.json is not None]

    def reply_with(self, reply: ReplySource) -> None:
        """Chat content from now on: fixed text, or a function of the request JSON."""
        with self._lock:
            self._reply = reply

    def fail_next(
        self, status: int, times: int = 1, retry_after_ms: int = 10, path: str | None = None
    ) -> None:
        """Answer the next `times` requests (to `path`, if given) with an error status."""
        with self._lock:
            self._faults.append(_Fault(status, retry_after_ms, path, times))

    def fail_always(self, status: int, retry_after_ms: int = 10, path: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault(status, retry_after_ms, path, None))

    def recover(self) -> None:
        """Drop every injected HTTP failure and the response delay."""
        with self._lock:
            self._faults.clear()
            self._delay = 0.0

    def delay(self, seconds: float) -> None:
        """Hold every response this long (0 to stop), e.g. to trip client timeouts."""
        with self._lock:
            self._delay = seconds

    def fail_jobs(
        self,
        reason: str | None = "Training file has invalid examples.",
        code: str = "invalid_training_file",
        times: int | None = None,
    ) -> None:
        """Jobs created from now on end `failed` with this error (None: succeed again)."""
        with self._lock:
            self._job_failure = None if reason is None else (code, reason)
            self._job_failures_left = times

    def refuse_jobs(
        self,
        message: str | None = "This organization is not allowed to create fine-tuning jobs.",
        status: int = 403,
        code: str | None = "fine_tuning_not_allowed",
    ) -> None:
        """Job creation answers `status` with this message from now on (None: accept again)."""
        with self._lock:
            self._refusal = None if message is None else (status, message, code)

    def hold_jobs(self, polls: int) -> None:
        """Jobs created from now on stay running for this many retrieves, one
        training-metrics event each, before they finish."""
        with self._lock:
            self._running_polls = polls

    def set_shutdown_date(self, model: str, day: str | None) -> None:
        """The models endpoint reports this shutdown_date for `model`."""
        with self._lock:
            if day is None:
                self._shutdown_dates.pop(model, None)
            else:
                self._shutdown_dates[model] = day

    def jobs(self) -> list[dict[str, Any]]:
        """Every job created, oldest first, as it stands."""
        with self._lock:
            return [json.loads(json.dumps(j.obj)) for j in self._jobs.values()]

    def flag_words(self, *words: str, category: str = "harassment") -> None:
        """Moderation flags inputs containing any of these words (case-insensitive)."""
        with self._lock:
            for word in words:
                self._flag_words[word.lower()] = category

    def files(self) -> list[dict[str, Any]]:
        """Every file stored (uploads and result files), oldest first."""
        with self._lock:
            return [dict(f) for f in self._files.values()]

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._file_data[file_id]

    def job(self, job_id: str) -> dict[str, Any]:
        """A job as it stands, without the step a retrieve would take."""
        with self._lock:
            return json.loads(json.dumps(self._jobs[job_id].obj))  # type: ignore[no-any-return]

    # -- request handling (called on server threads) ---------------------------
    def _clear(self) -> None:
        self._calls = []
        self._reply = default_reply
        self._faults = []
        self._delay = 0.0
        self._files = {}
        self._file_data = {}
        self._jobs = {}
        self._job_failure = None
        self._job_failures_left = None
        self._flag_words = {}
        self._trained_models = []
        self._ids = itertools.count(1)
        self._refusal = None
        self._shutdown_dates = {}
        self._running_polls = 0

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    def _handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        payload: dict[str, Any] | None = None
        if body and headers.get("content-type", "").startswith("application/json"):
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            payload = decoded if isinstance(decoded, dict) else None
        with self._lock:
            self._calls.append(OpenAICall(method, path, payload, headers, query))
            delay = self._delay
        if delay:
            self._stopping.wait(delay)
        try:
            self._check_key(headers.get("authorization", ""))
            with self._lock:
                fault = self._take_fault(path)
                if fault is not None:
                    message, type_, code = _FAULT_BODIES.get(
                        fault.status, ("Injected failure.", "server_error", None)
                    )
                    error = ApiError(fault.status, message, type_, None, code)
                    return Reply.json(
                        error.body, fault.status, {"retry-after-ms": str(fault.retry_after_ms)}
                    )
                return self._route(method, path, query, payload, headers, body)
        except ApiError as e:
            return Reply.json(e.body, e.status)

    def _check_key(self, authorization: str) -> None:
        if not authorization.startswith("Bearer "):
            raise ApiError(401, "You didn't provide an API key.")
        given = authorization.removeprefix("Bearer ")
        if given != self.api_key:
            shown = given[:6] + "*" * max(0, len(given) - 10) + given[-4:]
            raise ApiError(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.path is None or fault.path == path:
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        payload: dict[str, Any] | None,
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        for verb, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None or verb != method:
                continue
            args = {k: unquote(v) for k, v in match.groupdict().items()}
            if verb == "POST" and path == "/v1/files":
                return handler(headers.get("content-type", ""), body)
            if verb == "POST":
                if payload is None and body:
                    raise ApiError(400, "We could not parse the JSON body of your request.")
                return handler(payload or {}, **args)
            return handler(query, **args)
        raise ApiError(404, f"Invalid URL ({method} {path})")

    # -- chat ------------------------------------------------------------------
    def _chat(self, request: dict[str, Any]) -> Reply:
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(400, "'messages' must be a non-empty array.", param="messages")
        model = request.get("model")
        if not isinstance(model, str) or not model:
            raise ApiError(400, "you must provide a model parameter", param="model")
        reply = self._reply
        content = reply if isinstance(reply, str) else reply(request)
        finish_reason = "stop"
        limit = request.get("max_completion_tokens") or request.get("max_tokens")
        if isinstance(limit, int) and _words(content) > limit:
            content, finish_reason = " ".join(content.split()[:limit]), "length"
        prompt_tokens = sum(_words(_text_of(m.get("content"))) for m in messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _words(content),
            "total_tokens": prompt_tokens + _words(content),
        }
        head = {
            "id": self._new_id("chatcmpl"),
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }
        if request.get("stream"):
            options = request.get("stream_options") or {}
            return _stream(
                head, content, finish_reason, usage if options.get("include_usage") else None
            )
        return Reply.json(
            {
                **head,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": usage,
            }
        )

    # -- files -----------------------------------------------------------------
    def _upload(self, content_type: str, body: bytes) -> Reply:
        fields, files = _parse_multipart(content_type, body)
        purpose = fields.get("purpose")
        if not purpose:
            raise ApiError(400, "Missing required parameter: 'purpose'.", param="purpose")
        if "file" not in files:
            raise ApiError(400, "Missing required parameter: 'file'.", param="file")
        filename, data = files["file"]
        return Reply.json(self._store_file(filename, data, purpose))

    def _store_file(self, filename: str, data: bytes, purpose: str) -> dict[str, Any]:
        file_id = self._new_id("file")
        self._files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "status_details": None,
        }
        self._file_data[file_id] = data
        return dict(self._files[file_id])

    def _file(self, file_id: str) -> dict[str, Any]:
        if file_id not in self._files:
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        return self._files[file_id]

    def _list_files(self, query: dict[str, str]) -> Reply:
        data = [
            f for f in self._files.values() if f["purpose"] == query.get("purpose", f["purpose"])
        ]
        return Reply.json({"object": "list", "data": data, "has_more": False})

    def _get_file(self, query: dict[str, str], file_id: str) -> Reply:
        return Reply.json(self._file(file_id))

    def _file_content(self, query: dict[str, str], file_id: str) -> Reply:
        self._file(file_id)
        return Reply(200, self._file_data[file_id], "application/octet-stream")

    def _delete_file(self, query: dict[str, str], file_id: str) -> Reply:
        self._file(file_id)
        del self._files[file_id], self._file_data[file_id]
        return Reply.json({"id": file_id, "object": "file", "deleted": True})

    # -- fine-tuning -------------------------------------------------------------
    def _create_job(self, request: dict[str, Any]) -> Reply:
        if self._refusal is not None:
            status, message, code = self._refusal
            raise ApiError(status, message, code=code)
        model = request.get("model")
        if not isinstance(model, str) or not model:
            raise ApiError(400, "Missing required parameter: 'model'.", param="model")
        for param in ("training_file", "validation_file"):
            file_id = request.get(param)
            if file_id is None and param == "validation_file":
                continue
            if file_id not in self._files:
                raise ApiError(400, f"invalid {param}: {file_id}", param=param)
            if self._files[file_id]["purpose"] != "fine-tune":
                raise ApiError(400, f"{file_id} does not have purpose 'fine-tune'", param=param)
        suffix = request.get("suffix") or ""
        if len(suffix) > 64:
            raise ApiError(400, "suffix must be at most 64 characters", param="suffix")
        method = request.get("method") or {"type": "supervised"}
        kind = method.get("type")
        if kind not in ("supervised", "dpo"):
            raise ApiError(400, f"method type {kind!r} is not supported", param="method.type")
        given = (method.get(kind) or {}).get("hyperparameters") or request.get("hyperparameters")
        hyper = {
            k: v if v not in (None, "auto") else _AUTO_HYPERPARAMETERS[k]
            for k, v in {**_AUTO_HYPERPARAMETERS, **(given or {})}.items()
            if k in _AUTO_HYPERPARAMETERS
        }
        method_hyper = dict(hyper)
        if kind == "dpo":
            beta = ((given or {}).get("beta")) or "auto"
            method_hyper["beta"] = 0.1 if beta == "auto" else beta
        job_id = self._new_id("ftjob")
        failure = self._job_failure
        if failure is not None and self._job_failures_left is not None:
            self._job_failures_left -= 1
            if self._job_failures_left <= 0:
                self._job_failure = self._job_failures_left = None
        job = _Job(
            obj={
                "id": job_id,
                "object": "fine_tuning.job",
                "created_at": int(time.time()),
                "error": None,
                "fine_tuned_model": None,
                "finished_at": None,
                "hyperparameters": hyper,
                "model": model,
                "organization_id": f"org-{ORGANIZATION}",
                "result_files": [],
                "seed": request["seed"] if request.get("seed") is not None else 42,
                "status": "validating_files",
                "trained_tokens": None,
                "training_file": request["training_file"],
                "validation_file": request.get("validation_file"),
                "estimated_finish": None,
                "integrations": None,
                "metadata": request.get("metadata"),
                "method": {"type": kind, kind: {"hyperparameters": method_hyper}},
                "suffix": suffix or None,
            },
            failure=failure,
            running_polls=self._running_polls,
        )
        self._jobs[job_id] = job
        self._event(job, f"Created fine-tuning job: {job_id}")
        self._event(job, f"Validating training file: {request['training_file']}")
        return Reply.json(job.obj)

    def _event(
        self, job: _Job, message: str, level: str = "info", data: dict[str, Any] | None = None
    ) -> None:
        job.events.append(
            {
                "id": self._new_id("ftevent"),
                "object": "fine_tuning.job.event",
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "type": "message",
                "data": data or {},
            }
        )

    def _checkpoint(self, job: _Job, step: int, loss: float) -> dict[str, Any]:
        return {
            "id": self._new_id("ftckpt"),
            "object": "fine_tuning.job.checkpoint",
            "created_at": int(time.time()),
            "fine_tuned_model_checkpoint": f"ft:{job.obj['model']}:{ORGANIZATION}::ckpt-{step}",
            "fine_tuning_job_id": job.obj["id"],
            "metrics": {"step": step, "train_loss": loss, "valid_loss": round(loss * 1.1, 4)},
            "step_number": step,
        }

    def _lookup_job(self, job_id: str) -> _Job:
        if job_id not in self._jobs:
            raise ApiError(404, f"Could not find fine-tune: {job_id}", param="fine_tune_id")
        return self._jobs[job_id]

    def _get_job(self, query: dict[str, str], job_id: str) -> Reply:
        job = self._lookup_job(job_id)
        self._advance(job)
        return Reply.json(job.obj)

    def _advance(self, job: _Job) -> None:
        status = job.obj["status"]
        if status in _NEXT_STATUS:
            job.obj["status"] = _NEXT_STATUS[status]
            self._event(job, f"Job {job.obj['status']}")
        elif status == "running" and job.running_polls > 0:
            job.running_polls -= 1
            step = len(job.checkpoints) + 1
            metrics = {"step": step, "train_loss": round(1.5 / step, 4), "total_steps": 99}
            self._event(job, f"Step {step}/99: training loss={metrics['train_loss']}", data=metrics)
            job.events[-1]["type"] = "metrics"
            job.checkpoints.append(self._checkpoint(job, step, metrics["train_loss"]))
        elif status == "running":
            job.obj["finished_at"] = int(time.time())
            if job.failure is not None:
                code, message = job.failure
                job.obj["status"] = "failed"
                job.obj["error"] = {"code": code, "message": message, "param": "training_file"}
                self._event(job, message, level="error")
            else:
                self._succeed(job)

    def _succeed(self, job: _Job) -> None:
        obj = job.obj
        short = hashlib.sha256(obj["id"].encode()).hexdigest()[:8]
        model = f"ft:{obj['model']}:{ORGANIZATION}:{obj['suffix'] or ''}:{short}"
        text = self._file_data.get(obj["training_file"], b"").decode("utf-8", "replace")
        results = self._store_file(
            "step_metrics.csv", b"step,train_loss\n1,1.25\n2,0.62\n", "fine-tune-results"
        )
        obj.update(
            status="succeeded",
            fine_tuned_model=model,
            trained_tokens=_words(text) * obj["hyperparameters"]["n_epochs"],
            result_files=[results["id"]],
        )
        self._trained_models.append(model)
        step = len(job.checkpoints) + 1
        job.checkpoints.append(self._checkpoint(job, step, 0.62))
        self._event(job, f"New fine-tuned model created: {model}")
        self._event(job, "The job has successfully completed")

    def _list_jobs(self, query: dict[str, str]) -> Reply:
        newest_first = [j.obj for j in reversed(self._jobs.values())]
        # metadata[key]=value filters, as OpenAI's list endpoint takes them.
        wanted = {
            k.removeprefix("metadata[").removesuffix("]"): v
            for k, v in query.items()
            if k.startswith("metadata[")
        }
        newest_first = [
            j
            for j in newest_first
            if all((j["metadata"] or {}).get(k) == v for k, v in wanted.items())
        ]
        return Reply.json(_page(newest_first, query))

    def _checkpoints(self, query: dict[str, str], job_id: str) -> Reply:
        newest_first = list(reversed(self._lookup_job(job_id).checkpoints))
        return Reply.json(_page(newest_first, query))

    def _cancel(self, request: dict[str, Any], job_id: str) -> Reply:
        job = self._lookup_job(job_id)
        if job.obj["status"] in _FINISHED:
            raise ApiError(400, f"Job has already {job.obj['status']}: {job_id}")
        job.obj.update(status="cancelled", finished_at=int(time.time()))
        self._event(job, "Fine-tuning job cancelled")
        return Reply.json(job.obj)

    def _events(self, query: dict[str, str], job_id: str) -> Reply:
        return Reply.json(_page(list(reversed(self._lookup_job(job_id).events)), query))

    # -- moderation and models -------------------------------------------------
    def _moderate(self, request: dict[str, Any]) -> Reply:
        raw = request.get("input")
        inputs = raw if isinstance(raw, list) else [raw]
        results = []
        for item in inputs:
            text = item if isinstance(item, str) else _text_of([item])
            hits = {
                category
                for word, category in self._flag_words.items()
                if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)
            }
            results.append(
                {
                    "flagged": bool(hits),
                    "categories": {c: c in hits for c in MODERATION_CATEGORIES},
                    "category_scores": {
                        c: 0.99 if c in hits else 0.0001 for c in MODERATION_CATEGORIES
                    },
                    "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
                }
            )
        model = request.get("model") or "omni-moderation-latest"
        return Reply.json({"id": self._new_id("modr"), "model": model, "results": results})

    def _model(self, model: str) -> dict[str, Any]:
        owner = f"user-{ORGANIZATION}" if model.startswith("ft:") else "system"
        found = {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": owner}
        if model in self._shutdown_dates:
            found["shutdown_date"] = self._shutdown_dates[model]
        return found

    def _list_models(self, query: dict[str, str]) -> Reply:
        names = [*self._base_models, *self._trained_models]
        return Reply.json({"object": "list", "data": [self._model(m) for m in names]})

    def _get_model(self, query: dict[str, str], model: str) -> Reply:
        if model not in self._base_models and model not in self._trained_models:
            raise ApiError(
                404, f"The model '{model}' does not exist", param="model", code="model_not_found"
            )
        return Reply.json(self._model(model))


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    # Cursor paging as the SDK's SyncCursorPage expects: `after` is the last id seen.
    after = query.get("after")
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    limit = int(query.get("limit") or 20)
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}


def _stream(
    head: dict[str, Any], content: str, finish_reason: str, usage: dict[str, int] | None
) -> Reply:
    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            **head,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    pieces = re.findall(r"\S+\s*|\s+", content)
    chunks = [chunk({"role": "assistant", "content": ""}, None)]
    chunks += [chunk({"content": piece}, None) for piece in pieces]
    chunks.append(chunk({}, finish_reason))
    if usage is not None:
        chunks.append({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    events = [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]
    return Reply(200, "".join(events).encode("utf-8"), "text/event-stream")


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Form fields and files of a multipart body, byte-exact (the email parser is not)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ApiError(400, "Expected a multipart/form-data body.")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'(?:^|[;\s])name="([^"]*)"', disposition)
        filename = re.search(r'filename="([^"]*)"', disposition)
        if name is None:
            continue
        if filename is not None:
            files[name.group(1)] = (filename.group(1), data)
        else:
            fields[name.group(1)] = data.decode("utf-8")
    return fields, files


class _Handler(LoopbackHandler[FakeOpenAI]):
    def do_DELETE(self) -> None:  # noqa: N802 - http.server dispatches on this name
        self.answer()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        reply = self.owner._handle(self.command, url.path, query, headers, body)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
