from __future__ import annotations

import json
import struct
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from tether.privacy.models import Purpose
from tether.safetyplan.services import safety_plan_save

PWA = Path(settings.BASE_DIR) / "tether" / "static" / "pwa"


def test_it_serves_the_service_worker_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert "/me/safety-plan/offline-copy/" in body and "/crisis/" in body


def test_it_serves_a_manifest_with_png_icons_that_exist(client):
    response = client.get(reverse("safety_plan:manifest"))
    data = json.loads(response.content)
    assert data["display"] == "standalone" and data["start_url"] == "/"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for name, size in (("icon-192.png", 192), ("icon-512.png", 512)):
        raw = (PWA / name).read_bytes()
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", raw[16:24]) == (size, size)


def test_it_links_the_manifest_from_every_page(db, client):
    assert reverse("safety_plan:manifest") in client.get(reverse("crisis:crisis")).content.decode()


def test_the_offline_copy_holds_the_plan_and_numbers_but_no_forms(cast, client_as):
    safety_plan_save(
        patient=cast.patient.patient,
        author=cast.patient,
        content={"coping_strategies": "Cold water"},
        based_on=0,
        purpose=Purpose.PATIENT_REQUEST,
    )
    response = client_as(cast.patient).get(reverse("safety_plan:offline_copy"))
    body = response.content.decode()
    assert "Cold water" in body and 'href="tel:988"' in body and 'href="tel:5550100"' in body
    assert "<form" not in body
    assert "no-store" in response["Cache-Control"]  # only the service worker keeps it


def test_signing_out_clears_the_offline_copy(cast, client_as):
    client = client_as(cast.patient)
    response = client.post(reverse("accounts:logout"))
    assert response["Clear-Site-Data"] == '"cache", "storage"'
