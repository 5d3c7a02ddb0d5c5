from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tether.homework.models import ProgramTemplate

GOOD = {
    "key": "gratitude",
    "title": "Three good things",
    "steps": [{"title": "Today", "fields": [{"key": "things", "kind": "list", "label": "Good"}]}],
}


def test_it_adds_a_programs_template_from_a_file(cast, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(GOOD))
    out = StringIO()
    call_command("homework_template_add", str(cast.iop.pk), str(path), stdout=out)
    assert "Template 'gratitude' is available to Adult IOP." in out.getvalue()
    assert ProgramTemplate.objects.get().program == cast.iop


def test_it_says_what_is_wrong_with_a_bad_file(cast, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({**GOOD, "steps": []}))
    with pytest.raises(CommandError, match="steps"):
        call_command("homework_template_add", str(cast.iop.pk), str(path))
    path.write_text("{not json")
    with pytest.raises(CommandError, match="Could not read"):
        call_command("homework_template_add", str(cast.iop.pk), str(path))
    assert not ProgramTemplate.objects.exists()
