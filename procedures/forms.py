"""Forms of the browser app. They collect input; the engine decides what it means."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.html import escape
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from procedures.models import SopRevision, Step, Task
from procedures.uploads import allowed_extensions, megabytes


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
        limit = settings.TASK_UPLOAD_MAX_BYTES
        types = allowed_extensions()
        self.fields["files"].help_text = escape(_("At most %(limit)s MB a file; types: %(types)s.") % {
            "limit": megabytes(limit), "types": ", ".join(types)})
        # Checked in the browser before anything is sent (static/js/sopflow.js); the engine checks again.
        self.fields["files"].widget.attrs.update({
            "accept": ",".join(f".{ext}" for ext in types),
            "data-max-bytes": str(limit),
            "data-types": ",".join(types),
            "data-too-large": _("“{name}” is {size} MB; a file may be at most %(limit)s MB.") % {"limit": megabytes(limit)},
            "data-wrong-type": _("“{name}”: files of this type are not accepted (allowed: %(types)s).") % {
                "types": ", ".join(types)},
        })
        if task.step.output:
            # Escaped here: crispy-forms renders help texts as HTML (``|safe``), and the output
            # comes from an SOP file.
            self.fields["output_text"].help_text = escape(_("Expected: %(output)s") % {"output": task.step.output})


class SelectWithDisabled(forms.Select):
    """A select whose options named in ``disabled`` (value → reason) show but cannot be chosen."""

    disabled: dict = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        key = getattr(value, "value", value)
        if key in self.disabled:
            option["attrs"]["disabled"] = True
            option["label"] = _("%(label)s (cannot start: nobody holds %(position)s)") % {
                "label": label, "position": self.disabled[key]}
        return option


class StartRunForm(forms.Form):
    revision = forms.ModelChoiceField(label=_("SOP"), queryset=SopRevision.objects.none(), empty_label=None,
                                      widget=SelectWithDisabled)
    step = forms.ModelChoiceField(
        label=_("Activity"), queryset=Step.objects.none(), required=False,
        help_text=_("Only for an SOP of independent activities: a run does one of them."),
    )
    perihal = forms.CharField(label=_("Subject (perihal)"), max_length=255)

    def __init__(self, *args, revisions, blocked: dict | None = None, activities=(), **kwargs):
        """``blocked``: revision id → name of the first step's position that nobody holds (shown disabled);
        ``activities``: the steps that may be chosen of the SOPs of independent activities."""
        super().__init__(*args, **kwargs)
        if activities:
            self.fields["step"].queryset = Step.objects.filter(pk__in=[step.pk for step in activities]).select_related(
                "revision").order_by("revision__nama", "nomor")
            self.fields["step"].label_from_instance = lambda step: (
                f"{step.revision.nama} — {step.label or step.nomor}. {Truncator(step.kegiatan).chars(90)}")
        else:
            del self.fields["step"]
        self.fields["revision"].queryset = SopRevision.objects.filter(pk__in=[r.pk for r in revisions]).select_related("sop__office")
        self.fields["revision"].label_from_instance = lambda r: f"{r.nama} — {r.sop.office.name}"
        self.fields["revision"].widget.disabled = blocked or {}
        startable = [r.pk for r in revisions if r.pk not in (blocked or {})]
        if blocked and startable and "revision" not in self.initial:
            self.initial["revision"] = startable[0]  # not a disabled one

    def clean(self):
        cleaned = super().clean()
        revision, step = cleaned.get("revision"), cleaned.get("step")
        if revision is not None and "step" in self.fields:
            if revision.kegiatan_terpisah and step is None:
                self.add_error("step", _("Choose the activity this run does."))
            elif step is not None and step.revision_id != revision.pk:
                self.add_error("step", _("Choose an activity of the SOP chosen."))
        return cleaned


class ReturnForm(forms.Form):
    """"Kembalikan": why the work goes back to the step before."""

    reason = forms.CharField(label=_("Why does the work go back?"), widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("Say why the work goes back.")})


class CancelRunForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), widget=forms.Textarea(attrs={"rows": 2}))


class SignInForm(AuthenticationForm):
    """Django's sign-in form with a plainer wrong-password message."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password. Mind capital letters: both fields are case-sensitive."),
    }
