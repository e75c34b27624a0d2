"""The team's curation rules file (TOML): tone, format, extra PII patterns, dedup, limits."""

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from curation.errors import CurationError


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"not a valid regular expression ({e})") from e
    return pattern


Pattern = Annotated[str, AfterValidator(_compiles)]
RuleName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class _Strict(BaseModel):
    # A misspelt key would otherwise silently switch a rule off.
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormatRules(_Strict):
    """Shape of a reply; None switches a limit off."""

    min_chars: Annotated[int, Field(ge=1)] = 2
    max_chars: Annotated[int | None, Field(ge=1)] = 4000
    max_words: Annotated[int | None, Field(ge=1)] = None
    max_lines: Annotated[int | None, Field(ge=1)] = None
    max_exclamations: Annotated[int | None, Field(ge=0)] = None
    max_emoji: Annotated[int | None, Field(ge=0)] = None
    # Emoji characters or Slack shortcodes ("tent" or ":tent:"); None allows any.
    allowed_emoji: list[str] | None = None
    max_em_dashes: Annotated[int | None, Field(ge=0)] = None
    # Slack renders its own mrkdwn, not Markdown: headings, tables, **bold** and
    # [text](url) links show up as stray symbols, and so does a *, _ or `
    # that opens or closes alone.
    slack_mrkdwn: bool = True
    # ISO 639-1 code ("en", "de") the replies must be written in; None skips
    # the check. Replies under a few words are too short to judge and pass.
    language: Annotated[str | None, Field(pattern=r"^[a-z]{2}$")] = None


class ToneRules(_Strict):
    # Matched case-insensitively, on word boundaries.
    banned_phrases: list[str] = []


class PatternRule(_Strict):
    """A team-specific rule: a regex a reply must not match (or must match)."""

    name: RuleName
    pattern: Pattern
    message: str = ""
    mode: Literal["forbid", "require"] = "forbid"


class PiiPattern(_Strict):
    """Extra text to scrub; matches become [name]."""

    name: RuleName
    pattern: Pattern


class DedupRules(_Strict):
    # Jaccard similarity of character 5-grams (of the question and reply) above
    # which two examples are one.
    similarity: Annotated[float, Field(ge=0.5, le=1.0)] = 0.85


class LimitRules(_Strict):
    # Overrides the base model's per-example limit (for self-hosted models).
    max_example_tokens: Annotated[int | None, Field(ge=64)] = None


class CurationRules(_Strict):
    format: FormatRules = FormatRules()
    tone: ToneRules = ToneRules()
    rule: list[PatternRule] = []
    pii: list[PiiPattern] = []
    dedup: DedupRules = DedupRules()
    limits: LimitRules = LimitRules()


def shipped_rules_text() -> str:
    """The rules that ship with voiceloop, read from the installed package."""
    shipped = resources.files("curation").joinpath("defaults", "curation_rules.toml")
    return shipped.read_text(encoding="utf-8")


def load_rules(path: Path | None = None) -> CurationRules:
    """Read and check a rules file (None: the shipped rules); every problem
    names the file and line."""
    if path is None:
        return parse_rules(shipped_rules_text(), "the shipped curation rules")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or type(e).__name__
        raise CurationError(
            f"{path}: cannot read the curation rules ({reason}); "
            "fix the path, or unset VOICELOOP_CURATION_RULES to use the shipped rules"
        ) from e
    return parse_rules(text, str(path))


def parse_rules(text: str, where: str) -> CurationRules:
    """Check rules given as TOML text; `where` names their file in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CurationError(f"{where}: not valid TOML: {e}") from e
    try:
        return CurationRules.model_validate(data)
    except ValidationError as e:
        error = e.errors()[0]
        loc = tuple(error["loc"])
        line = _line_of(text, loc)
        at = f"{where}:{line}" if line else where
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise CurationError(f"{at}: {_dotted(loc)}: {error['msg']}{more}") from e


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else part
    return out


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line of a TOML location such as ("rule", 1, "pattern")."""
    table, index, key = _table_index_key(loc)
    seen: dict[str, int] = {}
    current = ""
    table_line: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.fullmatch(r"\[\[?\s*([\w.-]+)\s*\]\]?(?:\s*#.*)?", line)
        if header:
            current = header.group(1)
            if not table and current == key:  # an unknown table at the top level
                return number
            seen[current] = seen.get(current, -1) + 1
            if current == table and seen[current] == index:
                table_line = number
                if key is None:
                    return number
            continue
        in_place = current == table and seen.get(table, 0) == index
        if key and in_place and re.match(rf"{re.escape(key)}\s*=", line):
            return number
    return table_line


def _table_index_key(loc: tuple[int | str, ...]) -> tuple[str, int, str | None]:
    if not loc:
        return "", 0, None
    if len(loc) == 1:
        return "", 0, str(loc[0])
    table = str(loc[0])
    if isinstance(loc[1], int):
        key = str(loc[2]) if len(loc) > 2 else None
        return table, loc[1], key
    return table, 0, str(loc[1])
