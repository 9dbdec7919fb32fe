"""A date-time filter every list endpoint shares: any ISO 8601 offset in, UTC out.

Python accepts offsets up to +-24 h, PostgreSQL only up to +-15:59, so an
instant is compared in UTC; one too far from the epoch to be written in UTC
is a ``400`` on its parameter, not a database error.
"""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a date and time between years 1 and 9999 in UTC.", code="invalid")


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
