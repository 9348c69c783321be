"""A URL conf of deliberately failing and sample views, to test the API conventions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


class Private(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({})


class NameSerializer(serializers.Serializer):
    name = serializers.CharField()


class Validate(APIView):
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        NameSerializer(data=request.data).is_valid(raise_exception=True)
        return Response({})


class NumberSerializer(serializers.Serializer):
    n = serializers.IntegerField()


class Numbers(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = NumberSerializer
    filter_backends = []

    def get_queryset(self):
        return [{"n": n} for n in range(250)]


urlpatterns = [
    path("boom/", boom),
    path("private/", Private.as_view()),
    path("validate/", Validate.as_view()),
    path("numbers/", Numbers.as_view()),
    path("", include("vexil.urls")),
]

handler404 = "vexil.common.errors.page_not_found"
handler500 = "vexil.common.errors.server_error"
