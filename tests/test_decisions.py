"""procedures.decisions: a decision's question and answers in the sheet's words, and where each leads."""

from django.utils import translation

from procedures.decisions import decision_of, needs_confirmation
from procedures.models import SopColumn, Step


def step(nomor: int, kegiatan: str = "Memeriksa konsep", simbol: str = "keputusan", role: str = "Kabid", **kwargs) -> Step:
    made = Step(nomor=nomor, kegiatan=kegiatan, simbol=simbol, **kwargs)
    made.column = SopColumn(label=role)
    return made


def test_the_sheets_words_are_used_with_where_each_answer_leads():
    decision = step(7, pertanyaan="Ada temuan pelanggaran Perda?", label_ya="Ada temuan",
                    label_tidak="Tidak ada temuan, patroli selesai", ya_step=step(8, role="Kasat Pol PP"),
                    tidak_step=None)
    with translation.override("en"):
        found = decision_of(decision)
        yes, no = found.answers
        assert found.question == "Ada temuan pelanggaran Perda?"
        assert (yes.words, yes.leads_to, yes.confirm, yes.button) == (
            "Ada temuan", "step 8, Kasat Pol PP", False, "Ada temuan")
        assert (no.leads_to, no.ends, no.confirm) == ("the run ends", True, True)
        assert no.button == "Tidak ada temuan, patroli selesai (ends the run)"
        assert no.confirm_button == "Yes, end the run"
    assert needs_confirmation(decision, "tidak") and not needs_confirmation(decision, "ya")


def test_without_the_sheets_words_a_neutral_question_and_plain_answers():
    decision = step(4, kegiatan="Memeriksa konsep SK Tim Kegiatan.", ya_step=step(5), tidak_step=step(3, role="Kasi"))
    with translation.override("id"):
        found = decision_of(decision)
        assert found.question == "Memeriksa konsep SK Tim Kegiatan: ya atau tidak?"
        assert [answer.words for answer in found.answers] == ["Ya", "Tidak"]
        assert found.answers[1].goes_back and found.answers[1].leads_to == "langkah 3, Kasi"
        assert found.answers[1].button == "Tidak (mengembalikan pekerjaan ke langkah 3)"


def test_a_kegiatan_that_asks_is_the_question_and_other_steps_ask_nothing():
    assert decision_of(step(4, kegiatan="Memeriksa konsep. Setuju?", ya_step=step(5), tidak_step=step(3))).question == (
        "Memeriksa konsep. Setuju?")
    assert decision_of(step(2, simbol="proses")) is None
