import django_filters

from inventory.api.datetimes import UtcIsoDateTimeFilter

from ..models import Resolution, Return, ReturnStatus


class ReturnFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReturnStatus.choices)
    order = django_filters.NumberFilter(field_name="order_id")
    channel = django_filters.CharFilter(field_name="order__channel__code", help_text="Staff: the channel's code.")
    resolution = django_filters.ChoiceFilter(choices=Resolution.choices)
    requested_after = UtcIsoDateTimeFilter(field_name="requested_at", lookup_expr="gte")
    requested_before = UtcIsoDateTimeFilter(field_name="requested_at", lookup_expr="lt")

    class Meta:
        model = Return
        fields = []
