"""Invites over the management API: Flagsmith's routes and shapes, and Vexil's stricter rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.auth.sign_up import CHECK_EMAIL, sign_up_and_confirm
from tests.invites.conftest import PASSWORD, client_of
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.common.models import OutboundEmail
from vexil.invites import services
from vexil.invites.models import Invite, InviteLink, hash_digest_of
from vexil.invites.views import InviteThrottle
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.organisations.services import organisation_member_add, user_group_create
from vexil.users.models import User
from vexil.users.throttles import AuthRateThrottle

pytestmark = pytest.mark.django_db


def _invite(organisation: Organisation, email: str = "bob@example.com", **kwargs: Any) -> Invite:
    [invite] = services.invites_create(
        organisation=organisation,
        invites=[services.InviteRequest(email, **kwargs)],
        invited_by=None,
        actor=Actor(),
    )
    return invite


def _link(organisation: Organisation, **kwargs: Any) -> InviteLink:
    return services.invite_link_create(organisation=organisation, actor=Actor(), **kwargs)


def test_bulk_invite__invites_and_emails__201_flagsmith_shape_and_outbox(
    admin_client: APIClient, organisation: Organisation, organisation_admin: User
) -> None:
    # Given
    group = user_group_create(organisation=organisation, name="Devs", actor=Actor())
    # When
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invite/",
        {
            "invites": [
                {"email": "Bob@Example.com", "role": "ADMIN", "permission_groups": [group.pk]}
            ],
            "emails": ["carol@example.com"],
            "frontend_base_url": "https://ignored.example/email-invite/",
        },
        format="json",
    )
    # Then
    assert response.status_code == 201
    body = response.json()
    assert [(row["email"], row["role"], row["permission_groups"]) for row in body] == [
        ("bob@example.com", "ADMIN", [group.pk]),
        ("carol@example.com", "USER", []),
    ]
    assert body[0]["invited_by"] == {
        "id": organisation_admin.pk,
        "email": "owner@example.com",
        "first_name": "",
        "last_name": "",
    }
    assert set(body[0]) == {
        "id",
        "email",
        "role",
        "date_created",
        "expires_at",
        "invited_by",
        "permission_groups",
    }
    assert "hash" not in body[0]
    emails = OutboundEmail.objects.filter(kind="invite").order_by("recipient")
    assert [(e.recipient, e.organisation_id) for e in emails] == [
        ("bob@example.com", organisation.pk),
        ("carol@example.com", organisation.pk),
    ]
    bob = Invite.objects.get(email="bob@example.com")
    assert f"/invite/{bob.hash}" in emails[0].body_text
    assert AuditLog.objects.filter(resource_type="invite", organisation=organisation).count() == 2


def test_invite__expiry__default_seven_days(organisation: Organisation) -> None:
    invite = _invite(organisation)
    assert invite.expires_at is not None
    assert abs(invite.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_invite_hash__unguessable__not_stored_and_long(organisation: Organisation) -> None:
    invite = _invite(organisation)
    assert len(invite.hash) == 43
    assert invite.hash_digest == hash_digest_of(invite.hash)
    stored = Invite.objects.filter(pk=invite.pk).values().get()
    assert invite.hash not in {str(value) for value in stored.values()}
    assert _invite(organisation, "other@example.com").hash != invite.hash


def test_bulk_invite__pending_or_member_in_emails__400_flagsmith_flat_list_nothing_created(
    admin_client: APIClient, organisation: Organisation
) -> None:
    _invite(organisation, "bob@example.com")
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invite/",
        {"emails": ["carol@example.com", "bob@example.com", "owner@example.com"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "emails": [
            "Invite for email bob@example.com already exists",
            "owner@example.com is already a member of the organisation.",
        ],
    }
    assert list(Invite.objects.values_list("email", flat=True)) == ["bob@example.com"]


def test_bulk_invite__problems_in_invites__400_one_object_per_entry_as_flagsmith(
    admin_client: APIClient, organisation: Organisation, other_project: Any
) -> None:
    # Given: a pending invite, and a group of another organisation
    _invite(organisation, "bob@example.com")
    foreign = user_group_create(
        organisation=other_project.organisation, name="Theirs", actor=Actor()
    )
    # When
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invite/",
        {
            "invites": [
                {"email": "carol@example.com"},
                {"email": "Bob@example.com", "role": "ADMIN"},
                {"email": "dan@example.com", "permission_groups": [foreign.pk]},
                {"email": "carol@example.com"},
            ],
            "emails": ["owner@example.com", "erin@example.com"],
        },
        format="json",
    )
    # Then: DRF's (and Flagsmith's) errors of a list, {} for a good entry
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "invites": [
            {},
            {"email": ["Invite for email bob@example.com already exists"]},
            {"permission_groups": [f'Invalid pk "{foreign.pk}" - object does not exist.']},
            {"email": ["Email carol@example.com appears more than once."]},
        ],
        "emails": ["owner@example.com is already a member of the organisation."],
    }
    assert list(Invite.objects.values_list("email", flat=True)) == ["bob@example.com"]


def test_bulk_invite__other_organisations_group__400_nested_under_invites(
    admin_client: APIClient, organisation: Organisation, other_project: Any
) -> None:
    foreign = user_group_create(
        organisation=other_project.organisation, name="Theirs", actor=Actor()
    )
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invite/",
        {"invites": [{"email": "x@example.com", "permission_groups": [foreign.pk]}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["invites"] == [
        {"permission_groups": [f'Invalid pk "{foreign.pk}" - object does not exist.']}
    ]
    assert not Invite.objects.exists()


def test_invite__single_create_refused__field_errors_at_the_top(
    admin_client: APIClient, organisation: Organisation, other_project: Any
) -> None:
    _invite(organisation, "bob@example.com")
    foreign = user_group_create(
        organisation=other_project.organisation, name="Theirs", actor=Actor()
    )
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invites/",
        {"email": "bob@example.com", "permission_groups": [foreign.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "email": ["Invite for email bob@example.com already exists"],
        "permission_groups": [f'Invalid pk "{foreign.pk}" - object does not exist.'],
    }
    assert Invite.objects.count() == 1


def test_invites__list_retrieve_delete__flagsmith_routes(
    admin_client: APIClient, organisation: Organisation
) -> None:
    invite = _invite(organisation)
    base = f"/api/v1/organisations/{organisation.pk}/invites/"
    listed = admin_client.get(base).json()
    assert listed["count"] == 1
    assert listed["results"][0]["email"] == "bob@example.com"
    assert admin_client.get(f"{base}{invite.pk}/").json()["id"] == invite.pk
    assert admin_client.patch(f"{base}{invite.pk}/", {}).status_code == 405
    assert admin_client.delete(f"{base}{invite.pk}/").status_code == 204
    assert not Invite.objects.exists()
    assert AuditLog.objects.filter(log__contains="revoked").count() == 1


def test_invite__single_create__201(admin_client: APIClient, organisation: Organisation) -> None:
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invites/",
        {"email": "dan@example.com", "role": "ADMIN"},
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["email"], response.json()["role"]) == ("dan@example.com", "ADMIN")


def test_invite__resend__same_link_sent_again_and_expiry_renewed(
    admin_client: APIClient, organisation: Organisation
) -> None:
    invite = _invite(organisation)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invites/{invite.pk}/resend/"
    )
    assert response.status_code == 200
    sent = OutboundEmail.objects.filter(kind="invite").order_by("id")
    assert sent.count() == 2
    assert f"/invite/{invite.hash}" in sent.last().body_text  # type: ignore[union-attr]
    invite.refresh_from_db()
    assert invite.expires_at is not None
    assert invite.expires_at > timezone.now() + timedelta(days=6)


def test_invite__seat_limit__every_path_refuses(
    admin_client: APIClient, organisation: Organisation, settings: Any, bob: User
) -> None:
    # Given a limit of two seats: the admin and one pending invite
    settings.MAX_SEATS_PER_ORGANISATION = 2
    invite = _invite(organisation, "bob@example.com")
    link = _link(organisation)
    carol = User.objects.create_user(email="carol@example.com", password=PASSWORD)
    # When / Then: the single and the bulk path refuse a third
    for path, body in (
        ("invites/", {"email": "x@example.com"}),
        ("invite/", {"emails": ["x@example.com"]}),
    ):
        response = admin_client.post(
            f"/api/v1/organisations/{organisation.pk}/{path}", body, format="json"
        )
        assert response.status_code == 400, path
        assert response.json()["code"] == "no_free_seat"
    # a link is refused, the invitee holding the seat joins
    assert client_of(carol).post(f"/api/v1/users/join/link/{link.hash}/").status_code == 400
    assert client_of(bob).post(f"/api/v1/users/join/{invite.hash}/").status_code == 200
    assert OrganisationMembership.objects.filter(organisation=organisation).count() == 2


def test_join__email_invite__role_groups_and_single_use(
    organisation: Organisation, bob: User
) -> None:
    # Given
    chosen = user_group_create(organisation=organisation, name="Devs", actor=Actor())
    default = user_group_create(
        organisation=organisation, name="Everyone", is_default=True, actor=Actor()
    )
    invite = _invite(
        organisation, "BOB@example.com", role="ADMIN", permission_group_ids=[chosen.pk]
    )
    client = client_of(bob)
    # When
    response = client.post(f"/api/v1/users/join/{invite.hash}/")
    # Then
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == (organisation.pk, "ADMIN")
    membership = OrganisationMembership.objects.get(organisation=organisation, user=bob)
    assert membership.role == "ADMIN"
    assert set(bob.user_groups.all()) == {chosen, default}
    assert not Invite.objects.exists()
    assert AuditLog.objects.filter(resource_type="invite", log__contains="accepted").exists()
    # and the same hash again is gone
    again = client.post(f"/api/v1/users/join/{invite.hash}/")
    assert again.status_code == 404
    assert again.json() == {"detail": "No invite matches the given query.", "code": "not_found"}


def test_join__other_address__400_and_invite_kept(organisation: Organisation, bob: User) -> None:
    invite = _invite(organisation, "carol@example.com")
    response = client_of(bob).post(f"/api/v1/users/join/{invite.hash}/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Registered email does not match invited email",
        "code": "email_mismatch",
    }
    assert Invite.objects.filter(pk=invite.pk).exists()
    assert not OrganisationMembership.objects.filter(user=bob).exists()


def test_join__expired_invite__400(organisation: Organisation, bob: User) -> None:
    invite = _invite(organisation)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_of(bob).post(f"/api/v1/users/join/{invite.hash}/")
    assert response.status_code == 400
    assert response.json()["detail"] == "Invite has expired"
    assert not OrganisationMembership.objects.filter(user=bob).exists()


@pytest.mark.parametrize("kind", ["email", "link"])
def test_join__already_member__400_not_500(
    organisation: Organisation, bob: User, kind: str
) -> None:
    organisation_member_add(organisation=organisation, user=bob, role="USER", actor=Actor())  # type: ignore[arg-type]
    if kind == "email":
        path = f"/api/v1/users/join/{_invite_ignoring_membership(organisation).hash}/"
    else:
        path = f"/api/v1/users/join/link/{_link(organisation).hash}/"
    response = client_of(bob).post(path)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "You are already a member of this organisation.",
        "code": "already_member",
    }


def _invite_ignoring_membership(organisation: Organisation) -> Invite:
    invite = Invite(organisation=organisation, email="bob@example.com")
    invite.set_hash_digest()
    invite.save()
    return invite


@pytest.mark.parametrize(
    ("value", "status"),
    [("nope", 404), ("x" * 43, 404), ("x" * 5000, 404), ("..%2F..%2F", 404), ("%00", 400)],
)
def test_join__unknown_hash__4xx(bob: User, value: str, status: int) -> None:
    for path in (f"/api/v1/users/join/{value}/", f"/api/v1/users/join/link/{value}/"):
        assert client_of(bob).post(path).status_code == status
    assert not OrganisationMembership.objects.filter(user=bob).exists()


def test_join__anonymous__401(organisation: Organisation) -> None:
    invite = _invite(organisation)
    assert APIClient().post(f"/api/v1/users/join/{invite.hash}/").status_code == 401
    assert Invite.objects.filter(pk=invite.pk).exists()


def test_invite_links__create_list_delete__flagsmith_shape(
    admin_client: APIClient, organisation: Organisation
) -> None:
    base = f"/api/v1/organisations/{organisation.pk}/invite-links/"
    expires = (timezone.now() + timedelta(days=2)).isoformat()
    created = admin_client.post(base, {"role": "ADMIN", "expires_at": expires}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "hash", "date_created", "role", "expires_at"}
    assert body["role"] == "ADMIN"
    listed = admin_client.get(base).json()
    assert [row["hash"] for row in listed] == [body["hash"]]
    assert admin_client.delete(f"{base}{body['id']}/").status_code == 204
    assert admin_client.get(base).json() == []


def test_invite_link__past_expiry__400(admin_client: APIClient, organisation: Organisation) -> None:
    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invite-links/",
        {"expires_at": "2001-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "expires_at" in response.json()


def test_join__link__role_reusable_and_expiry(organisation: Organisation, bob: User) -> None:
    link = _link(organisation, role="ADMIN")
    default = user_group_create(
        organisation=organisation, name="Everyone", is_default=True, actor=Actor()
    )
    response = client_of(bob).post(f"/api/v1/users/join/link/{link.hash}/")
    assert response.status_code == 200
    assert response.json()["role"] == "ADMIN"
    assert list(bob.user_groups.all()) == [default]
    # the link stays for others, until it expires
    carol = User.objects.create_user(email="carol@example.com", password=PASSWORD)
    InviteLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    expired = client_of(carol).post(f"/api/v1/users/join/link/{link.hash}/")
    assert expired.status_code == 400
    assert expired.json()["detail"] == "Invite has expired"


def test_invite_links__disabled__create_400_join_403(
    admin_client: APIClient, organisation: Organisation, settings: Any, bob: User
) -> None:
    link = _link(organisation)
    settings.DISABLE_INVITE_LINKS = True
    created = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/invite-links/", {}, format="json"
    )
    assert created.status_code == 400
    assert created.json()["detail"] == "Invite links are disabled."
    joined = client_of(bob).post(f"/api/v1/users/join/link/{link.hash}/")
    assert joined.status_code == 403
    assert joined.json()["detail"] == "Invite links are disabled."


def test_invites__member_without_manage_users__403_and_outsider_404(
    organisation: Organisation, bob: User, other_admin: User
) -> None:
    organisation_member_add(organisation=organisation, user=bob, role="USER", actor=Actor())  # type: ignore[arg-type]
    for path in ("invites/", "invite-links/"):
        url = f"/api/v1/organisations/{organisation.pk}/{path}"
        assert client_of(bob).get(url).status_code == 403
        assert client_of(other_admin).get(url).status_code == 404
    posted = client_of(bob).post(
        f"/api/v1/organisations/{organisation.pk}/invite/", {"emails": ["x@example.com"]}
    )
    assert posted.status_code == 403
    assert not Invite.objects.exists()


REGISTER = "/api/v1/auth/users/"


def _register(**extra: Any) -> Any:
    body = {"email": "bob@example.com", "password": PASSWORD, **extra}
    return APIClient().post(REGISTER, body, format="json")


def test_register__invite_only_with_email_invite__201(
    organisation: Organisation, settings: Any
) -> None:
    settings.ALLOW_REGISTRATION_WITHOUT_INVITE = False
    invite = _invite(organisation)
    assert _register(sign_up_type="INVITE_EMAIL", invite_hash="wrong").status_code == 403
    response = _register(sign_up_type="INVITE_EMAIL", invite_hash=invite.hash)
    assert response.status_code == 201
    # Joining is its own step, as in Flagsmith
    client = APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['key']}")
    assert client.post(f"/api/v1/users/join/{invite.hash}/").json()["role"] == "USER"


def test_register__invite_only_other_address__403(
    organisation: Organisation, settings: Any
) -> None:
    settings.ALLOW_REGISTRATION_WITHOUT_INVITE = False
    invite = _invite(organisation, "carol@example.com")
    response = _register(sign_up_type="INVITE_EMAIL", invite_hash=invite.hash)
    assert response.status_code == 403
    assert response.json()["detail"] == "Registration is by invitation only."
    assert not User.objects.filter(email="bob@example.com").exists()


def test_register__invite_only_with_link__201_and_expired_link_403(
    organisation: Organisation, settings: Any
) -> None:
    settings.ALLOW_REGISTRATION_WITHOUT_INVITE = False
    link = _link(organisation)
    assert _register(sign_up_type="INVITE_LINK", invite_hash=link.hash).status_code == 201
    InviteLink.objects.update(expires_at=timezone.now() - timedelta(1))
    late = _register(email="carol@example.com", sign_up_type="INVITE_LINK", invite_hash=link.hash)
    assert late.status_code == 403


def test_register__prevent_signup__403_even_with_invite(
    organisation: Organisation, settings: Any
) -> None:
    settings.PREVENT_SIGNUP = True
    invite = _invite(organisation)
    response = _register(sign_up_type="INVITE_EMAIL", invite_hash=invite.hash)
    assert response.status_code == 403
    assert response.json()["detail"] == "Sign-up is disabled on this installation."
    assert not User.objects.filter(email="bob@example.com").exists()


def test_register__bad_sign_up_type__400(db: None) -> None:
    response = _register(sign_up_type="VIP")
    assert response.status_code == 400
    assert "sign_up_type" in response.json()


def test_invite__throttled_per_address__429(
    admin_client: APIClient, organisation: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(InviteThrottle, "THROTTLE_RATES", {"invite": "2/min"})
    statuses = [
        admin_client.post(
            f"/api/v1/organisations/{organisation.pk}/invites/",
            {"email": f"u{i}@example.com"},
            format="json",
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    assert Invite.objects.count() == 2


def test_join__guessing_hashes__throttled_per_address_even_for_a_valid_hash(
    organisation: Organisation, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a budget of three join attempts a minute
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    invite = _invite(organisation)
    client = client_of(bob)
    # When: three guesses (either route) spend it
    guesses = [
        client.post(f"/api/v1/users/join/{'x' * 43}/").status_code,
        client.post(f"/api/v1/users/join/link/{'y' * 43}/").status_code,
        client.post(f"/api/v1/users/join/{'z' * 43}/").status_code,
    ]
    refused = client.post(f"/api/v1/users/join/{invite.hash}/")
    # Then
    assert guesses == [404, 404, 404]
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert not OrganisationMembership.objects.filter(user=bob).exists()
    assert Invite.objects.filter(pk=invite.pk).exists()


def test_join__unknown_hashes_on_the_dashboard_page__spend_the_same_budget(
    organisation: Organisation, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    invite = _invite(organisation)
    browser = Client()
    # When: the accept page is asked for hashes that name nothing
    pages = [browser.get(f"/invite/{'q' * 43}").status_code for _ in range(2)]
    joined = client_of(bob).post(f"/api/v1/users/join/{invite.hash}/")
    # Then: the same client address may not join by the API for now
    assert pages == [404, 404]
    assert joined.status_code == 429
    assert not OrganisationMembership.objects.filter(user=bob).exists()


def test_invites_audit__every_step__one_entry_each_with_its_author(
    admin_client: APIClient, organisation: Organisation, organisation_admin: User, bob: User
) -> None:
    # Given
    base = f"/api/v1/organisations/{organisation.pk}"
    carol = User.objects.create_user(email="carol@example.com", password=PASSWORD)
    # When: an admin invites, resends, revokes, makes and deletes links; people join
    kept = admin_client.post(f"{base}/invites/", {"email": "bob@example.com"}, format="json")
    dropped = admin_client.post(f"{base}/invites/", {"email": "dan@example.com"}, format="json")
    admin_client.post(f"{base}/invites/{kept.json()['id']}/resend/")
    admin_client.delete(f"{base}/invites/{dropped.json()['id']}/")
    link = admin_client.post(f"{base}/invite-links/", {"role": "USER"}, format="json").json()
    client_of(carol).post(f"/api/v1/users/join/link/{link['hash']}/")
    admin_client.delete(f"{base}/invite-links/{link['id']}/")
    client_of(bob).post(f"/api/v1/users/join/{Invite.objects.get().hash}/")
    # Then
    entries = AuditLog.objects.filter(
        organisation=organisation, resource_type__in=("invite", "invite_link")
    ).order_by("id")
    assert [(e.author.email if e.author else None, e.action, e.log) for e in entries] == [
        ("owner@example.com", "CREATE", "bob@example.com invited to 'Acme' as USER"),
        ("owner@example.com", "CREATE", "dan@example.com invited to 'Acme' as USER"),
        ("owner@example.com", "UPDATE", "Invite of bob@example.com to 'Acme' sent again"),
        ("owner@example.com", "DELETE", "Invite of dan@example.com to 'Acme' revoked"),
        ("owner@example.com", "CREATE", "Invite link to 'Acme' created for role USER"),
        ("carol@example.com", "UPDATE", "carol@example.com joined 'Acme' by an invite link"),
        ("owner@example.com", "DELETE", "Invite link to 'Acme' for role USER deleted"),
        ("bob@example.com", "DELETE", "Invite of bob@example.com to 'Acme' accepted"),
    ]


def test_openapi__bulk_invite__201_documented_as_the_bare_list_it_answers(db: None) -> None:
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    created = schema["paths"]["/api/v1/organisations/{organisation_pk}/invite/"]["post"]
    body = created["responses"]["201"]["content"]["application/json"]["schema"]
    assert body == {"type": "array", "items": {"$ref": "#/components/schemas/Invite"}}


def test_register__address_in_use__same_answer_and_throttled_per_address(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account made by sign-up and its confirmation
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "4/min"})
    sign_up_and_confirm({"email": "bob@example.com", "password": PASSWORD})  # 2 requests
    # When the same address signs up again, then others from the same client address
    again = _register(password="another horse 5")
    tries = [_register(email=f"u{n}@example.com").status_code for n in range(2)]
    # Then the taken address is not told apart, nothing changes, and the client is throttled
    assert (again.status_code, again.json()) == (201, CHECK_EMAIL)
    assert User.objects.get(email="bob@example.com").check_password(PASSWORD)
    assert tries == [201, 429]
