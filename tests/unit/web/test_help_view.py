from kefu.kb import render
from kefu.web.help_view import excerpt


def test_excerpts_skip_labels_and_list_numbers() -> None:
    assert excerpt("怎么做：\n1. 在“账单”中查看状态。") == "在“账单”中查看状态。"
    assert excerpt("What happened: the bank took it.") == "The bank took it."
    long = excerpt("发生了什么：" + "很长的一句话" * 20)
    assert len(long) == 44 and long.endswith("…")
    assert excerpt("\n\n") == ""


def test_an_article_sets_its_lead_in_apart() -> None:
    """The help center renders articles through ``kb.render`` (Markdown); a paragraph that
    opens with a label keeps the label in bold, as the plain-text articles were shown."""
    html = str(render.to_html("发生了什么：银行已扣款。\n\n普通的一段。"))
    assert html == "<p><strong>发生了什么：</strong> 银行已扣款。</p>\n<p>普通的一段。</p>\n"
