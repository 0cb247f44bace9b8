"""canvasgen: serverless functions that keep every generation's state on its canvas node."""
