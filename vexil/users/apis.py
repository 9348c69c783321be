"""The auth endpoints under ``/api/v1/auth/`` (Flagsmith's djoser-shaped paths)."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vexil.common.fields import ID_MAX
from vexil.common.models import OutboundEmail
from vexil.common.pagination import PageNumberPagination
from vexil.permissions.drf import request_principal
from vexil.permissions.selectors import is_organisation_admin
from vexil.users import passwords, services, two_factor
from vexil.users.models import User
from vexil.users.permissions import PasswordLoginAllowed, user_create_permissions
from vexil.users.selectors import organisation_emails
from vexil.users.serializers import (
    DeleteAccountInputSerializer,
    LoginInputSerializer,
    OutboundEmailSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RegisterInputSerializer,
    SetPasswordInputSerializer,
    SignUpConfirmInputSerializer,
    SignUpOutputSerializer,
    TokenOutputSerializer,
    TwoFactorCodeInputSerializer,
    TwoFactorLoginInputSerializer,
    UserSerializer,
)
from vexil.users.throttles import AuthRateThrottle


class LockedOut(exceptions.APIException):
    status_code = 429
    default_detail = "Account locked: too many login attempts. Please try again later."
    default_code = "locked_out"


class LoginDelayed(exceptions.Throttled):
    """429 with ``Retry-After``: the account's growing delay after failed logins."""

    default_code = "login_delayed"

    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.detail = exceptions.ErrorDetail(
            f"Too many failed logins for this account. Try again in {math.ceil(wait)} seconds.",
            code=self.default_code,
        )


class IsUser(BasePermission):
    """A signed-in person (these endpoints mean nothing to a master API key)."""

    message = "This endpoint needs a user's token, not an API key."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, User)


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class RegisterView(APIView):
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny(), *user_create_permissions()]

    @extend_schema(
        request=RegisterInputSerializer,
        responses={201: SignUpOutputSerializer},
        description="The same answer whether or not the address has an account: "
        '`{"detail": "Check your e-mail to finish signing up."}`; the e-mailed link (or '
        "`auth/users/confirm/` with its token) makes the account. Only with the hash of an "
        'e-mail invite for this address is the account made at once: `{"key"}`.',
    )
    def post(self, request: Request) -> Response:
        data = _valid(RegisterInputSerializer, request)
        try:
            token = services.user_register(**data, request=request._request)
        except services.SignUpPreventedError as refused:
            raise exceptions.PermissionDenied(refused.message) from None
        except services.RegistrationClosedError:
            raise exceptions.PermissionDenied("Registration is by invitation only.") from None
        body = {"detail": services.SIGN_UP_CHECK_EMAIL} if token is None else {"key": token}
        return Response(body, status=status.HTTP_201_CREATED)


class SignUpConfirmView(APIView):
    """The e-mailed sign-up link's token for an API client: the account, and a first token."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(request=SignUpConfirmInputSerializer, responses={201: TokenOutputSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(SignUpConfirmInputSerializer, request)
        try:
            user, _ = services.user_sign_up_confirm(token=data["token"])
        except services.SignUpPreventedError as refused:
            raise exceptions.PermissionDenied(refused.message) from None
        return Response(
            {"key": services.auth_token_issue(user=user)}, status=status.HTTP_201_CREATED
        )


class LoginView(APIView):
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"
    authentication_classes = ()
    permission_classes = (AllowAny, PasswordLoginAllowed)

    @extend_schema(
        request=LoginInputSerializer,
        responses={200: TokenOutputSerializer},
        description='With two-factor on: `{"ephemeral_token", "method": "app"}` for '
        "`auth/login/code/` instead of a token.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(LoginInputSerializer, request)
        try:
            answer = services.user_login(request=request._request, **data)
        except services.LoginDelayedError as delayed:
            raise LoginDelayed(delayed.retry_after) from None
        except services.LockedOutError:
            raise LockedOut from None
        return Response(answer)


class LogoutView(APIView):
    permission_classes = (IsAuthenticated, IsUser)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            services.auth_token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = (IsAuthenticated, IsUser)

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(_user(request)).data)

    @extend_schema(request=UserSerializer, responses=UserSerializer)
    def patch(self, request: Request) -> Response:
        serializer = UserSerializer(_user(request), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=_user(request), **serializer.validated_data)
        return Response(UserSerializer(user).data)

    @extend_schema(request=UserSerializer, responses=UserSerializer)
    def put(self, request: Request) -> Response:
        return self.patch(request)

    @extend_schema(request=DeleteAccountInputSerializer, responses={204: None})
    def delete(self, request: Request) -> Response:
        data = _valid(DeleteAccountInputSerializer, request)
        services.user_delete(user=_user(request), current_password=data["current_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class SetPasswordView(APIView):
    permission_classes = (IsAuthenticated, IsUser)
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(request=SetPasswordInputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = _valid(SetPasswordInputSerializer, request)
        keep = request.auth if isinstance(request.auth, AuthToken) else None
        services.user_password_set(user=_user(request), keep=keep, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valid(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class PasswordResetView(APIView):
    """djoser's ``reset_password``: 204 whether or not the address has an account."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetInputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = _valid(PasswordResetInputSerializer, request)
        passwords.password_reset_request(email=data["email"], request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetConfirmView(APIView):
    """djoser's ``reset_password_confirm``: set the password from the e-mailed uid and token."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(request=PasswordResetConfirmInputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = _valid(PasswordResetConfirmInputSerializer, request)
        passwords.password_reset_confirm(**data)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _two_factor_error(error: two_factor.TwoFactorError, status_code: int = 400) -> Response:
    """Flagsmith's ``{"error": ...}`` beside the house ``detail`` and ``code``."""
    body = {"detail": error.message, "code": error.code, "error": error.message}
    return Response(body, status=status_code)


class _TwoFactorView(APIView):
    permission_classes = (IsAuthenticated, IsUser)

    def run(self, action: Any, **kwargs: Any) -> Any:
        try:
            return action(user=_user(self.request), **kwargs)
        except two_factor.TwoFactorThrottledError as throttled:
            raise exceptions.Throttled(throttled.wait) from None


class TwoFactorActivateView(_TwoFactorView):
    @extend_schema(request=None, responses={200: None})
    def post(self, request: Request) -> Response:
        try:
            return Response(self.run(two_factor.totp_activate))
        except two_factor.TwoFactorError as error:
            return _two_factor_error(error)


class TwoFactorConfirmView(_TwoFactorView):
    @extend_schema(request=TwoFactorCodeInputSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        data = _valid(TwoFactorCodeInputSerializer, request)
        try:
            codes = self.run(two_factor.totp_confirm, code=data["code"])
        except two_factor.TwoFactorError as error:
            raise exceptions.ValidationError({"code": [error.message]}) from None
        return Response({"backup_codes": codes})


class TwoFactorDeactivateView(_TwoFactorView):
    @extend_schema(request=TwoFactorCodeInputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = _valid(TwoFactorCodeInputSerializer, request)
        try:
            self.run(two_factor.totp_deactivate, code=data["code"])
        except two_factor.TwoFactorError as error:
            return _two_factor_error(error)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BackupCodesRegenerateView(_TwoFactorView):
    @extend_schema(request=TwoFactorCodeInputSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        data = _valid(TwoFactorCodeInputSerializer, request)
        try:
            codes = self.run(two_factor.backup_codes_regenerate, code=data["code"])
        except two_factor.TwoFactorError as error:
            return _two_factor_error(error)
        return Response({"backup_codes": codes})


class ActiveMethodsView(APIView):
    permission_classes = (IsAuthenticated, IsUser)

    @extend_schema(responses={200: None})
    def get(self, request: Request) -> Response:
        if two_factor.two_factor_is_active(_user(request)):
            return Response([{"name": "app", "is_primary": True}])
        return Response([])


class LoginWithCodeView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(request=TwoFactorLoginInputSerializer, responses={200: TokenOutputSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(TwoFactorLoginInputSerializer, request)
        try:
            token = services.user_login_with_code(request=request._request, **data)
        except two_factor.TwoFactorThrottledError as throttled:
            raise exceptions.Throttled(throttled.wait) from None
        except two_factor.TwoFactorError as error:
            return _two_factor_error(error, status.HTTP_401_UNAUTHORIZED)
        return Response({"key": token})


class OrganisationEmailsView(generics.ListAPIView):
    """The organisation's e-mail outbox, for its administrators: what was sent, what is still
    queued, and what failed for good with its last error. Anyone else gets 404."""

    serializer_class = OutboundEmailSerializer
    pagination_class = PageNumberPagination
    queryset = OutboundEmail.objects.none()  # the schema's model; get_queryset answers

    def get_queryset(self) -> Any:
        organisation_id = int(self.kwargs["organisation_id"])
        if organisation_id > ID_MAX:  # names nothing, and the database cannot take it
            raise exceptions.NotFound
        if not is_organisation_admin(request_principal(self.request), organisation_id):
            raise exceptions.NotFound
        return organisation_emails(organisation_id=organisation_id)
