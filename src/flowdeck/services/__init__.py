"""Services: the decisions between the HTTP routes and the repositories."""
