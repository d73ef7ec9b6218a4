"""The HTTP surface: the app factory and routes, the connection handler and its shortcut, the
pipeline and the APIs behind its seam (``apis``), the admin API, the journal, override headers,
JSON and error rendering, tenants and the shared server state, and ``--watch``.

May import every stage below it: ``accounts``, ``engine``, ``wire``, ``checks``, ``config`` and
the shared top-level modules; nothing imports ``server`` but ``testing`` and ``cli``.
"""
