"""Scrubbing personal data: what is caught, what is left alone."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curation.dataset.pii import BUILT_IN, PiiRule, Scrubber
from curation.dataset.rules import PiiPattern


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("write to jo.doe+trail@fernleaf.example", "write to [email]"),
        ("<mailto:jo@fernleaf.example|jo@fernleaf.example> please", "[email] please"),
        ("ask <@U024BE7LH> or <@W123ABC|sam>", "ask [person] or [person]"),
        ("call (555) 123-4567", "call [phone]"),
        ("call +44 20 7946 0958", "call [phone]"),
        ("call 555.123.4567 today", "call [phone] today"),
        ("call +14155550123", "call [phone]"),
        ("card 4111 1111 1111 1111", "card [card]"),
        ("ssn 123-45-6789", "ssn [ssn]"),
        ("host 192.168.1.20 is down", "host [ip] is down"),
        ("token xoxb-123456789012-abcdefghijkl", "token [secret]"),
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz", "key [secret]"),
        ("reset at https://x.example/reset?user=4&token=abc123 now", "reset at [url] now"),
        # The label of Slack's <url|label> markup goes with a credential link.
        ("<https://bob:hunter2@files.example/a|files>", "<[url]>"),
        ("<http://x.example/cb?token=abc|x.example/cb?token=abc> now", "<[url]> now"),
        ("see <#C024BE7LR|general> or <#C024BE7LR>", "see [channel] or [channel]"),
        ("newer Slack sends <#C024BE7LR|> too", "newer Slack sends [channel] too"),
        ("ask <!subteam^S0123ABC|@guides> or <!subteam^S0123ABC>", "ask [group] or [group]"),
        ("signed in: https://x.example/cb#access_token=abc123 ok", "signed in: [url] ok"),
        ("https://x.example/cb?state=4#id_token=eyJabc", "[url]"),
        ("post to https://hooks.slack.com/services/T000/B000/XXXXXXXX", "post to [url]"),
        ("<https://hooks.slack.com/workflows/T000/A000/1/abc>", "<[url]>"),
        ("<https://hooks.slack.com/triggers/T000/1/abc|run it>", "<[url]>"),
        # Typed without a scheme, Slack repeats the link as its own label.
        (
            "<http://hooks.slack.com/services/T0/B0/XX|hooks.slack.com/services/T0/B0/XX>",
            "<[url]>",
        ),
        ("https://x.example/?token=1 | pipes | stay", "[url] | pipes | stay"),
    ],
)
def test_built_in_patterns(text: str, scrubbed: str) -> None:
    assert Scrubber.with_extra([]).scrub(text) == scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "Trip on 2026-05-01 or 05/01/2026",
        "It is $1,299.00 and weighs 2 lb 3 oz",
        "v1.2.3 of the app; 10 miles, 1,200 ft",
        "Slack ts 1712345678.123456",
        "order 1234567890123",  # 13 digits, fails the Luhn check
        "room 1234 5678",
        "see <https://fernleaf.example/trips?season=fall|fall trips>",
        "ask in #general or #trips-2026",
        "<!here> and <!channel>: the van leaves at 7",
        "see https://fernleaf.example/trips#fall-season",
        "the guide is at https://fernleaf.example/docs#token-limits",
        "set up a webhook: https://api.slack.com/messaging/webhooks",
        "webhooks live under https://hooks.slack.com/services/",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Scrubber.with_extra([]).scrub(text) == text


def test_slack_references_and_credential_links_are_counted_by_kind() -> None:
    scrubber = Scrubber.with_extra([])
    scrubber.scrub("in <#C024BE7LR|general> and <#G0PRIVATE1>, <!subteam^S0123ABC|@guides> said")
    scrubber.scrub(
        "https://x.example/cb#access_token=abc and https://hooks.slack.com/services/T0/B0/XX"
    )
    assert scrubber.counts == {"channel": 2, "group": 1, "url": 2}


def test_every_built_in_rule_can_be_skipped_by_a_substring_test() -> None:
    # One rule without needles (or a digit to look for) would send every
    # text through every pattern.
    for rule in BUILT_IN:
        assert rule.needles is not None or rule.needs_digit, rule.kind
    assert Scrubber.with_extra([])._gate is not None


def test_team_patterns_run_before_the_built_ins_and_are_counted() -> None:
    scrubber = Scrubber.with_extra([PiiPattern(name="order_number", pattern=r"\bFL-\d{6,}\b")])
    assert (
        scrubber.scrub("order FL-555123456 for jo@x.example") == "order [order_number] for [email]"
    )
    assert scrubber.counts == {"order_number": 1, "email": 1}


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_scrubbing_twice_changes_nothing_more(text: str) -> None:
    once = Scrubber.with_extra([]).scrub(text)
    assert Scrubber.with_extra([]).scrub(once) == once


@given(
    st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,8}\.(com|org|example)", fullmatch=True),
    st.text(alphabet="abc ,.", max_size=20),
)
def test_no_address_survives(address: str, around: str) -> None:
    assert address not in Scrubber.with_extra([]).scrub(f"{around} {address} {around}")


def _every_pattern_on_every_text(scrubber: Scrubber, text: str) -> str:
    """The scrubber's definition, without any of its shortcuts."""
    for rule in scrubber.rules:

        def replace(match: re.Match[str], rule: PiiRule = rule) -> str:
            if rule.accept is not None and not rule.accept(match.group(0)):
                return match.group(0)
            return f"[{rule.kind}]"

        text = rule.pattern.sub(replace, text)
    return text


PII_PIECES = [
    "jo.doe@fernleaf.example",
    "<mailto:a@b.co|a@b.co>",
    "<@U024BE7LH>",
    "(555) 123-4567",
    "+44 20 7946 0958",
    "4111 1111 1111 1111",
    "123-45-6789",
    "192.168.1.20",
    "xoxb-123456789012-abcdefghijkl",
    "sk-proj-abcdefghijklmnopqrstuvwxyz",
    "ghp_" + "a" * 36,
    "https://x.example/reset?token=abc123",
    "https://x.example/cb#access_token=abc123",
    "https://",
    "hooks.slack.com/services/T0/B0/XX",
    "HOOKS.SLACK.COM/services/T0/B0/XX",
    "hooks.slack.com/triggers/",
    "<#C024BE7LR|general>",
    "<#C0123456789>",
    "<!subteam^S0123ABC|@guides>",
    "<",
    ">",
    "|",
    "#",
    "FL-555123456",
    "fl-555123456",
    "Kestrel",
    "\u212aestrel",
    "2026-05-01",
    "\u0661\u0662\u0663-\u0664\u0665-\u0666\u0667\u0668\u0669",
    "trail",
    " ",
    "-",
    ".",
    "@",
    "7",
]


@given(st.lists(st.sampled_from(PII_PIECES), max_size=10))
def test_shortcuts_change_nothing(pieces: list[str]) -> None:
    scrubber = Scrubber.with_extra(
        [
            PiiPattern(name="order_number", pattern=r"\bFL-\d{6,}\b"),
            PiiPattern(name="project", pattern=r"(?i)\bkestrel\b"),
        ]
    )
    text = "".join(pieces)
    assert scrubber.scrub(text) == _every_pattern_on_every_text(scrubber, text)


@given(st.lists(st.lists(st.sampled_from(PII_PIECES), max_size=4).map("".join), max_size=4))
def test_scrubbing_texts_together_is_scrubbing_each(texts: list[str]) -> None:
    together, each = Scrubber.with_extra([]), Scrubber.with_extra([])
    assert together.scrub_all(texts) == [each.scrub(text) for text in texts]
    assert list(together.counts.items()) == list(each.counts.items())


@pytest.mark.parametrize(
    "text",
    [
        "call 1-800-555-1234 now",
        "call 1.555.123.4567",
        "call +44 7700 900123",
        "ring 07700 900123",
        "+49 30 1234567",
        "call +33 1 23 45 67 89",
        "call 1 (555) 123-4567",
    ],
)
def test_common_phone_formats_are_scrubbed_whole(text: str) -> None:
    scrubbed = Scrubber.with_extra([]).scrub(text)
    assert "[phone]" in scrubbed
    assert not any(ch.isdigit() for ch in scrubbed)


def test_an_ip_address_ending_a_sentence_is_scrubbed() -> None:
    assert Scrubber.with_extra([]).scrub("ip 10.0.0.1.") == "ip [ip]."
