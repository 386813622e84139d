"""``form_errors``: a domain error in the block becomes the form's error (text in the
person's language, field, status) after a rollback; anything else goes through."""

from __future__ import annotations

import pytest

from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.i18n import Lang, translate
from kefu.web.forms import error_text, form_errors


class Session:
    """Counts rollbacks, the one thing the helper does with the session."""

    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def test_nothing_refused_leaves_the_session_alone() -> None:
    db = Session()
    with form_errors(db, "zh-CN") as refused:  # type: ignore[arg-type]
        done = True
    assert done and not refused
    assert (refused.text, refused.field, refused.status, refused.fields) == ("", None, 200, {})
    assert db.rollbacks == 0


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_domain_error_becomes_the_forms_error(lang: Lang) -> None:
    db = Session()
    error = InvalidInput("too long", field="note", max=2000)
    with form_errors(db, lang) as refused:  # type: ignore[arg-type]
        raise error
    assert refused and refused.error is error
    assert refused.text == translate(error.message_key, lang, **error.params)
    assert refused.text != error.message_key  # words, not a code
    assert refused.field == "note" and refused.fields == {"note": refused.text}
    assert refused.status == 400 == error.status
    assert db.rollbacks == 1


def test_the_page_words_the_refusal_its_own_way() -> None:
    reasons = {("conflict", "value"): "antifraud.web.error.duplicate"}
    with form_errors(None, "en", reason=lambda e, lang: error_text(e, lang, reasons=reasons)) as r:
        raise Conflict("taken", field="value")
    assert r.text == translate("antifraud.web.error.duplicate", "en")
    assert r.status == 409
    # a (code, field) the page has no words for keeps the error's own text
    assert error_text(NotFound("no such thing"), "en", reasons=reasons) == translate(
        NotFound("x").message_key, "en"
    )


def test_only_what_it_catches() -> None:
    db = Session()
    with pytest.raises(NotFound), form_errors(db, "en", catch=Conflict):  # type: ignore[arg-type]
        raise NotFound("gone")
    with pytest.raises(ValueError), form_errors(db, "en"):  # type: ignore[arg-type]
        raise ValueError("a bug is not a form error")
    assert db.rollbacks == 0
