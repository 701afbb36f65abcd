from anyray.cli import main

main()
