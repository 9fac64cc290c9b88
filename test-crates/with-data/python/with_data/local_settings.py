SECRET = "listed in .gitignore: must never be packed"
