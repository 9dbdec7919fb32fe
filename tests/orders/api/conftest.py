import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Staff users are made with a password; PBKDF2's real cost is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
