"""The fakes, driven by the real slack_sdk WebClient and openai.OpenAI clients."""

import json
import threading
import time
from collections.abc import Iterator

import openai
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes import FakeOpenAI, FakeSlack

BOT_TOKEN = "xoxb-test-token"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi* there"}}]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def web(slack: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.url)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key=fake_openai.api_key, base_url=fake_openai.base_url, max_retries=2
    ) as c:
        yield c


# -- Slack ---------------------------------------------------------------------


def test_auth_test_names_the_bot(web: WebClient) -> None:
    auth = web.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T1")


def test_post_update_and_read_back_the_thread(slack: FakeSlack, web: WebClient) -> None:
    slack.add_message("C1", "1700000500.000100", "U1", "How do I wax skis?")
    slack.add_message("C1", "1700000500.000200", "U2", "Me too", thread_ts="1700000500.000100")

    posted = web.chat_postMessage(
        channel="C1", thread_ts="1700000500.000100", text="Hi there", blocks=BLOCKS
    )
    web.chat_update(channel="C1", ts=posted["ts"], text="Hi again")
    thread = web.conversations_replies(channel="C1", ts="1700000500.000100")["messages"]

    assert [m["text"] for m in thread] == ["How do I wax skis?", "Me too", "Hi again"]
    assert thread[0]["reply_count"] == 2
    assert thread[-1]["bot_id"] == "BBOT" and thread[-1]["user"] == "UBOT"
    assert slack.message("C1", posted["ts"])["blocks"] == BLOCKS
    (call,) = slack.calls("chat.postMessage")
    assert call.params["blocks"] == BLOCKS and call.token == BOT_TOKEN


def ts_micros(ts: str) -> int:
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int(fraction)


def test_posts_are_stamped_with_the_time_after_anything_seeded(
    slack: FakeSlack, web: WebClient
) -> None:
    before = time.time_ns() // 1000
    first = ts_micros(web.chat_postMessage(channel="C1", text="now")["ts"])
    assert first >= before  # as Slack stamps them: after a mention sent just before
    future = "9000000000.000500"
    slack.add_message("C2", future, "U1", "from a clock far ahead")
    after_seeded = ts_micros(web.chat_postMessage(channel="C1", text="later")["ts"])
    assert after_seeded > ts_micros(future)
    again = ts_micros(web.chat_postMessage(channel="C1", text="again")["ts"])
    assert again > after_seeded  # never the same twice


def test_form_encoded_json_values_are_decoded(slack: FakeSlack, web: WebClient) -> None:
    web.api_call(
        "chat.postMessage", data={"channel": "C1", "text": "x", "blocks": json.dumps(BLOCKS)}
    )
    assert slack.calls("chat.postMessage")[0].params["blocks"] == BLOCKS


def test_thread_paging_and_errors(slack: FakeSlack, web: WebClient) -> None:
    for i in range(5):
        slack.add_message(
            "C1", f"1700000600.00000{i}", "U1", f"m{i}", thread_ts="1700000600.000000"
        )
    pages = web.conversations_replies(channel="C1", ts="1700000600.000000", limit=2)
    texts = [m["text"] for page in pages for m in page["messages"]]
    assert texts == ["m0", "m1", "m2", "m3", "m4"]

    with pytest.raises(SlackApiError) as missing:
        web.conversations_replies(channel="C1", ts="1.000000")
    assert missing.value.response["error"] == "thread_not_found"
    with pytest.raises(SlackApiError) as unknown:
        web.chat_update(channel="C1", ts="1.000000", text="nope")
    assert unknown.value.response["error"] == "message_not_found"


def test_users_info(slack: FakeSlack, web: WebClient) -> None:
    slack.add_user("U1", name="ada")
    slack.add_user("B9", is_bot=True, name="otherbot")
    assert web.users_info(user="U1")["user"]["name"] == "ada"
    assert web.users_info(user="B9")["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as e:
        web.users_info(user="U404")
    assert e.value.response["error"] == "user_not_found"


def test_views_open_with_blocks(slack: FakeSlack, web: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Fix"}, "blocks": BLOCKS}
    opened = web.views_open(trigger_id="123.456", view=view)
    assert opened["view"]["id"].startswith("V")
    (call,) = slack.calls("views.open")
    assert call.params["view"]["blocks"] == BLOCKS
    web.views_update(view_id=opened["view"]["id"], view={**view, "blocks": []})
    assert slack.views()[0]["blocks"] == []


def test_wrong_token_and_unknown_method(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as bad:
        WebClient(token="xoxb-other", base_url=slack.url).auth_test()
    assert bad.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token=BOT_TOKEN, base_url=slack.url).api_call("pins.add")
    assert unknown.value.response["error"] == "unknown_method"


def test_injected_rate_limit_then_success(slack: FakeSlack, web: WebClient) -> None:
    slack.fail_next("chat.postMessage", retry_after=3)
    with pytest.raises(SlackApiError) as e:
        web.chat_postMessage(channel="C1", text="hi")
    assert e.value.response.status_code == 429
    assert e.value.response.headers["Retry-After"] in ("3", ["3"])
    assert web.chat_postMessage(channel="C1", text="hi")["ok"]
    assert len(slack.calls("chat.postMessage")) == 2


def test_a_server_error_on_a_chosen_call(slack: FakeSlack, web: WebClient) -> None:
    slack.fail_server("chat.update", after=1, times=2, status=503)
    posted = web.chat_postMessage(channel="C1", text="hi")
    assert web.chat_update(channel="C1", ts=posted["ts"], text="one")["ok"]
    for _ in range(2):
        with pytest.raises(SlackApiError) as e:
            web.chat_update(channel="C1", ts=posted["ts"], text="two")
        assert e.value.response.status_code == 503
    assert web.chat_update(channel="C1", ts=posted["ts"], text="three")["ok"]
    assert slack.message("C1", posted["ts"])["text"] == "three"


def test_slow_answers(slack: FakeSlack, web: WebClient) -> None:
    slack.slow_down("users.info", 0.3)
    started = time.monotonic()
    with pytest.raises(SlackApiError):
        web.users_info(user="U404")
    assert time.monotonic() - started >= 0.3
    slack.slow_down("users.info", 0)
    assert web.auth_test()["ok"]


def test_wait_for_sees_calls_from_other_threads(slack: FakeSlack, web: WebClient) -> None:
    sender = threading.Thread(
        target=lambda: web.reactions_add(channel="C1", timestamp="1.0", name="eyes")
    )
    sender.start()
    (call,) = slack.wait_for("reactions.add", where=lambda c: c.params["name"] == "eyes")
    sender.join()
    assert call.params["channel"] == "C1"


def test_wait_for_timeout_lists_what_arrived(slack: FakeSlack, web: WebClient) -> None:
    web.assistant_threads_setStatus(channel_id="D1", thread_ts="1.0", status="is typing…")
    with pytest.raises(AssertionError) as e:
        slack.wait_for("chat.postMessage", timeout=0.05)
    message = str(e.value)
    assert "expected 1 chat.postMessage call(s)" in message
    assert "got 0" in message and "assistant.threads.setStatus" in message


def test_reset_forgets_everything(slack: FakeSlack, web: WebClient) -> None:
    web.chat_postMessage(channel="C1", text="hi")
    slack.reset()
    assert slack.calls() == [] and slack.messages("C1") == []


# -- OpenAI ----------------------------------------------------------------------


def test_chat_completion_round_trip(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-5-mini",
        messages=[
            {"role": "system", "content": "Be kind"},
            {"role": "user", "content": "where can I camp near the lake this weekend please"},
        ],
    )
    content = completion.choices[0].message.content
    assert content is not None and "where can I camp near the" in content
    assert completion.model == "gpt-5-mini" and completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 12
    assert completion.usage.total_tokens == 12 + len(content.split())
    assert fake_openai.chat_requests()[0]["messages"][0]["content"] == "Be kind"


def test_reply_with_callable_and_streaming(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    fake_openai.reply_with(lambda request: f"Answer for {request['model']} in three parts")
    stream = client.chat.completions.create(
        model="m1",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Answer for m1 in three parts"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6


def test_rate_limit_is_retried_by_the_sdk(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    fake_openai.fail_next(429)
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content
    assert len(fake_openai.chat_requests()) == 2


def test_persistent_500_raises_after_retries(
    fake_openai: FakeOpenAI, client: openai.OpenAI
) -> None:
    fake_openai.fail_always(500)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert len(fake_openai.chat_requests()) == 3  # first try + max_retries=2
    fake_openai.recover()
    assert client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_wrong_api_key(fake_openai: FakeOpenAI) -> None:
    bad = openai.OpenAI(api_key="sk-wrong-key-123", base_url=fake_openai.base_url)
    with bad, pytest.raises(openai.AuthenticationError) as e:
        bad.models.list()
    assert e.value.code == "invalid_api_key"


def test_slow_response_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.delay(5)
    with (
        openai.OpenAI(
            api_key=fake_openai.api_key, base_url=fake_openai.base_url, timeout=0.2, max_retries=0
        ) as impatient,
        pytest.raises(openai.APITimeoutError),
    ):
        impatient.models.list()


def upload(client: openai.OpenAI, content: bytes) -> str:
    return client.files.create(file=("train.jsonl", content), purpose="fine-tune").id


TRAINING = b'{"messages": [{"role": "user", "content": "hi \xc3\xa9t\xc3\xa9"}]}\n' * 3


def test_fine_tuning_job_walks_to_succeeded(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    file_id = upload(client, TRAINING)
    assert client.files.retrieve(file_id).bytes == len(TRAINING)
    assert client.files.content(file_id).read() == TRAINING
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=file_id,
        suffix="brightside",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    )
    assert job.status == "validating_files"
    seen = [client.fine_tuning.jobs.retrieve(job.id).status for _ in range(3)]
    assert seen == ["queued", "running", "succeeded"]

    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.fine_tuned_model is not None
    assert done.fine_tuned_model.startswith("ft:gpt-4.1-mini-2025-04-14:voiceloop:brightside:")
    assert done.trained_tokens == 2 * len(TRAINING.split())
    assert done.fine_tuned_model in [m.id for m in client.models.list()]
    events = [e.message for e in client.fine_tuning.jobs.list_events(job.id)]
    assert events[0] == "The job has successfully completed"
    assert client.files.delete(file_id).deleted


def test_failed_job_carries_an_error(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    fake_openai.fail_jobs("Too few examples", times=1)
    file_id = upload(client, TRAINING)
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=file_id, method={"type": "dpo"}
    )
    for _ in range(3):
        job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "failed" and job.fine_tuned_model is None
    assert job.error is not None and job.error.message == "Too few examples"
    assert job.method is not None and job.method.type == "dpo"
    second = client.fine_tuning.jobs.create(model="m", training_file=file_id)
    assert fake_openai.job(second.id)["status"] == "validating_files"


def test_cancel_and_bad_training_file(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.create(model="m", training_file="file-missing")
    job = client.fine_tuning.jobs.create(model="m", training_file=upload(client, TRAINING))
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(job.id)


def test_job_list_pages_newest_first(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    file_id = upload(client, TRAINING)
    ids = [client.fine_tuning.jobs.create(model="m", training_file=file_id).id for _ in range(3)]
    listed = [job.id for job in client.fine_tuning.jobs.list(limit=1)]
    assert listed == ids[::-1]


def test_moderation_flags_words(fake_openai: FakeOpenAI, client: openai.OpenAI) -> None:
    fake_openai.flag_words("grizzly", category="violence")
    result = client.moderations.create(input=["A GRIZZLY attack!", "a grizzlyish bear"])
    assert [r.flagged for r in result.results] == [True, False]
    assert result.results[0].categories.violence is True
