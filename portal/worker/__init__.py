"""The background worker: `flask --app app worker` runs every periodic job on a schedule (runner.py), the jobs
themselves are listed in jobs.py, and together.py is `make run`'s supervisor of the web server and the worker.
Each job only calls services; the rules live there (docs/architecture.md, "Background worker")."""
