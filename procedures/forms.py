"""Forms of the browser app. They collect input; the engine decides what it means."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from procedures.models import SopRevision, Task


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class TaskWorkForm(forms.Form):
    """Complete a step, or answer a decision: ticks, output, files, note (and Ya/Tidak)."""

    ticked = forms.MultipleChoiceField(
        label=_("Required inputs (kelengkapan)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Task.Decision.choices, required=False, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason (required for Tidak)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    output_text = forms.CharField(label=_("Output"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    files = MultipleFileField(label=_("Output files"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["ticked"].choices = [(str(item.pk), item.text) for item in task.step.kelengkapan.all()]
        if not self.fields["ticked"].choices:
            del self.fields["ticked"]
        if task.step.is_decision:
            self.fields["decision"].required = True
        else:
            del self.fields["decision"]
            del self.fields["reason"]
        if task.step.output:
            # Escaped here: crispy-forms renders help texts as HTML (``|safe``), and the output
            # comes from an SOP file.
            self.fields["output_text"].help_text = escape(_("Expected: %(output)s") % {"output": task.step.output})


class StartRunForm(forms.Form):
    revision = forms.ModelChoiceField(label=_("SOP"), queryset=SopRevision.objects.none(), empty_label=None)
    perihal = forms.CharField(label=_("Subject (perihal)"), max_length=255)

    def __init__(self, *args, revisions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revision"].queryset = SopRevision.objects.filter(pk__in=[r.pk for r in revisions]).select_related("sop__office")
        self.fields["revision"].label_from_instance = lambda r: f"{r.nama} — {r.sop.office.name}"


class CancelRunForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), widget=forms.Textarea(attrs={"rows": 2}))


class SignInForm(AuthenticationForm):
    """Django's sign-in form with a plainer wrong-password message."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password. Mind capital letters: both fields are case-sensitive."),
    }
