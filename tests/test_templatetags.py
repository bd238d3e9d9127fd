"""sopflow's template filters."""

import pytest
from django.template.defaultfilters import truncatechars
from django.utils import translation

from procedures.templatetags.sopflow import sentence, shorten


@pytest.mark.parametrize("text", ["", "Rapat", "Menyusun rencana Operasional Patroli " * 5, "x" * 110, "x" * 111])
def test_shorten_cuts_plain_text_as_truncatechars_does(text):
    with translation.override("id"):
        assert shorten(text, 110) == truncatechars(text, 110)


def render(source: str, **context) -> str:
    from django.template import Context, Template

    return Template("{% load sopflow %}" + source).render(Context(context))


def test_shorten_escapes_even_text_marked_safe():
    from django.utils.safestring import mark_safe

    # Cut inside a tag, the rest would open an element; the result is escaped instead.
    assert render("{{ text|shorten:12 }}", text=mark_safe('<b title="x">bold</b>')) == "&lt;b title=&quot;x…"


def test_person_names_a_user_by_full_name_else_username_and_nobody_with_a_dash(db):
    from tests.factories import UserFactory

    named = UserFactory(username="budi", first_name="Budi", last_name="<Santoso>")
    plain = UserFactory(username="siti", first_name="", last_name="")
    assert render("{{ u|person }}", u=named) == "Budi &lt;Santoso&gt;"
    assert render("{{ u|person }}", u=plain) == "siti"
    assert render("{{ u.completed_by|person }}", u=object()) == "—"


@pytest.mark.parametrize(("text", "shown"), [
    ("this task was already completed by Ani at 10.00 WIB", "This task was already completed by Ani at 10.00 WIB."),
    ("The run has started.", "The run has started."),
    ("Langkah 3 dari “Patroli”: tugas ini sudah diselesaikan", "Langkah 3 dari “Patroli”: tugas ini sudah diselesaikan."),
    ("Siapa berikutnya?", "Siapa berikutnya?"),
    ("", ""),
])
def test_sentence_starts_with_a_capital_and_ends_with_a_full_stop(text, shown):
    assert sentence(text) == shown


def test_sentence_leaves_markup_alone_and_keeps_safe_text_safe():
    from django.utils.safestring import SafeData, mark_safe

    assert sentence(mark_safe("<a href='/'>x</a>")) == "<a href='/'>x</a>"
    assert isinstance(sentence(mark_safe("tersimpan")), SafeData)
    assert not isinstance(sentence("<b>tersimpan"), SafeData)
