"""canvasgen."""
