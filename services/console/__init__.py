"""The web console for the DPO and the operator, served by the intake under ``/console``.

Server-rendered (Jinja2, ``templates/``), one small script (``static/console.js``), nothing from the
internet. A person signs in with their own API key (a key made with ``erasure keys create --person``) and
gets a session; their key's scopes decide what they see and do. See ``routes`` for the pages.
"""
