"""GET /api/v1/metrics/kpis/ and /kpis/series/ (API.md "Reporting"): parse, select, render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.permissions import IsChannelOrStaff, request_channel

from .. import selectors
from ..filters import kpi_filter, series_interval
from ..selectors import INTERVALS
from .renderers import KpiCSVRenderer
from .serializers import KpiSerializer, KpiSeriesSerializer, kpi_data, series_data

_COMMON = [
    OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="First day of the period (UTC)."),
    OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="Day after the period (exclusive)."),
    OpenApiParameter(
        "channel", str, description="A channel's code (staff). A channel key always sees its own channel only."
    ),
    OpenApiParameter("location", str, description="A location's code: orders with a shipment from it."),
    OpenApiParameter("customer_kind", str, enum=["consumer", "business"], description="B2C or B2B customers."),
    OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the same figures as a spreadsheet."),
]


def _document_errors(view):
    """The 400s ``metrics.filters`` raises, by parameter, for the OpenAPI schema."""
    for field, codes in (
        ("start", ["required", "invalid_date"]),
        ("end", ["required", "invalid_date", "invalid_range"]),
        ("channel", ["unknown_channel"]),
        ("location", ["unknown_location"]),
        ("customer_kind", ["invalid_choice"]),
    ):
        view = extend_validation_errors(codes, field_name=field)(view)
    return view


@_document_errors
class _KpiView(APIView):
    permission_classes = [IsChannelOrStaff]
    renderer_classes = [JSONRenderer, KpiCSVRenderer, BrowsableAPIRenderer]

    def kpi_filter(self):
        params = self.request.query_params
        channel = request_channel(self.request)
        return kpi_filter(
            start=params.get("start"),
            end=params.get("end"),
            channel=params.get("channel"),
            location=params.get("location"),
            customer_kind=params.get("customer_kind"),
            channel_id=channel.pk if channel is not None else None,  # a channel key: forced, silently
        )

    def handle_exception(self, exc):
        # Errors keep API.md's JSON envelope even when the figures were asked for as CSV.
        if (
            getattr(self.request, "accepted_renderer", None) is not None
            and self.request.accepted_renderer.format == "csv"
        ):
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def csv_filename(self, response: Response, name: str, f) -> Response:
        if self.request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="{name}_{f.start:%Y-%m-%d}_{f.end:%Y-%m-%d}.csv"'
        return response


@_document_errors
class KpiView(_KpiView):
    @extend_schema(
        operation_id="metrics_kpis",
        parameters=_COMMON,
        responses={200: OpenApiResponse(KpiSerializer, description="The KPIs of the orders placed in [start, end).")},
        description='The KPIs of API.md "Reporting" for the orders placed in [start, end) (UTC), not cancelled. '
        "Percentages have 2 decimals, hours 1; a figure with nothing to divide by is null. "
        "?format=csv answers the same figures as one CSV row.",
    )
    def get(self, request):
        f = self.kpi_filter()
        return self.csv_filename(Response(kpi_data(selectors.kpis(f))), "kpis", f)


@_document_errors
@extend_validation_errors(["invalid_choice", "too_many_intervals"], field_name="interval")
class KpiSeriesView(_KpiView):
    @extend_schema(
        operation_id="metrics_kpis_series",
        parameters=[
            *_COMMON,
            OpenApiParameter(
                "interval", str, enum=list(INTERVALS), description="day (default), week (from Monday) or month."
            ),
        ],
        responses={200: KpiSeriesSerializer},
        description="The same figures per interval, oldest first, empty intervals included (for charts). Each "
        "point covers its interval clipped to [start, end). ?format=csv: one row per interval.",
    )
    def get(self, request):
        f = self.kpi_filter()
        interval = series_interval(f, request.query_params.get("interval"))
        data = series_data(interval=interval, start=f.start, end=f.end, points=selectors.kpi_series(f, interval))
        return self.csv_filename(Response(data), f"kpis_{interval}", f)
