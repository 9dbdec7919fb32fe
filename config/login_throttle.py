"""django-axes' backend, for logins that come with a request.

``authenticate()`` called without a request (``Client.login`` in tests, a
script) is not a login form anyone can hammer, so there is nothing to count:
this backend steps aside and ``ModelBackend`` answers. Every HTTP login
(the admin's, the floor stations') passes its request and is counted.
"""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
