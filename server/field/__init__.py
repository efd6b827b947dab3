"""The field app: the phones' offline web app, built by ``make`` from ``field/`` into
``static/`` here, and served at ``/field/`` (its page, service worker, manifest, icons and
content-hashed assets). It talks to the server only through the phone API."""
