"""sopflow's template filters."""

import pytest
from django.template.defaultfilters import truncatechars
from django.utils import translation

from procedures.templatetags.sopflow import shorten


@pytest.mark.parametrize("text", ["", "Rapat", "Menyusun rencana Operasional Patroli " * 5, "x" * 110, "x" * 111])
def test_shorten_cuts_plain_text_as_truncatechars_does(text):
    with translation.override("id"):
        assert shorten(text, 110) == truncatechars(text, 110)
