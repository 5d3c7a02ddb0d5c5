"""The signed-out crisis page lists the programs of the organization whose portal
the host is (TETHER_HOST_ORGANIZATIONS), and no other organization's."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from tether.demo import roster
from tether.organizations.hosts import (
    default_host_entries,
    parse_host_organizations,
    slug_for_host,
)
from tether.organizations.models import Program

URL = reverse("crisis:crisis")
PAPERWORK = "call the number on the paperwork your program gave you"
NATIONAL = ('href="tel:988"', 'href="tel:911"', 'href="sms:741741?&amp;body=HOME"')


@pytest.fixture
def hosts(settings):
    settings.ALLOWED_HOSTS = ["portal.riverbend.example", "care.elsewhere.example", "testserver"]
    settings.TETHER_HOST_ORGANIZATIONS = {
        "portal.riverbend.example": "riverbend",
        "care.elsewhere.example": "elsewhere",
    }


def test_signed_out_on_a_clinics_host_it_lists_that_clinics_programs(cast, client, hosts):
    body = client.get(URL, HTTP_HOST="portal.riverbend.example").content.decode()
    assert all(link in body for link in NATIONAL)
    assert "Adult IOP" in body and "555-0100" in body
    assert "Adolescent IOP" in body and "555-0110" in body
    assert "555-0900" not in body and "Elsewhere" not in body
    assert PAPERWORK not in body


def test_the_other_clinics_host_shows_only_its_own_lines(cast, client, hosts):
    body = client.get(URL, HTTP_HOST="care.elsewhere.example:443").content.decode()
    assert "555-0900" in body
    assert "555-0100" not in body and "555-0110" not in body
    assert "Riverbend" not in body and "Adult IOP" not in body


def test_an_inactive_program_is_not_listed(cast, client, hosts):
    Program.objects.filter(name="Adolescent IOP").update(is_active=False)
    body = client.get(URL, HTTP_HOST="PORTAL.riverbend.example").content.decode()
    assert "555-0100" in body and "555-0110" not in body


def test_signed_out_on_an_unknown_host_it_shows_only_the_national_lines(cast, client, hosts):
    body = client.get(URL).content.decode()  # "testserver" is not mapped
    assert all(link in body for link in NATIONAL)
    for number in ("555-0100", "555-0110", "555-0900"):
        assert number not in body
    assert "Riverbend" not in body and "Elsewhere" not in body
    assert PAPERWORK in body


def test_a_host_mapped_to_an_organization_that_does_not_exist_shows_national_lines(
    cast, client, settings
):
    settings.TETHER_HOST_ORGANIZATIONS = {"testserver": "no-such-clinic"}
    body = client.get(URL).content.decode()
    assert 'href="tel:988"' in body and "555-0" not in body
    assert PAPERWORK in body


def test_signed_in_a_patient_still_sees_their_own_program_on_any_host(cast, client_as, hosts):
    client = client_as(cast.patient)
    for host in ("care.elsewhere.example", "testserver"):
        body = client.get(URL, HTTP_HOST=host).content.decode()
        assert "Your program" in body and "555-0100" in body
        assert "555-0110" not in body and "555-0900" not in body
        assert PAPERWORK not in body


def test_signed_in_staff_see_their_own_organizations_programs(cast, client, hosts):
    client.force_login(cast.other_org_clinician)
    body = client.get(URL, HTTP_HOST="portal.riverbend.example").content.decode()
    assert "555-0900" in body
    assert "555-0100" not in body and "555-0110" not in body


def test_the_page_is_a_fixed_number_of_queries_signed_out(
    cast, client, hosts, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        client.get(URL, HTTP_HOST="portal.riverbend.example")


# --- The setting ----------------------------------------------------------------------


def test_it_reads_hosts_and_short_names():
    mapping = parse_host_organizations(
        [" Portal.Clinic.org = clinic ", "127.0.0.1=demo", "[::1]=demo", "portal.clinic.org=clinic"]
    )
    assert mapping == {"portal.clinic.org": "clinic", "127.0.0.1": "demo", "[::1]": "demo"}


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("portal.clinic.org", "is not host=organization-short-name"),
        ("=clinic", "is not host=organization-short-name"),
        ("portal.clinic.org=", "is not host=organization-short-name"),
        ("https://portal.clinic.org=clinic", "is not a plain host name"),
        ("portal.clinic.org:8443=clinic", "is not a plain host name"),
        ("portal.clinic.org=Clinic Name", "is not an organization short name"),
    ],
)
def test_a_malformed_entry_stops_start_up_naming_the_variable(entry, says):
    with pytest.raises(ImproperlyConfigured, match="TETHER_HOST_ORGANIZATIONS") as error:
        parse_host_organizations([entry])
    assert says in str(error.value)


def test_one_host_for_two_organizations_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="given twice"):
        parse_host_organizations(["portal.clinic.org=one", "portal.clinic.org=two"])


def test_a_malformed_environment_value_stops_settings_from_loading(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("TETHER_HOST_ORGANIZATIONS", "portal.clinic.org")
    monkeypatch.delitem(sys.modules, "tether.settings", raising=False)
    with pytest.raises(ImproperlyConfigured, match="TETHER_HOST_ORGANIZATIONS"):
        importlib.import_module("tether.settings")
    monkeypatch.delitem(sys.modules, "tether.settings", raising=False)


def test_the_demo_clinic_is_served_on_this_machine(settings):
    assert default_host_entries(demo=False) == []
    settings.TETHER_HOST_ORGANIZATIONS = parse_host_organizations(default_host_entries(demo=True))
    assert slug_for_host("127.0.0.1:8000") == roster.ORGANIZATION_SLUG
    assert slug_for_host("localhost") == roster.ORGANIZATION_SLUG
    assert slug_for_host("portal.clinic.org") is None
