import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
application = get_wsgi_application()

# The crisis lines for the page shown while the database is down (tether/crisis/offline.py).
from tether.crisis.offline import write_snapshot_quietly  # noqa: E402 - needs the apps loaded

write_snapshot_quietly()
