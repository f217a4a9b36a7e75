"""Domain services: journal queries, access, notifications and the database layer."""
