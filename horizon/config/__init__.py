"""Client files: loading, validation, the Fleet they form, and the schema they follow."""
