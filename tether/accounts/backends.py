from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
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
