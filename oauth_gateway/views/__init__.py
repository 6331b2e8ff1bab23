"""The OAuth app's views, by role (config/urls.py routes to them):

- signin: an MCP client's sign-in in the browser: /authorize (django-oauth-toolkit's
  AuthorizationView), the sign-in legs with GitLab (redirect, device code), its callback, the device
  page and our consent page;
- protocol: the toolkit's protocol views as this server serves them (/token, /revoke, registration
  and its management, the metadata documents);
- selfservice: /connections/, its sign-in and sign-out, and the admin's login page;
- errors: every error answer, the RFC JSON objects and the HTML pages.
"""
