import django_filters

from ..models import Shipment, ShipmentStatus


class ShipmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ShipmentStatus.choices)
    location = django_filters.CharFilter(field_name="location__code")
    order = django_filters.NumberFilter(field_name="order_id")
    fulfillment = django_filters.CharFilter()
    pick_list = django_filters.NumberFilter(field_name="pick_list_id")

    class Meta:
        model = Shipment
        fields = []
