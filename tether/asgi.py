import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
# This process serves pages: the settings tune its database sessions for them.
os.environ.setdefault("TETHER_WEB_PROCESS", "1")
application = get_asgi_application()
