"""One module per analysis (attribution a subpackage); an analysis imports core, model and display, never another analysis."""
