"""Add (or replace) a program's own homework template from a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tether.homework.library import TemplateError
from tether.homework.services import program_template_add
from tether.organizations.models import Program


class Command(BaseCommand):
    help = "Add a program's own homework template (see docs/HOWTO-add-a-homework-template.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program_id", type=int)
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            program = Program.objects.get(pk=options["program_id"])
        except Program.DoesNotExist:
            raise CommandError("No program with that id.") from None
        try:
            data = json.loads(options["path"].read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Could not read the template file: {error}") from None
        try:
            template = program_template_add(program=program, data=data)
        except TemplateError as error:
            raise CommandError(f"The template is not valid: {error}") from None
        self.stdout.write(f"Template '{template.key}' is available to {program.name}.")
