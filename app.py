"""Entry point: `python app.py` runs the development server; gunicorn and `flask --app app` use `app`."""

from portal import create_app, heap

app = create_app()
heap.settle()

if __name__ == "__main__":
    app.run(debug=True)
