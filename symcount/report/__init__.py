"""Renderers: text (Keras-style table), JSON, Markdown, LaTeX. No counting logic here."""
