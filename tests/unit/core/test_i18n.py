import re

from kefu.i18n import catalogue, listed, negotiate, normalise_lang, translate

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_both_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("zh-CN")) == set(catalogue("en"))


def test_placeholders_match_between_languages() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    for key in zh:
        assert set(_PLACEHOLDER.findall(zh[key])) == set(_PLACEHOLDER.findall(en[key])), key


def test_chinese_catalogue_is_chinese() -> None:
    zh = catalogue("zh-CN")
    untranslated = [k for k, v in zh.items() if not re.search(r"[\u4e00-\u9fff]", v)]
    # brand names and codes may stay Latin, but nearly everything must be Chinese
    assert len(untranslated) <= len(zh) // 20, untranslated


def test_translate_fills_placeholders() -> None:
    assert "30" in translate("error.too_many_requests", "en", retry_after=30)
    assert "30" in translate("error.too_many_requests", "zh-CN", retry_after=30)


def test_negotiate_respects_quality_and_default() -> None:
    assert negotiate("en-US,en;q=0.9,zh-CN;q=0.8", "zh-CN") == "en"
    assert negotiate("fr-FR, zh-TW;q=0.5", "en") == "zh-CN"
    assert negotiate("fr-FR", "zh-CN") == "zh-CN"
    assert negotiate(None, "en") == "en"
    assert negotiate("en;q=0, zh;q=0.1", "en") == "zh-CN"
    assert negotiate("en;q=abc", "zh-CN") == "zh-CN"


def test_normalise_lang() -> None:
    assert normalise_lang("zh_Hans_CN") == "zh-CN"
    assert normalise_lang("EN-gb") == "en"
    assert normalise_lang("de") is None
    assert normalise_lang("") is None


def test_an_errors_own_lang_parameter_does_not_collide_with_the_readers_language() -> None:
    from kefu.i18n import translate
    from kefu.kb.admin import StaleArticle

    stale = StaleArticle("changed meanwhile", field="version", lang="en", version=3)
    text = translate(stale.message_key, "zh-CN", **stale.params)
    assert text and text != stale.message_key and "kb." not in text


def test_a_list_reads_in_the_languages_punctuation() -> None:
    assert listed(["一线客服", "二线专员", "主管"], "zh-CN") == "一线客服、二线专员、主管"
    assert listed(["Tier 1", "Tier 2"], "en") == "Tier 1, Tier 2"
    assert listed(["一线客服"], "zh-CN") == "一线客服"
