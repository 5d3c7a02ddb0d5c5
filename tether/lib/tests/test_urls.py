from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from tether.lib.urls import per_id


@pytest.mark.parametrize("name", ["staff:review", "staff:patient_detail"])
def test_a_rows_url_is_the_one_reverse_gives(name):
    url = per_id(name)
    for pk in (1, 42, 987654321, 10**12):
        assert url(pk) == reverse(name, args=[pk])


def test_a_route_without_an_id_is_refused():
    with pytest.raises(NoReverseMatch):
        per_id("staff:dashboard")
