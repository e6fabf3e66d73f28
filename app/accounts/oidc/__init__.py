"""Single sign-on with an OpenID Connect provider.

`provider` talks to the provider (discovery, token, userinfo, logout URL) and `client`
keeps one per app, `id_tokens` checks what it signs, `claims` reads who it vouches for,
`service` decides which Nova account that is, `repository` holds the SQL, `views` is the
login round trip and `logout` what the logout button needs.
"""
