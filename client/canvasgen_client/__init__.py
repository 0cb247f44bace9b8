"""canvasgen's command-line tool and Python client."""
