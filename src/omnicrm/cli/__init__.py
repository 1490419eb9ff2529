"""Command-line interface (Typer + Rich). Thin: every command calls the layers below."""
