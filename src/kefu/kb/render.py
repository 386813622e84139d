"""An article's text as the help center shows it: Markdown (CommonMark, markdown-it-py)
with raw HTML off, then sanitised by nh3 (Ammonia) to a short list of tags, so neither an
admin's slip nor a stolen admin session can put script on the public pages. The editor's
live preview uses this same function, so what the admin sees is what customers get.

FAQ answers are written as "发生了什么：…", "怎么做：…"; a paragraph that opens with such
a label has it set in bold, as the help center always showed it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote",
    "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
_LABEL = re.compile(r"^([^：:。.\n*#>|`\[\-0-9][^：:。.\n*]{0,13}[：:])\s*(\S.*)$")


@lru_cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")


def _bold_labels(markdown: str) -> str:
    lines = []
    for line in markdown.split("\n"):
        match = _LABEL.match(line.strip())
        lines.append(f"**{match.group(1)}** {match.group(2)}" if match else line)
    return "\n".join(lines)


def to_html(markdown: str) -> Markup:
    html = _parser().render(_bold_labels(markdown))
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"https", "http", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
