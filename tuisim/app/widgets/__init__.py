"""The run screen's panels. Each widget is small: it keeps the data handed to it and
draws it with a plain Rich renderable (in the same module) that tests can render
without an app."""
