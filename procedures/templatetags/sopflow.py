"""Template filters of sopflow."""

from django import template

from procedures.permissions import display_name

register = template.Library()


@register.filter
def shorten(text: str, length: int) -> str:
    """``text`` cut to ``length`` characters with "…", like ``truncatechars`` on plain text.

    For the long lists (inbox, run list): ``truncatechars`` normalises and walks every character
    of every text, which cost a fifth of the inbox's time with fifty rows. Not ``is_safe``: a cut
    through HTML marked safe could leave half a tag, so the result is always escaped.
    """
    text = str(text)
    return text if len(text) <= length else text[: length - 1] + "…"


@register.filter
def person(user) -> str:
    """A user as pages name them: the full name, else the username; "—" for nobody.

    A filter rather than ``user.get_full_name|default:user.username``: a filter's argument that
    does not resolve (the ``completed_by`` of a task nobody completed) is an error, not "".
    """
    return display_name(user)
