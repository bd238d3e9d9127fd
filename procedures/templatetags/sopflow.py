"""Template filters of sopflow."""

from django import template
from django.utils.safestring import SafeData, mark_safe

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


@register.filter(is_safe=True)
def sentence(text) -> str:
    """A message shown on its own as a sentence: a capital first letter and a closing full stop.

    The engine's refusals are fragments ("this task was already completed by …") so that other
    messages can quote them; alone in an alert they read as sentences. Text that starts with a
    tag or ends with a tag is left as it is (only plain text is touched), and what was marked
    safe stays so.
    """
    value = str(text)
    stripped = value.rstrip()
    if not stripped or stripped.startswith("<") or stripped.endswith(">"):
        return text
    result = stripped[0].upper() + stripped[1:] if stripped[0].islower() else stripped
    if result[-1] not in ".!?…:":
        result += "."
    return mark_safe(result) if isinstance(text, SafeData) else result
