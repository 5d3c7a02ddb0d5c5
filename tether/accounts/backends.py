from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.http import HttpRequest

from tether.accounts.models import User


class UsernameOrEmailBackend(ModelBackend):
    """Sign in with a username or an email address, case-insensitively.

    Patients forget which one they were given; either works.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        identifier = str(username).strip()
        field = "email__iexact" if "@" in identifier else "username__iexact"
        try:
            user = User._default_manager.get(**{field: identifier})
        except (User.DoesNotExist, User.MultipleObjectsReturned):
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        """The signed-in user, read once per request (``AuthenticationMiddleware``), with
        in the same query what every request's middleware asks next: whether they have a
        confirmed two-step device (``StaffMFAMiddleware``), a patient's program time
        zone (``ProgramTimezoneMiddleware``) and a patient's own row (the gate's
        ``access_own_record`` and ``own_record_write``; none for anyone else). Read at the same moment as the user row, so
        as fresh as the separate queries were; nothing is kept between requests."""
        from tether.organizations.selectors import PATIENT_ZONE, patient_zone_annotation

        user = (
            User._default_manager.select_related("patient")
            .annotate(
                **{HAS_DEVICE: confirmed_device_exists(), PATIENT_ZONE: patient_zone_annotation()}
            )
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


# The attribute the signed-in user row carries "has a confirmed device" in (``get_user``).
HAS_DEVICE = "has_confirmed_device"


def confirmed_device_exists() -> ExpressionWrapper[Q]:
    """Whether the user (``OuterRef("pk")``) has a confirmed device of any installed
    kind: django-otp's ``user_has_device(user, confirmed=True)``, as an expression."""
    from django_otp import device_classes

    found = Q(pk__in=[])
    for model in device_classes():
        found |= Q(Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True)))
    return ExpressionWrapper(found, output_field=BooleanField())


def lockout_key(identifier: str) -> str:
    """The name django-axes counts failures against. Sign-in ignores case, so the
    count must too: otherwise "Maria.G", "MARIA.G", ... would each get five tries."""
    return identifier.strip().casefold()


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """``AXES_USERNAME_CALLABLE``: the typed username or email, normalised."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = request.POST.get("username")
    return lockout_key(str(typed or ""))
