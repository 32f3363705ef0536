"""E-mail subscriptions: double opt-in, notifications of status changes, incidents and
maintenance, one-click unsubscribe (RFC 8058), and the weekly DPRD digest."""
