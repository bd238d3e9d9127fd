"""Template tags of the run's flow: decisions' questions and answers, send-backs ({% load flow %})."""

from django import template

from procedures import decisions

register = template.Library()


@register.simple_tag
def decision_of(step):
    """``{% decision_of task.step as decision %}``: its question and answers, or None."""
    return decisions.decision_of(step)
