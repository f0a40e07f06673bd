"""The Celery app Flower runs with in docker-compose.yml (``celery -A flowerapp flower``), in Flower's own image.

Flower needs only the broker, but exactly as the workers see it: the same Redis with its password, and the
same key prefix (``shared.celery_app`` gives kombu ``global_keyprefix = <ERASURE_KEY_PREFIX>:celery:``, which
prefixes the queues, the remote-control channel and the task events' channel alike). Without the prefix Flower
would connect, see no worker and no task. The password is quoted into the URL and never printed.
"""

import os
from urllib.parse import quote

from celery import Celery

_password = quote(os.environ["ERASURE_REDIS_PASSWORD"], safe="")
_prefix = os.environ.get("ERASURE_KEY_PREFIX", "erasure")

app = Celery("flower", broker=f"redis://:{_password}@redis:6379/0")
app.conf.broker_transport_options = {"global_keyprefix": f"{_prefix}:celery:"}
