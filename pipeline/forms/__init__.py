"""Form design: templates in, printable PDF and layout manifest out."""
