from tuisim.cli import main

raise SystemExit(main())
