"""Each user's Settings page (theme, defaults, password, sessions), the admin's first-run
checklist on the home page, and the web app manifest that makes Nova installable."""
