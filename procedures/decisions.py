"""What a decision (keputusan) step asks and where each answer leads, in the sheet's words.

A sheet may give the question (``pertanyaan``) and the words of its answers (``label_ya``,
``label_tidak``); without them a neutral question is made from the kegiatan and the answers are a
plain "Ya" / "Tidak". Each answer says where it leads: a step and its role ("langkah 8, Kasat Pol
PP") or the end of the run. An answer that ends the run or sends the work back to an earlier step
asks for confirmation on the page (procedures.views); this module only says which ones do.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from procedures.models import Step, Task


@dataclass(frozen=True)
class Answer:
    """One answer of a decision: its value, its words, where it leads and what it asks of the user."""

    decision: str
    words: str
    leads_to: str
    target_nomor: int | None
    ends: bool
    goes_back: bool

    @property
    def confirm(self) -> bool:
        """Whether the answer asks "are you sure?" first: it ends the run or sends the work back."""
        return self.ends or self.goes_back

    @property
    def button(self) -> str:
        """The button's text: the answer's words, and what it does when that needs saying."""
        if self.ends:
            return _("%(words)s (ends the run)") % {"words": self.words}
        if self.goes_back:
            return _("%(words)s (sends the work back to step %(nomor)s)") % {
                "words": self.words, "nomor": self.target_nomor}
        return self.words

    @property
    def confirm_button(self) -> str:
        if self.ends:
            return _("Yes, end the run")
        return _("Yes, send it back to step %(nomor)s") % {"nomor": self.target_nomor}

    @property
    def confirm_prompt(self) -> str:
        if self.ends:
            return _("“%(words)s” ends the run: no step follows. Answer so?") % {"words": self.words}
        return _("“%(words)s” sends the work back to %(target)s. Answer so?") % {
            "words": self.words, "target": self.leads_to}


@dataclass(frozen=True)
class Decision:
    question: str
    answers: tuple[Answer, ...]

    def answer(self, decision: str) -> Answer | None:
        return next((answer for answer in self.answers if answer.decision == decision), None)


def question(step: Step) -> str:
    """The sheet's question, else one made from the kegiatan."""
    if step.pertanyaan:
        return step.pertanyaan
    kegiatan = " ".join(step.kegiatan.split()).rstrip(".")
    if kegiatan.endswith("?"):
        return kegiatan
    return _("%(kegiatan)s: yes or no?") % {"kegiatan": kegiatan}


def step_place(step: Step) -> str:
    """Where an answer leads: "langkah 8, Kasat Pol PP"."""
    return _("step %(nomor)s, %(role)s") % {"nomor": step.nomor, "role": step.column.label}


def _answer(step: Step, decision: str, words: str, target: Step | None) -> Answer:
    if target is None:
        return Answer(decision, words, _("the run ends"), None, ends=True, goes_back=False)
    return Answer(decision, words, step_place(target), target.nomor, ends=False,
                  goes_back=target.nomor <= step.nomor)


def decision_of(step: Step) -> Decision | None:
    """The question and the two answers of a decision step (None for other steps).

    Reads ``step.ya_step.column`` and ``step.tidak_step.column``: select them with the step.
    """
    if not step.is_decision:
        return None
    return Decision(
        question=question(step),
        answers=(
            _answer(step, Task.Decision.YES, step.label_ya or _("Yes"), step.ya_step),
            _answer(step, Task.Decision.NO, step.label_tidak or _("No"), step.tidak_step),
        ),
    )


def needs_confirmation(step: Step, decision: str) -> bool:
    """Whether answering ``decision`` on ``step`` asks for confirmation first."""
    found = decision_of(step)
    answer = found.answer(decision) if found else None
    return bool(answer and answer.confirm)
