"""Files the app serves as they are: GraphiQL's page, scripts, styles, licences and saved operations
(`static/graphiql/`, refreshed by scripts/refresh_graphiql.py). No Python code lives here."""
