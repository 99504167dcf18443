from reviewflow.cli.commands import main

main()
