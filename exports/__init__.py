"""Downloads beside the GraphQL endpoint: the city's reports as CSV and XLSX (`/ekspor/…`) and orders as OCDS open
data (`/ocds/releases`, `pasar export ocds`). A floor between app.py and schema/: it reads the schema's permission
classes and types and calls the same rules (resolvers/) as the GraphQL fields, so a download can show no more than
the API does."""
