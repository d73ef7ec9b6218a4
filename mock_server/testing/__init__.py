"""For test suites: ``MockServer`` (a server in a background thread), ``TenantHandle`` (one
tenant driven through the admin API) and the pytest plugin built on them.

May import ``server`` and everything below it; ``tenant_handle`` and the plugin import nothing
of the server, so loading the plugin in a test run costs nothing until a test asks for it.
"""
