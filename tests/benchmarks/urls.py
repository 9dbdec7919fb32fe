"""The project's URLs plus the same-run baseline: a DRF endpoint that only validates an order."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.permissions import IsChannelOrStaff
from orders.api.serializers import OrderInputSerializer


class ValidateOnlyView(APIView):
    """Authenticates and validates the same payload as POST /api/v1/orders/, then stops."""

    permission_classes = [IsChannelOrStaff]

    def post(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"external_id": data.validated_data["external_id"]}, status=201)


urlpatterns = [
    path("bench/validate/", ValidateOnlyView.as_view()),
    path("", include("config.urls")),
]
