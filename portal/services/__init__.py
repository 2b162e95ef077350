"""The rules of the business, one module per noun. No Flask imports here."""
