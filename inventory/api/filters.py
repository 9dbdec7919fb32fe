import django_filters

from ..models import Location, Product, StockItem


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter()
    active = django_filters.BooleanFilter()
    barcode = django_filters.CharFilter()

    class Meta:
        model = Product
        fields = []


class LocationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Location.Kind.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Location
        fields = []


class StockFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    location = django_filters.CharFilter(field_name="location__code")

    class Meta:
        model = StockItem
        fields = []
