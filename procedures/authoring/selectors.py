"""Reads for the authoring pages: the drafts a user may see, each list in a fixed number of queries."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from procedures.authoring import drafts
from procedures.authoring.models import SopDraft
from procedures.models import Position

DRAFT_RELATED = ("office", "author", "updated_by", "signer_position__office", "submitted_by", "decided_by", "sop",
                 "revision")


def office_drafts(user, *, limit: int = 200) -> list[SopDraft]:
    """The drafts of the offices whose SOPs ``user`` writes, newest first (one query)."""
    ids = drafts.editor_office_ids(user)
    found = SopDraft.objects.select_related(*DRAFT_RELATED)
    if ids is not None:
        found = found.filter(office_id__in=ids)
    return list(found.order_by("-updated_at", "-pk")[:limit])


def drafts_to_sign(user, standing, *, limit: int = 100) -> list[SopDraft]:
    """Submitted drafts waiting for a position ``user`` holds or acts for today (one query)."""
    if not standing.position_ids:
        return []
    return list(
        SopDraft.objects.filter(status=SopDraft.Status.SUBMITTED, signer_position_id__in=standing.position_ids)
        .select_related(*DRAFT_RELATED).order_by("submitted_at", "pk")[:limit]
    )


def visible_draft(user, pk: int) -> SopDraft:
    """The draft, if ``user`` may see it: 404 when there is none, 403 when it is not theirs to see."""
    draft = SopDraft.objects.select_related(*DRAFT_RELATED).filter(pk=pk).first()
    if draft is None:
        raise Http404
    if not drafts.may_view(draft, user):
        raise PermissionDenied
    return draft


def signer_positions(draft: SopDraft) -> list[Position]:
    """The positions of the draft's office that may be chosen to approve it."""
    return list(Position.objects.filter(office_id=draft.office_id).order_by("level", "name"))
