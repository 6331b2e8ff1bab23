"""The OAuth app's views, by role (config/urls.py routes to them):

- authorize: /authorize and our consent page (django-oauth-toolkit's AuthorizationView);
- signin: the sign-in legs with GitLab (redirect, device code), its callback and the device page;
- protocol: the toolkit's protocol views as this server serves them (/token, /revoke, registration
  and its management, the metadata documents);
- selfservice: /connections/, its sign-in and sign-out, and the admin's login page;
- errors: every error answer, the RFC JSON objects and the HTML pages.
"""
