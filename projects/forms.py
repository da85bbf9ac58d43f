"""The form behind each transition button: every step is a signed, dated decision with at
least an opinion (DESIGN.md §3). Areas register their forms with @transition_form."""

from django import forms

# transition name -> form class; filled below and by the area modules.
TRANSITION_FORMS: dict[str, type["TransitionForm"]] = {}


def transition_form(*names: str):
    """Class decorator: use this form for the named transitions."""

    def register(cls):
        for name in names:
            TRANSITION_FORMS[name] = cls
        return cls

    return register


class TransitionForm(forms.Form):
    """Base: the opinion, and the state the user saw (a stale or doubled post is refused)."""

    opinion_required = True
    opinion_label = "意见"

    expected_state = forms.CharField(widget=forms.HiddenInput)
    opinion = forms.CharField(label="意见", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, project=None, actor=None, transition=None, **kwargs):
        self.project = project
        self.actor = actor
        self.transition = transition
        initial = {
            "expected_state": project.state if project is not None else "",
            **kwargs.pop("initial", {}),
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["opinion"].required = self.opinion_required
        self.fields["opinion"].label = self.opinion_label

    def decision(self) -> dict:
        """Keyword arguments for services.apply_transition (besides actor)."""
        return dict(self.cleaned_data)


def form_for(name: str) -> type[TransitionForm]:
    return TRANSITION_FORMS.get(name, TransitionForm)
