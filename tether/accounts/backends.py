from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


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
    ) -> AbstractBaseUser | None:
        if not username or password is None:
            return None
        user_model = get_user_model()
        identifier = username.strip()
        field = "email__iexact" if "@" in identifier else "username__iexact"
        try:
            user = user_model._default_manager.get(**{field: identifier})
        except (user_model.DoesNotExist, user_model.MultipleObjectsReturned):
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
