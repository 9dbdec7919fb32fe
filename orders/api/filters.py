import django_filters

from inventory.api.datetimes import UtcIsoDateTimeFilter

from ..models import Order, OrderStatus
from ..selectors import orders_with_sku


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    external_id = django_filters.CharFilter()
    channel = django_filters.CharFilter(field_name="channel__code", help_text="Staff only.")
    placed_after = UtcIsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = UtcIsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    updated_after = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    sku = django_filters.CharFilter(method="filter_sku")
    customer_email = django_filters.CharFilter(field_name="customer__email", lookup_expr="iexact")
    at_risk = django_filters.BooleanFilter(
        method="filter_at_risk", help_text="Promise within a day and not shipped, or past and not delivered."
    )

    class Meta:
        model = Order
        fields = []

    def filter_sku(self, queryset, name, value):
        return orders_with_sku(queryset, value)

    def filter_at_risk(self, queryset, name, value):
        from ..promises import at_risk_q

        return queryset.filter(at_risk_q()) if value else queryset.exclude(at_risk_q())
