"""Append-only records: the runs' events, the drafts' events and the monitoring sheets' events.

Written once, never changed or deleted: the model refuses it here (save of a saved row, delete,
and the queryset's bulk update and delete), and the database's triggers refuse it underneath
(migrations 0003, 0008; see procedures.history for the one logged way to remove old history).
"""

from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    """No bulk update or delete of audit records either."""

    def update(self, **kwargs):
        raise PermissionError("audit events cannot be changed")

    def delete(self):
        raise PermissionError("audit events cannot be deleted")


class AppendOnly(models.Model):
    """An audit record: saved once, then never changed or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events cannot be deleted")
