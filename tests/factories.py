"""factory_boy factories: the small cast that tests share."""

import factory
from django.contrib.auth import get_user_model

from procedures import models


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Office

    name = factory.Sequence(lambda n: f"Kantor Uji {n}")


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Position

    office = factory.SubFactory(OfficeFactory)
    name = factory.Sequence(lambda n: f"Jabatan {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    password = factory.django.Password("rahasia-uji-123")

    @factory.post_generation
    def office(user, create, office, **kwargs):
        """``UserFactory(office=office)``: a user of that office (their profile says so)."""
        if create and office is not None:
            models.Profile.objects.update_or_create(user=user, defaults={"office": office})
