"""Options shared by several commands."""

from datetime import timedelta

import pytest

from nirs4all_workspace.cli.options import parse_age
from nirs4all_workspace.errors import InputError


def test_ages_with_units_and_a_bare_zero():
    assert parse_age("30d") == timedelta(days=30)
    assert parse_age("90m") == timedelta(minutes=90)
    assert parse_age("0") == parse_age("0s") == timedelta(0)


@pytest.mark.parametrize("text", ["", "10", "-1d", "3 parsecs"])
def test_anything_else_is_refused_in_one_line(text):
    with pytest.raises(InputError, match="not a duration"):
        parse_age(text)
