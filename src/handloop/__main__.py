from handloop.cli import main

main()
