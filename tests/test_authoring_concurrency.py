"""Two signers pressing Sahkan on one draft at once: one revision, one approval event, and the
other gets a Conflict. Real threads with their own connections (see tests/test_engine_concurrency)."""

import pytest
from django.db import connection

from procedures.authoring import drafts
from procedures.authoring.models import DraftEvent, SopDraft
from procedures.engine import Conflict
from procedures.models import Office, Position, SopRevision
from tests.engine_fixtures import SATPOL, Cast, build_cast, english  # noqa: F401 (fixtures)
from tests.factories import UserFactory
from tests.test_authoring_drafts import KASAT, editor_of, small_sop
from tests.test_engine_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cast(settings, english) -> Cast:
    assert not (connection.vendor == "sqlite" and connection.is_in_memory_db()), "threads need a database file"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_cast()


def test_two_signers_approve_at_once_and_one_revision_is_made(cast):
    office = Office.objects.get(name=SATPOL)
    editor = editor_of(office)
    draft = drafts.draft_submit(draft=drafts.draft_create(office=office, user=editor, data=small_sop()), user=editor)
    second = UserFactory(username="kasat-kedua", office=office)
    Position.objects.get(office=office, name=KASAT).holders.add(second)
    signers = [cast.user(KASAT), second]

    outcomes = race(lambda user: drafts.draft_approve(draft=SopDraft.objects.get(pk=draft.pk), user=user), signers)

    won = [outcome for outcome in outcomes.values() if isinstance(outcome, SopDraft)]
    lost = [outcome for outcome in outcomes.values() if not isinstance(outcome, SopDraft)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], Conflict), outcomes
    assert SopRevision.objects.filter(sop__kode="satpolpp-apel-pagi").count() == 1
    assert DraftEvent.objects.filter(draft_id=draft.pk, transition="approve").count() == 1
