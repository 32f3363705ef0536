"""E-mail subscription pages: subscribe, confirm, unsubscribe (one click, RFC 8058)."""
