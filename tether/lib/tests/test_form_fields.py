"""The shared form fields: free text counted as the page counts it, tick boxes that are
true only for their own value, and forms that refuse a missing field."""

from __future__ import annotations

from django import forms

from tether.lib.forms import CheckboxField, FreeTextField, PostedFieldsMixin
from tether.lib.text import clean_free_text


class _Note(forms.Form):
    note = FreeTextField(multiline=True, max_length=10)
    title = FreeTextField(max_length=20, required=False)


def test_it_counts_a_line_break_once_and_drops_control_characters():
    form = _Note({"note": "abcd\r\nefgh\x00", "title": "A\r\nB\x1b"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"note": "abcd\nefgh", "title": "A B"}


def test_too_long_text_is_refused_and_shown_again_as_typed():
    form = _Note({"note": "x" * 11})
    assert not form.is_valid()
    assert "x" * 11 in str(form["note"])


def test_clean_free_text_keeps_tabs_and_unicode_text():
    assert clean_free_text(" Ça va\tbien \u2764\ufe0f\r\n") == "Ça va\tbien \u2764\ufe0f"
    assert clean_free_text("\u0085a\u009fb") == "ab"  # C1 controls too
    assert clean_free_text(None) == ""


class _Agree(forms.Form):
    agree = CheckboxField(label="I agree")
    extra = CheckboxField(label="Extra", required=False, checked_value="1")


def test_a_box_is_ticked_only_by_its_own_value():
    assert _Agree({"agree": "on"}).is_valid()
    for forged in ("-1", "1", "true", "yes", "ON", ""):
        form = _Agree({"agree": forged})
        assert not form.is_valid(), forged
    assert not _Agree({}).is_valid()  # required and absent
    ok = _Agree({"agree": "on", "extra": "1"})
    assert ok.is_valid() and ok.cleaned_data == {"agree": True, "extra": True}
    assert not _Agree({"agree": "on", "extra": "on"}).is_valid()
    assert 'value="1"' in str(_Agree()["extra"]) and 'value="on"' in str(_Agree()["agree"])


class _Plan(PostedFieldsMixin, forms.Form):
    step = FreeTextField(required=False)


def test_a_missing_field_is_refused_but_an_empty_one_is_a_choice():
    assert _Plan({"step": ""}).is_valid()
    form = _Plan({})
    assert not form.is_valid()
    assert "did not arrive" in str(form.errors["step"])
