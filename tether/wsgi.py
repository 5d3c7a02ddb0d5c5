import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
# This process serves pages: the settings tune its database sessions for them.
os.environ.setdefault("TETHER_WEB_PROCESS", "1")
application = get_wsgi_application()

# Needs the apps loaded, hence imported here.
from tether.crisis.offline import start_refresher, write_snapshot_quietly  # noqa: E402
from tether.fieldkeys.keycheck import verify_and_register  # noqa: E402

# Refuse to serve with a field-key ring that cannot read the stored data (raises,
# naming the key: gunicorn's worker does not boot), and take up a new key.
verify_and_register()
# The crisis lines for the page shown while the database is down (tether/crisis/offline.py).
write_snapshot_quietly()
start_refresher()
