import django_filters

from inventory.api.datetimes import UtcIsoDateTimeFilter

from ..models import InboundOrder


class InboundOrderFilter(django_filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    status = django_filters.MultipleChoiceFilter(choices=InboundOrder.Status.choices)
    way_in = django_filters.ChoiceFilter(choices=InboundOrder.WayIn.choices)
    external_id = django_filters.CharFilter()
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = InboundOrder
        fields = []
