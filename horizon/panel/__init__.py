"""The operator panel: a read-only web app over the store, the client files and drift checks."""
