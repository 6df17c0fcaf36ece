from __future__ import annotations

import pytest

from cadence.domain.templates import MergeField, TemplateError, check_template, merge_fields, render
from cadence.errors import UnknownMergeField


def test_fallback_is_used_when_the_contact_lacks_the_field() -> None:
    assert render("Hi {{first_name|there}}!", {}).text == "Hi there!"
    assert render("Hi {{first_name|there}}!", {"first_name": ""}).text == "Hi there!"
    assert render("Hi {{first_name|there}}!", {"first_name": "Ada"}).text == "Hi Ada!"


def test_jinja_default_and_quoted_fallbacks_work_too() -> None:
    assert render('{{company|default("your team")}}', {}).text == "your team"
    assert render('{{company|"title"}}', {}).text == "title"
    assert render("{{company|your team}}", {}).text == "your team"


def test_missing_fields_without_fallback_are_reported() -> None:
    result = render("Hi {{first_name}}, about {{deal_size}}", {"first_name": "Ada"})
    assert result.missing == ("deal_size",)


def test_fields_inside_their_own_if_are_not_missing() -> None:
    assert merge_fields("{% if title %}As {{title|lower}}{% endif %}") == [
        MergeField("title", True)
    ]
    assert render("{% if title %}As {{title}}{% endif %}", {}).missing == ()


def test_html_rendering_escapes_contact_values() -> None:
    out = render("<p>Hi {{first_name}}</p>", {"first_name": "<script>x</script>"}, html=True)
    assert out.text == "<p>Hi &lt;script&gt;x&lt;/script&gt;</p>"
    assert render("Hi {{first_name}}", {"first_name": "<b>"}).text == "Hi <b>"


@pytest.mark.parametrize(
    "source",
    [
        "{{ first_name.__class__ }}",
        "{{ first_name['x'] }}",
        "{{ lipsum() }}",
        "{% for x in company %}{{x}}{% endfor %}",
        "{{ company|attr('upper') }}",
        "{% set x = 1 %}",
        "{{ 1 + 2 }}",
    ],
)
def test_sandbox_refuses_code_and_attribute_access(source: str) -> None:
    with pytest.raises(TemplateError):
        merge_fields(source)


def test_unknown_field_names_the_field_and_the_step() -> None:
    with pytest.raises(UnknownMergeField) as info:
        check_template("Hi {{frist_name}}", ["deal_size"], step=2, where="body")
    assert info.value.merge_field == "frist_name" and info.value.step == 2
    assert "frist_name" in str(info.value) and "step 2 body" in str(info.value)


def test_custom_attributes_are_known_fields() -> None:
    fields = check_template("{{deal_size|a deal}}", ["deal_size"], step=1, where="body")
    assert fields == [MergeField("deal_size", True)]


def test_syntax_error_is_a_template_error() -> None:
    with pytest.raises(TemplateError):
        merge_fields("Hi {{first_name")
