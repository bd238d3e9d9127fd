"""Demo users: one per position of every imported SOP, so that a new install can be tried at once."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from procedures.models import Position

DEMO_PASSWORD = "sopflow-demo"
ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class DemoUser:
    username: str
    position: str
    office: str


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split() if word[:1].isalnum()).lower()


def demo_username(position: Position, taken_elsewhere: bool) -> str:
    """``kasat-pol-pp``; ``kasi-kkbdpkt`` when another office has a position of the same name."""
    base = slugify(position.name)[:120] or f"jabatan-{position.pk}"
    return f"{base}-{_initials(position.office.name)}" if taken_elsewhere else base


@transaction.atomic
def demo_users_create() -> list[DemoUser]:
    """Create (or reset) one demo user per position used by an SOP, and an admin."""
    User = get_user_model()
    positions = list(
        Position.objects.filter(columns__isnull=False).distinct().select_related("office").order_by("office__name", "level", "name")
    )
    slugs = [slugify(position.name) for position in positions]
    created = []
    for position, slug in zip(positions, slugs):
        username = demo_username(position, slugs.count(slug) > 1)
        user, _new = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = position.name, "(demo)"
        user.email = f"{username}@demo.sopflow.invalid"
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        position.holders.add(user)
        created.append(DemoUser(username, position.name, position.office.name))
    admin, _new = User.objects.get_or_create(username=ADMIN_USERNAME)
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.first_name, admin.last_name = "Admin", "(demo)"
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    created.append(DemoUser(ADMIN_USERNAME, "Admin", "—"))
    return created
