"""``python -m w2v`` runs the command line."""
from w2v.cli.main import main

main(prog_name="w2v")
